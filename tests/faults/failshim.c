/*
 * failshim.c - an LD_PRELOAD shim that makes the Nth spool system call
 * fail, for the fault tests (tests/faults/faults.py).
 *
 *   FAIL_CALL	open, write, fsync, rename, close or any; or short: the
 *		Nth write is cut short (half its octets go out, and write
 *		returns that count), which is no error at all
 *   FAIL_AT	N: the Nth counted call of that kind (1-based) fails
 *   FAIL_ERRNO	ENOSPC or EIO (default EIO)
 *   FAIL_REPORT	file that gets one line per injected failure, and one
 *		line "count KIND N" per counted call when FAIL_TRACE=1
 *
 * Only the spool is counted: open of "tmp/..." (a message file) and of
 * "new" (the directory fsync'ed after the rename), both relative to the
 * spool, which smtpfe makes its current directory, writes, fsyncs and
 * closes of the descriptors those opens returned, and renames whose
 * source is "tmp/...".  The socket, syslog and everything else pass
 * through untouched.  The counters live in the process, so every session
 * child of "smtpfe -l" starts from zero after its fork.
 *
 * The report file is opened in the constructor, before smtpfe chroots,
 * and its descriptor is inherited by the session children.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHIM_FDS	4096

enum kind { K_OPEN, K_WRITE, K_FSYNC, K_RENAME, K_CLOSE, K_SHORT, K_ANY };

static const char *const kind_name[] = { "open", "write", "fsync", "rename",
    "close", "short" };

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_close)(int);

static int fail_kind = -1;		/* enum kind, or -1: count only */
static unsigned long fail_at;
static int fail_errno = EIO;
static int report_fd = -1;
static int trace;
static unsigned long counted;		/* calls of the failing kind */
static unsigned char tracked[SHIM_FDS];	/* 1: a spool fd we opened */

/* shim_report - one line to the report file, if any */
static void
shim_report(const char *what, enum kind k, unsigned long n, const char *arg)
{
	char line[512];
	int len;

	if (report_fd == -1 || real_write == NULL)
		return;
	len = snprintf(line, sizeof(line), "%s %s %lu pid=%ld errno=%d %s\n",
	    what, kind_name[k], n, (long)getpid(), fail_errno,
	    arg != NULL ? arg : "-");
	if (len > 0 && (size_t)len < sizeof(line))
		(void)real_write(report_fd, line, (size_t)len);
}

/* shim_fail - count one call of kind K; 1 when it must fail */
static int
shim_fail(enum kind k, const char *arg)
{
	unsigned long n;

	if (fail_kind != K_ANY && fail_kind != (int)k) {
		if (trace)
			shim_report("count", k, 0, arg);
		return 0;
	}
	n = ++counted;
	if (trace)
		shim_report("count", k, n, arg);
	if (n != fail_at)
		return 0;
	shim_report("inject", k, n, arg);
	return 1;
}

/* spool_path - 1 for a message file "tmp/...", 2 for the "new" dir */
static int
spool_path(const char *path)
{
	if (path == NULL)
		return 0;
	if (strncmp(path, "tmp/", 4) == 0)
		return 1;
	return strcmp(path, "new") == 0 ? 2 : 0;
}

static int
is_tracked(int fd)
{
	return fd >= 0 && fd < SHIM_FDS && tracked[fd];
}

__attribute__((constructor)) static void
shim_init(void)
{
	static const struct { const char *name; int kind; } kinds[] = {
		{ "open", K_OPEN }, { "write", K_WRITE }, { "fsync", K_FSYNC },
		{ "rename", K_RENAME }, { "close", K_CLOSE }, { "any", K_ANY },
		{ "short", K_SHORT },
	};
	const char *s;
	size_t i;

	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT,
	    "open64");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
	    "openat");
	real_openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
	    "openat64");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
	    "write");
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "rename");
	real_renameat = (int (*)(int, const char *, int, const char *))dlsym(
	    RTLD_NEXT, "renameat");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (real_open == NULL || real_openat == NULL || real_write == NULL ||
	    real_fsync == NULL || real_rename == NULL || real_close == NULL)
		abort();
	if ((s = getenv("FAIL_CALL")) != NULL)
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(s, kinds[i].name) == 0)
				fail_kind = kinds[i].kind;
	if ((s = getenv("FAIL_AT")) != NULL)
		fail_at = strtoul(s, NULL, 10);
	if ((s = getenv("FAIL_ERRNO")) != NULL)
		fail_errno = strcmp(s, "ENOSPC") == 0 ? ENOSPC : EIO;
	trace = (s = getenv("FAIL_TRACE")) != NULL && strcmp(s, "1") == 0;
	if ((s = getenv("FAIL_REPORT")) != NULL && *s != '\0') {
		int fd = real_open(s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);

		if (fd != -1) {
			report_fd = fcntl(fd, F_DUPFD_CLOEXEC, 900);
			(void)real_close(fd);
		}
		if (report_fd == -1)
			abort();
	}
}

/* shim_open - the common part of the four open entry points */
static int
shim_open(const char *path, int *fdp)
{
	int which = spool_path(path);

	if (which == 0)
		return 0;
	if (shim_fail(K_OPEN, path)) {
		errno = fail_errno;
		*fdp = -1;
		return 1;
	}
	return 0;
}

/* shim_opened - remember a spool fd the real open returned */
static int
shim_opened(const char *path, int fd)
{
	if (fd >= 0 && fd < SHIM_FDS)
		tracked[fd] = spool_path(path) != 0;
	return fd;
}

static mode_t
open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (shim_open(path, &fd))
		return fd;
	return shim_opened(path, real_open(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (shim_open(path, &fd))
		return fd;
	return shim_opened(path, (real_open64 != NULL ? real_open64 :
	    real_open)(path, flags, mode));
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (shim_open(path, &fd))
		return fd;
	return shim_opened(path, real_openat(dirfd, path, flags, mode));
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (shim_open(path, &fd))
		return fd;
	return shim_opened(path, (real_openat64 != NULL ? real_openat64 :
	    real_openat)(dirfd, path, flags, mode));
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	if (is_tracked(fd) && fail_kind == K_SHORT) {
		if (shim_fail(K_SHORT, NULL))
			return real_write(fd, buf, len > 1 ? len / 2 : len);
		return real_write(fd, buf, len);
	}
	if (is_tracked(fd) && shim_fail(K_WRITE, NULL)) {
		errno = fail_errno;
		return -1;
	}
	return real_write(fd, buf, len);
}

int
fsync(int fd)
{
	if (is_tracked(fd) && shim_fail(K_FSYNC, NULL)) {
		errno = fail_errno;
		return -1;
	}
	return real_fsync(fd);
}

int
rename(const char *from, const char *to)
{
	if (spool_path(from) == 1 && shim_fail(K_RENAME, from)) {
		errno = fail_errno;
		return -1;
	}
	return real_rename(from, to);
}

int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	if (spool_path(from) == 1 && shim_fail(K_RENAME, from)) {
		errno = fail_errno;
		return -1;
	}
	return real_renameat(fromfd, from, tofd, to);
}

/*
 * close - as Linux does it: on an injected failure the descriptor is
 * released all the same, and close reports the error (NFS, EIO).
 */
int
close(int fd)
{
	int fail = 0, r;

	if (is_tracked(fd)) {
		fail = shim_fail(K_CLOSE, NULL);
		tracked[fd] = 0;
	}
	r = real_close(fd);
	if (fail) {
		errno = fail_errno;
		return -1;
	}
	return r;
}
