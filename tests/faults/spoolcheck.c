/*
 * spoolcheck.c - validate spool files with the runner's own parser.
 *
 *   spoolcheck FILE...
 *
 * For each FILE, envelope_parse (runner.c) must accept the envelope
 * block; one line per file on stdout: "OK FILE OFFSET NRCPT" (OFFSET is
 * where the message starts) or "BAD FILE reason".  Exit 0 when every file
 * is OK, 1 otherwise, 2 on a usage or I/O problem.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static struct envelope env;

/* read_all - the whole file in a malloc'ed buffer; NULL on error */
static char *
read_all(const char *path, size_t *lenp)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (buf = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		(void)close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			free(buf);
			(void)close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	(void)close(fd);
	*lenp = off;
	return buf;
}

int
main(int argc, char *argv[])
{
	char why[256];
	int i, bad = 0;

	if (argc < 2) {
		(void)fprintf(stderr, "usage: spoolcheck FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		size_t len;
		char *buf = read_all(argv[i], &len);
		long off;

		if (buf == NULL) {
			(void)fprintf(stderr, "spoolcheck: %s: %s\n", argv[i],
			    strerror(errno));
			return 2;
		}
		why[0] = '\0';
		off = envelope_parse(buf, len, &env, why, sizeof(why));
		if (off == -1) {
			(void)printf("BAD %s %s\n", argv[i], why);
			bad = 1;
		} else
			(void)printf("OK %s %ld %zu\n", argv[i], off, env.nrcpt);
		free(buf);
	}
	return bad;
}
