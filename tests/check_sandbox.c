/*
 * check_sandbox.c - the session's sandbox: limits, no new privileges and
 * the seccomp allow-list.
 *
 * Every case forks a child that calls sandbox_enter() and then does one
 * thing; the parent judges the child's wait status, and reads its
 * /proc/PID files while it waits.  After sandbox_enter the child may use
 * only what the filter allows: no stdio, no Check calls, _exit only.
 */
#define _GNU_SOURCE	/* syscall(2), pipe2(2) */

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "sandbox.h"
#include "spool.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN	1
#endif
#endif

/* Exit codes of a child that found something wrong before it was killed. */
#define CHILD_OK	0
#define CHILD_NOENTER	70	/* sandbox_enter failed */
#define CHILD_NOTKILLED	71	/* a forbidden call returned */

static struct config conf;
static char dir[64];		/* a spool: tmp/ and new/, the cwd */

/* setup - a configuration and an empty spool as the current directory */
static void
setup(void)
{
	config_defaults(&conf);
	conf.min_free_space = 0;
	(void)strcpy(dir, "/tmp/check_sandbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(mkdir("tmp", 0700), 0);
	ck_assert_int_eq(mkdir("new", 0700), 0);
	ck_assert_int_eq(unsetenv(SANDBOX_ENV), 0);
}

/* rm_dir - remove every file of D, then D */
static void
rm_dir(const char *d)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	(void)system(cmd);
}

static void
teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	rm_dir(dir);
}

/* enter - in the child: the sandbox, or exit CHILD_NOENTER */
static void
enter(void)
{
	char err[256];

	if (sandbox_enter(&conf, err, sizeof(err)) == -1) {
		(void)write(2, err, strlen(err));
		(void)write(2, "\n", 1);
		_exit(CHILD_NOENTER);
	}
}

/* child_wait - the wait status of PID */
static int
child_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

/* run - FN in a sandboxed child; its wait status */
static int
run(void (*fn)(void))
{
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		enter();
		fn();
		_exit(CHILD_OK);
	}
	return child_wait(pid);
}

/* status_text - a wait status for a failure message */
static const char *
status_text(int st)
{
	static char buf[64];

	if (WIFSIGNALED(st))
		(void)snprintf(buf, sizeof(buf), "killed by signal %d",
		    WTERMSIG(st));
	else
		(void)snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(st));
	return buf;
}

/* assert_exit - the child must have exited with CODE */
static void
assert_exit(int st, int code, const char *what)
{
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "%s: expected exit %d, got %s", what, code, status_text(st));
}

/* Forbidden calls: each must kill the process with SIGSYS. */

static char existing[] = "tmp/existing";

static void
f_fork(void)
{
	(void)syscall(SYS_fork);
}

static void
f_vfork(void)
{
	(void)syscall(SYS_vfork);
}

static void
f_execve(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };

	(void)syscall(SYS_execve, "/bin/true", argv, NULL);
}

