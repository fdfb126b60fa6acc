/*
 * check_mta.c - the runner with handoff = smtp:ADDR:PORT (mta.c) against
 * a scripted fake SMTP server in a child process: every row of SPEC.md's
 * SMTP table, the MTA's missing extensions, multi-line and malformed
 * replies, timeouts, drops, the kept connection, and the exact octets
 * the MTA receives.  A file of its own so that check_runner.c keeps the
 * sendmail path.
 *
 * The fake writes what it reads to "mta.in" (the client's octets, as
 * they came) and one line per connection to "mta.conns"; both live in
 * the spool directory the test runs in.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "mta.h"
#include "spool.h"

enum stage { S_GREET, S_EHLO, S_XF, S_MAIL, S_RCPT, S_DATA, S_END, S_NONE };

/* What the fake answers; NULL means the usual 2xx/354. */
struct script {
	const char	*greet;
	const char	*ehlo;		/* whole reply, CRLFs included */
	const char	*mail;
	const char	*rcpt[3];	/* by recipient index */
	const char	*data;
	const char	*end;		/* whole reply, CRLFs included */
	enum stage	 drop;		/* close instead of answering */
	enum stage	 stall;		/* say nothing for 3 s instead */
	int		 close_after;	/* close after N messages (0 never) */
};

#define EHLO_ALL	"250-fake.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250-SMTPUTF8\r\n250-XFORWARD NAME ADDR PROTO HELO SOURCE\r\n" \
			"250 SIZE 10240000\r\n"
#define EHLO_NONE	"250 fake.example\r\n"

static char spooldir[PATH_MAX];
static int no_inotify;
static struct config conf;
static pid_t fake_pid = -1;
static int fake_port;

/*
 * inotify_init1 - the runner's, unless a test wants it missing (as on a
 * system without inotify): then ENOSYS, and the runner scans instead.
 */
int
inotify_init1(int flags)
{
	if (no_inotify) {
		errno = ENOSYS;
		return -1;
	}
	return (int)syscall(SYS_inotify_init1, flags);
}

/* setup - a fresh spool as the current directory, handoff = smtp */
static void
setup(void)
{
	strcpy(spooldir, "/tmp/check_mta.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(spooldir));
	ck_assert_int_eq(chdir(spooldir), 0);
	ck_assert_int_eq(mkdir("tmp", 0700), 0);
	ck_assert_int_eq(mkdir("new", 0700), 0);
	ck_assert_int_eq(mkdir("failed", 0700), 0);
	config_defaults(&conf);
	strcpy(conf.hostname, "front.example.org");
	conf.handoff_processes = 1;
	mta_test_timeout_ms = 0;
	openlog("check_mta", getenv("CHECK_RUNNER_LOG") ? LOG_PERROR : 0,
	    LOG_MAIL);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	mta_close();
	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGKILL);
		(void)waitpid(fake_pid, NULL, 0);
		fake_pid = -1;
	}
	if (chdir("/") == 0 && strncmp(spooldir, "/tmp/check_mta.", 15) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", spooldir);
		(void)system(cmd);
	}
}

/* say - the fake's reply TEXT (a single line gets its CRLF) */
static void
say(int fd, const char *text, const char *dflt)
{
	char buf[1024];
	const char *t = text != NULL ? text : dflt;

	if (strstr(t, "\r\n") != NULL)
		(void)write(fd, t, strlen(t));
	else {
		snprintf(buf, sizeof(buf), "%s\r\n", t);
		(void)write(fd, buf, strlen(buf));
	}
}

/* fake_line - read one line (LF included) from FD, logging it; length */
static ssize_t
fake_line(int fd, char *buf, size_t size, FILE *log)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return -1;
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	(void)fwrite(buf, 1, n, log);
	(void)fflush(log);
	return (ssize_t)n;
}

