/*
 * check_runner.c - the spool runner: envelope re-validation, the argv
 * and stdin of the hand-off, SPEC's exit-status table, back-off, expiry,
 * stale tmp/ files, two runners at once, SIGTERM during a hand-off.
 *
 * Each test builds a spool by hand in a fresh directory under /tmp, makes
 * it the current directory (as main does) and points conf.sendmail at
 * tests/fake-sendmail/fake-sendmail.c, built next to this program (or at
 * $SMTPFE_FAKE_SENDMAIL).  The fake records its argv, environment, open
 * descriptors and stdin in the spool directory.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
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

#include "config.h"
#include "spool.h"
#include "tests/check_util.h"

static struct config conf;
static char spooldir[64];
static char fake[PATH_MAX];
static struct envelope env;

/* fake_find - $SMTPFE_FAKE_SENDMAIL, or fake-sendmail next to us */
static void
fake_find(void)
{
	const char *e = getenv("SMTPFE_FAKE_SENDMAIL");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (e != NULL) {
		ck_assert_int_lt(strlen(e), sizeof(fake));
		strcpy(fake, e);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	ck_assert_int_lt(snprintf(fake, sizeof(fake), "%s/fake-sendmail",
	    self), (int)sizeof(fake));
	ck_assert_msg(access(fake, X_OK) == 0, "fake sendmail %s missing: "
	    "build it with make %s", fake, "unit");
}

/* setup - a fresh spool as the current directory, a default config */
static void
setup(void)
{
	strcpy(spooldir, "/tmp/check_runner.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(spooldir));
	ck_assert_int_eq(chdir(spooldir), 0);
	ck_assert_int_eq(mkdir("tmp", 0700), 0);
	ck_assert_int_eq(mkdir("new", 0700), 0);
	ck_assert_int_eq(mkdir("failed", 0700), 0);
	fake_find();
	config_defaults(&conf);
	ck_assert_int_lt(strlen(fake), sizeof(conf.sendmail));
	strcpy(conf.sendmail, fake);
	conf.handoff_processes = 1;
	/* The runner's log lines on stderr: CHECK_RUNNER_LOG=1. */
	openlog("check_runner", getenv("CHECK_RUNNER_LOG") ? LOG_PERROR : 0,
	    LOG_MAIL);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (chdir("/") == 0 && strncmp(spooldir, "/tmp/check_runner.", 18) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", spooldir);
		(void)system(cmd);
	}
}

/* iso - "YYYY-MM-DDTHH:MM:SSZ" for T */
static const char *
iso(time_t t)
{
	static char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* put - write new/NAME: HEAD then LEN octets of BODY */
static void
put(const char *name, const char *head, const char *body, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "new/%s", name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(head, 1, strlen(head), f), strlen(head));
	if (len > 0)
		ck_assert_uint_eq(fwrite(body, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* head - a valid envelope with these parts; SENDER etc. are values */
static const char *
head(const char *sender, const char *rcpts, const char *body, time_t arr)
{
	static char buf[ENVELOPE_RCPT_MAX * 300 + 1024];
	int n;

	n = snprintf(buf, sizeof(buf), "Smtpfe-Spool: 1\nClient: 192.0.2.1\n"
	    "Helo: mail.example.net\nSender: %s\n%s%s%s%sArrived: %s\n\n",
	    sender, rcpts, body ? "Body: " : "", body ? body : "",
	    body ? "\n" : "", iso(arr));
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

/* simple - one message NAME with a one-line body */
static void
simple(const char *name, time_t arr)
{
	put(name, head("<a@example.net>", "Recipient: <x@example.org>\n",
	    NULL, arr), "Subject: t\n\nhello\n", 19);
}

/* mode - what the fake does: "CODE SLEEP_MS" then stderr text */
static void
mode(const char *text)
{
	FILE *f = fopen("fake.mode", "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* slurp - a whole file, NUL-terminated; NULL if absent */
static char *
slurp(const char *path, size_t *len)
{
	static char *buf;
	struct stat st;
	int fd;
	ssize_t n;

	free(buf);
	buf = NULL;
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	n = read(fd, buf, (size_t)st.st_size);
	ck_assert_int_eq(n, st.st_size);
	buf[n] = '\0';
	close(fd);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* calls - how many times the fake ran */
static int
calls(void)
{
	const char *s = slurp("fake.calls", NULL);
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* count - the entries of DIR that do not start with a dot */
static int
count(const char *dir)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s | wc -l", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static time_t
mtime(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mtime;
}

static void
set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { t, 0 } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* fnv - the fake's record of a body: FNV-1a 64 and the size */
static const char *
fnv(const char *p, size_t len)
{
	static char buf[4][40];
	static int k;
	unsigned long long h = 0xcbf29ce484222325ULL;
	size_t i;

	k = (k + 1) % 4;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	snprintf(buf[k], sizeof(buf[k]), "%016llx %zu", h, len);
	return buf[k];
}

/*
 * The race between two runners, made to happen every time: this program
 * defines flock(), so runner.c calls this one.  Just before the runner
 * takes its lock, the "other runner" finishes with the file: it removes
 * it (race_hook 1), or moves it to failed/ and a new file takes the name
 * (race_hook 2).  The runner must notice that new/m1 is no longer the
 * file it opened, and leave it alone.
 */
static int race_hook;

int
flock(int fd, int op)
{
	int hook = race_hook;

	race_hook = 0;
	if (hook == 1)
		ck_assert_int_eq(unlink("new/m1"), 0);
	if (hook == 2) {
		ck_assert_int_eq(rename("new/m1", "failed/m1"), 0);
		put("m1", head("<b@example.net>", "Recipient: <x@example.org>\n",
		    NULL, time(NULL)), "other\n", 6);
	}
	return (int)syscall(SYS_flock, fd, op);
}

/*
 * The hand-off time bound, without waiting 30 minutes: this program also
 * defines clock_gettime().  With mono_skip set, the first reading (the
 * runner's deadline) is true; later ones, once the fake sendmail has
 * started (fake.calls exists), are half an hour and a second ahead.
 */
static int mono_skip;

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = (int)syscall(SYS_clock_gettime, id, ts);

	if (r != 0 || id != CLOCK_MONOTONIC || mono_skip == 0)
		return r;
	if (mono_skip == 1)
		mono_skip = 2;
	else if (access("fake.calls", F_OK) == 0)
		ts->tv_sec += 1801;
	return r;
}

/* wait_calls - wait (at most 20 s) until the fake has run N times */
static void
wait_calls(int n)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	for (i = 0; i < 400 && calls() < n; i++)
		nanosleep(&ts, NULL);
	ck_assert_int_eq(calls(), n);
}

/* flock_busy - 1 while another open file holds a lock on PATH */
static int
flock_busy(const char *path)
{
	int fd = open(path, O_RDONLY), busy;

	ck_assert_int_ge(fd, 0);
	busy = flock(fd, LOCK_EX | LOCK_NB) == -1;
	close(fd);
	return busy;
}

/* --- envelope_parse alone -------------------------------------------- */

START_TEST(parse_valid)
{
	const char *h = "Smtpfe-Spool: 1\nClient: 192.0.2.1\nHelo: "
	    "mail.example.net\nSender: <a@example.net>\nRecipient: "
	    "<x@example.org>\nRecipient: <\"y z\"@[192.0.2.7]>\nBody: "
	    "8BITMIME\nArrived: 2026-11-28T15:04:05Z\n\nbody\n";
	size_t hl = strlen(h) - 5;
	char err[256];
	size_t k;

	ck_assert_int_eq(envelope_parse(h, strlen(h), &env, err, sizeof(err)),
	    (long)hl);
	ck_assert_str_eq(env.client, "192.0.2.1");
	ck_assert_str_eq(env.helo, "mail.example.net");
	ck_assert_str_eq(env.sender.path, "<a@example.net>");
	ck_assert_uint_eq(env.nrcpt, 2);
	ck_assert_str_eq(env.rcpt[1].path, "<\"y z\"@[192.0.2.7]>");
	ck_assert_int_eq(env.body, BODY_8BITMIME);
	ck_assert_int_eq((long long)env.arrived, 1795878245LL);
	/* Every truncation is refused, one octet at a time. */
	for (k = 0; k < hl; k++)
		ck_assert_msg(envelope_parse(h, k, &env, err, sizeof(err)) ==
		    -1, "prefix of %zu octets accepted", k);
	ck_assert_int_eq(envelope_parse(h, hl, &env, err, sizeof(err)),
	    (long)hl);
}
END_TEST

START_TEST(parse_null_unknown_ipv6)
{
	const char *h = "Smtpfe-Spool: 1\nClient: unknown\nHelo: [192.0.2.1]\n"
	    "Sender: <>\nRecipient: <x@example.org>\nBody: 7BIT\n"
	    "Arrived: 2024-02-29T23:59:59Z\n\n";
	const char *h6 = "Smtpfe-Spool: 1\nClient: 2001:db8::1\nHelo: a.b\n"
	    "Sender: <@r.example:a@example.net>\nRecipient: <x@example.org>\n"
	    "Arrived: 1970-01-01T00:00:00Z\n\n";
	char err[256];

	ck_assert_int_eq(envelope_parse(h, strlen(h), &env, err, sizeof(err)),
	    (long)strlen(h));
	ck_assert_int_eq(env.sender.null, 1);
	ck_assert_int_eq(env.body, BODY_7BIT);
	ck_assert_int_eq(envelope_parse(h6, strlen(h6), &env, err,
	    sizeof(err)), (long)strlen(h6));
	ck_assert_str_eq(env.sender.path, "<a@example.net>");
	ck_assert_int_eq(env.body, BODY_NONE);
	ck_assert_int_eq((long long)env.arrived, 0);
}
END_TEST

/* SMTPUTF8 (issue 12): UTF-8 addresses under "Smtputf8: yes" */
START_TEST(parse_smtputf8)
{
	const char *h = "Smtpfe-Spool: 1\nClient: 192.0.2.1\nHelo: "
	    "mail.example.net\nSender: <jos\xc3\xa9@ex\xc3\xa4mple.net>\n"
	    "Recipient: <\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad"
	    "\x90.\xe5\xb9\xbf\xe5\x91\x8a>\nRecipient: <x@example.org>\n"
	    "Body: 8BITMIME\nSmtputf8: yes\nArrived: 2026-11-28T15:04:05Z\n\n";
	const char *ascii = "Smtpfe-Spool: 1\nClient: 192.0.2.1\nHelo: a.b\n"
	    "Sender: <a@example.net>\nRecipient: <x@example.org>\n"
	    "Smtputf8: yes\nArrived: 2026-11-28T15:04:05Z\n\n";
	char err[256];
	size_t k;

	ck_assert_int_eq(envelope_parse(h, strlen(h), &env, err, sizeof(err)),
	    (long)strlen(h));
	ck_assert_int_eq(env.smtputf8, 1);
	ck_assert_str_eq(env.sender.path, "<jos\xc3\xa9@ex\xc3\xa4mple.net>");
	ck_assert_uint_eq(env.nrcpt, 2);
	ck_assert_int_eq(env.body, BODY_8BITMIME);
	for (k = 0; k < strlen(h); k++)
		ck_assert_msg(envelope_parse(h, k, &env, err, sizeof(err)) ==
		    -1, "prefix of %zu octets accepted", k);
	ck_assert_int_eq(envelope_parse(ascii, strlen(ascii), &env, err,
	    sizeof(err)), (long)strlen(ascii));
	ck_assert_int_eq(env.smtputf8, 1);
	ck_assert_int_eq(env.body, BODY_NONE);
}
END_TEST

#define L1	"Smtpfe-Spool: 1\n"
#define LC	"Client: 192.0.2.1\n"
#define LH	"Helo: mail.example.net\n"
#define LS	"Sender: <a@example.net>\n"
#define LR	"Recipient: <x@example.org>\n"
#define LA	"Arrived: 2026-11-28T15:04:05Z\n"

/* Broken envelopes: none may ever be handed off. */
static const char *const broken[] = {
	"",
	"\n",
	L1,
	L1 LC LH LS LR LA,				/* no blank line */
	L1 LC LH LS LR "Arrived: 2026-11-28T15:04:05Z",	/* no LF */
	"Smtpfe-Spool: 2\n" LC LH LS LR LA "\n",
	"Smtpfe-Spool: 1 \n" LC LH LS LR LA "\n",
	"smtpfe-spool: 1\n" LC LH LS LR LA "\n",
	LC L1 LH LS LR LA "\n",
	L1 LH LC LS LR LA "\n",				/* out of order */
	L1 LC LS LH LR LA "\n",
	L1 LC LH LR LS LA "\n",
	L1 LC LH LS LA LR "\n",
	L1 LC LH LS LA "\n",				/* no recipient */
	L1 LH LS LR LA "\n",				/* missing keys */
	L1 LC LS LR LA "\n",
	L1 LC LH LR LA "\n",
	L1 LC LH LS LR "\n",
	L1 LC LH LS LR LA LA "\n",			/* duplicates */
	L1 LC LC LH LS LR LA "\n",
	L1 LC LH LS LS LR LA "\n",
	L1 LC LH LS LR "Body: 8BITMIME\nBody: 7BIT\n" LA "\n",
	L1 LC LH LS "Body: 8BITMIME\n" LR LA "\n",
	L1 LC LH LS LR LA "X-Extra: 1\n\n",		/* unknown keys */
	L1 "X-Extra: 1\n" LC LH LS LR LA "\n",
	L1 LC LH LS LR "Recipients: <y@example.org>\n" LA "\n",
	L1 LC LH LS LR LA " \n",
	"Client: unknown\n" LH LS LR LA "\n",
	L1 "Client: 192.0.2.999\n" LH LS LR LA "\n",	/* bad values */
	L1 "Client: mail.example.net\n" LH LS LR LA "\n",
	L1 "Client: \n" LH LS LR LA "\n",
	L1 "Client:192.0.2.1\n" LH LS LR LA "\n",
	L1 "Client:  192.0.2.1\n" LH LS LR LA "\n",
	L1 "Client: 192.0.2.1 \n" LH LS LR LA "\n",
	L1 LC "Helo: bad helo\n" LS LR LA "\n",
	L1 LC "Helo: bad_helo!\n" LS LR LA "\n",
	L1 LC "Helo: \n" LS LR LA "\n",
	L1 LC LH "Sender: a@example.net\n" LR LA "\n",
	L1 LC LH "Sender: <a@example.net\n" LR LA "\n",
	L1 LC LH "Sender: <a@@example.net>\n" LR LA "\n",
	L1 LC LH "Sender: <|/bin/sh@example.net>\n" LR LA "\n",
	L1 LC LH "Sender: <-oQ/tmp@example.net>\n" LR LA "\n",
	L1 LC LH "Sender: <a@example.net.>\n" LR LA "\n",
	L1 LC LH "Sender: <a@example.net> \n" LR LA "\n",
	L1 LC LH LS "Recipient: <>\n" LA "\n",
	L1 LC LH LS "Recipient: <-oQ/tmp@example.org>\n" LA "\n",
	L1 LC LH LS "Recipient: <-x@example.org>\n" LA "\n",
	L1 LC LH LS "Recipient: <\"-x\"@example.org>\n" LA "\n",
	L1 LC LH LS "Recipient: </etc/passwd@example.org>\n" LA "\n",
	L1 LC LH LS "Recipient: <|cat@example.org>\n" LA "\n",
	L1 LC LH LS "Recipient: <:include:/x@example.org>\n" LA "\n",
	L1 LC LH LS LR "Recipient: <a@b@example.org>\n" LA "\n",
	L1 LC LH LS LR "Body: BINARYMIME\n" LA "\n",
	L1 LC LH LS LR "Body: 8bitmime\n" LA "\n",
	L1 LC LH LS LR "Arrived: 2026-11-28 15:04:05Z\n\n",
	L1 LC LH LS LR "Arrived: 2026-11-28T15:04:05\n\n",
	L1 LC LH LS LR "Arrived: 2026-11-28T15:04:05+00:00\n\n",
	L1 LC LH LS LR "Arrived: 2026-02-30T15:04:05Z\n\n",
	L1 LC LH LS LR "Arrived: 2026-13-01T15:04:05Z\n\n",
	L1 LC LH LS LR "Arrived: 2026-11-28T24:00:00Z\n\n",
	L1 LC LH LS LR "Arrived: 2026-11-28T15:04:5aZ\n\n",
	L1 LC LH LS LR "Arrived: 1795878245\n\n",
	L1 LC LH LS LR "Arrived: 1969-12-31T23:59:59Z\n\n",
	L1 LC "Helo: mail.example.net\r\n" LS LR LA "\n",	/* octets */
	L1 LC LH LS LR LA "\r\n",
	L1 LC "Helo: mail.\001example.net\n" LS LR LA "\n",
	L1 LC LH "Sender: <\"a\xe9\"@example.net>\n" LR LA "\n",
	L1 LC LH "Sender: <a@example.net>\nX: \n" LR LA "\n",
	/* SMTPUTF8 (issue 12): exactly what the session accepts */
	L1 LC LH "Sender: <jos\xc3\xa9@example.net>\n" LR LA "\n",
	L1 LC LH LS "Recipient: <x@ex\xc3\xa4mple.org>\n" LA "\n",
	L1 LC LH LS LR "Smtputf8: no\n" LA "\n",
	L1 LC LH LS LR "Smtputf8: YES\n" LA "\n",
	L1 LC LH LS LR "Smtputf8: yes\nSmtputf8: yes\n" LA "\n",
	L1 LC LH LS LR "Smtputf8: yes\nBody: 8BITMIME\n" LA "\n",
	L1 LC LH LS LR LA "Smtputf8: yes\n\n",
	L1 LC LH "Sender: <a\xc3@example.net>\n" LR "Smtputf8: yes\n" LA "\n",
	L1 LC LH "Sender: <a\xc2\x85@example.net>\n" LR "Smtputf8: yes\n"
	    LA "\n",
	L1 LC LH "Sender: <a\xef\xbc\x85" "b@example.net>\n" LR
	    "Smtputf8: yes\n" LA "\n",
	L1 LC "Helo: ex\xc3\xa4mple.net\n" LS LR "Smtputf8: yes\n" LA "\n",
	L1 "Client: 192.0.2.\xc3\xa9\n" LH LS LR "Smtputf8: yes\n" LA "\n",
	L1 LC LH LS LR "Smtputf8: yes\n" "Arrived: 2026-11-28T15:04:05Z\xc3"
	    "\xa9\n\n",
};

START_TEST(parse_broken_table)
{
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(envelope_parse(broken[i], strlen(broken[i]), &env,
		    err, sizeof(err)) == -1, "broken envelope %zu accepted", i);
		ck_assert_msg(err[0] != '\0', "no reason for %zu", i);
	}
}
END_TEST

START_TEST(parse_nul_and_long_lines)
{
	char buf[4096], err[256];
	size_t n;
	long r;

	/* A NUL inside the Helo line. */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s%s\n", L1, LC,
	    "Helo: mail.example.net\n", LS LR, LA);
	buf[strlen(L1 LC) + 8] = '\0';
	ck_assert_int_eq(envelope_parse(buf, n, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	/* A Helo line longer than any valid one (the bound is 512). */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%sHelo: ", L1, LC);
	memset(buf + n, 'a', 700);
	n += 700;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n%s%s%s\n", LS, LR,
	    LA);
	r = envelope_parse(buf, n, &env, err, sizeof(err));
	ck_assert_int_eq(r, -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

/* rcpt_lines - N "Recipient:" lines of 256-octet paths into BUF */
static void
rcpt_lines(char *buf, size_t size, int n)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		/* 1 + 64 + 1 + 189 + 1 = 256 octets with the brackets */
		used += (size_t)snprintf(buf + used, size - used,
		    "Recipient: <%060d%04d@%s.%s.%s.example.org>\n", 0, i,
		    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
		    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
		    "fffffffffffffffffffffffffffffffffffffffffffffffffffffff");
		ck_assert_uint_lt(used, size);
	}
}

/* ENVELOPE_RCPT_MAX recipients at the longest path: fine; one more: no. */
START_TEST(parse_rcpt_max)
{
	static char rc[(ENVELOPE_RCPT_MAX + 1) * 300], buf[sizeof(rc) + 512];
	char err[256];
	size_t n;

	rcpt_lines(rc, sizeof(rc), ENVELOPE_RCPT_MAX);
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s%s%s\n", L1, LC, LH,
	    LS, rc, LA);
	ck_assert_int_eq(envelope_parse(buf, n, &env, err, sizeof(err)),
	    (long)n);
	ck_assert_uint_eq(env.nrcpt, ENVELOPE_RCPT_MAX);
	ck_assert_uint_eq(strlen(env.rcpt[0].path), 256);
	rcpt_lines(rc, sizeof(rc), ENVELOPE_RCPT_MAX + 1);
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s%s%s%s\n", L1, LC, LH,
	    LS, rc, LA);
	ck_assert_int_eq(envelope_parse(buf, n, &env, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too many"));
}
END_TEST

/* --- the hand-off ----------------------------------------------------- */

START_TEST(argv_exact)
{
	time_t now = time(NULL);
	const char *a;

	put("m1", head("<a@example.net>", "Recipient: <x@example.org>\n"
	    "Recipient: <y@example.org>\n", "8BITMIME", now), "b\n", 2);
	ck_assert_int_eq(spool_run(&conf), 0);
	a = slurp("fake.argv", NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a + strlen(fake) + 1, "-i\n-f\na@example.net\n-B\n"
	    "8BITMIME\n--\nx@example.org\ny@example.org\n");
	ck_assert_int_eq(strncmp(a, fake, strlen(fake)), 0);
	/* A clean environment and no descriptor beyond 0, 1, 2. */
	ck_assert_str_eq(slurp("fake.env", NULL),
	    "PATH=/usr/bin:/bin:/usr/sbin:/sbin\n");
	ck_assert_str_eq(slurp("fake.fds", NULL), "");
	ck_assert_int_eq(exists("new/m1"), 0);
	ck_assert_int_eq(exists("failed/m1"), 0);
}
END_TEST

START_TEST(argv_rcpt_max)
{
	static char rc[ENVELOPE_RCPT_MAX * 300];
	const char *a;
	int lines = 0;

	rcpt_lines(rc, sizeof(rc), ENVELOPE_RCPT_MAX);
	put("m1", head("<a@example.net>", rc, NULL, time(NULL)), "b\n", 2);
	ck_assert_int_eq(spool_run(&conf), 0);
	for (a = slurp("fake.argv", NULL); a != NULL && *a != '\0'; a++)
		lines += *a == '\n';
	ck_assert_int_eq(lines, 5 + ENVELOPE_RCPT_MAX);
	ck_assert_int_eq(count("new"), 0);
	ck_assert_int_eq(count("failed"), 0);
}
END_TEST

START_TEST(argv_null_sender_7bit)
{
	time_t now = time(NULL);

	put("m1", head("<>", "Recipient: <x@example.org>\n", "7BIT", now),
	    "b\n", 2);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_str_eq(slurp("fake.argv", NULL) + strlen(fake) + 1,
	    "-i\n-f\n<>\n--\nx@example.org\n");
	put("m2", head("<@relay.example:a@example.net>",
	    "Recipient: <\"q t\"@example.org>\n", NULL, now), "b\n", 2);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_str_eq(slurp("fake.argv", NULL) + strlen(fake) + 1,
	    "-i\n-f\na@example.net\n--\n\"q t\"@example.org\n");
}
END_TEST

/* A recipient that looks like an option never reaches sendmail. */
START_TEST(option_recipient_refused)
{
	time_t now = time(NULL);

	put("m1", head("<a@example.net>", "Recipient: <x@example.org>\n"
	    "Recipient: <-oQ/tmp/x@example.org>\n", NULL, now), "b\n", 2);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(exists("failed/m1"), 1);
	ck_assert_int_eq(exists("new/m1"), 0);
}
END_TEST

START_TEST(stdin_exact)
{
	static char body[3 << 20];
	time_t now = time(NULL);
	const char *got;
	size_t i, len;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7 + i / 251);
	memcpy(body, "Received: x\n\n.\n..\n\0\xff\xe9\r\n", 23);
	put("m1", head("<a@example.net>", "Recipient: <x@example.org>\n",
	    "8BITMIME", now), body, sizeof(body));
	ck_assert_int_eq(spool_run(&conf), 0);
	got = slurp("fake.stdin", &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, sizeof(body));
	ck_assert_int_eq(memcmp(got, body, len), 0);
}
END_TEST

/* Each row of SPEC's table: exit 0 removed, others to failed/. */
START_TEST(status_table)
{
	static const struct {
		const char	*mode;
		int		 where;		/* 0 gone, 1 new/, 2 failed/ */
	} row[] = {
		{ "0 0\n", 0 }, { "75 0\n", 1 }, { "-9 0\n", 1 },
		{ "-15 0\n", 1 }, { "-11 0\n", 1 }, { "1 0\n", 2 },
		{ "64 0\n", 2 }, { "67 0\n", 2 }, { "69 0\n", 2 },
		{ "70 0\n", 2 }, { "71 0\n", 2 }, { "78 0\n", 2 },
	};
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < sizeof(row) / sizeof(row[0]); i++) {
		char name[32], pnew[64], pfail[64];
		int where = row[i].where;

		snprintf(name, sizeof(name), "m%zu", i);
		snprintf(pnew, sizeof(pnew), "new/%s", name);
		snprintf(pfail, sizeof(pfail), "failed/%s", name);
		simple(name, now);
		mode(row[i].mode);
		ck_assert_int_eq(spool_run(&conf), where == 1 ? 75 : 0);
		ck_assert_int_eq(calls(), (int)i + 1);
		ck_assert_msg(exists(pnew) == (where == 1), "row %s: new/",
		    row[i].mode);
		ck_assert_msg(exists(pfail) == (where == 2), "row %s: failed/",
		    row[i].mode);
		if (where == 1) {
			ck_assert_int_gt(mtime(pnew), now);
			ck_assert_int_eq(unlink(pnew), 0);
		}
	}
}
END_TEST

START_TEST(cannot_execute)
{
	time_t now = time(NULL);
	FILE *f;

	/* Not executable (even root needs an x bit), then missing. */
	f = fopen("noexec", "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	ck_assert_int_eq(chmod("noexec", 0644), 0);
	snprintf(conf.sendmail, sizeof(conf.sendmail), "%s/noexec", spooldir);
	simple("m1", now);
	ck_assert_int_eq(spool_run(&conf), 75);
	ck_assert_int_eq(exists("new/m1"), 1);
	ck_assert_int_gt(mtime("new/m1"), now);
	snprintf(conf.sendmail, sizeof(conf.sendmail), "%s/missing", spooldir);
	simple("m2", now);
	ck_assert_int_eq(spool_run(&conf), 75);
	ck_assert_int_eq(exists("new/m2"), 1);
	ck_assert_int_gt(mtime("new/m2"), now);
	ck_assert_int_eq(count("failed"), 0);
}
END_TEST

START_TEST(broken_never_handed_off)
{
	time_t now = time(NULL);
	size_t i, n = sizeof(broken) / sizeof(broken[0]);
	char name[32];

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "b%03zu", i);
		put(name, broken[i], "body\n", 5);
	}
	simple("good", now);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(count("new"), 0);
	ck_assert_int_eq(count("failed"), (int)n);
}
END_TEST

/* The log line names the id, sender, recipients, size, status, stderr. */
START_TEST(log_line)
{
	time_t now = time(NULL);
	char *logtext;
	int fd;

	fd = open("stderr.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	openlog("check_runner", LOG_PERROR, LOG_MAIL);
	simple("m1", now - 7);
	mode("67 0\n550 5.1.1 <x@example.org>... User unknown\nsecond line\n");
	ck_assert_int_eq(spool_run(&conf), 0);
	logtext = slurp("stderr.log", NULL);
	ck_assert_ptr_nonnull(logtext);
	ck_assert_ptr_nonnull(strstr(logtext, "m1: sender=<a@example.net> "
	    "rcpt=<x@example.org> nrcpt=1 size=19 delay="));
	ck_assert_ptr_nonnull(strstr(logtext, "status=failed (sendmail exit "
	    "67: 550 5.1.1 <x@example.org>... User unknown; second line)"));
}
END_TEST

/* sendmail writing far more than a pipe holds must not stall us. */
START_TEST(stderr_flood)
{
	time_t now = time(NULL);
	FILE *f = fopen("fake.mode", "w");
	int i;

	ck_assert_ptr_nonnull(f);
	fputs("70 0\n", f);
	for (i = 0; i < 20000; i++)
		fputs("error error error error error error error error\n", f);
	fclose(f);
	simple("m1", now);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(exists("failed/m1"), 1);
}
END_TEST

START_TEST(oldest_first)
{
	time_t now = time(NULL);
	const char *c;
	char expect[256];
	static const char *const body[3] = { "one\n", "two\n", "three\n" };
	static const int age[3] = { 30, 10, 20 };
	int i;

	for (i = 0; i < 3; i++) {
		char name[8], path[16];

		snprintf(name, sizeof(name), "z%d", i);
		put(name, head("<a@example.net>", "Recipient: <x@example.org>\n",
		    NULL, now), body[i], strlen(body[i]));
		snprintf(path, sizeof(path), "new/%s", name);
		set_mtime(path, now - age[i]);
	}
	ck_assert_int_eq(spool_run(&conf), 0);
	c = slurp("fake.calls", NULL);
	ck_assert_ptr_nonnull(c);
	/* In the order 30 s, 20 s, 10 s old. */
	snprintf(expect, sizeof(expect), "%s\n%s\n%s\n",
	    fnv(body[0], strlen(body[0])), fnv(body[2], strlen(body[2])),
	    fnv(body[1], strlen(body[1])));
	ck_assert_str_eq(c, expect);
}
END_TEST

START_TEST(backoff)
{
	time_t now = time(NULL);

	simple("m1", now);
	mode("75 0\n");
	ck_assert_int_eq(spool_run(&conf), 75);
	ck_assert_int_eq(calls(), 1);
	/* First back-off: 300 s (the message is younger than that). */
	ck_assert_int_ge(mtime("new/m1"), now + 300);
	ck_assert_int_le(mtime("new/m1"), time(NULL) + 300);
	/* An immediate second run leaves it alone. */
	ck_assert_int_eq(spool_run(&conf), 75);
	ck_assert_int_eq(calls(), 1);
	/* Once its time has come it is tried again, and goes. */
	set_mtime("new/m1", time(NULL) - 1);
	mode("0 0\n");
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 2);
	ck_assert_int_eq(exists("new/m1"), 0);
}
END_TEST

/* A file stamped a little ahead of our clock is due; further is not. */
START_TEST(clock_slack)
{
	time_t now = time(NULL);

	simple("ahead30", now);
	simple("ahead120", now);
	set_mtime("new/ahead30", now + 30);
	set_mtime("new/ahead120", now + 120);
	ck_assert_int_eq(spool_run(&conf), 75);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(exists("new/ahead30"), 0);
	ck_assert_int_eq(exists("new/ahead120"), 1);
}
END_TEST

START_TEST(backoff_grows)
{
	time_t now = time(NULL);
	time_t t, later;

	mode("75 0\n");
	simple("m1", now - 1200);		/* 20 min old: wait 20 min */
	simple("m2", now - 7200);		/* 2 h old: wait 1 h (cap) */
	/* 100 s before retry_max_age: the next try is the deadline. */
	simple("m3", now - (time_t)conf.retry_max_age + 100);
	ck_assert_int_eq(spool_run(&conf), 75);
	later = time(NULL);
	/* The wait is the age when tried: it grows with the time spent. */
	t = mtime("new/m1");
	ck_assert_int_ge(t, now + 1200);
	ck_assert_int_le(t, later + 1200 + (later - now));
	t = mtime("new/m2");
	ck_assert_int_ge(t, now + 3600);
	ck_assert_int_le(t, later + 3600);
	ck_assert_int_eq(mtime("new/m3"), now + 100);
}
END_TEST

START_TEST(retry_max_age)
{
	time_t now = time(NULL);

	mode("75 0\n");
	simple("old", now - (time_t)conf.retry_max_age - 1);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(exists("failed/old"), 1);
	/* A small retry_max_age; a message that still goes through does. */
	conf.retry_max_age = 60;
	simple("m2", now - 61);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(exists("failed/m2"), 1);
	mode("0 0\n");
	simple("m3", now - 86400 * 30);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(exists("failed/m3"), 0);
	ck_assert_int_eq(exists("new/m3"), 0);
	ck_assert_int_eq(calls(), 3);
}
END_TEST

START_TEST(stale_tmp)
{
	time_t now = time(NULL);
	int fd;

	fd = open("tmp/old", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open("tmp/young", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open("tmp/fresh", O_WRONLY | O_CREAT, 0600);
	close(fd);
	set_mtime("tmp/old", now - 36 * 3600 - 60);
	set_mtime("tmp/young", now - 35 * 3600);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(exists("tmp/old"), 0);
	ck_assert_int_eq(exists("tmp/young"), 1);
	ck_assert_int_eq(exists("tmp/fresh"), 1);
	ck_assert_int_eq(calls(), 0);
}
END_TEST

START_TEST(locked_and_dot_files_skipped)
{
	time_t now = time(NULL);
	int fd;

	simple("locked", now);
	simple(".hidden", now);
	fd = open("new/locked", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	/* spool_run runs in this process: flock locks are per open file. */
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(exists("new/locked"), 1);
	ck_assert_int_eq(exists("new/.hidden"), 1);
	close(fd);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(exists("new/locked"), 0);
	ck_assert_int_eq(exists("new/.hidden"), 1);
}
END_TEST

/* two_runners_with - N messages, two runners at once, fake mode MODE */
static void
two_runners_with(const char *how, int expect_rc, int left)
{
	enum { N = 50 };
	time_t now = time(NULL);
	char expect[N][40];
	const char *c;
	pid_t pid[2];
	int i, j, st;

	mode(how);
	for (i = 0; i < N; i++) {
		char name[16], body[64];
		size_t len;

		snprintf(name, sizeof(name), "r%02d", i);
		len = (size_t)snprintf(body, sizeof(body), "token %d\n", i);
		put(name, head("<a@example.net>", "Recipient: <x@example.org>\n",
		    NULL, now), body, len);
		snprintf(expect[i], sizeof(expect[i]), "%s", fnv(body, len));
	}
	for (j = 0; j < 2; j++) {
		if ((pid[j] = fork()) == 0)
			_exit(spool_run(&conf));
		ck_assert_int_gt(pid[j], 0);
	}
	for (j = 0; j < 2; j++) {
		ck_assert_int_eq(waitpid(pid[j], &st, 0), pid[j]);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), expect_rc);
	}
	ck_assert_int_eq(calls(), N);
	c = slurp("fake.calls", NULL);
	for (i = 0; i < N; i++) {
		const char *p = strstr(c, expect[i]);

		ck_assert_msg(p != NULL, "message %d never handed off", i);
		ck_assert_msg(strstr(p + 1, expect[i]) == NULL,
		    "message %d handed off twice", i);
	}
	ck_assert_int_eq(count("new"), left);
	ck_assert_int_eq(count("failed"), 0);
}

/* Two runners at once: every message handed off exactly once. */
START_TEST(two_runners)
{
	two_runners_with("0 3\n", 0, 0);
}
END_TEST

/*
 * The same when sendmail defers: the second runner listed every message
 * as due before the first deferred it, and must look again after its
 * lock (the mtime) instead of trying it a second time.
 */
START_TEST(two_runners_defer)
{
	two_runners_with("75 3\n", 75, 50);
}
END_TEST

/* SIGTERM during a hand-off: it is finished, nothing more starts. */
START_TEST(loop_sigterm)
{
	time_t now = time(NULL);
	pid_t pid;
	int st;

	simple("a1", now);
	simple("a2", now);
	set_mtime("new/a1", now - 10);
	mode("0 1500\n");
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 3600) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	wait_calls(1);		/* the fake is in its 1.5 s sleep */
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(exists("new/a1"), 0);
	ck_assert_int_eq(exists("new/a2"), 1);
}
END_TEST

/*
 * The runner killed (-9) during a hand-off: the message stays in new/
 * and due.  The orphaned sendmail still holds the lock (its stdin is the
 * same open file), so no runner can hand it off again meanwhile; once it
 * is gone, the next run does (at least once, never lost).
 */
START_TEST(runner_killed)
{
	time_t now = time(NULL);
	struct timespec ts = { 0, 300 * 1000000L };
	pid_t pid;
	int st, i;

	simple("m1", now);
	mode("0 3000\n");
	if ((pid = fork()) == 0)
		_exit(spool_run(&conf));
	ck_assert_int_gt(pid, 0);
	wait_calls(1);		/* the fake is in its 3 s sleep */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(exists("new/m1"), 1);
	ck_assert_int_lt(mtime("new/m1"), now + 60);	/* not deferred */
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 1);
	for (i = 0; i < 60 && flock_busy("new/m1"); i++)
		nanosleep(&ts, NULL);
	mode("0 0\n");
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 2);
	ck_assert_int_eq(exists("new/m1"), 0);
}
END_TEST

START_TEST(race_removed_before_lock)
{
	simple("m1", time(NULL));
	race_hook = 1;
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(race_hook, 0);
	ck_assert_int_eq(calls(), 0);
}
END_TEST

START_TEST(race_replaced_before_lock)
{
	simple("m1", time(NULL));
	race_hook = 2;
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(race_hook, 0);
	ck_assert_int_eq(calls(), 0);
	ck_assert_int_eq(exists("failed/m1"), 1);
	/* The new file is a message of its own, handed off next time. */
	ck_assert_int_eq(spool_run(&conf), 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_ptr_nonnull(strstr(slurp("fake.argv", NULL), "b@example.net"));
}
END_TEST

/* A sendmail that hangs is stopped after 1800 s: deferred, not lost. */
START_TEST(handoff_time_bound)
{
	time_t now = time(NULL);
	char *logtext;
	int fd;

	fd = open("stderr.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	openlog("check_runner", LOG_PERROR, LOG_MAIL);
	simple("m1", now);
	mode("0 20000\n");
	mono_skip = 1;
	ck_assert_int_eq(spool_run(&conf), 75);
	mono_skip = 0;
	/* SIGTERM ended it at once: no 20 s sleep, no 10 s grace. */
	ck_assert_int_lt(time(NULL) - now, 8);
	ck_assert_int_eq(calls(), 1);
	ck_assert_int_eq(exists("new/m1"), 1);
	ck_assert_int_gt(mtime("new/m1"), now);
	logtext = slurp("stderr.log", NULL);
	ck_assert_ptr_nonnull(strstr(logtext, "status=deferred (sendmail "
	    "timed out after 1800 s)"));
}
END_TEST

/* spool_loop repeats, and SIGTERM ends its sleep at once. */
START_TEST(loop_repeats)
{
	time_t now = time(NULL);
	struct timespec ts = { 1, 500 * 1000000L };
	pid_t pid;
	int st;

	simple("a1", now);
	if ((pid = fork()) == 0)
		_exit(spool_loop(&conf, 1) == 0 ? 0 : 1);
	ck_assert_int_gt(pid, 0);
	wait_calls(1);
	nanosleep(&ts, NULL);
	simple("a2", now);
	wait_calls(2);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(calls(), 2);
	ck_assert_int_eq(count("new"), 0);
}
END_TEST

static Suite *
runner_suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tp = tcase_create("envelope_parse");
	TCase *th = tcase_create("hand-off");
	TCase *tr = tcase_create("retry");
	TCase *tc = tcase_create("concurrency");

	tcase_set_timeout(tp, 10);
	tcase_add_test(tp, parse_valid);
	tcase_add_test(tp, parse_null_unknown_ipv6);
	tcase_add_test(tp, parse_smtputf8);
	tcase_add_test(tp, parse_broken_table);
	tcase_add_test(tp, parse_nul_and_long_lines);
	tcase_add_test(tp, parse_rcpt_max);
	suite_add_tcase(s, tp);

	tcase_set_timeout(th, 30);
	tcase_add_checked_fixture(th, setup, teardown);
	tcase_add_test(th, argv_exact);
	tcase_add_test(th, argv_rcpt_max);
	tcase_add_test(th, argv_null_sender_7bit);
	tcase_add_test(th, option_recipient_refused);
	tcase_add_test(th, stdin_exact);
	tcase_add_test(th, status_table);
	tcase_add_test(th, cannot_execute);
	tcase_add_test(th, broken_never_handed_off);
	tcase_add_test(th, log_line);
	tcase_add_test(th, stderr_flood);
	tcase_add_test(th, oldest_first);
	tcase_add_test(th, handoff_time_bound);
	suite_add_tcase(s, th);

	tcase_set_timeout(tr, 30);
	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_add_test(tr, backoff);
	tcase_add_test(tr, backoff_grows);
	tcase_add_test(tr, clock_slack);
	tcase_add_test(tr, retry_max_age);
	tcase_add_test(tr, stale_tmp);
	suite_add_tcase(s, tr);

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, locked_and_dot_files_skipped);
	tcase_add_test(tc, two_runners);
	tcase_add_test(tc, two_runners_defer);
	tcase_add_test(tc, loop_sigterm);
	tcase_add_test(tc, loop_repeats);
	tcase_add_test(tc, runner_killed);
	tcase_add_test(tc, race_removed_before_lock);
	tcase_add_test(tc, race_replaced_before_lock);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(runner_suite)