static void
f_inet(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
f_inet6(void)
{
	(void)socket(AF_INET6, SOCK_DGRAM, 0);
}

static void
f_netlink(void)
{
	(void)socket(AF_NETLINK, SOCK_RAW, 0);
}

static void
f_trunc(void)
{
	(void)open(existing, O_WRONLY | O_TRUNC | O_CLOEXEC);
}

static void
f_rdwr(void)
{
	(void)open(existing, O_RDWR | O_CLOEXEC);
}

static void
f_creat_noexcl(void)
{
	(void)open("tmp/new-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

static void
f_mmap_exec(void)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
f_mprotect_exec(void)
{
	static char page[8192] __attribute__((aligned(4096)));

	(void)mprotect(page, 4096, PROT_READ | PROT_EXEC);
}

static void
f_setuid(void)
{
	(void)syscall(SYS_setuid, 0);
}

static void
f_chmod(void)
{
	(void)chmod(existing, 0666);
}

static void
f_mkdir(void)
{
	(void)mkdir("tmp/d", 0700);
}

static void
f_link(void)
{
	(void)link(existing, "tmp/hard");
}

static void
f_getuid(void)
{
	(void)syscall(SYS_getuid);
}

static void
f_unshare(void)
{
	(void)syscall(SYS_unshare, 0);
}

static void
f_memfd(void)
{
	(void)syscall(SYS_memfd_create, "x", 0);
}

/* The same call number in another ABI: x32, and i386 through int 0x80. */
static void
f_x32(void)
{
#ifdef __x86_64__
	(void)syscall(0x40000000 | SYS_getpid);
#endif
}

static void
f_int80(void)
{
#ifdef __x86_64__
	long ret;

	/* getpid is 20 in the i386 table. */
	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	(void)ret;
#endif
}

/*
 * PROBE marks the calls whose very existence depends on the kernel: an
 * x86-64 kernel may run no i386 system calls at all (CONFIG_IA32_EMULATION
 * off, or ia32_emulation=0: int 0x80 then faults with SIGSEGV before any
 * filter sees it), and x32 is often left out.  Those are first made in an
 * unfiltered child; one that dies there proves nothing about the filter
 * and is skipped, with the reason printed.
 */
static const struct forbidden {
	const char	*name;
	void		(*fn)(void);
	int		 probe;
} forbidden[] = {
	{ "fork", f_fork, 0 },
	{ "vfork", f_vfork, 0 },
	{ "execve", f_execve, 0 },
	{ "socket(AF_INET)", f_inet, 0 },
	{ "socket(AF_INET6)", f_inet6, 0 },
	{ "socket(AF_NETLINK)", f_netlink, 0 },
	{ "open O_TRUNC", f_trunc, 0 },
	{ "open O_RDWR", f_rdwr, 0 },
	{ "open O_CREAT without O_EXCL", f_creat_noexcl, 0 },
	{ "mmap PROT_EXEC", f_mmap_exec, 0 },
	{ "mprotect PROT_EXEC", f_mprotect_exec, 0 },
	{ "setuid", f_setuid, 0 },
	{ "chmod", f_chmod, 0 },
	{ "mkdir", f_mkdir, 0 },
	{ "link", f_link, 0 },
	{ "getuid", f_getuid, 0 },
	{ "unshare", f_unshare, 0 },
	{ "memfd_create", f_memfd, 0 },
	{ "x32 getpid", f_x32, 1 },
	{ "i386 int 0x80 getpid", f_int80, 1 },
};

#define NFORBIDDEN	(sizeof(forbidden) / sizeof(forbidden[0]))

/* The rows this kernel can run, filled by forbidden_probe_all(). */
static size_t runnable[NFORBIDDEN];
static size_t nrunnable;

/*
 * forbidden_probe - 1 when F's call can be made here at all: an
 * unfiltered child making it is not killed by a signal.
 */
static int
forbidden_probe(const struct forbidden *f, char *why, size_t len)
{
	pid_t pid;
	int st;

	why[0] = '\0';
	if (!f->probe)
		return 1;
	if ((pid = fork()) == -1) {
		(void)snprintf(why, len, "fork: %s", strerror(errno));
		return 1;	/* not skipped: the test itself will fail */
	}
	if (pid == 0) {
		f->fn();
		_exit(CHILD_NOTKILLED);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return 1;
	if (!WIFSIGNALED(st))
		return 1;
	(void)snprintf(why, len, "an unfiltered process making this call is "
	    "killed by signal %d (%s): this kernel does not run it",
	    WTERMSIG(st), strsignal(WTERMSIG(st)));
	return 0;
}

/* forbidden_probe_all - the runnable rows; the others printed as skipped */
static void
forbidden_probe_all(void)
{
	char why[256];
	size_t i;

	nrunnable = 0;
	for (i = 0; i < NFORBIDDEN; i++) {
		if (forbidden_probe(&forbidden[i], why, sizeof(why)))
			runnable[nrunnable++] = i;
		else
			(void)printf("check_sandbox: SKIPPED forbidden \"%s\": "
			    "%s\n", forbidden[i].name, why);
	}
	(void)fflush(stdout);
}

START_TEST(test_forbidden_kills)
{
	const struct forbidden *f = &forbidden[runnable[_i]];
	pid_t pid;
	int fd, st;

	fd = open(existing, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	ck_assert_int_eq(close(fd), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		enter();
		f->fn();
		_exit(CHILD_NOTKILLED);
	}
	st = child_wait(pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s: expected death by SIGSYS, got %s", f->name, status_text(st));
	/* Nothing the call would have done happened. */
	ck_assert_int_eq(access("tmp/new-file", F_OK), -1);
	ck_assert_int_eq(access("tmp/d", F_OK), -1);
	ck_assert_int_eq(access("tmp/hard", F_OK), -1);
}
END_TEST

/* Allowed: everything a session does, through the real spool code. */

static int pfd[2];		/* a pipe made before the sandbox */
static int upair[2];		/* a unix socket pair, like syslog's */

/* a_spool - a message made durable, and one abandoned */
static void
a_spool(void)
{
	static struct spool_msg m;
	char buf[4096];
	int i, fd;

	if (spool_check_space(&conf, 0) != NULL || spool_open(&m) == -1)
		_exit(10);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 8; i++)
		if (spool_write(&m, buf, sizeof(buf)) == -1)
			_exit(11);
	if (spool_commit(&m) != NULL)
		_exit(12);
	(void)snprintf(buf, sizeof(buf), "new/%s", m.id);
	if ((fd = open(buf, O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, buf, 10) != 10 || close(fd) == -1)
		_exit(13);
	if (spool_open(&m) == -1 || spool_write(&m, "y", 1) == -1)
		_exit(14);
	spool_abort(&m);
}

/* a_clocks - the vDSO clocks' system calls, sleeps, randomness */
static void
a_clocks(void)
{
	struct timespec ts = { 0, 1000000 };
	struct timeval tv;
	unsigned char r[16];

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0 ||
	    syscall(SYS_gettimeofday, &tv, NULL) != 0 ||
	    syscall(SYS_time, NULL) == -1 || time(NULL) == (time_t)-1)
		_exit(20);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	if (nanosleep(&ts, NULL) != 0 ||
	    syscall(SYS_nanosleep, &ts, NULL) != 0 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) ||
	    getpid() <= 0)
		_exit(21);
}

/* a_io - poll, read, write, sendto; syslog and its reconnect */
static void
a_io(void)
{
	struct pollfd p = { pfd[0], POLLIN, 0 };
	struct sockaddr_un sun;
	char c;
	int s;

	if (write(pfd[1], "z", 1) != 1 || poll(&p, 1, 1000) != 1 ||
	    read(pfd[0], &c, 1) != 1 || c != 'z')
		_exit(30);
	if (send(upair[0], "log", 3, MSG_NOSIGNAL) != 3)
		_exit(31);
	syslog(LOG_DEBUG, "check_sandbox: a syslog line under the filter");
	/* What syslog(3) does after its socket failed. */
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		_exit(32);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strcpy(sun.sun_path, "/nonexistent/log");
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) != -1 ||
	    close(s) == -1)
		_exit(33);
}

/* a_memory - malloc, small and large */
static void
a_memory(void)
{
	char *small = malloc(100), *big = malloc(1 << 20);

	if (small == NULL || big == NULL)
		_exit(40);
	memset(big, 1, 1 << 20);
	free(big);
	free(small);
}

static void
a_all(void)
{
	a_spool();
	a_clocks();
	a_io();
	a_memory();
}

START_TEST(test_allowed)
{
	int st;
	char c[4];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
	    upair), 0);
	openlog("check_sandbox", LOG_PID | LOG_NDELAY, LOG_MAIL);
	st = run(a_all);
	assert_exit(st, CHILD_OK, "the calls of a session");
	ck_assert_int_eq(recv(upair[1], c, sizeof(c), MSG_DONTWAIT), 3);
	/* One message in new/, none left in tmp/. */
	ck_assert_int_eq(system("test $(ls new | wc -l) -eq 1 && "
	    "test $(ls tmp | wc -l) -eq 0"), 0);
}
END_TEST

