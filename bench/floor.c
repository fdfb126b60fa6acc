/*
 * floor.c - the benchmark's floor: the least an inetd-style SMTP server
 * can do and still accept mail durably.
 *
 * usage: floor SPOOLDIR   (the session on fd 0 and fd 1, as inetd gives it)
 *
 * It checks nothing: every command but DATA and QUIT gets a canned 250.
 * DATA is copied as received (no dot-unstuffing, no line-end changes)
 * into SPOOLDIR/tmp/NAME until CRLF.CRLF, then fsync, close, rename into
 * SPOOLDIR/new/ and fsync of new/, and only then "250".  What it costs is
 * the launcher, the process and the disk: no front end started per
 * connection can do less.  Not a mail server; a measuring stick.
 */
#define _GNU_SOURCE	/* memmem(3) */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_BUF	65536

static char ibuf[FLOOR_BUF];		/* unread input: ibuf[ipos, ilen) */
static size_t ipos, ilen;
static char dbuf[4 + FLOOR_BUF];	/* DATA: a held tail, then input */
static int newdir = -1;
static unsigned long serial;

/* say - write one reply; exit when the client is gone */
static void
say(const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(1, text + off, len - off);

		if (n <= 0 && !(n == -1 && errno == EINTR))
			_exit(0);
		if (n > 0)
			off += (size_t)n;
	}
}

/* fill - read more input after ibuf[ilen]; 0 at end of file */
static int
fill(void)
{
	ssize_t n;

	if (ipos > 0) {
		memmove(ibuf, ibuf + ipos, ilen - ipos);
		ilen -= ipos;
		ipos = 0;
	}
	if (ilen == sizeof(ibuf))
		ilen = 0;		/* an endless line: forget it */
	do
		n = read(0, ibuf + ilen, sizeof(ibuf) - ilen);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return 0;
	ilen += (size_t)n;
	return 1;
}

/* getcmd - the next command line, NUL-terminated; NULL at end of file */
static char *
getcmd(void)
{
	char *nl, *line;

	while ((nl = memchr(ibuf + ipos, '\n', ilen - ipos)) == NULL)
		if (!fill())
			return NULL;
	line = ibuf + ipos;
	ipos = (size_t)(nl - ibuf) + 1;
	*nl = '\0';
	return line;
}

/* put - write all of P to FD; -1 on failure */
static int
put(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * body - copy DATA to FD up to and including the CRLF before ".CRLF".
 * The last four octets examined are held back until the next read shows
 * that they do not start the terminator.  0, or -1 at end of file.
 */
static int
body(int fd, int *bad)
{
	size_t dl = 2, skip = 2, rest;
	char *end;

	memcpy(dbuf, "\r\n", 2);	/* DATA starts at the start of a line */
	rest = ilen - ipos;
	memcpy(dbuf + dl, ibuf + ipos, rest);
	dl += rest;
	ipos = ilen = 0;
	for (;;) {
		ssize_t n;

		if ((end = memmem(dbuf, dl, "\r\n.\r\n", 5)) != NULL)
			break;
		if (dl > 4) {
			if (dl - 4 > skip && put(fd, dbuf + skip,
			    dl - 4 - skip) == -1)
				*bad = 1;
			skip = skip > dl - 4 ? skip - (dl - 4) : 0;
			memmove(dbuf, dbuf + dl - 4, 4);
			dl = 4;
		}
		do
			n = read(0, dbuf + dl, sizeof(dbuf) - dl);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			return -1;
		dl += (size_t)n;
	}
	rest = dl - (size_t)(end + 5 - dbuf);
	if ((size_t)(end + 2 - dbuf) > skip &&
	    put(fd, dbuf + skip, (size_t)(end + 2 - dbuf) - skip) == -1)
		*bad = 1;
	memcpy(ibuf, end + 5, rest);	/* pipelined commands, if any */
	ilen = rest;
	return 0;
}

/* data - one message: tmp/NAME, fsync, rename into new/, fsync new/ */
static void
data(void)
{
	char tmp[64], new[64];
	int fd, bad = 0;

	(void)snprintf(tmp, sizeof(tmp), "tmp/%lld.%ld.%lu",
	    (long long)time(NULL), (long)getpid(), serial);
	(void)snprintf(new, sizeof(new), "new/%lld.%ld.%lu",
	    (long long)time(NULL), (long)getpid(), serial++);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	say("354 go ahead\r\n");
	if (body(fd == -1 ? open("/dev/null", O_WRONLY) : fd, &bad) == -1)
		_exit(0);
	if (fd == -1 || bad || fsync(fd) == -1 || close(fd) == -1 ||
	    rename(tmp, new) == -1 || fsync(newdir) == -1) {
		(void)unlink(tmp);
		say("451 4.3.0 not queued\r\n");
		return;
	}
	say("250 2.0.0 queued\r\n");
}

int
main(int argc, char *argv[])
{
	char *line;

	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (argc != 2 || chdir(argv[1]) == -1 ||
	    (newdir = open("new", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		say("421 4.3.0 floor: bad spool\r\n");
		return 1;
	}
	say("220 floor ESMTP\r\n");
	while ((line = getcmd()) != NULL) {
		if (strncasecmp(line, "DATA", 4) == 0)
			data();
		else if (strncasecmp(line, "QUIT", 4) == 0) {
			say("221 2.0.0 bye\r\n");
			break;
		} else
			say("250 ok\r\n");
	}
	return 0;
}
