/*
 * check_spool.c - the spool writer (spool.c) in a temporary spool.
 *
 * The envelope block and our Received: header are compared byte for
 * byte with SPEC.md "The spool" for fixed envelopes and arrival times.
 * open, fsync and rename are wrapped here (this program's definitions
 * win over libc's for spool.o): the wrappers record what spool.c asked
 * for, in which order, and can make one call fail or make a name
 * collide, so that the durability order (data, fsync, close, rename,
 * fsync of new/, then the reply) and every cleanup path are checked.
 * Every test runs in a child of its own (Check's fork mode) inside a
 * fresh directory holding tmp/, new/ and failed/.
 */
#undef _FORTIFY_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "spool.h"

/* 2026-11-28T15:04:05Z, the SPEC's example. */
#define T_SPEC		((time_t)1795878245)

static char topdir[PATH_MAX];
static char olddir[PATH_MAX];
static struct envelope env;
static struct spool_msg msg;

/* What the wrappers saw, in order. */
enum ev_kind { EV_OPEN, EV_FSYNC, EV_RENAME };

struct event {
	enum ev_kind	 kind;
	int		 fd;
	int		 flags;
	mode_t		 mode;
	char		 path[128];
	char		 to[128];
	int		 isdir;		/* fsync: the fd is a directory */
	long long	 size;		/* fsync: file size at that moment */
	ino_t		 ino;
	int		 msgfd_open;	/* rename: message fd still open */
	int		 tmp_exists;	/* rename/fsync: tmp/ID still there */
	int		 new_exists;	/* fsync: new/ID already there */
};

#define EV_MAX 64
static struct event events[EV_MAX];
static size_t nevents;
static int recording;
static int watch_fd = -1;		/* the message fd, once known */

/* Injection: the Nth call of a kind fails with an errno. */
static int fail_fsync_at, fail_rename_at, fail_errno = EIO;
static int nfsync, nrename;
/* Collisions: the next N opens of tmp/... find their name taken. */
static int collide;