/* RLIMIT_FSIZE: past it, write fails with EFBIG; the process lives. */

static void
a_fsize(void)
{
	static char buf[65536];
	unsigned long long total = 0, limit = sandbox_file_limit(&conf);
	int fd = open("tmp/big", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	ssize_t n;

	if (fd == -1)
		_exit(50);
	while ((n = write(fd, buf, sizeof(buf))) > 0 && total < 2 * limit)
		total += (unsigned long long)n;
	if (n != -1 || errno != EFBIG)
		_exit(51);
	if (total != limit)
		_exit(52);
	(void)close(fd);
}

/* a_fsize_spool - the spool code answers 452 when the file is too big */
static void
a_fsize_spool(void)
{
	static struct spool_msg m;
	static char buf[65536];
	unsigned long long total = 0, limit = sandbox_file_limit(&conf);
	const char *r;

	if (spool_open(&m) == -1)
		_exit(60);
	while (total <= limit && spool_write(&m, buf, sizeof(buf)) == 0)
		total += sizeof(buf);
	r = spool_commit(&m);
	if (r == NULL || strncmp(r, "452 4.3.1", 9) != 0)
		_exit(61);
}

START_TEST(test_fsize)
{
	conf.max_message_size = 1000;
	conf.max_recipients = 5;
	assert_exit(run(a_fsize), CHILD_OK, "write past RLIMIT_FSIZE");
	assert_exit(run(a_fsize_spool), CHILD_OK, "spool past RLIMIT_FSIZE");
	/* The spool's cleanup path removed the temporary file. */
	ck_assert_int_eq(system("test $(ls tmp | wc -l) -eq 1"), 0);
}
END_TEST

START_TEST(test_fsize_bound)
{
	unsigned long long base;

	/* The limit leaves room for the largest envelope and no more. */
	conf.max_message_size = 10485760;
	conf.max_recipients = 100;
	base = sandbox_file_limit(&conf);
	ck_assert_uint_gt(base, 10485760ULL + 100 * (SMTP_PATH_MAX + 12));
	ck_assert_uint_lt(base, 10485760ULL + 200 * 1024);
	conf.max_recipients = 1000000;
	ck_assert_uint_eq(sandbox_file_limit(&conf) - base,
	    (ENVELOPE_RCPT_MAX - 100) * (SMTP_PATH_MAX + 12));
}
END_TEST

/* The limits and flags, read from /proc/PID by the parent. */

/* proc_line - the line of /proc/PID/FILE that starts with KEY */
static void
proc_line(pid_t pid, const char *file, const char *key, char *out,
    size_t len)
{
	char path[64], line[512];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	out[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			(void)snprintf(out, len, "%s", line + strlen(key));
			break;
		}
	(void)fclose(fp);
	ck_assert_msg(out[0] != '\0', "%s: no %s", path, key);
}

/*
 * proc_status_has - 1 when this kernel's /proc/PID/status has a KEY line
 * at all (Seccomp_filters came in Linux 5.9; gVisor and older kernels
 * leave some out); otherwise the check is printed as not made.
 */
static int
proc_status_has(const char *key)
{
	char line[512];
	FILE *fp;
	int found = 0;

	ck_assert_ptr_nonnull(fp = fopen("/proc/self/status", "r"));
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strncmp(line, key, strlen(key)) == 0;
	(void)fclose(fp);
	if (!found)
		(void)printf("check_sandbox: NOT CHECKED %s: /proc/self/status "
		    "has no such line on this kernel\n", key);
	return found;
}

/* status_number - KEY of /proc/PID/status as a number, or -1 if unknown */
static long
status_number(pid_t pid, const char *key)
{
	char line[256];

	if (!proc_status_has(key))
		return -1;
	proc_line(pid, "status", key, line, sizeof(line));
	return atol(line);
}

/* limit_pair - soft and hard limit of one /proc/PID/limits row */
static void
limit_pair(pid_t pid, const char *key, char *soft, char *hard)
{
	char rest[256];

	proc_line(pid, "limits", key, rest, sizeof(rest));
	ck_assert_int_eq(sscanf(rest, "%31s %31s", soft, hard), 2);
}

static int gate[2], ready[2];

static void
a_wait(void)
{
	char c;

	(void)write(ready[1], "r", 1);
	(void)read(gate[0], &c, 1);
}

START_TEST(test_limits)
{
	char soft[32], hard[32], want[32], line[256];
	unsigned long long sigign;
	pid_t pid;
	long n;
	char c;

	ck_assert_int_eq(pipe(gate), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		enter();
		a_wait();
		_exit(CHILD_OK);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	(void)snprintf(want, sizeof(want), "%llu", sandbox_file_limit(&conf));
	limit_pair(pid, "Max file size", soft, hard);
	ck_assert_str_eq(soft, want);
	ck_assert_str_eq(hard, want);
	limit_pair(pid, "Max open files", soft, hard);
	ck_assert_str_eq(soft, hard);
	ck_assert_int_ge(atoi(soft), SANDBOX_NOFILE);
	ck_assert_int_le(atoi(soft), 64);
	limit_pair(pid, "Max core file size", soft, hard);
	ck_assert_str_eq(soft, "0");
	ck_assert_str_eq(hard, "0");
#ifndef TEST_ASAN
	/* Binding for any uid but root: no child process at all. */
	limit_pair(pid, "Max processes", soft, hard);
	ck_assert_str_eq(soft, "0");
	ck_assert_str_eq(hard, "0");
#endif
	if ((n = status_number(pid, "NoNewPrivs:")) != -1)
		ck_assert_int_eq(n, 1);
	if ((n = status_number(pid, "Seccomp:")) != -1)
		ck_assert_int_eq(n, 2);
	if ((n = status_number(pid, "Seccomp_filters:")) != -1)
		ck_assert_int_eq(n, 1);
	proc_line(pid, "status", "SigIgn:", line, sizeof(line));
	sigign = strtoull(line, NULL, 16);
	ck_assert_msg(sigign & (1ULL << (SIGXFSZ - 1)), "SIGXFSZ not ignored");
	ck_assert_int_eq(write(gate[1], "g", 1), 1);
	assert_exit(child_wait(pid), CHILD_OK, "the waiting child");
}
END_TEST

/* The switch. */

static void
a_unfiltered(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s == -1 || close(s) == -1)
		_exit(80);
}

START_TEST(test_switch_off)
{
	char line[256];
	pid_t pid;
	char c;

	ck_assert_int_eq(setenv(SANDBOX_ENV, "off", 1), 0);
	assert_exit(run(a_unfiltered), CHILD_OK, "SMTPFE_SANDBOX=off");
	ck_assert_int_eq(pipe(gate), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		enter();
		a_wait();
		_exit(CHILD_OK);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	if (proc_status_has("Seccomp:")) {
		proc_line(pid, "status", "Seccomp:", line, sizeof(line));
		ck_assert_int_eq(atoi(line), 0);
	}
	ck_assert_int_eq(write(gate[1], "g", 1), 1);
	assert_exit(child_wait(pid), CHILD_OK, "the waiting child");
}
END_TEST

START_TEST(test_switch_on)
{
	int st;

	ck_assert_int_eq(setenv(SANDBOX_ENV, "on", 1), 0);
	st = run(a_unfiltered);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "SMTPFE_SANDBOX=on: expected SIGSYS, got %s", status_text(st));
}
END_TEST

START_TEST(test_switch_typo)
{
	char err[256];
	const char *bad[] = { "no", "0", "OFF", "of", "off " };
	size_t i;

	/* A mistyped switch is refused before anything changes. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(setenv(SANDBOX_ENV, bad[i], 1), 0);
		ck_assert_int_eq(sandbox_enter(&conf, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, SANDBOX_ENV) != NULL, "err: %s", err);
	}
}
END_TEST

#ifdef TEST_ASAN
/* a_overflow - a heap overflow: ASan must report it, not SIGSYS */
static void
a_overflow(void)
{
	void *(*volatile set)(void *, int, size_t) = memset;
	char *p = malloc(8);

	if (p == NULL)
		_exit(90);
	set(p, 1, 9);
}

START_TEST(test_asan_report)
{
	char out[] = "/tmp/check_sandbox.asan.XXXXXX", buf[4096];
	int fd, st, n;
	pid_t pid;

	ck_assert_int_ne(fd = mkstemp(out), -1);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (dup2(fd, 2) == -1)
			_exit(91);
		enter();
		a_overflow();
		_exit(CHILD_OK);
	}
	st = child_wait(pid);
	n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
	(void)close(fd);
	(void)unlink(out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != CHILD_OK,
	    "ASan report under the filter: %s", status_text(st));
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "heap-buffer-overflow") != NULL,
	    "no ASan report: %s", buf);
}
END_TEST
#endif

