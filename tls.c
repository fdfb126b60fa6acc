/*
 * tls.c - STARTTLS with no TLS code in smtpfe (SPEC.md "STARTTLS").
 *
 * A file of its own because it is the only code that starts another
 * program on the session's behalf and moves descriptors between
 * processes.  When TLS is configured, serve() forks before the sandbox:
 * the child is the session exactly as without TLS (chroot, rlimits,
 * seccomp) plus one end of a socketpair; the parent drops to `user`,
 * keeps a copy of the client socket and waits.  On STARTTLS the session
 * sends its 220, closes every descriptor of the plaintext connection and
 * writes one octet to the parent, which starts tls_wrapper (stunnel4 in
 * inetd mode) on the client socket.  After the handshake stunnel execs
 * smtpfe as TLS_HANDBACK_NAME, which sends its fd 0 (the plaintext side
 * of the TLS connection) over the inherited socketpair end to the
 * waiting session (SCM_RIGHTS, three times: it becomes the session's
 * fds 0, 1 and 2, as under inetd) and exits.  The SMTP parser never gets a
 * weaker sandbox, and only the parent and the wrapper see the key.
 */
#define _GNU_SOURCE	/* setresuid(2), pipe2(2), close_range */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "netio.h"
#include "tls.h"

/* Our choice: the generated stunnel configuration, three paths and a
 * few short lines. */
#define TLS_CONF_MAX		(3 * PATH_MAX + 1024)
/* Our choice: after the session ends, the wrapper has this long to send
 * the last reply and close_notify before it is stopped. */
#define TLS_GRACE_MS		10000
/* Our choice: what -n shows of the wrapper's complaints. */
#define TLS_ERR_MAX		2048

static int tls_ctl = -1;		/* session: its end of the socketpair */
static int tls_pctl = -1;		/* parent: its end */
static pid_t tls_child = -1;		/* parent: the session */
static char tls_self[PATH_MAX];		/* smtpfe itself, for execArgs */

/* tls_wrapper_ok - the wrapper is a regular file with an x bit */
static int
tls_wrapper_ok(const struct config *conf)
{
	struct stat st;

	return stat(conf->tls_wrapper, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0111) != 0;
}

/* tls_usable - see tls.h */
int
tls_usable(const struct config *conf, char *why, size_t len)
{
	why[0] = '\0';
	if (conf->tls_cert[0] == '\0' && conf->tls_key[0] == '\0')
		return 0;
	if (conf->tls_cert[0] == '\0' || conf->tls_key[0] == '\0')
		(void)snprintf(why, len, "STARTTLS not offered: tls_cert and "
		    "tls_key must both be set");
	else if (!tls_wrapper_ok(conf))
		(void)snprintf(why, len, "STARTTLS not offered: tls_wrapper "
		    "%s is missing or not executable", conf->tls_wrapper);
	return why[0] == '\0';
}

/* tls_split - see tls.h */
int
tls_split(char *err, size_t len)
{
	ssize_t n;
	int sv[2];
	pid_t pid;

	n = readlink("/proc/self/exe", tls_self, sizeof(tls_self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(tls_self) - 1) {
		(void)snprintf(err, len, "STARTTLS not offered: cannot find "
		    "smtpfe's own path in /proc/self/exe");
		return -1;
	}
	tls_self[n] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		(void)snprintf(err, len, "STARTTLS not offered: %s",
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(err, len, "STARTTLS not offered: %s",
		    strerror(errno));
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(sv[0]);
		tls_ctl = sv[1];
		return 0;
	}
	(void)close(sv[1]);
	tls_pctl = sv[0];
	tls_child = pid;
	return 1;
}

/* tls_offered - see tls.h */
int
tls_offered(void)
{
	return tls_ctl != -1;
}

/* tls_control_fd - see tls.h */
int
tls_control_fd(void)
{
	return tls_ctl;
}

/* tls_config - the wrapper's configuration text; its length, or -1 */
static int
tls_config(const struct config *conf, const char *exe, char *buf,
    size_t size)
{
	int n;

	/*
	 * Inetd mode: global options only.  TLS 1.2 and 1.3, forward-secret
	 * AEAD suites, modern groups, no compression (OpenSSL's default),
	 * no renegotiation, no tickets (each wrapper lives for one session,
	 * so resumption could never work).  Paths cannot hold a newline
	 * (config.c's CT_PATH), so nothing can be injected here.
	 */
	n = snprintf(buf, size,
	    "foreground = yes\n"
	    "syslog = no\n"
	    "debug = 0\n"
	    "cert = %s\n"
	    "key = %s\n"
	    "sslVersionMin = TLSv1.2\n"
	    "ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1\n"
	    "curves = X25519:P-256:P-384\n"
	    "options = NO_TICKET\n"
	    "renegotiation = no\n"
	    "TIMEOUTbusy = %llu\n"
	    "TIMEOUTidle = %llu\n"
	    "TIMEOUTclose = 0\n"
	    "exec = %s\n"
	    "execArgs = " TLS_HANDBACK_NAME "\n",
	    conf->tls_cert, conf->tls_key, conf->timeout,
	    conf->session_timeout, exe);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* tls_closefrom - close every descriptor from FD up */
static void
tls_closefrom(int fd)
{
	int i;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)fd, ~0U, 0) == 0)
		return;
