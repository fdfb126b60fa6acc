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
 * reads /proc/PID/status and appends one line to OUTFILE: VmHWM, RssAnon
 * and RssFile in KiB (the peak, then what the resident set is made of at
 * the end).  VmHWM belongs to the program's own address space, so unlike
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

/* field - the number after "\nKEY:" in BUF, or -1 */
static long
field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

/* usage - "VmHWM RssAnon RssFile" of PID into LINE; 0 or -1 */
static int
usage(pid_t pid, char *line, size_t size)
{
	char path[64], buf[4096];
	ssize_t n;
	long hwm;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((hwm = field(buf, "\nVmHWM:")) == -1)
		return -1;
	n = snprintf(line, size, "%ld %ld %ld\n", hwm, field(buf, "\nRssAnon:"),
	    field(buf, "\nRssFile:"));
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* record - append LINE to FILE; 0 or -1 */
static int
record(const char *file, const char *line)
{
	size_t n = strlen(line);
	int fd;

	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, line, n) != (ssize_t)n)
		return -1;
	return close(fd);
}

int
main(int argc, char *argv[])
{
	char line[128] = "";
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
			if (usage(pid, line, sizeof(line)) == -1)
				line[0] = '\0';
			break;
		default:
			sig = WSTOPSIG(status);
			break;
		}
		(void)ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	if (line[0] == '\0' || record(argv[1], line) == -1)
		return 74;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 70;
}
