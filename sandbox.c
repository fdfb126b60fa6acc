/*
 * sandbox.c - what the session gives up before it reads a byte from the
 * client: new privileges, child processes, core files, big files, many
 * descriptors, and every system call it does not need.
 *
 * The filter is classic BPF written with the kernel headers alone (no
 * libseccomp).  It checks the architecture, then the call number against
 * an allow-list measured with strace on every path of a session (see
 * tests/sandbox/); a few calls are allowed only with harmless arguments.
 * Anything else kills the process.  Where no filter can be installed the
 * session refuses to run (fail closed): it was asked to be sandboxed.
 */
#ifdef __linux__
#define _GNU_SOURCE	/* syscall(2) with the seccomp numbers */
#endif

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

#include "netio.h"
#include "sandbox.h"
#include "spool.h"

/*
 * RLIMIT_FSIZE: the body is at most max_message_size octets (session.c
 * stops writing once the message is over it), in front of it the
 * envelope and our Received: header.
 *
 * One envelope line: "Recipient: " (11 octets), a path, "\n".  The other
 * lines (Smtpfe-Spool, Client, Helo, Sender, Body, Arrived, the blank
 * line) are each shorter than that.
 */
#define SANDBOX_ENV_LINE	(SMTP_PATH_MAX + 12)
#define SANDBOX_ENV_OTHER	7
/* The size of spool_received()'s header buffer in spool.c. */
#define SANDBOX_RECEIVED	(SMTP_DOMAIN_MAX * 3 + SMTP_PATH_MAX + 256)
/*
 * A margin of one spool write buffer and one input chunk: session.c
 * checks the size before it writes a chunk, so the limit is never what
 * refuses a message that max_message_size allows.
 */
#define SANDBOX_SLACK		(sizeof(((struct spool_msg *)0)->buf) + \
				    IO_INBUF)

/* Compiled with AddressSanitizer: its run-time needs more calls. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef SANDBOX_ASAN
/*
 * LeakSanitizer's check at exit lists the threads in /proc, which the
 * chroot hides: it would fail, exit 1 and write its complaint on fd 2,
 * the client's socket.  sandbox_enter turns the check off in that case
 * only, through the run-time's documented hook.
 */
static volatile int sandbox_no_leak_check;

int	__lsan_is_turned_off(void);

/* __lsan_is_turned_off - asked by LeakSanitizer before its exit check */
int
__lsan_is_turned_off(void)
{
	return sandbox_no_leak_check;
}
#endif

/* sandbox_error - format the reason; returns -1 */
static int
sandbox_error(char *err, size_t len, const char *what, int e)
{
	if (e != 0)
		(void)snprintf(err, len, "sandbox: %s: %s", what, strerror(e));
	else
		(void)snprintf(err, len, "sandbox: %s", what);
	return -1;
}

/* sandbox_file_limit - RLIMIT_FSIZE for CONF; see sandbox.h */
unsigned long long
sandbox_file_limit(const struct config *conf)
{
	unsigned long long nrcpt = conf->max_recipients;

	if (nrcpt > ENVELOPE_RCPT_MAX)
		nrcpt = ENVELOPE_RCPT_MAX;
	return conf->max_message_size +
	    (nrcpt + SANDBOX_ENV_OTHER) * SANDBOX_ENV_LINE +
	    SANDBOX_RECEIVED + SANDBOX_SLACK;
}

/*
 * sandbox_nofile - RLIMIT_NOFILE: SANDBOX_NOFILE, or more when the
 * launcher left descriptors open, so that SANDBOX_NOFILE_FREE stay free.
 */
static rlim_t
sandbox_nofile(rlim_t cur)
{
	rlim_t fd;
	int nfree = 0;

	for (fd = 0; fd < cur && nfree < SANDBOX_NOFILE_FREE; fd++)
		if (fcntl((int)fd, F_GETFD) == -1 && errno == EBADF)
			nfree++;
	return fd > SANDBOX_NOFILE ? fd : SANDBOX_NOFILE;
}

/* sandbox_limit - lower one resource limit (never raise it) */
static int
sandbox_limit(int res, const char *name, rlim_t want, char *err,
    size_t len)
{
	struct rlimit rl;
	char what[64];

	(void)snprintf(what, sizeof(what), "setrlimit %s", name);
	if (getrlimit(res, &rl) == -1)
		return sandbox_error(err, len, what, errno);
	if (res == RLIMIT_NOFILE)
		want = sandbox_nofile(rl.rlim_cur);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = want;
	if (setrlimit(res, &rl) == -1)
		return sandbox_error(err, len, what, errno);
	return 0;
}