/* fake_act - 1 when the script drops or stalls at STAGE (and does) */
static int
fake_act(const struct script *s, enum stage st, int fd)
{
	if (s->stall == st) {
		sleep(3);
		return 0;
	}
	if (s->drop == st) {
		(void)close(fd);
		return 1;
	}
	return 0;
}

/* fake_session - one connection by the script; 1 to stop serving */
static int
fake_session(const struct script *s, int fd, FILE *log, int *msgs)
{
	char line[4096];
	int rcpt = 0;

	if (fake_act(s, S_GREET, fd))
		return 0;
	say(fd, s->greet, "220 fake.example ESMTP");
	while (fake_line(fd, line, sizeof(line), log) > 0) {
		if (strncmp(line, "EHLO", 4) == 0) {
			if (fake_act(s, S_EHLO, fd))
				return 0;
			say(fd, s->ehlo, EHLO_ALL);
		} else if (strncmp(line, "HELO", 4) == 0)
			say(fd, NULL, "250 fake.example");
		else if (strncmp(line, "XFORWARD", 8) == 0) {
			if (fake_act(s, S_XF, fd))
				return 0;
			say(fd, NULL, "250 2.0.0 Ok");
		} else if (strncmp(line, "MAIL", 4) == 0) {
			rcpt = 0;
			if (fake_act(s, S_MAIL, fd))
				return 0;
			say(fd, s->mail, "250 2.1.0 Ok");
		} else if (strncmp(line, "RCPT", 4) == 0) {
			if (fake_act(s, S_RCPT, fd))
				return 0;
			say(fd, rcpt < 3 ? s->rcpt[rcpt] : NULL, "250 2.1.5 Ok");
			rcpt++;
		} else if (strncmp(line, "DATA", 4) == 0) {
			if (fake_act(s, S_DATA, fd))
				return 0;
			say(fd, s->data, "354 End data with <CR><LF>.<CR><LF>");
			if (s->data != NULL && s->data[0] != '3')
				continue;
			while (fake_line(fd, line, sizeof(line), log) > 0 &&
			    strcmp(line, ".\r\n") != 0)
				continue;
			if (fake_act(s, S_END, fd))
				return 0;
			say(fd, s->end, "250 2.0.0 Ok: queued as FAKE");
			if (s->close_after > 0 && ++*msgs % s->close_after == 0) {
				(void)close(fd);
				return 0;
			}
		} else if (strncmp(line, "RSET", 4) == 0)
			say(fd, NULL, "250 2.0.0 Ok");
		else if (strncmp(line, "QUIT", 4) == 0) {
			say(fd, NULL, "221 2.0.0 Bye");
			break;
		} else
			say(fd, NULL, "502 5.5.2 What?");
	}
	(void)close(fd);
	return 0;
}

/* fake_serve - fork the fake on the listening socket LFD */
static void
fake_serve(const struct script *s, int lfd)
{
	int msgs = 0;

	if ((fake_pid = fork()) == 0) {
		FILE *log = fopen("mta.in", "a"), *conns;
		int c;

		while ((c = accept(lfd, NULL, NULL)) != -1) {
			if ((conns = fopen("mta.conns", "a")) != NULL) {
				fputs("conn\n", conns);
				fclose(conns);
			}
			(void)fake_session(s, c, log, &msgs);
		}
		_exit(0);
	}
	ck_assert_int_gt(fake_pid, 0);
	(void)close(lfd);
}

/* fake_start - the fake SMTP server on an ephemeral loopback port */
static void
fake_start(const struct script *s)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int lfd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	fake_port = ntohs(sin.sin_port);
	snprintf(conf.handoff, sizeof(conf.handoff), "smtp:127.0.0.1:%d",
	    fake_port);
	fake_serve(s, lfd);
}

/* fake_start6 - the same on [::1]; 0, or -1 when there is no IPv6 */
static int
fake_start6(const struct script *s)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);
	int lfd;

	if ((lfd = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		(void)close(lfd);
		return -1;
	}
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin6, &len), 0);
	snprintf(conf.handoff, sizeof(conf.handoff), "smtp:[::1]:%d",
	    ntohs(sin6.sin6_port));
	fake_serve(s, lfd);
	return 0;
}

