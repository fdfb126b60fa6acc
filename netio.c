/*
 * netio.c - the bounded line reader, the reply writer and the DATA decoder.
 *
 * This file earns its own room because it is the only code that touches
 * the client's bytes before they are parsed: keeping it small and apart
 * lets the tests feed it one byte at a time and the fuzzers hammer it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netio.h"

/* now_ms - CLOCK_MONOTONIC in milliseconds */
long long
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* netio_init - set up buffers and clocks; timeouts in seconds */
void
netio_init(struct netio *io, int in, int out, unsigned long long idle,
    unsigned long long session)
{
	io->in = in;
	io->out = out;
	io->werror = 0;
	io->outsock = 1;
	io->idle_ms = (long long)idle * 1000;
	io->session_end = now_ms() + (long long)session * 1000;
	io->read_end = io->session_end;
	io->ipos = io->ilen = io->olen = 0;
}

/* wait_ms - milliseconds left before DEADLINE, the session cap and idle */
static int
wait_ms(const struct netio *io, long long deadline)
{
	long long now = now_ms(), end = now + io->idle_ms;

	if (deadline < end)
		end = deadline;
	if (io->session_end < end)
		end = io->session_end;
	if (end <= now)
		return 0;
	return end - now > 1000000 ? 1000000 : (int)(end - now);
}

/*
 * netio_send - a write that never blocks, on a socket; -1 with EAGAIN
 * when the caller must wait first (always, for a pipe or a terminal).
 */
static ssize_t
netio_send(struct netio *io, const char *p, size_t n)
{
	ssize_t r;

	if (io->outsock) {
		r = send(io->out, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r != -1 || errno != ENOTSOCK)
			return r;
		io->outsock = 0;
	}
	errno = EAGAIN;
	return -1;
}

/*
 * netio_flush - write out what is queued; -1 on error or timeout.  The
 * socket is nearly always writable, so a write is tried before any wait.
 * A wait lasts at most the idle timeout, even past the session's end, so
 * that the 421 announcing that end still goes out.
 */
int
netio_flush(struct netio *io)
{
	size_t off = 0;

	while (off < io->olen && !io->werror) {
		struct pollfd pfd = { io->out, POLLOUT, 0 };
		long long ms = io->idle_ms > 1000000 ? 1000000 : io->idle_ms;
		ssize_t n = netio_send(io, io->obuf + off, io->olen - off);

		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ms == 0 || poll(&pfd, 1, (int)ms) != 1) {
				io->werror = 1;
				break;
			}
			n = write(io->out, io->obuf + off, io->olen - off);
		}
		if (n > 0)
			off += (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			io->werror = 1;
	}
	io->olen = 0;
	return io->werror ? -1 : 0;
}

/* netio_reply - queue one reply line (CRLF added) */
void
netio_reply(struct netio *io, const char *line)
{
	size_t len = strlen(line);

	if (len > SMTP_REPLY_MAX - 2)
		len = SMTP_REPLY_MAX - 2;
	if (io->olen + len + 2 > sizeof(io->obuf))
		(void)netio_flush(io);
	memcpy(io->obuf + io->olen, line, len);
	memcpy(io->obuf + io->olen + len, "\r\n", 2);
	io->olen += len + 2;
}

/* netio_fill - flush, then wait for and read more input; 1, 0 EOF, -1 */
int
netio_fill(struct netio *io, long long deadline)
{
	if (io->ipos == io->ilen)
		io->ipos = io->ilen = 0;
	else if (io->ilen == sizeof(io->ibuf)) {
		memmove(io->ibuf, io->ibuf + io->ipos, io->ilen - io->ipos);
		io->ilen -= io->ipos;
		io->ipos = 0;
	}
	(void)netio_flush(io);
	for (;;) {
		struct pollfd pfd = { io->in, POLLIN, 0 };
		int ms = wait_ms(io, deadline), r;
		ssize_t n;

		if (ms == 0)
			return -1;
		r = poll(&pfd, 1, ms);
		if (r == 0)
			return -1;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return 0;
		n = read(io->in, io->ibuf + io->ilen, sizeof(io->ibuf) - io->ilen);
		if (n > 0) {
			io->ilen += (size_t)n;
			return 1;
		}
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			return 0;
	}
}

/* netio_wait_input - 1 when input arrives within MS, 0 if not, -1 EOF */
int
netio_wait_input(struct netio *io, long long ms)
{
	long long end = now_ms() + ms;
	int r;

	if (io->ipos < io->ilen)
		return 1;
	r = netio_fill(io, end);
	if (r == 1)
		return 1;
	if (r == 0)
		return -1;
	return 0;
}

/*
 * netio_pending - 1 when input from the client is already there: in the
 * buffer, or readable on the descriptor at once (it is read into the
 * buffer, so nothing is lost).  0 when none is, or the client closed.
 * Decided at the moment a reply is about to go out, it can never fire
 * on a client that waited for that reply (RFC 2920 section 3.1).
 */
int
netio_pending(struct netio *io)
{
	struct pollfd pfd = { io->in, POLLIN, 0 };
	ssize_t n;

	if (io->ipos < io->ilen)
		return 1;
	io->ipos = io->ilen = 0;
	if (poll(&pfd, 1, 0) != 1 || (pfd.revents & (POLLIN | POLLHUP)) == 0)
		return 0;
	/* Readable now, so read(2) does not block: data, or 0 at EOF. */
	n = read(io->in, io->ibuf, sizeof(io->ibuf));
	if (n <= 0)
		return 0;
	io->ilen = (size_t)n;
	return 1;
}