/* sandbox_limits - files, descriptors, processes, core files */
static int
sandbox_limits(const struct config *conf, char *err, size_t len)
{
	struct sigaction sa;
	unsigned long long fsize = sandbox_file_limit(conf);

	/* Past RLIMIT_FSIZE, write(2) fails with EFBIG (spool.c answers
	 * 452 4.3.1) instead of SIGXFSZ killing the session. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(SIGXFSZ, &sa, NULL) == -1)
		return sandbox_error(err, len, "SIGXFSZ", errno);
	if (fsize > (unsigned long long)RLIM_INFINITY - 1)
		fsize = (unsigned long long)RLIM_INFINITY - 1;
	if (sandbox_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", (rlim_t)fsize, err,
	    len) == -1 ||
	    sandbox_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", SANDBOX_NOFILE, err,
	    len) == -1 ||
	    sandbox_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, err, len) == -1)
		return -1;
#ifndef SANDBOX_ASAN
	/* LeakSanitizer's check at exit needs a child process. */
	if (sandbox_limit(RLIMIT_NPROC, "RLIMIT_NPROC", 0, err, len) == -1)
		return -1;
#endif
	return 0;
}

/* sandbox_pin_fd's descriptor, or -1. */
static int sandbox_pinned = -1;

/* sandbox_pin_fd - see sandbox.h */
void
sandbox_pin_fd(int fd)
{
	sandbox_pinned = fd;
}

#if defined(__linux__) && defined(__x86_64__)
#define SANDBOX_ARCH		AUDIT_ARCH_X86_64
/* seccomp_data.args[n] is 64 bits; the calls checked here take ints, and
 * the kernel reads only the low half, which comes first (little endian). */
#define SANDBOX_ARG(n)		(offsetof(struct seccomp_data, args) + \
				    (n) * sizeof(__u64))
#define SANDBOX_INSNS		256

/*
 * The allow-list, most frequent first: what a session was seen to call
 * (strace, every scenario of tests/sandbox/drive.py), plus the system
 * calls behind the vDSO clocks (used when the clock source has no vDSO
 * support) and the older sleep call.
 */
static const int sandbox_calls[] = {
	__NR_poll,		/* netio: every read waits first */
	__NR_read,		/* the client */
	__NR_write,		/* replies, the spool file */
	__NR_getpid,		/* syslog (LOG_PID) */
	__NR_sendto,		/* syslog's send(2) */
	__NR_close,
	__NR_clock_gettime,	/* vDSO fallback: netio's clocks */
	__NR_gettimeofday,	/* vDSO fallback: the spool id */
	__NR_time,		/* vDSO fallback: the arrival time */
	__NR_clock_nanosleep,	/* the error tarpit's nanosleep(3) */
	__NR_nanosleep,		/* the same with an older libc */
	__NR_statfs,		/* statvfs(3): min_free_space */
	__NR_getrandom,		/* the spool id */
	__NR_fsync,		/* the spool file and new/ */
	__NR_rename,		/* tmp/ID -> new/ID */
	__NR_unlink,		/* the one cleanup path */
	__NR_connect,		/* syslog reconnects after a failed send */
	__NR_brk,		/* malloc in syslog(3) for a long line */
	__NR_munmap,
	__NR_exit_group,
#ifdef SANDBOX_ASAN
	/*
	 * AddressSanitizer's run-time (sanitizer builds only, never
	 * installed): its allocator, reports, and LeakSanitizer at exit,
	 * which stops the process with a traced clone of itself.
	 */
	__NR_madvise, __NR_mremap, __NR_sched_yield, __NR_gettid,
	__NR_prctl, __NR_rt_sigprocmask, __NR_rt_sigaction,
	__NR_rt_sigreturn, __NR_sigaltstack, __NR_clone, __NR_wait4,
	__NR_ptrace, __NR_getdents, __NR_getdents64, __NR_readlink, __NR_fstat,
	__NR_newfstatat, __NR_lseek, __NR_pread64, __NR_futex, __NR_exit,
	__NR_getppid, __NR_sched_getaffinity, __NR_tgkill, __NR_kill,
	__NR_fcntl,
#endif
};

/*
 * Calls allowed only with some argument values: allowed when one of the
 * (argument & mask) == value tests holds.
 */
struct sandbox_arg {
	int		 nr;
	unsigned int	 arg;
	unsigned int	 mask;
	unsigned int	 value;
};