/* slurp - a whole file, NUL-terminated ("" when missing) */
static const char *
slurp(const char *path)
{
	static char buf[1 << 20];
	ssize_t n = 0;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* lines - how many lines FILE has */
static int
lines(const char *path)
{
	const char *p;
	int n = 0;

	for (p = slurp(path); *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

/* exists - 1 when PATH exists */
static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* put - new/NAME with the envelope parts given and BODY */
static void
put(const char *name, const char *sender, const char *rcpts,
    const char *bodyparam, const char *body, size_t blen)
{
	char path[PATH_MAX], arr[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	gmtime_r(&now, &tm);
	strftime(arr, sizeof(arr), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(path, sizeof(path), "new/%s", name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "Smtpfe-Spool: 1\nClient: 192.0.2.1\nHelo: mail.example.net\n"
	    "Sender: %s\n%s%s%s%sArrived: %s\n\n", sender, rcpts,
	    bodyparam ? "Body: " : "", bodyparam ? bodyparam : "",
	    bodyparam ? "\n" : "", arr);
	ck_assert_uint_eq(fwrite(body, 1, blen, f), blen);
	ck_assert_int_eq(fclose(f), 0);
}

/* msg - the usual message m1: two recipients, a one-line body */
static void
msg(const char *name)
{
	put(name, "<a@example.net>", "Recipient: <x@example.org>\n"
	    "Recipient: <y@example.org>\n", NULL, "Subject: t\n\nhi\n", 15);
}

/* deferred - 1 when new/NAME stays with its next try in the future */
static int
deferred(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "new/%s", name);
	return stat(path, &st) == 0 && st.st_mtime > time(NULL) + 100;
}

/* run - one spool_run; returns its status */
static int
run(void)
{
	return spool_run(&conf);
}

/* The whole dialogue, octet for octet, with every extension offered. */
START_TEST(sent_exact_octets)
{
	static const char body[] = "Subject: dots\n\n.\n..x\n.hidden\nmid.dle\n"
	    "8bit \xc3\xa9\nbare\rCR\nno final LF";
	struct script s = { .drop = S_NONE, .stall = S_NONE };

	fake_start(&s);
	put("m1", "<a@example.net>", "Recipient: <x@example.org>\n"
	    "Recipient: <y@example.org>\n", "8BITMIME", body, sizeof(body) - 1);
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_int_eq(exists("failed/m1"), 0);
	ck_assert_str_eq(slurp("mta.in"),
	    "EHLO front.example.org\r\n"
	    "XFORWARD ADDR=192.0.2.1 NAME=[UNAVAILABLE] PROTO=ESMTP\r\n"
	    "XFORWARD HELO=mail.example.net\r\n"
	    "MAIL FROM:<a@example.net> BODY=8BITMIME\r\n"
	    "RCPT TO:<x@example.org>\r\n"
	    "RCPT TO:<y@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: dots\r\n\r\n..\r\n...x\r\n..hidden\r\nmid.dle\r\n"
	    "8bit \xc3\xa9\r\nbare\rCR\r\nno final LF\r\n.\r\n"
	    "QUIT\r\n");
}
END_TEST

/* No PIPELINING, 8BITMIME, SMTPUTF8 or XFORWARD: none of them is used. */
START_TEST(sent_plain_mta)
{
	struct script s = { .ehlo = EHLO_NONE, .drop = S_NONE,
	    .stall = S_NONE };

	fake_start(&s);
	put("m1", "<>", "Recipient: <x@example.org>\n", "8BITMIME",
	    "a\n", 2);
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_str_eq(slurp("mta.in"),
	    "EHLO front.example.org\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<x@example.org>\r\nDATA\r\na\r\n.\r\nQUIT\r\n");
}
END_TEST

/* EHLO refused: HELO, and no extension at all. */
START_TEST(ehlo_refused_helo)
{
	struct script s = { .ehlo = "502 5.5.2 no EHLO", .drop = S_NONE,
	    .stall = S_NONE };

	fake_start(&s);
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "HELO front.example.org"
	    "\r\nMAIL FROM:<a@example.net>\r\n"));
}
END_TEST

/* Multi-line replies everywhere, the end of DATA's too. */
START_TEST(sent_multiline)
{
	struct script s = { .mail = "250-ok\r\n250-still ok\r\n250 ok\r\n",
	    .end = "250-2.0.0 queued\r\n250 2.0.0 as FAKE\r\n",
	    .drop = S_NONE, .stall = S_NONE };

	fake_start(&s);
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
}
END_TEST

/* fail_at - a 5xx reply at one stage: failed/, and RSET before DATA */
static void
fail_at(struct script *s, int rset)
{
	s->drop = S_NONE;
	s->stall = S_NONE;
	fake_start(s);
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_int_eq(exists("failed/m1"), 1);
	ck_assert_int_eq(strstr(slurp("mta.in"), "RSET\r\n") != NULL, rset);
}

START_TEST(fail_mail)
{
	struct script s = { .mail = "550 5.1.8 bad sender" };

	fail_at(&s, 1);
	ck_assert_ptr_null(strstr(slurp("mta.in"), "DATA"));
}
END_TEST

/* The second recipient refused: nobody gets it, no DATA. */
START_TEST(fail_second_rcpt)
{
	struct script s = { .rcpt = { NULL, "550 5.1.1 no such user" } };

	fail_at(&s, 1);
	ck_assert_ptr_null(strstr(slurp("mta.in"), "DATA"));
}
END_TEST

/* Without pipelining the same, in lock-step. */
START_TEST(fail_rcpt_lockstep)
{
	struct script s = { .ehlo = EHLO_NONE,
	    .rcpt = { "550 5.1.1 no such user" } };

	fail_at(&s, 1);
	ck_assert_ptr_null(strstr(slurp("mta.in"), "RCPT TO:<y@"));
	ck_assert_ptr_null(strstr(slurp("mta.in"), "DATA"));
}
END_TEST

START_TEST(fail_data)
{
	struct script s = { .data = "554 5.5.1 no valid recipients" };

	fail_at(&s, 1);
}
END_TEST

START_TEST(fail_end)
{
	struct script s = { .end = "554 5.7.1 spam" };

	fail_at(&s, 0);
}
END_TEST

/* A 4xx to one RCPT and a 5xx to the next: the 5xx wins. */
START_TEST(fail_wins_over_defer)
{
	struct script s = { .rcpt = { "451 4.3.0 later", "550 5.1.1 never" } };

	fail_at(&s, 1);
}
END_TEST

/* defer_at - a 4xx (or a drop or a stall) at one stage: stays, backs off */
static void
defer_at(struct script *s)
{
	mta_test_timeout_ms = 1000;
	fake_start(s);
	msg("m1");
	ck_assert_int_eq(run(), 75);
	ck_assert_int_eq(exists("failed/m1"), 0);
	ck_assert_int_eq(deferred("m1"), 1);
}

START_TEST(defer_greeting)
{
	struct script s = { .greet = "421 4.3.2 busy", .drop = S_NONE,
	    .stall = S_NONE };

	defer_at(&s);
}
END_TEST

START_TEST(defer_mail)
{
	struct script s = { .mail = "451 4.3.0 later", .drop = S_NONE,
	    .stall = S_NONE };

	defer_at(&s);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "RSET\r\n"));
}
END_TEST