static struct event *
ev_new(enum ev_kind k)
{
	struct event *e;

	ck_assert_uint_lt(nevents, EV_MAX);
	e = &events[nevents++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	return e;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* open - record opens under tmp/ and of new; maybe make a name collide */
int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int fd;

#ifdef O_TMPFILE
	if (flags & (O_CREAT | O_TMPFILE)) {
#else
	if (flags & O_CREAT) {
#endif
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (recording && strncmp(path, "tmp/", 4) == 0 && collide > 0) {
		collide--;
		fd = (int)syscall(SYS_openat, AT_FDCWD, path,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(syscall(SYS_write, fd, "other\n", 6), 6);
		(void)syscall(SYS_close, fd);
	}
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	if (recording && (strncmp(path, "tmp/", 4) == 0 ||
	    strcmp(path, "new") == 0)) {
		struct event *e = ev_new(EV_OPEN);

		e->fd = fd;
		e->flags = flags;
		e->mode = mode;
		(void)snprintf(e->path, sizeof(e->path), "%s", path);
	}
	return fd;
}

/* fsync - record the state of the file at the moment of the fsync */
int
fsync(int fd)
{
	struct stat st;

	if (recording) {
		struct event *e = ev_new(EV_FSYNC);
		char path[128];

		e->fd = fd;
		if (fstat(fd, &st) == 0) {
			e->isdir = S_ISDIR(st.st_mode);
			e->size = (long long)st.st_size;
			e->ino = st.st_ino;
		}
		(void)snprintf(path, sizeof(path), "new/%s", msg.id);
		e->new_exists = exists(path);
		(void)snprintf(path, sizeof(path), "tmp/%s", msg.id);
		e->tmp_exists = exists(path);
		if (++nfsync == fail_fsync_at) {
			errno = fail_errno;
			return -1;
		}
	}
	return (int)syscall(SYS_fsync, fd);
}

/* rename - record; the message fd must be closed by now */
int
rename(const char *from, const char *to)
{
	if (recording) {
		struct event *e = ev_new(EV_RENAME);

		(void)snprintf(e->path, sizeof(e->path), "%s", from);
		(void)snprintf(e->to, sizeof(e->to), "%s", to);
		e->msgfd_open = watch_fd != -1 && fcntl(watch_fd, F_GETFD) != -1;
		e->tmp_exists = exists(from);
		if (++nrename == fail_rename_at) {
			errno = fail_errno;
			return -1;
		}
	}
	return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

/* count_dir - files in tmp/ or new/ */
static int
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* read_file - the whole file into BUF; its length */
static size_t
read_file(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	while ((n = read(fd, buf + off, size - off)) > 0)
		off += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_lt(off, size);
	close(fd);
	buf[off] = '\0';
	return off;
}

static void
rm_dir_files(const char *dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

static void
spool_setup(void)
{
	const char *t = getenv("TMPDIR");

	ck_assert_ptr_nonnull(getcwd(olddir, sizeof(olddir)));
	(void)snprintf(topdir, sizeof(topdir), "%s/check_spool.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(topdir));
	ck_assert_int_eq(chdir(topdir), 0);
	ck_assert_int_eq(mkdir("tmp", 0700), 0);
	ck_assert_int_eq(mkdir("new", 0700), 0);
	ck_assert_int_eq(mkdir("failed", 0700), 0);
	memset(&env, 0, sizeof(env));
	memset(&msg, 0, sizeof(msg));
	msg.fd = -1;
	nevents = 0;
	recording = 0;
	watch_fd = -1;
	fail_fsync_at = fail_rename_at = 0;
	fail_errno = EIO;
	nfsync = nrename = 0;
	collide = 0;
}

static void
spool_teardown(void)
{
	ck_assert_int_eq(chdir(olddir), 0);
	ck_assert_int_eq(chdir(topdir), 0);
	rm_dir_files("tmp");
	rm_dir_files("new");
	rm_dir_files("failed");
	ck_assert_int_eq(chdir(olddir), 0);
	(void)rmdir(topdir);
}

static void
set_addr(struct addr *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->null = strcmp(path, "<>") == 0;
	ck_assert_int_eq(str_copy(a->path, path, sizeof(a->path)), 0);
}

/* env_spec - the envelope of SPEC.md's example */
static void
env_spec(enum body body, time_t when)
{
	ck_assert_int_eq(str_copy(env.client, "192.0.2.1", sizeof(env.client)),
	    0);
	ck_assert_int_eq(str_copy(env.helo, "mail.example.org",
	    sizeof(env.helo)), 0);
	set_addr(&env.sender, "<a@example.net>");
	set_addr(&env.rcpt[0], "<x@example.org>");
	set_addr(&env.rcpt[1], "<y@example.org>");
	env.nrcpt = 2;
	env.body = body;
	env.arrived = when;
}

/* spool_whole - open, envelope, Received:, BODY, commit; the new/ path */
static const char *
spool_whole(const char *hostname, int esmtp, const char *body, char *path,
    size_t size)
{
	const char *r;

	ck_assert_int_eq(spool_open(&msg), 0);
	ck_assert_int_eq(spool_envelope(&msg, &env), 0);
	ck_assert_int_eq(spool_received(&msg, &env, hostname, esmtp), 0);
	ck_assert_int_eq(spool_write(&msg, body, strlen(body)), 0);
	r = spool_commit(&msg);
	(void)snprintf(path, size, "new/%s", msg.id);
	return r;
}

/* subst_id - TMPL with its "@ID@" replaced by ID */
static void
subst_id(char *out, size_t size, const char *tmpl, const char *id)
{
	const char *at = strstr(tmpl, "@ID@");
	int n;

	ck_assert_ptr_nonnull(at);
	n = snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, id, at + 4);
	ck_assert(n > 0 && (size_t)n < size);
}

/* The SPEC's example, then each variation of the envelope. */
struct fmt_case {
	enum body	 body;
	int		 esmtp;
	time_t		 when;
	const char	*sender;
	const char	*envelope;	/* up to the blank line, included */
	const char	*received;	/* @ID@ stands for the id */
};

static const struct fmt_case fmt_cases[] = {
	{ BODY_8BITMIME, 1, T_SPEC, "<a@example.net>",
	  "Smtpfe-Spool: 1\n"
	  "Client: 192.0.2.1\n"
	  "Helo: mail.example.org\n"
	  "Sender: <a@example.net>\n"
	  "Recipient: <x@example.org>\n"
	  "Recipient: <y@example.org>\n"
	  "Body: 8BITMIME\n"
	  "Arrived: 2026-11-28T15:04:05Z\n"
	  "\n",
	  "Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
	  "        by mx.example.org (smtpfe) with ESMTP id @ID@\n"
	  "        for <x@example.org>; Sat, 28 Nov 2026 15:04:05 +0000\n" },
	{ BODY_7BIT, 1, (time_t)1772323200, "<a@example.net>",
	  "Smtpfe-Spool: 1\n"
	  "Client: 192.0.2.1\n"
	  "Helo: mail.example.org\n"
	  "Sender: <a@example.net>\n"
	  "Recipient: <x@example.org>\n"
	  "Recipient: <y@example.org>\n"
	  "Body: 7BIT\n"
	  "Arrived: 2026-03-01T00:00:00Z\n"
	  "\n",
	  "Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
	  "        by mx.example.org (smtpfe) with ESMTP id @ID@\n"
	  "        for <x@example.org>; Sun, 1 Mar 2026 00:00:00 +0000\n" },
	{ BODY_NONE, 0, (time_t)1835481599, "<>",
	  "Smtpfe-Spool: 1\n"
	  "Client: 192.0.2.1\n"
	  "Helo: mail.example.org\n"
	  "Sender: <>\n"
	  "Recipient: <x@example.org>\n"
	  "Recipient: <y@example.org>\n"
	  "Arrived: 2028-02-29T23:59:59Z\n"
	  "\n",
	  "Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
	  "        by mx.example.org (smtpfe) with SMTP id @ID@\n"
	  "        for <x@example.org>; Tue, 29 Feb 2028 23:59:59 +0000\n" },
	{ BODY_NONE, 1, (time_t)946684799, "<a@example.net>",
	  "Smtpfe-Spool: 1\n"
	  "Client: 192.0.2.1\n"
	  "Helo: mail.example.org\n"
	  "Sender: <a@example.net>\n"
	  "Recipient: <x@example.org>\n"
	  "Recipient: <y@example.org>\n"
	  "Arrived: 1999-12-31T23:59:59Z\n"
	  "\n",
	  "Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
	  "        by mx.example.org (smtpfe) with ESMTP id @ID@\n"
	  "        for <x@example.org>; Fri, 31 Dec 1999 23:59:59 +0000\n" },
};

START_TEST(test_format)
{
	static char got[65536], want[65536];
	const struct fmt_case *c = &fmt_cases[_i];
	const char *body = "Subject: hi\n\nline one\n.leading dot kept\n";
	char path[128], recv[1024];
	size_t len;

	env_spec(c->body, c->when);
	set_addr(&env.sender, c->sender);
	ck_assert_ptr_null(spool_whole("mx.example.org", c->esmtp, body, path,
	    sizeof(path)));
	subst_id(recv, sizeof(recv), c->received, msg.id);
	(void)snprintf(want, sizeof(want), "%s%s%s", c->envelope, recv, body);
	len = read_file(path, got, sizeof(got));
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(msg.bytes, strlen(want));
}
END_TEST

/* The runner's parser must read back exactly what the writer wrote. */
START_TEST(test_format_roundtrip)
{
	static char got[65536];
	static struct envelope back;
	char path[128], why[256];
	size_t len;
	long off;

	env_spec(BODY_8BITMIME, T_SPEC);
	ck_assert_ptr_null(spool_whole("mx.example.org", 1, "x\n", path,
	    sizeof(path)));
	len = read_file(path, got, sizeof(got));
	off = envelope_parse(got, len, &back, why, sizeof(why));
	ck_assert_msg(off > 0, "envelope_parse: %s", why);
	ck_assert_uint_eq(back.nrcpt, 2);
	ck_assert_str_eq(back.client, "192.0.2.1");
	ck_assert_str_eq(back.helo, "mail.example.org");
	ck_assert_str_eq(back.sender.path, "<a@example.net>");
	ck_assert_str_eq(back.rcpt[1].path, "<y@example.org>");
	ck_assert_int_eq(back.body, BODY_8BITMIME);
	ck_assert_int_eq((long long)back.arrived, (long long)T_SPEC);
	ck_assert_int_eq(strncmp(got + off, "Received: from ", 15), 0);
}
END_TEST

/* Every recipient, in order, however many. */
START_TEST(test_format_many_rcpts)
{
	static char got[1 << 20];
	char path[128], line[128];
	const char *p;
	size_t i;

	env_spec(BODY_NONE, T_SPEC);
	env.nrcpt = ENVELOPE_RCPT_MAX;
	for (i = 0; i < env.nrcpt; i++) {
		(void)snprintf(line, sizeof(line), "<u%zu@example.org>", i);
		set_addr(&env.rcpt[i], line);
	}
	ck_assert_ptr_null(spool_whole("mx.example.org", 1, "", path,
	    sizeof(path)));
	(void)read_file(path, got, sizeof(got));
	p = got;
	for (i = 0; i < env.nrcpt; i++) {
		(void)snprintf(line, sizeof(line), "\nRecipient: "
		    "<u%zu@example.org>\n", i);
		p = strstr(p, line);
		ck_assert_msg(p != NULL, "recipient %zu missing or out of order",
		    i);
		p++;
	}
	ck_assert_ptr_nonnull(strstr(p, "\nArrived: 2026-11-28T15:04:05Z\n\n"
	    "Received: "));
	ck_assert_ptr_nonnull(strstr(got, "for <u0@example.org>; Sat, 28 Nov "
	    "2026 15:04:05 +0000\n"));
}
END_TEST

/* Message octets of every size across the write buffer, kept exactly. */
START_TEST(test_write_sizes)
{
	static const size_t chunks[] = { 1, 2, 7, 4095, 8191, 8192, 8193,
	    20000, 65535, 65536, 65537 };
	static char body[300000], got[400000];
	char path[128];
	size_t i, off = 0, k = 0, len, start;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7 + i / 251);
	env_spec(BODY_NONE, T_SPEC);
	ck_assert_int_eq(spool_open(&msg), 0);
	ck_assert_int_eq(spool_envelope(&msg, &env), 0);
	start = msg.bytes;
	while (off < sizeof(body)) {
		size_t n = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];

		if (n > sizeof(body) - off)
			n = sizeof(body) - off;
		ck_assert_int_eq(spool_write(&msg, body + off, n), 0);
		off += n;
	}
	ck_assert_ptr_null(spool_commit(&msg));
	(void)snprintf(path, sizeof(path), "new/%s", msg.id);
	len = read_file(path, got, sizeof(got));
	ck_assert_uint_eq(len, start + sizeof(body));
	ck_assert_int_eq(memcmp(got + start, body, sizeof(body)), 0);
}
END_TEST

/* tmp/ID is created exclusively, write-only, close-on-exec, mode 0600. */
START_TEST(test_open_mode)
{
	struct stat st;
	size_t i;
	int found = 0;

	(void)umask(0);
	recording = 1;
	ck_assert_int_eq(spool_open(&msg), 0);
	recording = 0;
	for (i = 0; i < nevents; i++) {
		const struct event *e = &events[i];

		if (e->kind != EV_OPEN || strcmp(e->path, msg.tmp) != 0)
			continue;
		found = 1;
		ck_assert_int_eq(e->flags & (O_CREAT | O_EXCL),
		    O_CREAT | O_EXCL);
		ck_assert_int_eq(e->flags & O_ACCMODE, O_WRONLY);
		ck_assert_int_eq(e->flags & O_TRUNC, 0);
		ck_assert_int_eq((int)e->mode, 0600);
		ck_assert_int_eq(e->fd, msg.fd);
	}
	ck_assert_msg(found, "no open of %s seen (does spool.c call open?)",
	    msg.tmp);
	ck_assert_int_eq(fstat(msg.fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_ne(fcntl(msg.fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(stat(msg.tmp, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(strncmp(msg.tmp, "tmp/", 4), 0);
	ck_assert_str_eq(msg.tmp + 4, msg.id);
	spool_abort(&msg);
}
END_TEST

/* A name that is taken is never reused: O_EXCL, then a fresh id. */
START_TEST(test_open_collision)
{
	static char got[64];
	char first[128], path[128];

	recording = 1;
	collide = 1;
	ck_assert_int_eq(spool_open(&msg), 0);
	recording = 0;
	ck_assert_uint_ge(nevents, 2);
	ck_assert_int_eq(events[0].fd, -1);
	(void)snprintf(first, sizeof(first), "%s", events[0].path);
	ck_assert_str_ne(first, msg.tmp);
	/* The other file is untouched. */
	(void)read_file(first, got, sizeof(got));
	ck_assert_str_eq(got, "other\n");
	ck_assert_int_eq(spool_write(&msg, "x", 1), 0);
	env_spec(BODY_NONE, T_SPEC);
	ck_assert_ptr_null(spool_commit(&msg));
	(void)snprintf(path, sizeof(path), "new/%s", msg.id);
	ck_assert(exists(path));
	(void)read_file(first, got, sizeof(got));
	ck_assert_str_eq(got, "other\n");
	ck_assert_int_eq(count_dir("tmp"), 1);
}
END_TEST

/* Every name taken: a failure, and nobody else's file is removed. */
START_TEST(test_open_collision_all)
{
	recording = 1;
	collide = 1000;
	ck_assert_int_eq(spool_open(&msg), -1);
	recording = 0;
	ck_assert_int_eq(msg.error, EEXIST);
	ck_assert_int_eq(msg.fd, -1);
	ck_assert_str_eq(msg.tmp, "");
	spool_abort(&msg);
	ck_assert_int_ge(count_dir("tmp"), 1);
	ck_assert_int_eq(count_dir("tmp"), 1000 - collide);
	ck_assert_int_eq(count_dir("new"), 0);
}
END_TEST

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1000 opens in one process: 1000 distinct, well-formed names. */
START_TEST(test_open_unique)
{
	enum { N = 1000 };
	static struct spool_msg m[N];
	static char ids[N][SPOOL_ID_MAX];
	static char *sorted[N];
	size_t i;

	for (i = 0; i < N; i++) {
		const char *p;
		int dots = 0;

		ck_assert_int_eq(spool_open(&m[i]), 0);
		ck_assert_int_eq(str_copy(ids[i], m[i].id, sizeof(ids[i])), 0);
		ck_assert_int_ne(ids[i][0], '\0');
		ck_assert_int_ne(ids[i][0], '.');
		for (p = ids[i]; *p != '\0'; p++) {
			ck_assert_msg((*p >= '0' && *p <= '9') ||
			    (*p >= 'a' && *p <= 'f') || *p == '.',
			    "id %s: octet %#x", ids[i], (unsigned char)*p);
			dots += *p == '.';
		}
		ck_assert_int_ge(dots, 2);
		sorted[i] = ids[i];
		/* Keep the descriptors few: close, keep the file. */
		ck_assert_int_eq(close(m[i].fd), 0);
		m[i].fd = -1;
	}
	qsort(sorted, N, sizeof(sorted[0]), cmp_str);
	for (i = 1; i < N; i++)
		ck_assert_str_ne(sorted[i - 1], sorted[i]);
	ck_assert_int_eq(count_dir("tmp"), N);
	for (i = 0; i < N; i++)
		spool_abort(&m[i]);
	ck_assert_int_eq(count_dir("tmp"), 0);
}
END_TEST

/*
 * The durability order: all octets written, fsync of the file, the file
 * closed, rename tmp/ID -> new/ID, fsync of new/ -- then success.
 */
START_TEST(test_commit_order)
{
	struct stat st;
	char path[128];
	unsigned long long total;
	size_t i, ifsync = EV_MAX, iren = EV_MAX, idir = EV_MAX;
	ino_t newino;

	ck_assert_int_eq(stat("new", &st), 0);
	newino = st.st_ino;
	env_spec(BODY_8BITMIME, T_SPEC);
	ck_assert_int_eq(spool_open(&msg), 0);
	watch_fd = msg.fd;
	ck_assert_int_eq(spool_envelope(&msg, &env), 0);
	ck_assert_int_eq(spool_received(&msg, &env, "mx.example.org", 1), 0);
	ck_assert_int_eq(spool_write(&msg, "body\n", 5), 0);
	total = msg.bytes;
	recording = 1;
	ck_assert_ptr_null(spool_commit(&msg));
	recording = 0;
	for (i = 0; i < nevents; i++) {
		const struct event *e = &events[i];

		if (e->kind == EV_FSYNC && !e->isdir && ifsync == EV_MAX)
			ifsync = i;
		if (e->kind == EV_RENAME)
			iren = i;
		if (e->kind == EV_FSYNC && e->isdir)
			idir = i;
	}
	ck_assert_msg(ifsync < EV_MAX, "the file was never fsync'ed");
	ck_assert_msg(iren < EV_MAX, "no rename");
	ck_assert_msg(idir < EV_MAX, "new/ was never fsync'ed");
	ck_assert_uint_lt(ifsync, iren);
	ck_assert_uint_lt(iren, idir);
	/* At the file's fsync every octet had been written. */
	ck_assert_int_eq(events[ifsync].fd, watch_fd);
	ck_assert_int_eq(events[ifsync].size, (long long)total);
	ck_assert(events[ifsync].tmp_exists);
	/* At the rename the file was closed (its close checked). */
	ck_assert_msg(!events[iren].msgfd_open, "renamed with the fd open");
	ck_assert_int_eq(strncmp(events[iren].path, "tmp/", 4), 0);
	ck_assert_str_eq(events[iren].path + 4, msg.id);
	ck_assert_int_eq(strncmp(events[iren].to, "new/", 4), 0);
	ck_assert_str_eq(events[iren].to + 4, msg.id);
	/* The directory fsync'ed is new/, after the name arrived there. */
	ck_assert(events[idir].ino == newino);
	ck_assert(events[idir].new_exists);
	ck_assert(!events[idir].tmp_exists);
	/* Nothing durable-related after the directory fsync. */
	for (i = idir + 1; i < nevents; i++)
		ck_assert_int_ne(events[i].kind, EV_RENAME);
	ck_assert_int_eq(count_dir("tmp"), 0);
	ck_assert_int_eq(count_dir("new"), 1);
	(void)snprintf(path, sizeof(path), "new/%s", msg.id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq((long long)st.st_size, (long long)total);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(msg.fd, -1);
}
END_TEST

/* A failure at each step of the commit: the reply, and nothing left. */
struct commit_fail {
	int		 fsync_at;	/* 1: the file, 2: new/ */
	int		 rename_at;
	int		 error;
	const char	*reply;		/* its first 9 octets */
};

static const struct commit_fail commit_fails[] = {
	{ 1, 0, EIO, "451 4.3.0" },
	{ 1, 0, ENOSPC, "452 4.3.1" },
	{ 1, 0, EDQUOT, "452 4.3.1" },
	{ 2, 0, EIO, "451 4.3.0" },
	{ 2, 0, ENOSPC, "452 4.3.1" },
	{ 0, 1, EIO, "451 4.3.0" },
	{ 0, 1, ENOSPC, "452 4.3.1" },
	{ 0, 1, EXDEV, "451 4.3.0" },
};

START_TEST(test_commit_fail)
{
	const struct commit_fail *c = &commit_fails[_i];
	const char *r;

	env_spec(BODY_NONE, T_SPEC);
	ck_assert_int_eq(spool_open(&msg), 0);
	ck_assert_int_eq(spool_envelope(&msg, &env), 0);
	ck_assert_int_eq(spool_write(&msg, "body\n", 5), 0);
	fail_fsync_at = c->fsync_at;
	fail_rename_at = c->rename_at;
	fail_errno = c->error;
	recording = 1;
	r = spool_commit(&msg);
	recording = 0;
	ck_assert_msg(r != NULL, "case %d: commit succeeded", _i);
	ck_assert_msg(strncmp(r, c->reply, 9) == 0 && r[9] == ' ',
	    "case %d: got \"%s\", expected %s", _i, r, c->reply);
	ck_assert_msg(nfsync >= c->fsync_at && nrename >= c->rename_at,
	    "case %d: the failing call was never made", _i);
	ck_assert_int_eq(count_dir("tmp"), 0);
	ck_assert_int_eq(count_dir("new"), 0);
	ck_assert_int_eq(msg.fd, -1);
	spool_abort(&msg);	/* a second cleanup is harmless */
	ck_assert_int_eq(count_dir("tmp"), 0);
}
END_TEST

/* write_fail_to - the message fd now refers to PATH opened with FLAGS */
static void
write_fail_to(const char *path, int flags)
{
	int fd = open(path, flags);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, msg.fd), msg.fd);
	close(fd);
}

/* A write error, whenever it happens, is the reply of its errno. */
struct write_fail {
	const char	*dev;
	int		 flags;
	size_t		 len;		/* octets written after the switch */
	int		 error;
	const char	*reply;
};

static const struct write_fail write_fails[] = {
	{ "/dev/full", O_WRONLY, 10, ENOSPC, "452 4.3.1" },	/* at commit */
	{ "/dev/full", O_WRONLY, 100000, ENOSPC, "452 4.3.1" },	/* on drain */
	{ "/dev/null", O_RDONLY, 10, EBADF, "451 4.3.0" },
	{ "/dev/null", O_RDONLY, 100000, EBADF, "451 4.3.0" },
};

START_TEST(test_write_fail)
{
	static char big[100000];
	const struct write_fail *c = &write_fails[_i];
	const char *r;

	memset(big, 'a', sizeof(big));
	env_spec(BODY_NONE, T_SPEC);
	ck_assert_int_eq(spool_open(&msg), 0);
	write_fail_to(c->dev, c->flags);
	(void)spool_envelope(&msg, &env);
	(void)spool_write(&msg, big, c->len);
	if (c->len > sizeof(msg.buf)) {
		/* The error is already known, and sticks. */
		ck_assert_int_eq(msg.error, c->error);
		ck_assert_int_eq(spool_write(&msg, "x", 1), -1);
	}
	r = spool_commit(&msg);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, c->reply, 9) == 0, "got \"%s\", expected %s",
	    r, c->reply);
	ck_assert_int_eq(count_dir("tmp"), 0);
	ck_assert_int_eq(count_dir("new"), 0);
}
END_TEST

/* RLIMIT_FSIZE: a short write, then EFBIG (SIGXFSZ ignored): 452. */
START_TEST(test_write_efbig)
{
	static char big[SPOOL_BUF + 50000];	/* more than one buffer */
	struct rlimit rl = { 20000, 20000 };
	const char *r;

	memset(big, 'b', sizeof(big));
	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	env_spec(BODY_NONE, T_SPEC);
	ck_assert_int_eq(spool_open(&msg), 0);
	ck_assert_int_eq(spool_envelope(&msg, &env), 0);
	ck_assert_int_eq(spool_write(&msg, big, sizeof(big)), -1);
	ck_assert_int_eq(msg.error, EFBIG);
	r = spool_commit(&msg);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "452 4.3.1 ", 10) == 0, "got \"%s\"", r);
	ck_assert_int_eq(count_dir("tmp"), 0);
	ck_assert_int_eq(count_dir("new"), 0);
}
END_TEST

/* abort: the temporary file goes, other files stay; twice is harmless. */
START_TEST(test_abort)
{
	int fd = open("tmp/other", O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(spool_open(&msg), 0);
	ck_assert_int_eq(spool_write(&msg, "partial", 7), 0);
	ck_assert_int_eq(count_dir("tmp"), 2);
	spool_abort(&msg);
	ck_assert_int_eq(msg.fd, -1);
	ck_assert_int_eq(count_dir("tmp"), 1);
	ck_assert(exists("tmp/other"));
	spool_abort(&msg);
	ck_assert(exists("tmp/other"));
	ck_assert_int_eq(count_dir("new"), 0);
	/* A message that was never opened. */
	memset(&msg, 0, sizeof(msg));
	msg.fd = -1;
	spool_abort(&msg);
	ck_assert_ptr_nonnull(spool_commit(&msg));
	ck_assert(exists("tmp/other"));
}
END_TEST

/* No tmp/: open fails, the error is kept, nothing to clean. */
START_TEST(test_open_no_tmp)
{
	ck_assert_int_eq(rmdir("tmp"), 0);
	ck_assert_int_eq(spool_open(&msg), -1);
	ck_assert_int_eq(msg.error, ENOENT);
	ck_assert_int_eq(msg.fd, -1);
	ck_assert_str_eq(msg.tmp, "");
	ck_assert_int_eq(spool_write(&msg, "x", 1), -1);
	spool_abort(&msg);
	ck_assert_int_eq(mkdir("tmp", 0700), 0);
}
END_TEST

START_TEST(test_check_space)
{
	static struct config conf;
	const char *r;

	config_defaults(&conf);
	conf.min_free_space = 0;
	ck_assert_ptr_null(spool_check_space(&conf, 0));
	ck_assert_ptr_null(spool_check_space(&conf, 1024));
	conf.min_free_space = ULLONG_MAX / 2;
	r = spool_check_space(&conf, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "452 4.3.1 ", 10) == 0, "got \"%s\"", r);
	conf.min_free_space = 0;
	r = spool_check_space(&conf, ULLONG_MAX);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "452 4.3.1 ", 10) == 0, "got \"%s\"", r);
	conf.min_free_space = ULLONG_MAX;
	r = spool_check_space(&conf, ULLONG_MAX);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "452 4.3.1 ", 10) == 0, "got \"%s\"", r);
	config_free(&conf);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, spool_setup, spool_teardown);
	tcase_set_timeout(tc, 30);
	return tc;
}

static Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc;

	tc = tcase("format");
	tcase_add_loop_test(tc, test_format, 0,
	    (int)(sizeof(fmt_cases) / sizeof(fmt_cases[0])));
	tcase_add_test(tc, test_format_roundtrip);
	tcase_add_test(tc, test_format_many_rcpts);
	tcase_add_test(tc, test_write_sizes);
	suite_add_tcase(s, tc);

	tc = tcase("open");
	tcase_add_test(tc, test_open_mode);
	tcase_add_test(tc, test_open_collision);
	tcase_add_test(tc, test_open_collision_all);
	tcase_add_test(tc, test_open_unique);
	tcase_add_test(tc, test_open_no_tmp);
	suite_add_tcase(s, tc);

	tc = tcase("commit");
	tcase_add_test(tc, test_commit_order);
	tcase_add_loop_test(tc, test_commit_fail, 0,
	    (int)(sizeof(commit_fails) / sizeof(commit_fails[0])));
	tcase_add_test(tc, test_abort);
	suite_add_tcase(s, tc);

	tc = tcase("errors");
	tcase_add_loop_test(tc, test_write_fail, 0,
	    (int)(sizeof(write_fails) / sizeof(write_fails[0])));
	tcase_add_test(tc, test_write_efbig);
	tcase_add_test(tc, test_check_space);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(spool_suite)
