/*
 * fake-sendmail.c - a stand-in for sendmail in the runner's tests.
 *
 * It works in its current directory (the runner's: the spool), because
 * the runner gives it no environment to carry a path:
 *   fake.argv    its argv, one argument a line (argv[0] first)
 *   fake.env     its environment, one entry a line
 *   fake.fds     the descriptors above 2 it found open, one a line
 *   fake.stdin   a copy of its standard input
 *   fake.calls   one line appended per call: "HASH SIZE" (FNV-1a 64 of
 *                stdin), for counting hand-offs across processes
 * Its behaviour comes from fake.mode, "CODE [SLEEP_MS]" then the text to
 * write to stderr: CODE >= 0 is the exit status, CODE < 0 kills itself
 * with signal -CODE.  No fake.mode: exit 0.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* save - write LEN octets to a new file PATH */
static void
save(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		exit(99);
}

int
main(int argc, char *argv[])
{
	static char in[64 << 20], list[4 << 20];
	char line[4096];
	unsigned long long h = 0xcbf29ce484222325ULL;
	size_t n = 0, used, i;
	ssize_t r;
	long code = 0, ms = 0;
	FILE *f;
	int fd;

	for (used = 0, i = 0; i < (size_t)argc; i++) {
		if (strlen(argv[i]) + 2 > sizeof(list) - used)
			return 98;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s\n", argv[i]);
	}
	save("fake.argv", list, used);
	for (used = 0, i = 0; environ[i] != NULL; i++) {
		if (strlen(environ[i]) + 2 > sizeof(list) - used)
			return 98;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s\n", environ[i]);
	}
	save("fake.env", list, used);
	for (used = 0, fd = 3; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			used += (size_t)snprintf(list + used,
			    sizeof(list) - used, "%d\n", fd);
	save("fake.fds", list, used);
	while ((r = read(0, in + n, sizeof(in) - n)) > 0)
		n += (size_t)r;
	save("fake.stdin", in, n);
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)in[i]) * 0x100000001b3ULL;
	if ((fd = open("fake.calls", O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0)
		return 99;
	used = (size_t)snprintf(line, sizeof(line), "%016llx %zu\n", h, n);
	if (write(fd, line, used) != (ssize_t)used || close(fd) != 0)
		return 99;
	if ((f = fopen("fake.mode", "r")) != NULL) {
		if (fscanf(f, "%ld %ld", &code, &ms) < 1)
			return 99;
		while ((n = fread(line, 1, sizeof(line), f)) > 0)
			if (write(2, line, n) != (ssize_t)n)
				return 99;
		fclose(f);
	}
	if (ms > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	(void)write(1, "fake stdout\n", 12);
	if (code < 0)
		raise((int)-code);
	return (int)code;
}