START_TEST(defer_rcpt)
{
	struct script s = { .rcpt = { NULL, "452 4.5.3 too many" },
	    .drop = S_NONE, .stall = S_NONE };

	defer_at(&s);
	ck_assert_ptr_null(strstr(slurp("mta.in"), "DATA"));
}
END_TEST

START_TEST(defer_data)
{
	struct script s = { .data = "451 4.3.0 later", .drop = S_NONE,
	    .stall = S_NONE };

	defer_at(&s);
}
END_TEST

START_TEST(defer_end)
{
	struct script s = { .end = "451 4.3.0 queue file write error",
	    .drop = S_NONE, .stall = S_NONE };

	defer_at(&s);
}
END_TEST

/* Nobody listens: stays. */
START_TEST(defer_no_connection)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	/* A port that was free a moment ago and has no listener. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)close(fd);
	snprintf(conf.handoff, sizeof(conf.handoff), "smtp:127.0.0.1:%d",
	    ntohs(sin.sin_port));
	msg("m1");
	ck_assert_int_eq(run(), 75);
	ck_assert_int_eq(deferred("m1"), 1);
}
END_TEST

/* Timeouts: silent greeting, silent MAIL, silent end of DATA. */
START_TEST(defer_timeout_greeting)
{
	struct script s = { .drop = S_NONE, .stall = S_GREET };

	defer_at(&s);
}
END_TEST