/*
 * The real program: every path of a session (tests/sandbox/drive.py),
 * as inetd runs it, with the filter on.  Each session must end with exit
 * 0, never SIGSYS.  Sanitizer builds run without the chroot, where
 * LeakSanitizer's check at exit can read /proc.
 */
START_TEST(test_real_sessions)
{
	const char *bin = getenv("SMTPFE");
	char top[] = "/tmp/check_sandbox.sess.XXXXXX", cmd[256];
	int st;

	ck_assert_msg(bin != NULL && access(bin, X_OK) == 0,
	    "SMTPFE must name the smtpfe program (make unit sets it)");
	ck_assert_msg(access("tests/sandbox/drive.py", R_OK) == 0,
	    "run from the top of the source tree");
	ck_assert_ptr_nonnull(mkdtemp(top));
	(void)snprintf(cmd, sizeof(cmd), "python3 tests/sandbox/drive.py "
	    "--setup %s %s", top,
#ifdef TEST_ASAN
	    "no");
#else
	    "yes");
#endif
	st = system(cmd);
	rm_dir(top);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s: %s (see the lines above)", cmd, status_text(st));
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc;

	tc = tcase_create("forbidden");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	forbidden_probe_all();
	tcase_add_loop_test(tc, test_forbidden_kills, 0, (int)nrunnable);
	suite_add_tcase(s, tc);

	tc = tcase_create("allowed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_fsize);
	tcase_add_test(tc, test_fsize_bound);
	tcase_add_test(tc, test_limits);
#ifdef TEST_ASAN
	tcase_add_test(tc, test_asan_report);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("switch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_switch_off);
	tcase_add_test(tc, test_switch_on);
	tcase_add_test(tc, test_switch_typo);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_real_sessions);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sandbox_suite)
