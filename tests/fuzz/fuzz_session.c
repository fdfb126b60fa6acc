/*
 * fuzz_session.c - arbitrary bytes through the line reader, the state
 * machine, the DATA decoder, the scanner and the spool writer.
 *
 * The input is the whole client side of a session; the session reads it
 * from a pipe whose far end is closed, so every run ends.  The spool is a
 * temporary directory; accepted messages are removed after each run.
 * max_errors is 3 so that the tarpit (from the fourth error) never sleeps.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"
#include "session.h"

static struct config conf;
static struct peer relay, stranger;

/* ignore - configuration problems are a bug in this harness */
static void
ignore(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fuzz_session: %s\n", msg);
	abort();
}

/* clean - empty a spool subdirectory */
static void
clean(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static char topdir[] = "/tmp/fuzz_session.XXXXXX";

/* cleanup - leave nothing behind in /tmp */
static void
cleanup(void)
{
	char path[600];

	if (chdir(topdir) == -1)
		return;
	clean("new");
	clean("tmp");
	rmdir("new");
	rmdir("tmp");
	rmdir("failed");
	unlink("smtpfe.conf");
	snprintf(path, sizeof(path), "%s", topdir);
	if (chdir("/") == 0)
		rmdir(path);
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = topdir, cf[600];
	FILE *f;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || atexit(cleanup) != 0 || chdir(dir) == -1 ||
	    mkdir("tmp", 0700) == -1 || mkdir("new", 0700) == -1 ||
	    mkdir("failed", 0700) == -1)
		abort();
	snprintf(cf, sizeof(cf), "%s/smtpfe.conf", dir);
	if ((f = fopen(cf, "w")) == NULL)
		abort();
	fprintf(f, "hostname = mx.example.org\nspool = %s\n"
	    "local_domains = example.org, .example.net\n"
	    "relay_networks = 127.0.0.1/32, ::1\nmax_errors = 3\n"
	    "max_message_size = 100000\nmax_recipients = 5\n"
	    "max_messages = 3\ntimeout = 1\nsession_timeout = 5\n"
	    "greet_pause = 0\nmin_free_space = 0\nmax_received = 5\n", dir);
	fclose(f);
	if (config_load(&conf, cf, ignore, NULL) != 0)
		abort();
	peer_set_text(&relay, "127.0.0.1");
	peer_set_text(&stranger, "192.0.2.7");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in[2], out;

	/* The whole input must fit in the pipe so that writing never blocks. */
	if (size == 0 || size > 60000)
		return 0;
	if (pipe(in) == -1 || (out = open("/dev/null", O_WRONLY)) == -1)
		abort();
	if (write(in[1], data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(in[1]);
	session_run(&conf, (data[0] & 1) ? &relay : &stranger, in[0], out,
	    SESSION_QUIET);
	close(in[0]);
	close(out);
	clean("new");
	clean("tmp");
	return 0;
}