START_TEST(defer_timeout_rcpt)
{
	struct script s = { .drop = S_NONE, .stall = S_RCPT };

	defer_at(&s);
}
END_TEST

START_TEST(defer_timeout_end)
{
	struct script s = { .drop = S_NONE, .stall = S_END };

	defer_at(&s);
}
END_TEST

/* Dropped before the end-of-DATA reply: stays (sent twice, at worst). */
START_TEST(defer_drop_before_end_reply)
{
	struct script s = { .drop = S_END, .stall = S_NONE };

	defer_at(&s);
}
END_TEST

START_TEST(defer_drop_at_ehlo)
{
	struct script s = { .drop = S_EHLO, .stall = S_NONE };

	defer_at(&s);
}
END_TEST

/* Malformed replies: not a code, codes that differ, a line too long. */
START_TEST(defer_garbage_reply)
{
	struct script s = { .mail = "hello there", .drop = S_NONE,
	    .stall = S_NONE };

	defer_at(&s);
}
END_TEST

START_TEST(defer_mixed_codes)
{
	struct script s = { .mail = "250-ok\r\n550 no\r\n", .drop = S_NONE,
	    .stall = S_NONE };

	defer_at(&s);
}
END_TEST

START_TEST(reply_line_limit)
{
	static char at[2048 + 16], past[2049 + 16];
	struct script s = { .drop = S_NONE, .stall = S_NONE };

	/* 2048 octets before CRLF are taken; 2049 are not. */
	memset(at, 'x', sizeof(at));
	memcpy(at, "250 ", 4);
	memcpy(at + 2048, "\r\n", 3);
	s.mail = at;
	fake_start(&s);
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	teardown();
	setup();
	memset(past, 'x', sizeof(past));
	memcpy(past, "250 ", 4);
	memcpy(past + 2049, "\r\n", 3);
	s.mail = past;
	defer_at(&s);
}
END_TEST

/* lines_reply - a 250 reply of N lines */
static const char *
lines_reply(int n)
{
	static char buf[200 * 16];
	size_t o = 0;
	int i;

	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "250%cline %d\r\n",
		    i == n - 1 ? ' ' : '-', i);
	return buf;
}

/* A reply of 100 lines is taken; one of 101 is not. */
START_TEST(reply_lines_limit)
{
	static char at[200 * 16];
	struct script s = { .drop = S_NONE, .stall = S_NONE };

	strcpy(at, lines_reply(100));
	s.mail = at;
	fake_start(&s);
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	teardown();
	setup();
	s.mail = lines_reply(101);
	defer_at(&s);
}
END_TEST

/* Three messages, one connection. */
START_TEST(connection_kept)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };

	fake_start(&s);
	msg("m1");
	msg("m2");
	msg("m3");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(lines("mta.conns"), 1);
	ck_assert_int_eq(lines("new/../mta.in") > 0, 1);
}
END_TEST

