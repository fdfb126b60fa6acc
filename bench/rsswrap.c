/*
 * rsswrap.c - run one program as a child and record its peak resident
 * set size.
 *
 * usage: rsswrap OUTFILE PROGRAM [ARG...]
 *
 * Meant to sit between the launcher and the session program in the
 * benchmark's memory pass (never in the timed runs).  It forks, execs
 * PROGRAM with fd 0, 1, 2 as given, and traces it only to be stopped as
 * it exits (PTRACE_O_TRACEEXIT), when its memory is still there: then it
 * reads VmHWM from /proc/PID/status and appends it (KiB) as one line to
 * OUTFILE.  VmHWM belongs to the program's own address space, so unlike
 * getrusage's ru_maxrss it does not count the pages the child had before
 * the exec.  The exit status is the child's.
 */
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* hwm - VmHWM of PID in KiB, or -1 */
static long
hwm(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nVmHWM:")) == NULL)
		return -1;
	return strtol(p + 7, NULL, 10);
}

/* record - append one number to FILE; 0 or -1 */
static int
record(const char *file, long kib)
{
	char line[64];
	int fd, n;

	n = snprintf(line, sizeof(line), "%ld\n", kib);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || n <= 0 || write(fd, line, (size_t)n) != n)
		return -1;
	return close(fd);
}

int
main(int argc, char *argv[])
{
	long peak = -1;
	pid_t pid;
	int status;

	if (argc < 3)
		return 64;
	if ((pid = fork()) == -1)
		return 71;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1 ||
		    raise(SIGSTOP) != 0)
			_exit(71);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	for (;;) {
		int sig = 0;

		if (waitpid(pid, &status, 0) == -1) {
			if (errno == EINTR)
				continue;
			return 71;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (!WIFSTOPPED(status))
			continue;
		switch (status >> 8) {
		case SIGSTOP:		/* our own, before the exec */
			if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
			    (void *)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC |
			    PTRACE_O_EXITKILL)) == -1)
				return 71;
			break;
		case SIGTRAP | (PTRACE_EVENT_EXEC << 8):
			break;
		case SIGTRAP | (PTRACE_EVENT_EXIT << 8):
			peak = hwm(pid);
			break;
		default:
			sig = WSTOPSIG(status);
			break;
		}
		(void)ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	if (peak == -1 || record(argv[1], peak) == -1)
		return 74;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 70;
}
