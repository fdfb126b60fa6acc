/*
 * mta.c - the runner's SMTP client for handoff = smtp:ADDR:PORT (SPEC.md
 * "The runner").  A file of its own so that runner.c keeps the spool
 * logic and this file keeps the protocol: one connection to the MTA's
 * local listener, kept open across messages and reopened when it drops.
 *
 * All or nothing per message.  MAIL and the RCPTs are pipelined when the
 * MTA offers PIPELINING, but DATA is sent only once every one of them has
 * been answered 250: a pipelined DATA would get 354 as soon as one RCPT
 * was accepted, and the message could then no longer be held back from
 * the others.  Any refusal before DATA ends with RSET, so the MTA keeps
 * nothing.  A message is handed off twice only when the connection drops
 * between the end of DATA and the MTA's reply.
 *
 * Input goes through one bounded reader (mta_line): a reply line longer
 * than MTA_LINE_MAX, more than MTA_LINES_MAX lines in one reply, a line
 * that does not start with the code of the first one, end of file and a
 * timeout all end the connection and defer the message.  Every read and
 * every write is bounded by poll() against CLOCK_MONOTONIC, with the
 * timeouts of RFC 5321 section 4.5.3.2.  The output is flushed before
 * every blocking read.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mta.h"
#include "policy.h"
#include "smtpfe.h"
#include "spool.h"

/* Our choice (Postfix's smtp_connect_timeout): seconds to connect. */
#define MTA_CONNECT_TIMEOUT	30
/* RFC 5321 4.5.3.2.1-2.6: greeting 5 min, MAIL 5, RCPT 5, DATA 2,
 * a data block 3, the end of DATA 10; EHLO, RSET and QUIT as MAIL. */
#define MTA_CMD_TIMEOUT		300
#define MTA_DATA_TIMEOUT	120
#define MTA_BLOCK_TIMEOUT	180
#define MTA_END_TIMEOUT		600
/* Our choice: a kept connection idle this long is closed (Postfix's
 * smtpd closes after its 300 s timeout; we leave well before). */
#define MTA_IDLE_MAX		60
/* Our choice: the longest reply line we take (RFC 5321 4.5.3.1.5 says
 * 512 octets; some servers exceed it with long EHLO keywords). */
#define MTA_LINE_MAX		2048
/* Our choice: lines in one reply (an EHLO reply has about a dozen). */
#define MTA_LINES_MAX		100
/* Our choice: octets of the reply kept for the log line. */
#define MTA_TEXT_MAX		300
/* Our choice: the output buffer; one write for most of a 1 KB message. */
#define MTA_OUTBUF		16384
#define MTA_INBUF		4096

/* What the EHLO reply offered. */
#define EXT_8BITMIME		0x01
#define EXT_SMTPUTF8		0x02
#define EXT_PIPELINING		0x04
#define EXT_XFORWARD		0x08
/* XFORWARD attributes offered. */
#define XF_ADDR			0x01
#define XF_HELO			0x02
#define XF_PROTO		0x04
#define XF_NAME			0x08

struct mta_reply {
	int		 code;			/* 0: none (error) */
	char		 text[MTA_TEXT_MAX];	/* first line, printable */
};

struct mta_conn {
	int		 fd;			/* -1: not connected */
	unsigned	 ext;
	unsigned	 xf;
	long long	 used;			/* ms, last transaction */
	size_t		 ipos, ilen;
	size_t		 olen;
	char		 in[MTA_INBUF];
	char		 out[MTA_OUTBUF];
	char		 line[MTA_LINE_MAX + 2];	/* CR, then NUL */
};

long mta_test_timeout_ms;

static struct mta_conn mc = { .fd = -1 };

/* mta_now - CLOCK_MONOTONIC in milliseconds */
static long long
mta_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mta_deadline - now plus SECONDS (or the tests' override) */
static long long
mta_deadline(int seconds)
{
	if (mta_test_timeout_ms > 0)
		return mta_now() + mta_test_timeout_ms;
	return mta_now() + seconds * 1000LL;
}

/* mta_wait - poll FD for EVENTS until DEADLINE; 1 ready, 0 timeout, -1 */
static int
mta_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - mta_now()) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

/* mta_drop - close the connection without a word */
static void
mta_drop(void)
{
	if (mc.fd != -1)
		(void)close(mc.fd);
	mc.fd = -1;
	mc.ilen = mc.ipos = mc.olen = 0;
}