/* The MTA closes after each message: the next one opens another. */
START_TEST(connection_reopened)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE,
	    .close_after = 1 };

	fake_start(&s);
	msg("m1");
	msg("m2");
	msg("m3");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(lines("mta.conns"), 3);
	ck_assert_int_eq(exists("new/m1") + exists("new/m2") +
	    exists("new/m3"), 0);
}
END_TEST

/* envelope - a hand-made envelope (the parser's rules aside) */
static void
envelope(struct envelope *env, const char *sender, const char *rcpt)
{
	memset(env, 0, sizeof(*env));
	strcpy(env->client, "2001:db8::1");
	strcpy(env->helo, "mail.example.net");
	strcpy(env->sender.path, sender);
	strcpy(env->rcpt[0].path, rcpt);
	env->nrcpt = 1;
	env->smtputf8 = 1;
	env->arrived = time(NULL);
}

/* SMTPUTF8: sent when offered; a UTF-8 address without it: failed. */
START_TEST(smtputf8)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };
	struct envelope env;
	char detail[512];
	int fd;

	fake_start(&s);
	envelope(&env, "<j\xc3\xb6rg@example.net>", "<x@example.org>");
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(mta_send(&conf, &env, fd, detail, sizeof(detail)),
	    MTA_SENT);
	mta_close();
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "XFORWARD ADDR="
	    "2001:db8::1 NAME=[UNAVAILABLE] PROTO=UTF8SMTP\r\n"));
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"),
	    "MAIL FROM:<j\xc3\xb6rg@example.net> SMTPUTF8\r\n"));
	teardown();
	setup();
	s.ehlo = EHLO_NONE;
	fake_start(&s);
	ck_assert_int_eq(mta_send(&conf, &env, fd, detail, sizeof(detail)),
	    MTA_FAIL);
	ck_assert_ptr_nonnull(strstr(detail, "SMTPUTF8"));
	/* All ASCII: the parameter is just left out. */
	envelope(&env, "<a@example.net>", "<x@example.org>");
	ck_assert_int_eq(mta_send(&conf, &env, fd, detail, sizeof(detail)),
	    MTA_SENT);
	mta_close();
	ck_assert_ptr_null(strstr(slurp("mta.in"), "j\xc3\xb6rg"));
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"),
	    "MAIL FROM:<a@example.net>\r\n"));
	(void)close(fd);
}
END_TEST

/* XFORWARD: only the attributes offered, xtext, an unknown client. */
START_TEST(xforward_attributes)
{
	struct script s = { .ehlo = "250-fake\r\n250 XFORWARD HELO ADDR\r\n",
	    .drop = S_NONE, .stall = S_NONE };
	struct envelope env;
	char detail[512];
	int fd;

	fake_start(&s);
	envelope(&env, "<a@example.net>", "<x@example.org>");
	strcpy(env.client, "unknown");
	strcpy(env.helo, "we+ird=na\x01me");
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(mta_send(&conf, &env, fd, detail, sizeof(detail)),
	    MTA_SENT);
	mta_close();
	(void)close(fd);
	ck_assert_str_eq(slurp("mta.in"), "EHLO front.example.org\r\n"
	    "XFORWARD ADDR=[UNAVAILABLE]\r\n"
	    "XFORWARD HELO=we+2Bird+3Dna+01me\r\n"
	    "MAIL FROM:<a@example.net>\r\nRCPT TO:<x@example.org>\r\n"
	    "DATA\r\n.\r\nQUIT\r\n");
}
END_TEST