#endif
	for (i = fd; i < 4096; i++)
		(void)close(i);
}

/*
 * tls_exec - in a fresh child: the client on 0/1, ERR (else /dev/null)
 * on 2, the socketpair end on 3, the configuration on 4, nothing else;
 * exec.  A descriptor given as -1 is /dev/null.
 */
static void
tls_exec(const struct config *conf, int client, int ctl, int err, int cfd)
{
	char *argv[4];
	sigset_t none;
	int c, k, e, f, null;

	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		_exit(EX_OSERR);
	if ((c = fcntl(client != -1 ? client : null, F_DUPFD_CLOEXEC, 10)) ==
	    -1 || (k = fcntl(ctl != -1 ? ctl : null, F_DUPFD_CLOEXEC, 10)) ==
	    -1 || (e = fcntl(err != -1 ? err : null, F_DUPFD_CLOEXEC, 10)) ==
	    -1 || (f = fcntl(cfd, F_DUPFD_CLOEXEC, 10)) == -1)
		_exit(EX_OSERR);
	if (dup2(c, 0) == -1 || dup2(c, 1) == -1 || dup2(e, 2) == -1 ||
	    dup2(k, TLS_HANDBACK_FD) == -1 || dup2(f, TLS_CONFIG_FD) == -1)
		_exit(EX_OSERR);
	tls_closefrom(TLS_CONFIG_FD + 1);
	argv[0] = (char *)"stunnel";
	argv[1] = (char *)"-fd";
	argv[2] = (char *)"4";
	argv[3] = NULL;
	(void)execv(conf->tls_wrapper, argv);
	_exit(127);
}

/*
 * tls_spawn - start the wrapper (see tls_exec) with its configuration on
 * a pipe, written before the fork: it fits the pipe's buffer.  The pid,
 * or -1.
 */
static pid_t
tls_spawn(const struct config *conf, int client, int ctl, int err)
{
	static char cf[TLS_CONF_MAX];
	int p[2], n;
	pid_t pid;

	if ((n = tls_config(conf, tls_self, cf, sizeof(cf))) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (write(p[1], cf, (size_t)n) != n) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	(void)close(p[1]);
	if ((pid = fork()) == 0)
		tls_exec(conf, client, ctl, err, p[0]);
	(void)close(p[0]);
	return pid;
}

/* tls_reap - wait for PID; its status */
static int
tls_reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	return st;
}

/*
 * tls_wait - wait up to MS for PID to end; its pid, 0 when time ran out,
 * -1 on error.  Clocks, not signal handlers: SIGCHLD is blocked and
 * taken with sigtimedwait(2), so a child that ends at any moment, even
 * before the wait begins, is seen at once.
 */
