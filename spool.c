/*
 * spool.c - the writing side of the spool.
 *
 * A message becomes durable in one order only: O_EXCL create in tmp/
 * (mode 0600 under umask 077), checked writes, fsync, checked close,
 * rename into new/, fsync of new/.  Only then may the session say 250.
 * Any failure takes the one cleanup path, spool_abort, which unlinks the
 * temporary file.  The spool directory is the current directory.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

static const char reply_nospace[] = "452 4.3.1 Insufficient system storage";
static const char reply_minfree[] = "452 4.3.1 Insufficient system storage "
    "(min_free_space)";
static const char reply_ioerror[] = "451 4.3.0 Local error while queueing";

/* spool_check_space - NULL, or the 452 reply when below min_free_space */
const char *
spool_check_space(const struct config *conf, unsigned long long need)
{
	struct statvfs sv;
	unsigned long long avail;

	if (statvfs(".", &sv) == -1)
		return reply_ioerror;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	if (avail < conf->min_free_space || avail - conf->min_free_space < need)
		return reply_minfree;
	return NULL;
}

/* spool_make_id - "SECONDS.MICROS.PID.RANDOM": unique across hosts too */
static int
spool_make_id(struct spool_msg *m)
{
	struct timeval tv;
	unsigned long long rnd;
	int n;

	if (gettimeofday(&tv, NULL) == -1 ||
	    getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	n = snprintf(m->id, sizeof(m->id), "%lld.%06ld.%ld.%016llx",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), rnd);
	if (n < 0 || (size_t)n >= sizeof(m->id))
		return -1;
	n = snprintf(m->tmp, sizeof(m->tmp), "tmp/%s", m->id);
	return (n < 0 || (size_t)n >= sizeof(m->tmp)) ? -1 : 0;
}

