/*
 * check_netio.c - the bounded line reader and the DATA decoder.
 *
 * Every line-reader case runs twice: written in packets of 4 KiB (under
 * the reader's buffer, as a packet socket truncates), and one octet
 * per packet on a SOCK_SEQPACKET pair so that each read() returns a single
 * octet.  Every decoder case runs whole and one octet at a time.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "netio.h"

static pid_t writer;

/* feed - a socket that delivers DATA in packets of CHUNK octets */
static int
feed(const char *data, size_t len, size_t chunk, int keep_open)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	writer = fork();
	ck_assert_int_ne(writer, -1);
	if (writer == 0) {
		size_t off;

		close(sv[0]);
		for (off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;

			if (write(sv[1], data + off, n) != (ssize_t)n)
				_exit(1);
		}
		if (keep_open)
			pause();
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

/* done - stop the writer */
static void
done(int fd)
{
	close(fd);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
}

struct line_case {
	const char	*in;		/* NULL: built by the test */
	enum line_status st[4];		/* statuses of successive reads */
	const char	*text[4];	/* the lines expected for LINE_OK */
};

static const struct line_case line_cases[] = {
	{ "HELO x\r\n", { LINE_OK, LINE_EOF }, { "HELO x" } },
	{ "HELO x\n", { LINE_OK, LINE_EOF }, { "HELO x" } },
	{ "A\r\nB\nC\r\n", { LINE_OK, LINE_OK, LINE_OK, LINE_EOF },
	    { "A", "B", "C" } },
	{ "HE\rLO\r\nNOOP\r\n", { LINE_BADEOL, LINE_OK, LINE_EOF },
	    { NULL, "NOOP" } },
	{ "\r\n", { LINE_OK, LINE_EOF }, { "" } },
	{ "HELO", { LINE_EOF }, { NULL } },
	{ "", { LINE_EOF }, { NULL } },
	{ "NOOP\r\r\n", { LINE_BADEOL, LINE_EOF }, { NULL } },
};

/* run_lines - read every expected status from FD */
static void
run_lines(int fd, const enum line_status *st, const char *const *text,
    size_t n)
{
	static struct netio io;
	char line[SMTP_LINE_MAX + 1];
	size_t i, len;

	netio_init(&io, fd, -1, 5, 60);
	for (i = 0; i < n; i++) {
		enum line_status got = netio_getline(&io, line, sizeof(line),
		    &len);

		ck_assert_int_eq(got, st[i]);
		if (got == LINE_OK) {
			ck_assert_str_eq(line, text[i]);
			ck_assert_uint_eq(len, strlen(text[i]));
		}
		if (got == LINE_EOF)
			break;
	}
}

START_TEST(test_lines)
{
	const struct line_case *c = &line_cases[_i / 2];
	size_t chunk = (_i % 2) ? 1 : 4096, n;
	int fd;

	for (n = 0; n < 4 && (n == 0 || c->st[n - 1] != LINE_EOF); n++)
		continue;
	fd = feed(c->in, strlen(c->in), chunk, 0);
	run_lines(fd, c->st, c->text, n);
	done(fd);
}
END_TEST

/* long_line - N octets of 'x', then EOL, then "NOOP\r\n" */
static char *
long_line(size_t n, const char *eol)
{
	char *p = malloc(n + 16);

	ck_assert_ptr_nonnull(p);
	memset(p, 'x', n);
	strcpy(p + n, eol);
	strcat(p, "NOOP\r\n");
	return p;
}

/* limit - a line of TOTAL octets with its EOL: 512 fits, 513 does not */
static void
limit(size_t total, const char *eol, enum line_status want, size_t chunk)
{
	char *in = long_line(total - strlen(eol), eol), *exp;
	enum line_status st[3] = { want, LINE_OK, LINE_EOF };
	const char *text[3];
	int fd;

	exp = strndup(in, total - strlen(eol));
	text[0] = exp;
	text[1] = "NOOP";
	text[2] = NULL;
	fd = feed(in, strlen(in), chunk, 0);
	run_lines(fd, st, text, 3);
	done(fd);
	free(in);
	free(exp);
}

START_TEST(test_limits)
{
	size_t chunk = (_i % 2) ? 1 : 4096;

	limit(SMTP_LINE_MAX, "\r\n", LINE_OK, chunk);
	limit(SMTP_LINE_MAX + 1, "\r\n", LINE_TOOLONG, chunk);
	limit(SMTP_LINE_MAX, "\n", LINE_OK, chunk);
	limit(SMTP_LINE_MAX + 1, "\n", LINE_TOOLONG, chunk);
	limit(SMTP_LINE_MAX * 20, "\r\n", LINE_TOOLONG, chunk);
}
END_TEST

START_TEST(test_timeout)
{
	static struct netio io;
	char line[SMTP_LINE_MAX + 1];
	size_t len;
	long long t0;
	int fd;

	fd = feed("NO", 2, 1, 1);
	netio_init(&io, fd, -1, 1, 60);
	t0 = now_ms();
	ck_assert_int_eq(netio_getline(&io, line, sizeof(line), &len),
	    LINE_TIMEOUT);
	ck_assert_int_ge(now_ms() - t0, 900);
	ck_assert_int_lt(now_ms() - t0, 3000);
	done(fd);
}
END_TEST

START_TEST(test_session_cap)
{
	static struct netio io;
	char line[SMTP_LINE_MAX + 1];
	size_t len;
	int fd;

	fd = feed("", 0, 1, 1);
	netio_init(&io, fd, -1, 60, 0);
	ck_assert_int_eq(netio_getline(&io, line, sizeof(line), &len),
	    LINE_TIMEOUT);
	done(fd);
}
END_TEST

struct data_case {
	const char	*in;
	size_t		 inlen;
	const char	*out;
	int		 end;		/* CRLF.CRLF seen */
	size_t		 used;		/* octets consumed */
	int		 bad;
	unsigned long long size;
};

#define S(x)	x, sizeof(x) - 1
#define SMUGGLE	"MAIL FROM:<e@x>\r\nRCPT TO:<v@example.org>\r\nDATA\r\n" \
		"smuggled\r\n"

static const struct data_case data_cases[] = {
	{ S(".\r\n"), "", 1, 3, 0, 0 },
	{ S("a\r\n.\r\n"), "a\n", 1, 6, 0, 3 },
	{ S("a\r\n.\r\nNOOP\r\n"), "a\n", 1, 6, 0, 3 },
	{ S("..\r\n.\r\n"), ".\n", 1, 7, 0, 3 },
	{ S("..x\r\n.\r\n"), ".x\n", 1, 8, 0, 4 },
	{ S(".x\r\n.\r\n"), "x\n", 1, 7, 0, 3 },
	{ S("\xe9\xff\x80\r\n.\r\n"), "\xe9\xff\x80\n", 1, 8, 0, 5 },
	{ S("a\r\n..\r\n"), "a\n.\n", 0, 7, 0, 6 },
	{ S("a\n.\n" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\n.\r\n" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r\n.\n" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r.\r\n" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r\n.\r" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r.\n" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r.\r" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\n.\r" SMUGGLE "\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("a\r\n.\r\r\n.\r\n"), NULL, 1, 0, 1, 0 },
	{ S("x.\r\n"), "x.\n", 0, 4, 0, 4 },
};

/* decode - run the decoder over IN in pieces of CHUNK; copy to OUT */
static size_t
decode(struct data_decoder *d, const char *in, size_t len, size_t chunk,
    char *out, size_t *outlen)
{
	static char buf[IO_INBUF + 16];
	size_t off = 0;

	*outlen = 0;
	while (off < len && d->state != DATA_END) {
		size_t n = len - off < chunk ? len - off : chunk, o, used;

		memcpy(buf, in + off, n);
		/* In place, as the session does it. */
		used = data_decode(d, buf, n, buf, &o);
		ck_assert_uint_le(o, used);
		memcpy(out + *outlen, buf, o);
		*outlen += o;
		off += used;
		if (used < n)
			ck_assert_int_eq(d->state, DATA_END);
	}
	return off;
}

START_TEST(test_data)
{
	const struct data_case *c = &data_cases[_i / 2];
	struct data_decoder d;
	char out[1024];
	size_t outlen, used;

	data_init(&d);
	used = decode(&d, c->in, c->inlen, (_i % 2) ? 1 : 1000, out, &outlen);
	ck_assert_int_eq(d.state == DATA_END, c->end);
	ck_assert_int_eq(d.bad_eol, c->bad);
	if (c->bad)
		ck_assert_uint_eq(used, c->inlen);
	else {
		ck_assert_uint_eq(used, c->used);
		ck_assert_uint_eq(outlen, strlen(c->out));
		ck_assert(memcmp(out, c->out, outlen) == 0);
		ck_assert_uint_eq(d.size, c->size);
	}
}
END_TEST

/* NUL anywhere, smtpsmug's two probes among them: flagged, never an end. */
static const struct nul_case {
	const char	*in;
	size_t		 inlen;
	int		 nul;
	int		 end;
} nul_cases[] = {
	{ S("a\r\n\0.\r\n" SMUGGLE "\r\n.\r\n"), 1, 1 },
	{ S("a\r\n.\0\r\n" SMUGGLE "\r\n.\r\n"), 1, 1 },
	{ S("\0\r\n.\r\n"), 1, 1 },
	{ S("ab\0cd\r\n.\r\n"), 1, 1 },
	{ S("..\0\r\n.\r\n"), 1, 1 },
	{ S("abc\r\n.\r\n\0"), 0, 1 },	/* after the end: not the message */
	{ S("abc\r\n\0"), 1, 0 },
	{ S("abc\x01\xff\r\n.\r\n"), 0, 1 },
};

START_TEST(test_data_nul)
{
	const struct nul_case *c = &nul_cases[_i / 2];
	struct data_decoder d;
	char out[1024];
	size_t outlen;

	data_init(&d);
	(void)decode(&d, c->in, c->inlen, (_i % 2) ? 1 : 1000, out, &outlen);
	ck_assert_int_eq(d.nul, c->nul);
	ck_assert_int_eq(d.state == DATA_END, c->end);
	ck_assert_int_eq(d.bad_eol, 0);
}
END_TEST

/* A line as long as the input buffer, then ".\r\n", does not end DATA. */
START_TEST(test_data_buffer_line)
{
	static char in[IO_INBUF + 16];
	static char out[IO_INBUF + 16];
	struct data_decoder d;
	size_t outlen, n;

	for (n = IO_INBUF - 1; n <= IO_INBUF + 1; n++) {
		memset(in, 'y', n);
		memcpy(in + n, ".\r\n", 3);
		data_init(&d);
		(void)decode(&d, in, n + 3, IO_INBUF, out, &outlen);
		ck_assert_int_ne(d.state, DATA_END);
		ck_assert_uint_eq(outlen, n + 2);
	}
}
END_TEST

/*
 * Random inputs over the alphabet that matters (".", CR, LF, text), cut
 * at random places: the decoded octets, the size, the bad-EOL flag and
 * the end must not depend on where the input was cut.
 */
START_TEST(test_data_splits)
{
	static const char alphabet[] = ".\r\nab\0";
	static char in[2048], out1[2048], out2[2048], piece[2048];
	unsigned int seed = 12345u + (unsigned int)_i;
	int round;

	for (round = 0; round < 200; round++) {
		struct data_decoder d1, d2;
		size_t len = (size_t)(rand_r(&seed) % sizeof(in)), i;
		size_t n1, n2 = 0, off = 0, used1;

		for (i = 0; i < len; i++)
			in[i] = alphabet[rand_r(&seed) % 6];
		data_init(&d1);
		data_init(&d2);
		memcpy(piece, in, len);
		used1 = data_decode(&d1, piece, len, out1, &n1);
		while (off < len && d2.state != DATA_END) {
			size_t cut = 1 + (size_t)rand_r(&seed) % 7, o;

			if (cut > len - off)
				cut = len - off;
			memcpy(piece, in + off, cut);
			off += data_decode(&d2, piece, cut, piece, &o);
			memcpy(out2 + n2, piece, o);
			n2 += o;
		}
		ck_assert_uint_eq(used1, off);
		ck_assert_int_eq(d1.state, d2.state);
		ck_assert_int_eq(d1.bad_eol, d2.bad_eol);
		ck_assert_int_eq(d1.nul, d2.nul);
		ck_assert_uint_eq(d1.size, d2.size);
		ck_assert_uint_eq(n1, n2);
		ck_assert(memcmp(out1, out2, n1) == 0);
	}
}
END_TEST

static Suite *
netio_suite(void)
{
	Suite *s = suite_create("netio");
	TCase *tc = tcase_create("lines");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_lines, 0,
	    2 * (int)(sizeof(line_cases) / sizeof(line_cases[0])));
	tcase_add_loop_test(tc, test_limits, 0, 2);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_session_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("data");
	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_data, 0,
	    2 * (int)(sizeof(data_cases) / sizeof(data_cases[0])));
	tcase_add_loop_test(tc, test_data_nul, 0,
	    2 * (int)(sizeof(nul_cases) / sizeof(nul_cases[0])));
	tcase_add_test(tc, test_data_buffer_line);
	tcase_add_loop_test(tc, test_data_splits, 0, 10);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(netio_suite)