/* ENVELOPE_RCPT_MAX recipients, pipelined past the output buffer. */
START_TEST(rcpt_max_pipelined)
{
	static struct envelope env;
	struct script s = { .drop = S_NONE, .stall = S_NONE };
	char detail[512];
	const char *p;
	size_t i;
	int fd, n = 0;

	fake_start(&s);
	envelope(&env, "<a@example.net>", "<x@example.org>");
	for (i = 0; i < ENVELOPE_RCPT_MAX; i++)
		snprintf(env.rcpt[i].path, sizeof(env.rcpt[i].path),
		    "<user%04zu-with-a-longish-local-part@example.org>", i);
	env.nrcpt = ENVELOPE_RCPT_MAX;
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(mta_send(&conf, &env, fd, detail, sizeof(detail)),
	    MTA_SENT);
	mta_close();
	(void)close(fd);
	for (p = slurp("mta.in"); (p = strstr(p, "RCPT TO:<user")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, ENVELOPE_RCPT_MAX);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"),
	    "RCPT TO:<user0999-with-a-longish-local-part@example.org>\r\n"
	    "DATA\r\n"));
}
END_TEST

/* handoff = smtp:[::1]:PORT (probed: skipped where ::1 cannot be bound). */
START_TEST(sent_over_ipv6)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };

	if (fake_start6(&s) == -1) {
		fprintf(stderr, "check_mta: sent_over_ipv6 skipped: cannot bind "
		    "[::1] here\n");
		return;
	}
	msg("m1");
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "RCPT TO:<y@"));
}
END_TEST

/* The target's syntax: IPv4, [IPv6], and what is refused. */
START_TEST(target_syntax)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(mta_target("smtp:127.0.0.1:10025", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(mta_target("smtp:[::1]:10025", &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(mta_target("smtp:127.0.0.1:65535", &ss, &len), 0);
	ck_assert_int_eq(mta_target("smtp:127.0.0.1:65536", &ss, &len), -1);
	ck_assert_int_eq(mta_target("smtp:127.0.0.1:0", &ss, &len), -1);
	ck_assert_int_eq(mta_target("smtp:127.0.0.1:", &ss, &len), -1);
	ck_assert_int_eq(mta_target("smtp:127.0.0.1", &ss, &len), -1);
	ck_assert_int_eq(mta_target("smtp:::1:25", &ss, &len), -1);
	ck_assert_int_eq(mta_target("smtp:localhost:25", &ss, &len), -1);
	ck_assert_int_eq(mta_target("lmtp:127.0.0.1:25", &ss, &len), -1);
	ck_assert_int_eq(mta_target("sendmail", &ss, &len), -1);
}
END_TEST

/* -Q: a message renamed into new/ is handed off within a second. */
START_TEST(loop_inotify)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };
	struct timespec t0, t1;
	pid_t pid;
	int st, i;

	fake_start(&s);
	conf.handoff_processes = 2;
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 3600) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	usleep(300000);		/* the workers' first pass is over */
	put("../tmp/m1", "<a@example.net>", "Recipient: <x@example.org>\n",
	    NULL, "hi\n", 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(rename("tmp/m1", "new/m1"), 0);
	for (i = 0; i < 100 && exists("new/m1"); i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(exists("failed/m1"), 0);
}
END_TEST

/* SIGTERM while a worker waits for the end-of-DATA reply: it finishes. */
START_TEST(loop_sigterm_finishes)
{
	struct script s = { .drop = S_NONE, .stall = S_END };
	pid_t pid;
	int st, i;

	fake_start(&s);
	conf.handoff_processes = 2;
	msg("m1");
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 3600) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	for (i = 0; i < 200 && strstr(slurp("mta.in"), "\r\n.\r\n") == NULL;
	    i++)
		usleep(10000);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "\r\n.\r\n"));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_int_eq(exists("failed/m1"), 0);
	ck_assert_ptr_nonnull(strstr(slurp("mta.in"), "QUIT\r\n"));
}
END_TEST