/* mta_flush - write out the buffer by DEADLINE; 0, or -1 (dropped) */
static int
mta_flush(long long deadline)
{
	size_t done = 0;
	ssize_t w;

	while (done < mc.olen) {
		w = send(mc.fd, mc.out + done, mc.olen - done, MSG_NOSIGNAL);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    mta_wait(mc.fd, POLLOUT, deadline) == 1)
			continue;
		mta_drop();
		return -1;
	}
	mc.olen = 0;
	return 0;
}

/* mta_put - buffer LEN octets, flushing when full; -1 when dropped */
static int
mta_put(const char *s, size_t len, long long deadline)
{
	while (len > 0) {
		size_t n = sizeof(mc.out) - mc.olen;

		if (n == 0) {
			if (mta_flush(deadline) == -1)
				return -1;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(mc.out + mc.olen, s, n);
		mc.olen += n;
		s += n;
		len -= n;
	}
	return 0;
}

/* mta_cmd - buffer one command line and its CRLF; -1 if too long */
static int
mta_cmd(const char *line)
{
	size_t len = strlen(line);

	if (len + 2 > SMTP_LINE_MAX || len + 2 > sizeof(mc.out) - mc.olen)
		return -1;
	memcpy(mc.out + mc.olen, line, len);
	memcpy(mc.out + mc.olen + len, "\r\n", 2);
	mc.olen += len + 2;
	return 0;
}

/* mta_fill - read more input by DEADLINE; 0, or -1 (eof, error, time) */
static int
mta_fill(long long deadline)
{
	ssize_t r;

	if (mc.ipos > 0) {
		memmove(mc.in, mc.in + mc.ipos, mc.ilen - mc.ipos);
		mc.ilen -= mc.ipos;
		mc.ipos = 0;
	}
	for (;;) {
		r = recv(mc.fd, mc.in + mc.ilen, sizeof(mc.in) - mc.ilen, 0);
		if (r > 0) {
			mc.ilen += (size_t)r;
			return 0;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    mta_wait(mc.fd, POLLIN, deadline) == 1)
			continue;
		return -1;
	}
}

/*
 * mta_line - the one reader: the next reply line into mc.line, CR LF
 * removed; its length, or -1 on end of file, timeout or a line longer
 * than MTA_LINE_MAX.  A bare LF also ends a line.
 */
static long
mta_line(long long deadline)
{
	size_t len = 0;

	for (;;) {
		while (mc.ipos < mc.ilen) {
			char c = mc.in[mc.ipos++];

			if (c == '\n') {
				if (len > 0 && mc.line[len - 1] == '\r')
					len--;
				if (len > MTA_LINE_MAX)
					return -1;
				mc.line[len] = '\0';
				return (long)len;
			}
			if (len == MTA_LINE_MAX + 1)
				return -1;
			mc.line[len++] = c;
		}
		if (mta_fill(deadline) == -1)
			return -1;
	}
}

/* mta_ehlo_word - note one EHLO keyword line (after "250-" / "250 ") */
static void
mta_ehlo_word(const char *kw)
{
	const char *p;

	if (str_casecmp(kw, "8BITMIME") == 0)
		mc.ext |= EXT_8BITMIME;
	else if (str_casecmp(kw, "SMTPUTF8") == 0)
		mc.ext |= EXT_SMTPUTF8;
	else if (str_casecmp(kw, "PIPELINING") == 0)
		mc.ext |= EXT_PIPELINING;
	else if (str_ncasecmp(kw, "XFORWARD", 8) == 0 &&
	    (kw[8] == ' ' || kw[8] == '\0')) {
		mc.ext |= EXT_XFORWARD;
		for (p = kw + 8; *p != '\0'; p++) {
			if (*p == ' ')
				continue;
			if (str_ncasecmp(p, "ADDR", 4) == 0 &&
			    (p[4] == ' ' || p[4] == '\0'))
				mc.xf |= XF_ADDR;
			else if (str_ncasecmp(p, "HELO", 4) == 0 &&
			    (p[4] == ' ' || p[4] == '\0'))
				mc.xf |= XF_HELO;
			else if (str_ncasecmp(p, "PROTO", 5) == 0 &&
			    (p[5] == ' ' || p[5] == '\0'))
				mc.xf |= XF_PROTO;
			else if (str_ncasecmp(p, "NAME", 4) == 0 &&
			    (p[4] == ' ' || p[4] == '\0'))
				mc.xf |= XF_NAME;
			while (p[1] != '\0' && p[1] != ' ')
				p++;
		}
	}
}

/* mta_code - the three digits at the start of LINE, or -1 */
static int
mta_code(const char *line, long len)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/*
 * mta_reply - read one reply, multi-line or not, within TIMEOUT seconds
 * (the output is flushed first); EHLO: note its keywords.  0, or -1 with
 * the connection dropped (the reply's code is then 0).
 */
static int
mta_reply(int timeout, int ehlo, struct mta_reply *r)
{
	long long deadline = mta_deadline(timeout);
	int lines, code;
	long len;

	r->code = 0;
	r->text[0] = '\0';
	if (mc.fd == -1 || mta_flush(deadline) == -1)
		return -1;
	for (lines = 0; lines < MTA_LINES_MAX; lines++) {
		if ((len = mta_line(deadline)) == -1 ||
		    (code = mta_code(mc.line, len)) == -1 ||
		    (lines > 0 && code != r->code))
			break;
		if (lines == 0) {
			r->code = code;
			str_printable(r->text, sizeof(r->text), mc.line,
			    (size_t)len);
		}
		if (ehlo && lines > 0 && len > 4)
			mta_ehlo_word(mc.line + 4);
		if (len == 3 || mc.line[3] == ' ')
			return 0;
	}
	r->code = 0;
	mta_drop();
	return -1;
}

/* mta_connect - a non-blocking socket connected to TARGET; -1 */
static int
mta_connect(const char *target)
{
	struct sockaddr_storage ss;
	socklen_t len, elen;
	int fd, e = 0, one = 1;

	if (mta_target(target, &ss, &len) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		elen = sizeof(e);
		if (mta_wait(fd, POLLOUT, mta_deadline(MTA_CONNECT_TIMEOUT))
		    != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			goto fail;
		if (e != 0) {
			errno = e;
			goto fail;
		}
	}
	return fd;
fail:
	e = errno;
	(void)close(fd);
	errno = e;
	return -1;
}

/* mta_open - connect, greeting, EHLO (HELO if refused); NULL or why */
static const char *
mta_open(const struct config *conf, struct mta_reply *r)
{
	char cmd[SMTP_LINE_MAX];

	mc.ext = mc.xf = 0;
	mc.ilen = mc.ipos = mc.olen = 0;
	if ((mc.fd = mta_connect(conf->handoff)) == -1) {
		(void)snprintf(r->text, sizeof(r->text), "%s", strerror(errno));
		return "connect";
	}
	if (mta_reply(MTA_CMD_TIMEOUT, 0, r) == -1)
		return "greeting";
	if (r->code != 220) {
		mta_drop();
		return "greeting";
	}
	(void)snprintf(cmd, sizeof(cmd), "EHLO %s", conf->hostname);
	if (mta_cmd(cmd) == -1 || mta_reply(MTA_CMD_TIMEOUT, 1, r) == -1)
		return "EHLO";
	if (r->code == 250)
		return NULL;
	mc.ext = mc.xf = 0;
	(void)snprintf(cmd, sizeof(cmd), "HELO %s", conf->hostname);
	if (mta_cmd(cmd) == -1 || mta_reply(MTA_CMD_TIMEOUT, 0, r) == -1)
		return "HELO";
	if (r->code != 250) {
		mta_drop();
		return "HELO";
	}
	return NULL;
}

/* mta_xtext - VAL as RFC 3461 xtext after PREFIX into DST; -1 if long */
static int
mta_xtext(char *dst, size_t size, const char *prefix, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = strlen(prefix);

	if (o >= size)
		return -1;
	memcpy(dst, prefix, o);
	for (; *val != '\0'; val++) {
		unsigned char c = (unsigned char)*val;

		if (o + 4 > size)
			return -1;
		if (c < '!' || c > '~' || c == '+' || c == '=') {
			dst[o++] = '+';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* mta_proto - the protocol word of spool.c's Received: header */
static const char *
mta_proto(const struct envelope *env)
{
	if (env->smtputf8)
		return env->tls ? "UTF8SMTPS" : "UTF8SMTP";
	return env->tls ? "ESMTPS" : "ESMTP";
}

/* mta_xf_add - append " NAME=VALUE" to CMD when the MTA offers NAME */
static void
mta_xf_add(char *cmd, size_t size, unsigned bit, const char *name,
    const char *val)
{
	size_t len = strlen(cmd);

	if ((mc.xf & bit) && snprintf(cmd + len, size - len, " %s=%s", name,
	    val) >= (int)(size - len))
		cmd[len] = '\0';
}

/*
 * mta_xforward - the original client, HELO name and protocol, in two
 * commands (an xtext HELO name may need most of a line by itself); the
 * number of replies to read.
 */
static int
mta_xforward(const struct envelope *env)
{
	char cmd[SMTP_LINE_MAX];
	int n = 0;

	if (!(mc.ext & EXT_XFORWARD))
		return 0;
	(void)snprintf(cmd, sizeof(cmd), "XFORWARD");
	mta_xf_add(cmd, sizeof(cmd), XF_ADDR, "ADDR",
	    strcmp(env->client, "unknown") == 0 ? "[UNAVAILABLE]" :
	    env->client);
	mta_xf_add(cmd, sizeof(cmd), XF_NAME, "NAME", "[UNAVAILABLE]");
	mta_xf_add(cmd, sizeof(cmd), XF_PROTO, "PROTO", mta_proto(env));
	if (strcmp(cmd, "XFORWARD") != 0 && mta_cmd(cmd) == 0)
		n++;
	if ((mc.xf & XF_HELO) &&
	    mta_xtext(cmd, sizeof(cmd), "XFORWARD HELO=", env->helo) == 0 &&
	    mta_cmd(cmd) == 0)
		n++;
	return n;
}

/* mta_ascii - 1 when the address is all ASCII */
static int
mta_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7f)
			return 0;
	return 1;
}

/* mta_needs_utf8 - 1 when an address of ENV has a non-ASCII octet */
static int
mta_needs_utf8(const struct envelope *env)
{
	size_t i;

	if (!mta_ascii(env->sender.path))
		return 1;
	for (i = 0; i < env->nrcpt; i++)
		if (!mta_ascii(env->rcpt[i].path))
			return 1;
	return 0;
}

/* mta_detail - "STAGE: CODE TEXT" (or "STAGE: WHAT") for the log */
static void
mta_detail(char *detail, size_t size, const char *stage,
    const struct mta_reply *r, const char *what)
{
	if (r != NULL && r->code != 0)
		(void)snprintf(detail, size, "smtp %s: %s", stage, r->text);
	else
		(void)snprintf(detail, size, "smtp %s: %s", stage,
		    what != NULL ? what : r != NULL && r->text[0] != '\0' ?
		    r->text : "connection lost or timed out");
}

/* mta_judge - a reply's verdict: 5xx fail, anything else defer */
static enum mta_verdict
mta_judge(const struct mta_reply *r)
{
	return r->code >= 500 && r->code <= 599 ? MTA_FAIL : MTA_DEFER;
}

/* mta_rset - abandon the transaction: RSET, or close if that fails */
static void
mta_rset(void)
{
	struct mta_reply r;

	if (mc.fd == -1)
		return;
	if (mta_cmd("RSET") == -1 || mta_reply(MTA_CMD_TIMEOUT, 0, &r) == -1 ||
	    r.code != 250)
		mta_drop();
}

/* mta_xreplies - read N XFORWARD replies; a refusal is only logged */
static int
mta_xreplies(int n)
{
	struct mta_reply r;

	for (; n > 0; n--) {
		if (mta_reply(MTA_CMD_TIMEOUT, 0, &r) == -1)
			return -1;
		if (r.code != 250)
			syslog(LOG_WARNING, "smtp XFORWARD refused: %s", r.text);
	}
	return 0;
}

/* mta_rcpt_cmd - buffer RCPT TO for recipient I, flushing if full */
static int
mta_rcpt_cmd(const struct envelope *env, size_t i)
{
	char cmd[SMTP_LINE_MAX];

	(void)snprintf(cmd, sizeof(cmd), "RCPT TO:%s", env->rcpt[i].path);
	if (mta_cmd(cmd) == 0)
		return 0;
	if (mta_flush(mta_deadline(MTA_CMD_TIMEOUT)) == -1)
		return -1;
	return mta_cmd(cmd);
}

/* mta_note - keep the first refusal; a 5xx wins over an earlier 4xx */
static void
mta_note(const struct mta_reply *r, const char *stage, char *detail,
    size_t size, enum mta_verdict *v, int *bad)
{
	if (*bad && !(*v == MTA_DEFER && mta_judge(r) == MTA_FAIL))
		return;
	mta_detail(detail, size, stage, r, NULL);
	*v = mta_judge(r);
	*bad = 1;
}

/*
 * mta_envelope - XFORWARD, MAIL and the RCPTs (pipelined when offered);
 * 0 when all were accepted, else -1 with the verdict in *V and DETAIL
 * set.  *EARLY is cleared once MAIL has been answered.
 */
static int
mta_envelope(const struct envelope *env, char *detail, size_t size,
    enum mta_verdict *v, int *early)
{
	char cmd[SMTP_LINE_MAX];
	struct mta_reply r;
	int nx, pipe = (mc.ext & EXT_PIPELINING) != 0, bad = 0, utf8;
	const char *stage = "XFORWARD";
	size_t i;

	utf8 = (env->smtputf8 || mta_needs_utf8(env)) &&
	    (mc.ext & EXT_SMTPUTF8);
	nx = mta_xforward(env);
	if (!pipe && mta_xreplies(nx) == -1)
		goto lost;
	(void)snprintf(cmd, sizeof(cmd), "MAIL FROM:%s%s%s", env->sender.path,
	    env->body == BODY_8BITMIME && (mc.ext & EXT_8BITMIME) ?
	    " BODY=8BITMIME" : "", utf8 ? " SMTPUTF8" : "");
	stage = "MAIL";
	if (mta_cmd(cmd) == -1) {
		/* XFORWARD may wait in the buffer: RSET would be out of step. */
		mta_drop();
		mta_detail(detail, size, stage, NULL, "command too long");
		*v = MTA_FAIL;
		return -1;
	}
	for (i = 0; pipe && i < env->nrcpt; i++)
		if (mta_rcpt_cmd(env, i) == -1)
			goto lost;
	if ((pipe && mta_xreplies(nx) == -1) ||
	    mta_reply(MTA_CMD_TIMEOUT, 0, &r) == -1)
		goto lost;
	*early = 0;
	stage = "RCPT";
	if (r.code != 250)
		mta_note(&r, "MAIL", detail, size, v, &bad);
	for (i = 0; i < env->nrcpt && (pipe || !bad); i++) {
		if (!pipe && mta_rcpt_cmd(env, i) == -1)
			goto lost;
		if (mta_reply(MTA_CMD_TIMEOUT, 0, &r) == -1)
			goto lost;
		if (r.code != 250 && r.code != 251)
			mta_note(&r, "RCPT", detail, size, v, &bad);
	}
	return bad ? -1 : 0;
lost:
	mta_detail(detail, size, stage, NULL, NULL);
	*v = MTA_DEFER;
	return -1;
}

/*
 * mta_body - the message from FD: LF becomes CRLF, a line that starts
 * with "." gets one more, and a last line without LF is ended; then the
 * final ".".  Every other octet as it is.  0, or -1 (read error, or the
 * connection dropped: DETAIL says which).
 */
static int
mta_body(int fd, char *detail, size_t size)
{
	char buf[8192];
	int bol = 1;
	ssize_t n;

	for (;;) {
		long long deadline = mta_deadline(MTA_BLOCK_TIMEOUT);
		size_t i, start = 0;

		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			(void)snprintf(detail, size, "smtp DATA: spool read: %s",
			    strerror(errno));
			mta_drop();
			return -1;
		}
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			if (bol && buf[i] == '.' && (mta_put(buf + start,
			    i - start, deadline) == -1 ||
			    mta_put(".", 1, deadline) == -1))
				goto lost;
			if (bol && buf[i] == '.')
				start = i;
			bol = buf[i] == '\n';
			if (bol) {
				if (mta_put(buf + start, i - start, deadline) ==
				    -1 || mta_put("\r\n", 2, deadline) == -1)
					goto lost;
				start = i + 1;
			}
		}
		if (mta_put(buf + start, (size_t)n - start, deadline) == -1)
			goto lost;
	}
	if (!bol && mta_put("\r\n", 2, mta_deadline(MTA_BLOCK_TIMEOUT)) == -1)
		goto lost;
	if (mta_put(".\r\n", 3, mta_deadline(MTA_BLOCK_TIMEOUT)) == -1)
		goto lost;
	return 0;
lost:
	mta_detail(detail, size, "DATA", NULL, NULL);
	return -1;
}

/* mta_data - DATA, the body, the final reply; the verdict */
static enum mta_verdict
mta_data(int fd, char *detail, size_t size)
{
	struct mta_reply r;

	if (mta_cmd("DATA") == -1 || mta_reply(MTA_DATA_TIMEOUT, 0, &r) == -1) {
		mta_detail(detail, size, "DATA", NULL, NULL);
		return MTA_DEFER;
	}
	if (r.code != 354) {
		mta_detail(detail, size, "DATA", &r, NULL);
		mta_rset();
		return mta_judge(&r);
	}
	if (mta_body(fd, detail, size) == -1)
		return MTA_DEFER;
	if (mta_reply(MTA_END_TIMEOUT, 0, &r) == -1) {
		mta_detail(detail, size, "end of DATA", NULL, NULL);
		return MTA_DEFER;
	}
	mta_detail(detail, size, "end of DATA", &r, NULL);
	if (r.code == 250)
		return MTA_SENT;
	return mta_judge(&r);
}

/* mta_stale - 1 when the kept connection is no longer usable */
static int
mta_stale(void)
{
	struct pollfd pfd = { mc.fd, POLLIN, 0 };

	/* Anything readable between transactions is a 421 or the end. */
	return poll(&pfd, 1, 0) != 0 || mta_now() - mc.used >
	    MTA_IDLE_MAX * 1000LL;
}

/* mta_try - one attempt on the kept (or a new) connection */
static enum mta_verdict
mta_try(const struct config *conf, const struct envelope *env, int fd,
    char *detail, size_t size, int *early)
{
	struct mta_reply r;
	enum mta_verdict v = MTA_DEFER;
	const char *stage;

	*early = 1;
	if (mc.fd != -1 && mta_stale())
		mta_drop();
	if (mc.fd == -1) {
		*early = 0;	/* a fresh connection: no second try */
		if ((stage = mta_open(conf, &r)) != NULL) {
			mta_detail(detail, size, stage, &r, NULL);
			mta_drop();
			return MTA_DEFER;
		}
	}
	if (!(mc.ext & EXT_SMTPUTF8) && mta_needs_utf8(env)) {
		(void)snprintf(detail, size, "smtp MAIL: the MTA does not "
		    "offer SMTPUTF8 and an address is not ASCII");
		*early = 0;
		return MTA_FAIL;
	}
	if (mta_envelope(env, detail, size, &v, early) == -1) {
		mta_rset();
		return v;
	}
	*early = 0;
	return mta_data(fd, detail, size);
}

/*
 * mta_send - hand one message to the MTA.  A kept connection that turns
 * out to be dead before MAIL was answered (the MTA closed it while we
 * were idle) is replaced once by a new one.
 */
enum mta_verdict
mta_send(const struct config *conf, const struct envelope *env, int fd,
    char *detail, size_t size)
{
	enum mta_verdict v;
	off_t at = lseek(fd, 0, SEEK_CUR);
	int early;

	v = mta_try(conf, env, fd, detail, size, &early);
	if (v == MTA_DEFER && early && mc.fd == -1 && at != -1 &&
	    lseek(fd, at, SEEK_SET) != -1)
		v = mta_try(conf, env, fd, detail, size, &early);
	mc.used = mta_now();
	return v;
}

/*
 * mta_probe - for smtpfe -n: connect to the listener and wait (10 s at
 * most) for its 220; 0, or -1 with the problem in WHY.
 */
int
mta_probe(const struct config *conf, char *why, size_t size)
{
	struct mta_reply r;
	long saved = mta_test_timeout_ms;
	int ok = 0;

	if (mta_test_timeout_ms == 0)
		mta_test_timeout_ms = 10000;
	mc.ilen = mc.ipos = mc.olen = 0;
	if ((mc.fd = mta_connect(conf->handoff)) == -1)
		(void)snprintf(why, size, "handoff %s: cannot connect: %s",
		    conf->handoff, strerror(errno));
	else if (mta_reply(MTA_CMD_TIMEOUT, 0, &r) == -1 || r.code != 220)
		(void)snprintf(why, size, "handoff %s: no 220 greeting%s%s",
		    conf->handoff, r.code != 0 ? ": " : "", r.text);
	else
		ok = 1;
	mta_close();
	mta_test_timeout_ms = saved;
	return ok ? 0 : -1;
}

/* mta_idle - close the kept connection when idle past MTA_IDLE_MAX */
void
mta_idle(void)
{
	if (mc.fd != -1 && mta_stale())
		mta_close();
}

/* mta_close - QUIT (reply read briefly) and close */
void
mta_close(void)
{
	struct mta_reply r;

	if (mc.fd == -1)
		return;
	if (mta_cmd("QUIT") == 0 && mta_flush(mta_now() + 1000) == 0)
		(void)mta_reply(1, 0, &r);
	mta_drop();
}

/* mta_target - parse "smtp:ADDR:PORT" or "smtp:[V6]:PORT"; 0, or -1 */
int
mta_target(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	if (strncmp(spec, "smtp:", 5) != 0)
		return -1;
	return hostport_parse(spec + 5, ss, len);
}