static const struct sandbox_arg sandbox_args[] = {
	/* open(2): read-only opens of existing files, or new files only
	 * (the spool's O_EXCL create); never truncate or write over one. */
	{ __NR_openat, 2, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY },
	{ __NR_openat, 2, O_CREAT | O_EXCL, O_CREAT | O_EXCL },
	/* syslog(3) reconnects with socket(AF_UNIX); no other family. */
	{ __NR_socket, 0, 0xffffffffU, AF_UNIX },
	/* malloc(3) maps memory, never executable memory. */
	{ __NR_mmap, 2, PROT_EXEC, 0 },
#ifdef SANDBOX_ASAN
	{ __NR_mprotect, 2, PROT_EXEC, 0 },
	/* The sanitizer run-time opens with open(2), not openat(2). */
	{ __NR_open, 1, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY },
	/* isatty(3) on stderr, to colour a report. */
	{ __NR_ioctl, 1, 0xffffffffU, TCGETS },
#endif
};

#ifdef SANDBOX_ASAN
/*
 * Refused with EPERM, not fatal, in sanitizer builds: a report would
 * start an external symbolizer through pipes and fork(2); it then prints
 * addresses instead of names, as it must inside the chroot anyway.
 */
static const int sandbox_refused[] = { __NR_pipe, __NR_pipe2 };
#endif

/* The TLS control socket, or -1: recvmsg(2) is allowed on it alone. */
static int sandbox_recvmsg_fd = -1;

/* sandbox_allow_recvmsg - see sandbox.h */
void
sandbox_allow_recvmsg(int fd)
{
	sandbox_recvmsg_fd = fd;
}

struct sandbox_bpf {
	struct sock_filter insn[SANDBOX_INSNS];
	unsigned short	 n;
	int		 full;
};

/* bpf_put - append one instruction */
static void
bpf_put(struct sandbox_bpf *b, unsigned short code, unsigned int k,
    unsigned char jt, unsigned char jf)
{
	if (b->n >= SANDBOX_INSNS) {
		b->full = 1;
		return;
	}
	b->insn[b->n].code = code;
	b->insn[b->n].jt = jt;
	b->insn[b->n].jf = jf;
	b->insn[b->n].k = k;
	b->n++;
}

/* bpf_args - the argument tests of call NR, from sandbox_args[I] on */
static size_t
bpf_args(struct sandbox_bpf *b, size_t i, unsigned int kill)
{
	size_t j, n = 0;

	while (i + n < sizeof(sandbox_args) / sizeof(sandbox_args[0]) &&
	    sandbox_args[i + n].nr == sandbox_args[i].nr)
		n++;
	/* Not this call: skip the tests and the kill, A still holds nr. */
	bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)sandbox_args[i].nr,
	    0, (unsigned char)(4 * n + 1));
	for (j = i; j < i + n; j++) {
		bpf_put(b, BPF_LD | BPF_W | BPF_ABS,
		    (unsigned int)SANDBOX_ARG(sandbox_args[j].arg), 0, 0);
		bpf_put(b, BPF_ALU | BPF_AND | BPF_K, sandbox_args[j].mask, 0, 0);
		bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, sandbox_args[j].value, 0, 1);
		bpf_put(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	}
	bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
	return n;
}

#ifdef SANDBOX_ARCH
/* bpf_recvmsg - recvmsg(FD, msg, MSG_CMSG_CLOEXEC) only; A holds nr */
static void
bpf_recvmsg(struct sandbox_bpf *b, int fd, unsigned int kill)
{
	bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_recvmsg, 0, 6);
	bpf_put(b, BPF_LD | BPF_W | BPF_ABS, (unsigned int)SANDBOX_ARG(0), 0, 0);
	bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)fd, 0, 3);
	bpf_put(b, BPF_LD | BPF_W | BPF_ABS, (unsigned int)SANDBOX_ARG(2), 0, 0);
	bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, MSG_CMSG_CLOEXEC, 0, 1);
	bpf_put(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
	/* Not recvmsg: A is unchanged, on to the final kill. */
}
#endif
/*
 * bpf_pinned - connect(2) and sendto(2) on the pinned descriptor kill,
 * before the allow-list would let them through; A holds nr after.
 */
static void
bpf_pinned(struct sandbox_bpf *b, unsigned int kill)
{
	static const int calls[] = { __NR_connect, __NR_sendto };
	size_t i;

	if (sandbox_pinned < 0)
		return;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)calls[i],
		    0, 4);
		bpf_put(b, BPF_LD | BPF_W | BPF_ABS,
		    (unsigned int)SANDBOX_ARG(0), 0, 0);
		bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned int)sandbox_pinned, 0, 1);
		bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
		bpf_put(b, BPF_LD | BPF_W | BPF_ABS,
		    (unsigned int)offsetof(struct seccomp_data, nr), 0, 0);
	}
}