/* spool_open - create tmp/ID with O_EXCL, mode 0600; -1 on failure */
int
spool_open(struct spool_msg *m)
{
	int tries;

	m->fd = -1;
	m->error = 0;
	m->bytes = 0;
	m->blen = 0;
	for (tries = 0; tries < 5; tries++) {
		if (spool_make_id(m) == -1) {
			m->error = EIO;
			m->tmp[0] = '\0';
			return -1;
		}
		m->fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (m->fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	m->error = errno;
	m->tmp[0] = '\0';	/* the name may be another process's file */
	return -1;
}

/* spool_drain - write the buffer out; -1 (and error set) on failure */
static int
spool_drain(struct spool_msg *m)
{
	size_t off = 0;

	while (off < m->blen && m->error == 0) {
		ssize_t n = write(m->fd, m->buf + off, m->blen - off);

		if (n > 0)
			off += (size_t)n;
		else if (n == 0)
			m->error = EIO;
		else if (errno != EINTR)
			m->error = errno;
	}
	m->blen = 0;
	return m->error == 0 ? 0 : -1;
}

/* spool_write - buffered, checked write; -1 (and error set) on failure */
int
spool_write(struct spool_msg *m, const char *p, size_t len)
{
	if (m->fd == -1 || m->error != 0)
		return -1;
	while (len > 0) {
		size_t room = sizeof(m->buf) - m->blen;
		size_t n = len < room ? len : room;

		memcpy(m->buf + m->blen, p, n);
		m->blen += n;
		m->bytes += n;
		p += n;
		len -= n;
		if (m->blen == sizeof(m->buf) && spool_drain(m) == -1)
			return -1;
	}
	return 0;
}

/* spool_line - write "KEY: VALUE\n" */
static int
spool_line(struct spool_msg *m, const char *key, const char *value)
{
	if (spool_write(m, key, strlen(key)) == -1 ||
	    spool_write(m, ": ", 2) == -1 ||
	    spool_write(m, value, strlen(value)) == -1)
		return -1;
	return spool_write(m, "\n", 1);
}

/* spool_envelope - write the envelope block and the blank line */
int
spool_envelope(struct spool_msg *m, const struct envelope *env)
{
	char when[32];
	struct tm tm;
	size_t i;

	if (gmtime_r(&env->arrived, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	if (spool_line(m, "Smtpfe-Spool", "1") == -1 ||
	    spool_line(m, "Client", env->client) == -1 ||
	    spool_line(m, "Helo", env->helo) == -1 ||
	    spool_line(m, "Sender", env->sender.path) == -1)
		return -1;
	for (i = 0; i < env->nrcpt; i++)
		if (spool_line(m, "Recipient", env->rcpt[i].path) == -1)
			return -1;
	if (env->body != BODY_NONE && spool_line(m, "Body",
	    env->body == BODY_8BITMIME ? "8BITMIME" : "7BIT") == -1)
		return -1;
	if (env->smtputf8 && spool_line(m, "Smtputf8", "yes") == -1)
		return -1;
	if (spool_line(m, "Arrived", when) == -1)
		return -1;
	return spool_write(m, "\n", 1);
}

/* rfc5322_date - "Sat, 28 Nov 2026 15:04:05 +0000", locale-free */
static int
rfc5322_date(char *buf, size_t size, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int n;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	n = snprintf(buf, size, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/*
 * received_with - the protocol word of the Received: header (RFC 3848,
 * RFC 6531 section 3.7.4): SMTP or ESMTP, UTF8SMTP for an SMTPUTF8
 * transaction, an S appended after STARTTLS.
 */
static const char *
received_with(const struct envelope *env, int esmtp)
{
	if (env->smtputf8)
		return env->tls ? "UTF8SMTPS" : "UTF8SMTP";
	if (esmtp)
		return env->tls ? "ESMTPS" : "ESMTP";
	return env->tls ? "SMTPS" : "SMTP";
}

/* spool_received - our Received: header, first line of the message */
int
spool_received(struct spool_msg *m, const struct envelope *env,
    const char *hostname, int esmtp)
{
	char date[64], hdr[SMTP_DOMAIN_MAX * 3 + SMTP_PATH_MAX + 256];
	int n;

	if (rfc5322_date(date, sizeof(date), env->arrived) == -1)
		return -1;
	n = snprintf(hdr, sizeof(hdr), "Received: from %s (%s [%s])\n"
	    "        by %s (smtpfe) with %s id %s\n"
	    "        for %s; %s\n", env->helo, env->helo, env->client,
	    hostname, received_with(env, esmtp), m->id,
	    env->nrcpt > 0 ? env->rcpt[0].path : "<>", date);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	return spool_write(m, hdr, (size_t)n);
}

/* spool_sync_dir - fsync the directory that holds the new name */
static int
spool_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd == -1)
		return -1;
	r = fsync(fd);
	if (close(fd) == -1)
		r = -1;
	return r;
}

/* spool_reply - the reply for a spool failure with this errno */
const char *
spool_reply(int error)
{
	return (error == ENOSPC || error == EDQUOT || error == EFBIG) ?
	    reply_nospace : reply_ioerror;
}

/* spool_fail - clean up and map errno to the reply */
static const char *
spool_fail(struct spool_msg *m, int error)
{
	if (m->error == 0)
		m->error = error != 0 ? error : EIO;
	spool_abort(m);
	return spool_reply(m->error);
}

/* spool_commit - flush, fsync, close, rename into new/, fsync new/ */
const char *
spool_commit(struct spool_msg *m)
{
	char path[SPOOL_ID_MAX + 8];
	int n, fd;

	if (m->fd == -1 || spool_drain(m) == -1)
		return spool_fail(m, m->error);
	if (fsync(m->fd) == -1)
		return spool_fail(m, errno);
	fd = m->fd;
	m->fd = -1;
	if (close(fd) == -1)
		return spool_fail(m, errno);
	n = snprintf(path, sizeof(path), "new/%s", m->id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return spool_fail(m, EIO);
	if (rename(m->tmp, path) == -1)
		return spool_fail(m, errno);
	if (spool_sync_dir("new") == -1) {
		/*
		 * The name may not survive a crash; take it back so that the
		 * client's retry cannot make a second copy.
		 */
		int e = errno;

		(void)unlink(path);
		return spool_fail(m, e);
	}
	m->tmp[0] = '\0';
	return NULL;
}

/* spool_abort - close and unlink the temp file, if any */
void
spool_abort(struct spool_msg *m)
{
	if (m->fd != -1) {
		(void)close(m->fd);
		m->fd = -1;
	}
	if (m->tmp[0] != '\0') {
		(void)unlink(m->tmp);
		m->tmp[0] = '\0';
	}
	m->blen = 0;
}