/* line_take - hand out the line of LEN octets (LF included) at ipos */
static enum line_status
line_take(struct netio *io, size_t len, char *line, size_t *lenp)
{
	const char *p = io->ibuf + io->ipos;
	size_t n = len - 1;

	io->ipos += len;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (memchr(p, '\r', n) != NULL)
		return LINE_BADEOL;
	memcpy(line, p, n);
	line[n] = '\0';
	*lenp = n;
	return LINE_OK;
}

/* line_discard - drop input up to and including the next LF */
static enum line_status
line_discard(struct netio *io)
{
	for (;;) {
		char *lf = memchr(io->ibuf + io->ipos, '\n',
		    io->ilen - io->ipos);
		int r;

		if (lf != NULL) {
			io->ipos = (size_t)(lf - io->ibuf) + 1;
			return LINE_TOOLONG;
		}
		io->ipos = io->ilen;
		if ((r = netio_fill(io, io->read_end)) != 1)
			return r == 0 ? LINE_EOF : LINE_TIMEOUT;
	}
}

/*
 * netio_getline - read one command line into LINE (SIZE > SMTP_LINE_MAX).
 * The line, its CRLF or bare LF included, must fit in SMTP_LINE_MAX
 * octets; that is decided as soon as that many octets are buffered, before
 * any newline arrives.  The whole line must arrive within the idle
 * timeout, so a client cannot trickle one byte at a time for ever.
 */
enum line_status
netio_getline(struct netio *io, char *line, size_t size, size_t *lenp)
{
	size_t scanned = 0;

	if (size <= SMTP_LINE_MAX)
		return LINE_EOF;
	io->read_end = now_ms() + io->idle_ms;
	for (;;) {
		size_t avail = io->ilen - io->ipos;
		size_t look = avail < SMTP_LINE_MAX ? avail : SMTP_LINE_MAX;
		char *lf = memchr(io->ibuf + io->ipos + scanned, '\n',
		    look - scanned);
		int r;

		if (lf != NULL)
			return line_take(io,
			    (size_t)(lf - (io->ibuf + io->ipos)) + 1, line, lenp);
		if (avail >= SMTP_LINE_MAX)
			return line_discard(io);
		scanned = look;
		if ((r = netio_fill(io, io->read_end)) != 1)
			return r == 0 ? LINE_EOF : LINE_TIMEOUT;
	}
}

/* data_init - a new DATA section starts at the beginning of a line */
void
data_init(struct data_decoder *d)
{
	d->state = DATA_BOL;
	d->bad_eol = 0;
	d->nul = 0;
	d->size = 0;
}

/* data_text - one octet inside a line; returns the new output length */
static size_t
data_text(struct data_decoder *d, char c, char *out, size_t o)
{
	if (c == '\r') {
		d->state = DATA_CR;
		return o;
	}
	d->state = DATA_TEXT;
	if (c == '\n') {
		/* A bare LF never starts a line: "\n.\r\n" cannot end DATA. */
		d->bad_eol = 1;
		return o;
	}
	out[o++] = c;
	d->size++;
	return o;
}

/* text_run - octets before the next CR or LF */
static size_t
text_run(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n), *cr;

	if (lf != NULL)
		n = (size_t)(lf - p);
	cr = memchr(p, '\r', n);
	return cr != NULL ? (size_t)(cr - p) : n;
}

/*
 * data_decode - decode IN in place.  Each input octet yields at most one
 * output octet and the CR of a CRLF yields none, so the output index never
 * passes the input index: OUT may be IN.  Inside a line, the run up to the
 * next CR or LF is copied whole; the state machine sees only line ends and
 * line starts.
 */
size_t
data_decode(struct data_decoder *d, const char *in, size_t len, char *out,
    size_t *outlen)
{
	size_t i = 0, o = 0, run;

	while (i < len && d->state != DATA_END) {
		char c;

		if (d->state == DATA_TEXT &&
		    (run = text_run(in + i, len - i)) > 0) {
			if (out + o != in + i)
				memmove(out + o, in + i, run);
			o += run;
			i += run;
			d->size += run;
			continue;
		}
		c = in[i++];
		switch (d->state) {
		case DATA_BOL:
			if (c == '.')
				d->state = DATA_DOT;
			else
				o = data_text(d, c, out, o);
			break;
		case DATA_DOT:
			/* A leading dot is stuffing, unless ".\r\n" ends it. */
			if (c == '\r')
				d->state = DATA_DOTCR;
			else
				o = data_text(d, c, out, o);
			break;
		case DATA_DOTCR:
		case DATA_CR:
			if (c == '\n') {
				if (d->state == DATA_DOTCR) {
					d->state = DATA_END;
					break;
				}
				out[o++] = '\n';
				d->size += 2;
				d->state = DATA_BOL;
				break;
			}
			d->bad_eol = 1;
			o = data_text(d, c, out, o);
			break;
		case DATA_TEXT:
			o = data_text(d, c, out, o);
			break;
		case DATA_END:
			break;
		}
	}
	/* RFC 5322 forbids NUL; next to a dot it is a smuggling probe.  Every
	 * octet of a line reaches OUT (stuffing dots aside), so OUT is
	 * where to look. */
	if (!d->nul && o > 0 && memchr(out, '\0', o) != NULL)
		d->nul = 1;
	*outlen = o;
	return i;
}