static pid_t
tls_wait(pid_t pid, int *st, long long ms)
{
	long long end = now_ms() + ms, left;
	sigset_t set, old;
	struct timespec ts;
	pid_t r;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	while ((r = waitpid(pid, st, WNOHANG)) == 0 &&
	    (left = end - now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		(void)sigtimedwait(&set, NULL, &ts);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/*
 * tls_stop_wrapper - after the session: give the wrapper TLS_GRACE_MS to
 * send the last reply and close_notify (it ends at the session's EOF),
 * then stop it; log a failure.
 */
static void
tls_stop_wrapper(pid_t pid)
{
	int st = 0;
	pid_t r;

	r = tls_wait(pid, &st, TLS_GRACE_MS);
	if (r == 0) {
		(void)kill(pid, SIGTERM);
		st = tls_reap(pid);
	} else if (r == -1)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		syslog(LOG_NOTICE, "tls_wrapper exited %d: handshake failed, "
		    "or see smtpfe -n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
		syslog(LOG_NOTICE, "tls_wrapper killed by signal %d",
		    WTERMSIG(st));
}

/* tls_parent - see tls.h */
int
tls_parent(const struct config *conf)
{
	pid_t wpid = -1;
	ssize_t n;
	char c = 0;

	/* No ptrace and no core file, from the session's uid either. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	while ((n = read(tls_pctl, &c, 1)) == -1 && errno == EINTR)
		continue;
	if (n == 1 && c == 'T' &&
	    (wpid = tls_spawn(conf, 0, tls_pctl, -1)) == -1)
		syslog(LOG_ERR, "cannot start tls_wrapper %s: %s",
		    conf->tls_wrapper, strerror(errno));
	/* From here only the wrapper (if any) holds the client socket, and
	 * the session's control socket gets EOF when the wrapper is gone. */
	(void)close(tls_pctl);
	(void)close(0);
	(void)close(1);
	(void)close(2);
	(void)tls_reap(tls_child);
	if (wpid > 0)
		tls_stop_wrapper(wpid);
	return 0;
}

/*
 * tls_recv_fd - the plaintext side, as TLS_HANDBACK_NFD descriptors over
 * the control socket (they land on 0, 1 and 2, which tls_start closed,
 * so that these are the connection again, as inetd gives them); the
 * first, or -1 with every one received closed.
 */
static int
tls_recv_fd(int ctl)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(TLS_HANDBACK_NFD * sizeof(int))];
	} u;
	int fds[TLS_HANDBACK_NFD];
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	size_t i, n = 0;
	ssize_t r;
	char c = 0;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	while ((r = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		continue;
	if (r != 1 || (cm = CMSG_FIRSTHDR(&msg)) == NULL ||
	    cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len < CMSG_LEN(0))
		return -1;
	n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (n > TLS_HANDBACK_NFD)
		n = TLS_HANDBACK_NFD;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	/* Exactly what the hand-back sends, or nothing is trusted (more
	 * descriptors than room: the kernel dropped some, MSG_CTRUNC). */
	if (n == TLS_HANDBACK_NFD && c == 'F' &&
	    cm->cmsg_len == CMSG_LEN(sizeof(fds)) &&
	    (msg.msg_flags & MSG_CTRUNC) == 0)
		return fds[0];
	for (i = 0; i < n; i++)
		(void)close(fds[i]);
	return -1;
}

/* tls_start - see tls.h */
int
tls_start(int in, int out, long long ms)
{
	struct pollfd pfd;
	int fd = -1;

	if (tls_ctl == -1)
		return -1;
	pfd.fd = tls_ctl;
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* Never read the plaintext connection again: the wrapper owns it. */
	(void)close(in);
	if (out != in)
		(void)close(out);
	if (in != 2 && out != 2)
		(void)close(2);
	if (write(tls_ctl, "T", 1) == 1 &&
	    poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms) == 1)
		fd = tls_recv_fd(tls_ctl);
	(void)close(tls_ctl);
	tls_ctl = -1;
	return fd;
}

/* tls_handback - see tls.h */
int
tls_handback(void)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(TLS_HANDBACK_NFD * sizeof(int))];
	} u;
	int fds[TLS_HANDBACK_NFD] = { 0, 0, 0 };
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	struct stat st;

	if (fstat(TLS_HANDBACK_FD, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    fstat(0, &st) == -1 || !S_ISSOCK(st.st_mode))
		return EX_USAGE;
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = (char *)"F";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(TLS_HANDBACK_FD, &msg, MSG_NOSIGNAL) != 1)
		return EX_OSERR;
	return 0;
}

