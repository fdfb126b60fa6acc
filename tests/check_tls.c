/*
 * check_tls.c - the one system call STARTTLS adds to the session's
 * allow-list: recvmsg(2) on the TLS control socket with MSG_CMSG_CLOEXEC
 * only, and only when sandbox_allow_recvmsg() named that socket.  Every
 * other form, and every other descriptor-passing or socket call, still
 * kills.  Also tls_handback(), the wrapper's last step, end to end with
 * the receiving side under the filter.
 *
 * Apart from check_sandbox.c so that the TLS work merges as new files.
 */
#define _GNU_SOURCE	/* syscall(2) */

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "sandbox.h"
#include "tls.h"

#define CHILD_NOENTER	70	/* sandbox_enter failed */
#define CHILD_NOTKILLED	71	/* a forbidden call returned */
#define CHILD_BADFD	72	/* the allowed recvmsg brought no descriptor */

static struct config conf;
static char dir[64];
static int ctl[2];		/* the control socketpair */
static int other[2];		/* another socketpair */
static int pipefd[2];		/* a pipe whose write end is passed */

/* setup - a spool as the cwd, the sockets, one descriptor in flight */
static void
setup(void)
{
	config_defaults(&conf);
	conf.min_free_space = 0;
	(void)strcpy(dir, "/tmp/check_tls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(unsetenv(SANDBOX_ENV), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
}

static void
teardown(void)
{
	(void)close(ctl[0]);
	(void)close(ctl[1]);
	(void)close(other[0]);
	(void)close(other[1]);
	(void)close(pipefd[0]);
	(void)close(pipefd[1]);
	ck_assert_int_eq(chdir("/"), 0);
	(void)rmdir(dir);
}

/* send_fd - FD over SOCK with one octet 'F', as tls_handback does */
static void
send_fd(int sock, int fd)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;

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
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	ck_assert_int_eq(sendmsg(sock, &msg, 0), 1);
}

static size_t nrecv;		/* descriptors the last recv_on brought */

/* recv_on - recvmsg(FD, FLAGS); the first descriptor received, or -1 */
static int
recv_on(int fd, int flags)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(TLS_HANDBACK_NFD * sizeof(int))];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char c;
	int got = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(fd, &msg, flags) != 1 ||
	    (cm = CMSG_FIRSTHDR(&msg)) == NULL)
		return -1;
	memcpy(&got, CMSG_DATA(cm), sizeof(got));
	nrecv = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	return got;
}

/* child - sandbox (recvmsg allowed on ALLOW, -1: none), then FN */
static int
child(int allow, int (*fn)(void))
{
	char err[256];
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (allow >= 0)
			sandbox_allow_recvmsg(allow);
		if (sandbox_enter(&conf, err, sizeof(err)) == -1)
			_exit(CHILD_NOENTER);
		_exit(fn());
	}
	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