/* bpf_build - the whole filter */
static void
bpf_build(struct sandbox_bpf *b, unsigned int kill)
{
	size_t i;

	b->n = 0;
	b->full = 0;
	/* Another architecture (i386 through int 0x80) or x32: kill. */
	bpf_put(b, BPF_LD | BPF_W | BPF_ABS,
	    (unsigned int)offsetof(struct seccomp_data, arch), 0, 0);
	bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
	bpf_put(b, BPF_LD | BPF_W | BPF_ABS,
	    (unsigned int)offsetof(struct seccomp_data, nr), 0, 0);
	bpf_put(b, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
	bpf_pinned(b, kill);
	for (i = 0; i < sizeof(sandbox_calls) / sizeof(sandbox_calls[0]); i++) {
		bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned int)sandbox_calls[i], 0, 1);
		bpf_put(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	}
	for (i = 0; i < sizeof(sandbox_args) / sizeof(sandbox_args[0]);)
		i += bpf_args(b, i, kill);
#ifdef SANDBOX_ASAN
	for (i = 0; i < sizeof(sandbox_refused) / sizeof(sandbox_refused[0]);
	    i++) {
		bpf_put(b, BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned int)sandbox_refused[i], 0, 1);
		bpf_put(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM, 0, 0);
	}
#endif
	if (sandbox_recvmsg_fd >= 0)
		bpf_recvmsg(b, sandbox_recvmsg_fd, kill);
	bpf_put(b, BPF_RET | BPF_K, kill, 0, 0);
}

/* sandbox_kill_action - kill the process (Linux 4.14), else the thread */
static unsigned int
sandbox_kill_action(void)
{
	unsigned int action = SECCOMP_RET_KILL_PROCESS;

	if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
		return SECCOMP_RET_KILL_PROCESS;
	/* The session has one thread: killing it ends the process. */
	return SECCOMP_RET_KILL_THREAD;
}

/* sandbox_filter - no new privileges, then the allow-list */
static int
sandbox_filter(char *err, size_t len)
{
	static struct sandbox_bpf b;
	struct sock_fprog prog;

	bpf_build(&b, sandbox_kill_action());
	if (b.full)
		return sandbox_error(err, len, "filter too long", 0);
	prog.len = b.n;
	prog.filter = b.insn;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return sandbox_error(err, len, "PR_SET_NO_NEW_PRIVS", errno);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return sandbox_error(err, len, "seccomp filter refused by the "
		    "kernel (" SANDBOX_ENV "=off runs without it)", errno);
	return 0;
}

/* sandbox_nodump - no core file, no ptrace by other processes of the user */
static int
sandbox_nodump(char *err, size_t len)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return sandbox_error(err, len, "PR_SET_DUMPABLE", errno);
	return 0;
}
#else
/* sandbox_filter - no allow-list for this system: fail closed */
static int
sandbox_filter(char *err, size_t len)
{
	return sandbox_error(err, len, "no system call filter for this "
	    "system (" SANDBOX_ENV "=off runs without it)", 0);
}

/* sandbox_nodump - core files are off through RLIMIT_CORE */
static int
sandbox_nodump(char *err, size_t len)
{
	(void)err;
	(void)len;
	return 0;
}
#endif

/* sandbox_enter - apply the limits and the filter; see sandbox.h */
int
sandbox_enter(const struct config *conf, char *err, size_t len)
{
	const char *sw = getenv(SANDBOX_ENV);
	struct tm tm;
	time_t now;

	if (sw != NULL && strcmp(sw, "off") == 0) {
		syslog(LOG_WARNING, "sandbox turned off (" SANDBOX_ENV "=off): "
		    "for debugging only");
		return 0;
	}
	if (sw != NULL && sw[0] != '\0' && strcmp(sw, "on") != 0)
		return sandbox_error(err, len, SANDBOX_ENV " must be on or off",
		    0);
	/*
	 * syslog(3) formats local time: have the zone read now (a no-op
	 * when main already did it before the chroot), not later through
	 * calls the filter forbids.  Not tzset(): inside the chroot it
	 * would lose the zone.
	 */
	now = time(NULL);
	(void)localtime_r(&now, &tm);
#ifdef SANDBOX_ASAN
	if (access("/proc/self/task", R_OK) == -1)
		sandbox_no_leak_check = 1;
#endif
	if (sandbox_limits(conf, err, len) == -1 ||
	    sandbox_nodump(err, len) == -1)
		return -1;
	return sandbox_filter(err, len);
}