/* -Q without inotify: new/ is looked at every second instead. */
START_TEST(loop_without_inotify)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };
	struct timespec t0, t1;
	pid_t pid;
	int st, i;

	no_inotify = 1;
	fake_start(&s);
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 3600) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	usleep(300000);
	put("../tmp/m1", "<a@example.net>", "Recipient: <x@example.org>\n",
	    NULL, "hi\n", 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(rename("tmp/m1", "new/m1"), 0);
	for (i = 0; i < 300 && exists("new/m1"); i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(exists("new/m1"), 0);
	/* Within a second, and a little for a busy machine. */
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, 1500);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* -Q with two workers and 40 messages: each handed off exactly once. */
START_TEST(loop_parallel_once)
{
	struct script s = { .drop = S_NONE, .stall = S_NONE };
	char name[32];
	pid_t pid;
	int st, i;

	fake_start(&s);
	conf.handoff_processes = 3;
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 3600) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "../tmp/p%02d", i);
		put(name, "<a@example.net>", "Recipient: <x@example.org>\n",
		    NULL, "hi\n", 3);
		snprintf(name, sizeof(name), "tmp/p%02d", i);
		{
			char to[32];

			snprintf(to, sizeof(to), "new/p%02d", i);
			ck_assert_int_eq(rename(name, to), 0);
		}
	}
	for (i = 0; i < 300; i++) {
		const char *p;
		int n = 0;

		for (p = slurp("mta.in"); (p = strstr(p, "DATA\r\n")) != NULL;
		    p++)
			n++;
		if (n >= 40)
			break;
		usleep(10000);
	}
	usleep(200000);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		const char *p;
		int n = 0;

		for (p = slurp("mta.in"); (p = strstr(p, "DATA\r\n")) != NULL;
		    p++)
			n++;
		ck_assert_int_eq(n, 40);
	}
	ck_assert_int_le(lines("mta.conns"), 3);
}
END_TEST

static Suite *
mta_suite(void)
{
	Suite *s = suite_create("mta");
	TCase *ts = tcase_create("sent");
	TCase *tf = tcase_create("failed");
	TCase *td = tcase_create("deferred");
	TCase *tc = tcase_create("connection");

	tcase_set_timeout(ts, 20);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, sent_exact_octets);
	tcase_add_test(ts, sent_plain_mta);
	tcase_add_test(ts, ehlo_refused_helo);
	tcase_add_test(ts, sent_multiline);
	tcase_add_test(ts, smtputf8);
	tcase_add_test(ts, xforward_attributes);
	tcase_add_test(ts, rcpt_max_pipelined);
	tcase_add_test(ts, target_syntax);
	tcase_add_test(ts, sent_over_ipv6);
	suite_add_tcase(s, ts);

	tcase_set_timeout(tf, 20);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, fail_mail);
	tcase_add_test(tf, fail_second_rcpt);
	tcase_add_test(tf, fail_rcpt_lockstep);
	tcase_add_test(tf, fail_data);
	tcase_add_test(tf, fail_end);
	tcase_add_test(tf, fail_wins_over_defer);
	suite_add_tcase(s, tf);

	tcase_set_timeout(td, 20);
	tcase_add_checked_fixture(td, setup, teardown);
	tcase_add_test(td, defer_greeting);
	tcase_add_test(td, defer_mail);
	tcase_add_test(td, defer_rcpt);
	tcase_add_test(td, defer_data);
	tcase_add_test(td, defer_end);
	tcase_add_test(td, defer_no_connection);
	tcase_add_test(td, defer_timeout_greeting);
	tcase_add_test(td, defer_timeout_rcpt);
	tcase_add_test(td, defer_timeout_end);
	tcase_add_test(td, defer_drop_before_end_reply);
	tcase_add_test(td, defer_drop_at_ehlo);
	tcase_add_test(td, defer_garbage_reply);
	tcase_add_test(td, defer_mixed_codes);
	tcase_add_test(td, reply_line_limit);
	tcase_add_test(td, reply_lines_limit);
	suite_add_tcase(s, td);

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, connection_kept);
	tcase_add_test(tc, connection_reopened);
	tcase_add_test(tc, loop_inotify);
	tcase_add_test(tc, loop_without_inotify);
	tcase_add_test(tc, loop_parallel_once);
	tcase_add_test(tc, loop_sigterm_finishes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(mta_suite)