/* killed - the status is death by SIGSYS */
static void
assert_killed(int st, const char *what)
{
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s: expected SIGSYS, got %s %d", what,
	    WIFSIGNALED(st) ? "signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* The children's bodies. */
static int
c_recv_allowed(void)
{
	int fd = recv_on(ctl[1], MSG_CMSG_CLOEXEC);

	if (fd == -1 || write(fd, "ok", 2) != 2)
		return CHILD_BADFD;
	return 0;
}

static int
c_recv_noflag(void)
{
	(void)recv_on(ctl[1], 0);
	return CHILD_NOTKILLED;
}

static int
c_recv_peek(void)
{
	(void)recv_on(ctl[1], MSG_CMSG_CLOEXEC | MSG_PEEK);
	return CHILD_NOTKILLED;
}

static int
c_recv_other(void)
{
	(void)recv_on(other[1], MSG_CMSG_CLOEXEC);
	return CHILD_NOTKILLED;
}

static int
c_sendmsg(void)
{
	struct msghdr msg;
	struct iovec iov;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (char *)"x";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	(void)sendmsg(ctl[1], &msg, 0);
	return CHILD_NOTKILLED;
}

static int
c_recvmmsg(void)
{
	(void)syscall(SYS_recvmmsg, ctl[1], NULL, 0, MSG_CMSG_CLOEXEC, NULL);
	return CHILD_NOTKILLED;
}

static int
c_recvfrom(void)
{
	char c;

	(void)recvfrom(ctl[1], &c, 1, MSG_CMSG_CLOEXEC, NULL, NULL);
	return CHILD_NOTKILLED;
}

static int
c_socketpair(void)
{
	int sv[2];

	(void)socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	return CHILD_NOTKILLED;
}

static int
c_execve(void)
{
	char *argv[] = { (char *)"true", NULL };

	(void)execve("/bin/true", argv, argv + 1);
	return CHILD_NOTKILLED;
}

START_TEST(test_recvmsg_allowed)
{
	char buf[3] = "";
	int st;

	send_fd(ctl[0], pipefd[1]);
	st = child(ctl[1], c_recv_allowed);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "allowed recvmsg: status %d", st);
	ck_assert_int_eq(read(pipefd[0], buf, 2), 2);
	ck_assert_str_eq(buf, "ok");
}
END_TEST

START_TEST(test_recvmsg_not_allowed_without_tls)
{
	send_fd(ctl[0], pipefd[1]);
	assert_killed(child(-1, c_recv_allowed), "recvmsg, TLS not offered");
}
END_TEST

START_TEST(test_recvmsg_other_forms_kill)
{
	send_fd(ctl[0], pipefd[1]);
	send_fd(other[0], pipefd[1]);
	assert_killed(child(ctl[1], c_recv_noflag), "recvmsg flags 0");
	assert_killed(child(ctl[1], c_recv_peek), "recvmsg MSG_PEEK");
	assert_killed(child(ctl[1], c_recv_other), "recvmsg another fd");
	assert_killed(child(ctl[1], c_sendmsg), "sendmsg");
	assert_killed(child(ctl[1], c_recvmmsg), "recvmmsg");
	assert_killed(child(ctl[1], c_recvfrom), "recvfrom");
	assert_killed(child(ctl[1], c_socketpair), "socketpair");
	assert_killed(child(ctl[1], c_execve), "execve");
}
END_TEST

/* tls_handback as stunnel runs it: fd 0 a socket, fd 3 the pair's end. */
START_TEST(test_handback)
{
	int conn[2], st, got;
	char buf[3] = "";
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (dup2(conn[0], 0) == -1 ||
		    dup2(ctl[0], TLS_HANDBACK_FD) == -1)
			_exit(99);
		_exit(tls_handback());
	}
	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "handback %d",
	    st);
	got = recv_on(ctl[1], MSG_CMSG_CLOEXEC);
	ck_assert_int_ne(got, -1);
	/* Three copies: the session's 0, 1 and 2, as inetd gives them. */
	ck_assert_uint_eq(nrecv, TLS_HANDBACK_NFD);
	ck_assert_int_eq(write(conn[1], "hi", 2), 2);
	ck_assert_int_eq(read(got, buf, 2), 2);
	ck_assert_str_eq(buf, "hi");
	(void)close(got);
	(void)close(conn[0]);
	(void)close(conn[1]);
}
END_TEST

/* tls_handback refuses to run when fd 3 is not a socket. */
START_TEST(test_handback_not_a_socket)
{
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		(void)close(TLS_HANDBACK_FD);
		if (dup2(pipefd[1], TLS_HANDBACK_FD) == -1)
			_exit(99);
		_exit(tls_handback());
	}
	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %d", st);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("recvmsg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_recvmsg_allowed);
	tcase_add_test(tc, test_recvmsg_not_allowed_without_tls);
	tcase_add_test(tc, test_recvmsg_other_forms_kill);
	tcase_add_test(tc, test_handback);
	tcase_add_test(tc, test_handback_not_a_socket);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tls_suite)