/* tls_explain - see tls.h */
void
tls_explain(const struct config *conf)
{
	char why[PATH_MAX + 128];

	if (tls_usable(conf, why, sizeof(why)))
		(void)fprintf(stderr, ">>> STARTTLS: a real session would "
		    "offer it (tls_cert, tls_key set; tls_wrapper %s is "
		    "executable); not in this test session\n",
		    conf->tls_wrapper);
	else if (why[0] != '\0')
		(void)fprintf(stderr, ">>> %s\n", why);
	else
		(void)fprintf(stderr, ">>> STARTTLS: not offered (tls_cert "
		    "and tls_key unset)\n");
}

/* tls_become - in a -n child: become UID/GID for good, or exit */
static void
tls_become(long long uid, long long gid)
{
	gid_t g = (gid_t)gid;

	if (uid < 0)
		return;
	if (setgroups(1, &g) == -1 || setresgid(g, g, g) == -1 ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) == -1)
		_exit(EX_OSERR);
}

/*
 * tls_trial - -n: run the wrapper as UID/GID with the configuration a
 * session would give it and an empty client (it loads the certificate
 * and key, then finds no handshake).  Its exit status; its complaints
 * in ERR.
 */
static int
tls_trial(const struct config *conf, long long uid, long long gid,
    char *err, size_t len)
{
	int p[2], st;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	err[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		pid_t w;

		tls_become(uid, gid);
		/* After a handshake the wrapper runs smtpfe itself as user. */
		if (access(tls_self, X_OK) == -1) {
			(void)dprintf(p[1], "[!] %s: not executable by this "
			    "account (the wrapper runs it after each "
			    "handshake)\n", tls_self);
			_exit(126);
		}
		/* The client is /dev/null; the complaints go to the pipe. */
		if ((w = tls_spawn(conf, -1, -1, p[1])) == -1)
			_exit(EX_OSERR);
		_exit(WIFEXITED(st = tls_reap(w)) ? WEXITSTATUS(st) : 126);
	}
	(void)close(p[1]);
	while (off + 1 < len && ((n = read(p[0], err + off, len - 1 - off)) >
	    0 || (n == -1 && errno == EINTR)))
		off += n > 0 ? (size_t)n : 0;
	err[off] = '\0';
	(void)close(p[0]);
	st = tls_reap(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 126;
}

/* tls_complaints - the wrapper's error lines ("[!]"), joined with "; " */
static void
tls_complaints(const char *text, char *out, size_t len)
{
	const char *p = text, *nl;
	size_t off = 0;

	out[0] = '\0';
	for (; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		/* "[!] text": a line shorter than that has no text. */
		if (nl - p < 4 || strncmp(p, "[!]", 3) != 0 ||
		    off + 4 >= len)
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%.*s",
		    off > 0 ? "; " : "", (int)(nl - p - 4), p + 4);
		if (off >= len)
			off = len - 1;
	}
}

/* tls_confcheck - see tls.h */
int
tls_confcheck(const struct config *conf, long long uid, long long gid,
    void (*problem)(void *, const char *), void *arg)
{
	char why[TLS_ERR_MAX], text[TLS_ERR_MAX], msg[TLS_ERR_MAX + 1024];
	struct stat st;
	ssize_t n;
	int r;

	if (tls_usable(conf, why, sizeof(why)) == 0) {
		if (why[0] != '\0')
			problem(arg, why);
		return why[0] != '\0';
	}
	n = readlink("/proc/self/exe", tls_self, sizeof(tls_self) - 1);
	tls_self[n > 0 && (size_t)n < sizeof(tls_self) ? n : 0] = '\0';
	if (stat(conf->tls_key, &st) == 0 && (st.st_mode & S_IROTH) != 0)
		(void)fprintf(stderr, "smtpfe: warning: tls_key %s is "
		    "readable by every user (mode %04o); want 0600 or 0640\n",
		    conf->tls_key, (unsigned)(st.st_mode & 07777));
	r = tls_trial(conf, uid, gid, text, sizeof(text));
	if (r == 0)
		return 0;
	tls_complaints(text, why, sizeof(why));
	(void)snprintf(msg, sizeof(msg), "tls_wrapper %.200s as %s with "
	    "tls_cert %.200s and tls_key %.200s: %s (exit %d)", conf->tls_wrapper, uid < 0 ?
	    "this user" : conf->user, conf->tls_cert, conf->tls_key,
	    why[0] != '\0' ? why : r == 127 ? "cannot run it" :
	    "it failed", r);
	problem(arg, msg);
	return 1;
}
