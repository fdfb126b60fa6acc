/*
 * queue.c - the postmaster's tools on the spool: smtpfe -p (list it,
 * like mailq) and smtpfe -r (requeue from failed/).  A file of its own:
 * neither is on the session's or the runner's path.
 *
 * Like the runner, these run with the spool directory as the current
 * directory, as the configured user.  They never take a message's lock:
 * -p only reads, and -r moves a file from failed/ (which no runner
 * reads) into new/ with one rename that does not replace, so that a
 * runner sees either nothing or the whole message.
 */
#define _GNU_SOURCE	/* renameat2(2) and RENAME_NOREPLACE */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "queue.h"
#include "smtpfe.h"
#include "spool.h"

/* Our choice: octets of a message's head read to find its envelope. */
#define QUEUE_HEAD		(1024 * 1024)

struct queue_count {
	unsigned long	 fresh, deferred, failed;
};

static char qbuf[QUEUE_HEAD];
static struct envelope qenv;

/* queue_iso - T as "YYYY-MM-DDTHH:MM:SSZ" */
static const char *
queue_iso(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

/* queue_head - read the start of FD into qbuf; octets read, or -1 */
static ssize_t
queue_head(int fd)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(qbuf)) {
		if ((r = read(fd, qbuf + n, sizeof(qbuf) - n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* queue_state - "new", "deferred until TIME" or "failed"; counts it */
static const char *
queue_state(const char *dir, const struct stat *st, time_t now,
    struct queue_count *qc, char *buf, size_t size)
{
	char iso[32];

	if (strcmp(dir, "failed") == 0) {
		qc->failed++;
		return "failed";
	}
	if (st->st_mtime > now + SPOOL_CLOCK_SLACK &&
	    st->st_mtime <= now + SPOOL_RETRY_MAX + SPOOL_CLOCK_SLACK) {
		qc->deferred++;
		(void)snprintf(buf, size, "deferred until %s",
		    queue_iso(st->st_mtime, iso, sizeof(iso)));
		return buf;
	}
	qc->fresh++;
	return "new";
}

/* queue_print - one line for DIR/NAME */
static void
queue_print(const char *dir, int dfd, const char *name, time_t now,
    struct queue_count *qc)
{
	char state[64], iso[32], why[256];
	struct stat st;
	const char *s;
	ssize_t n;
	long off;
	size_t i;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			(void)close(fd);
		return;		/* handed off meanwhile, or not a message */
	}
	s = queue_state(dir, &st, now, qc, state, sizeof(state));
	n = queue_head(fd);
	(void)close(fd);
	if (n == -1 || (off = envelope_parse(qbuf, (size_t)n, &qenv, why,
	    sizeof(why))) == -1) {
		(void)printf("%s %s - %lld (%s)\n", name, s,
		    (long long)st.st_size, n == -1 ? strerror(errno) : why);
		return;
	}
	(void)printf("%s %s %s %lld %s ", name, s,
	    queue_iso(qenv.arrived, iso, sizeof(iso)),
	    (long long)(st.st_size - off), qenv.sender.path);
	for (i = 0; i < qenv.nrcpt; i++)
		(void)printf("%s%s", i > 0 ? "," : "", qenv.rcpt[i].path);
	(void)printf("\n");
}

/* queue_name_cmp - qsort by name */
static int
queue_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* queue_dir - list DIR (new or failed), sorted by name; -1 if unreadable */
static int
queue_dir(const char *dir, time_t now, struct queue_count *qc)
{
	struct dirent *de;
	char **names = NULL, **nv;
	size_t n = 0, cap = 0, i;
	int nomem = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		(void)fprintf(stderr, "smtpfe: cannot open %s/: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while (!nomem && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(names, cap * sizeof(*nv))) == NULL) {
				nomem = 1;
				continue;
			}
			names = nv;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			nomem = 1;
		else
			n++;
	}
	if (nomem) {
		/* A partial listing with counts would mislead: say so. */
		(void)fprintf(stderr, "smtpfe: %s/: out of memory listing it\n",
		    dir);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		(void)closedir(d);
		return -1;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), queue_name_cmp);
	for (i = 0; i < n; i++) {
		queue_print(dir, dirfd(d), names[i], now, qc);
		free(names[i]);
	}
	free(names);
	(void)closedir(d);
	return 0;
}

/*
 * queue_list - smtpfe -p: one line per message of new/, then failed/:
 * "ID STATE ARRIVED SIZE SENDER RCPT,RCPT..." and a last line with the
 * counts.  Returns 0 (EX_IOERR when a directory cannot be read).
 */
int
queue_list(const struct config *conf)
{
	struct queue_count qc = { 0, 0, 0 };
	time_t now = time(NULL);
	int bad = 0;

	(void)conf;
	bad |= queue_dir("new", now, &qc) == -1;
	bad |= queue_dir("failed", now, &qc) == -1;
	(void)printf("%lu messages: %lu new, %lu deferred, %lu failed\n",
	    qc.fresh + qc.deferred + qc.failed, qc.fresh, qc.deferred,
	    qc.failed);
	if (fflush(stdout) == EOF || ferror(stdout))
		return EX_IOERR;
	return bad ? EX_IOERR : 0;
}

/* queue_id_ok - a spool file's name: no '/', no leading dot, not long */
static int
queue_id_ok(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len < SPOOL_ID_MAX && id[0] != '.' &&
	    strchr(id, '/') == NULL;
}

/* queue_move - failed/ID to new/ID, never replacing; 0, or -1 */
static int
queue_move(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* queue_requeue_one - move failed/ID back, due now; 0, or -1 (said why) */
static int
queue_requeue_one(const char *id)
{
	struct timespec ts[2];
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int fd;

	if (!queue_id_ok(id)) {
		(void)fprintf(stderr, "smtpfe: -r %.80s: not a message ID "
		    "(a spool file name, without /)\n", id);
		return -1;
	}
	(void)snprintf(from, sizeof(from), "failed/%s", id);
	(void)snprintf(to, sizeof(to), "new/%s", id);
	if ((fd = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC))
	    == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)fprintf(stderr, "smtpfe: -r %s: not in failed/\n", id);
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	/* The runner reads the next try time from the mtime: now. */
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = time(NULL);
	ts[1].tv_nsec = 0;
	if (futimens(fd, ts) == -1 || queue_move(from, to) == -1) {
		(void)fprintf(stderr, "smtpfe: -r %s: %s\n", id,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	(void)printf("%s: requeued\n", id);
	return 0;
}

/* queue_sync - fsync the directories a rename touched */
static void
queue_sync(void)
{
	const char *dirs[] = { "new", "failed" };
	size_t i;
	int fd;

	for (i = 0; i < 2; i++)
		if ((fd = open(dirs[i], O_RDONLY | O_DIRECTORY)) != -1) {
			(void)fsync(fd);
			(void)close(fd);
		}
}

/* queue_requeue_all - every message of failed/; 0, or EX_NOINPUT */
static int
queue_requeue_all(void)
{
	struct dirent *de;
	int bad = 0;
	DIR *d;

	if ((d = opendir("failed")) == NULL) {
		(void)fprintf(stderr, "smtpfe: cannot open failed/: %s\n",
		    strerror(errno));
		return EX_NOINPUT;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    queue_requeue_one(de->d_name) == -1)
			bad = 1;
	(void)closedir(d);
	return bad ? EX_NOINPUT : 0;
}

/*
 * queue_requeue - smtpfe -r ID... or -r all: 0, or 66 (EX_NOINPUT) when
 * any ID was not in failed/ (the others are requeued all the same).
 */
int
queue_requeue(const struct config *conf, const char *first, char **rest,
    int nrest)
{
	int i, bad = 0;

	(void)conf;
	if (strcmp(first, "all") == 0 && nrest == 0)
		bad = queue_requeue_all() != 0;
	else {
		bad |= queue_requeue_one(first) == -1;
		for (i = 0; i < nrest; i++)
			bad |= queue_requeue_one(rest[i]) == -1;
	}
	queue_sync();
	if (fflush(stdout) == EOF)
		bad = 1;
	return bad ? EX_NOINPUT : 0;
}
