/*
 * rsswrap.c - run one program as a child and record its peak resident
 * set size.
 *
 * usage: rsswrap OUTFILE PROGRAM [ARG...]
 *
 * Meant to sit between the launcher and the session program in the
 * benchmark's memory pass (never in the timed runs): it forks, execs
 * PROGRAM with fd 0, 1, 2 as given, waits, and appends the child's
 * ru_maxrss (KiB; its VmHWM at exit, including the few pages the child
 * had before exec, so a slight over-estimate) as one line to OUTFILE.
 * Its exit status is the child's.  Link it statically so that those
 * pre-exec pages stay few.
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct rusage ru;
	char line[64];
	pid_t pid;
	int status, fd, n;

	if (argc < 3)
		return 64;
	if ((pid = fork()) == -1)
		return 71;
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 71;
	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		return 71;
	n = snprintf(line, sizeof(line), "%ld\n", ru.ru_maxrss);
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || n <= 0 || write(fd, line, (size_t)n) != n)
		return 74;
	(void)close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 70;
}
