/*
 * fuzz_config.c - arbitrary bytes as a configuration file, or as a
 * recipients file.
 *
 * First octet even: the rest is written to a temporary file, loaded with
 * config_load and released with config_free (ASan's leak check sees what
 * is not released).  A file that loads without a problem must give a
 * configuration SPEC.md allows.
 *
 * First octet odd: the rest is the recipients map.  config_check_recipients
 * reads it; when it finds nothing wrong (sorted, lower case, no CR), every
 * "local@domain" line of it must be found by rcptmap_has.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"
#include "smtpfe.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[] = "/tmp/fuzz_config.XXXXXX";
static int fd = -1;

/* unlink_file - remove the temporary file at exit */
static void
unlink_file(void)
{
	(void)unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((fd = mkstemp(path)) == -1)
		abort();
	atexit(unlink_file);
	return 0;
}

/* report - every problem is one line naming the file */
static void
report(void *arg, const char *msg)
{
	(*(int *)arg)++;
	if (strncmp(msg, path, strlen(path)) != 0 ||
	    strchr(msg, '\n') != NULL)
		abort();
}

/* check_config - what a clean load must give */
static void
check_config(const struct config *c)
{
	size_t i, j;

	if (c->nlocal == 0 || c->local_domains == NULL || c->nrelay == 0 ||
	    c->relay == NULL)
		abort();
	for (i = 0; i < c->nlocal; i++)
		for (j = 0; c->local_domains[i][j] != '\0'; j++)
			if (c->local_domains[i][j] >= 'A' &&
			    c->local_domains[i][j] <= 'Z')
				abort();
	for (i = 0; i < c->nrelay; i++)
		if ((c->relay[i].family != AF_INET &&
		    c->relay[i].family != AF_INET6) ||
		    c->relay[i].bits > (c->relay[i].family == AF_INET ?
		    32u : 128u))
			abort();
	if (c->hostname[0] == '\0' || c->spool[0] != '/' ||
	    c->sendmail[0] != '/' || c->user[0] == '\0')
		abort();
	if ((c->recipients[0] != '\0' && c->recipients[0] != '/') ||
	    c->rcptmap.base != NULL)
		abort();
}

/* run_config - load the bytes as smtpfe.conf */
static void
run_config(const uint8_t *data, size_t size)
{
	struct config c;
	int problems, reported = 0;

	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	problems = config_load(&c, path, report, &reported);
	if (problems != reported)
		abort();
	if (problems == 0)
		check_config(&c);
	config_free(&c);
}

/* line_addr - split a "local@domain" line at its last '@'; 0 if unfit */
static int
line_addr(const char *s, size_t len, struct addr *a)
{
	size_t at;

	memset(a, 0, sizeof(*a));
	if (len == 0 || memchr(s, '\0', len) != NULL)
		return 0;
	for (at = len; at > 0 && s[at - 1] != '@'; at--)
		continue;
	if (at == 0 || at - 1 > SMTP_LOCAL_MAX || len - at > SMTP_DOMAIN_MAX)
		return 0;
	memcpy(a->local, s, at - 1);
	memcpy(a->domain, s + at, len - at);
	return 1;
}

/* run_map - the bytes as the recipients map */
static void
run_map(const uint8_t *data, size_t size)
{
	struct config c;
	struct addr a;
	char *map = malloc(size == 0 ? 1 : size);
	const char *nl;
	size_t pos, len;
	int reported = 0;

	if (map == NULL)
		abort();
	memcpy(map, data, size);
	memset(&c, 0, sizeof(c));
	(void)str_copy(c.recipients, "/fuzz/recipients", sizeof(c.recipients));
	c.rcptmap.base = map;
	c.rcptmap.len = size;
	if (config_check_recipients(&c, NULL, &reported) == 0) {
		for (pos = 0; pos < size; pos += len + 1) {
			nl = memchr(map + pos, '\n', size - pos);
			len = nl != NULL ? (size_t)(nl - (map + pos)) :
			    size - pos;
			if (line_addr(map + pos, len, &a) &&
			    !rcptmap_has(&c.rcptmap, &a))
				abort();
		}
	}
	free(map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		run_map(data + 1, size - 1);
	else
		run_config(data + 1, size - 1);
	return 0;
}
