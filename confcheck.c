/*
 * confcheck.c - smtpfe -n.
 *
 * Apart from main.c because it is the one place that judges the machine
 * around the configuration (directories, owners, modes, free space, the
 * MTA's program) rather than the configuration itself: every problem is
 * printed, one line each, and any error makes the exit status 78.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "confcheck.h"
#include "config.h"
#include "mta.h"

struct tally {
	const char	*path;
	int		 errors;
};

/* problem - one error line */
static void
problem(void *arg, const char *msg)
{
	struct tally *t = arg;

	t->errors++;
	(void)fprintf(stderr, "smtpfe: error: %s\n", msg);
}

/* check_dir - a spool directory: present, owned by user, not open to all */
static void
check_dir(struct tally *t, const struct config *conf, const char *name,
    const struct account *pw)
{
	char path[PATH_MAX + 16], msg[PATH_MAX + 128];
	uid_t owner = pw != NULL ? pw->uid : geteuid();
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/%s", conf->spool, name);
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
		(void)snprintf(msg, sizeof(msg), "%s: missing or not a "
		    "directory", path);
	else if (st.st_mode & S_IWOTH)
		(void)snprintf(msg, sizeof(msg), "%s: world-writable (mode "
		    "%04o); want 0700", path, (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != owner)
		(void)snprintf(msg, sizeof(msg), "%s: owned by uid %u, not by "
		    "%s (uid %u)", path, (unsigned)st.st_uid, pw != NULL ?
		    conf->user : "this user", (unsigned)owner);
	else {
		if (st.st_mode & (S_IRWXG | S_IRWXO))
			(void)fprintf(stderr, "smtpfe: warning: %s: mode %04o "
			    "lets others in; want 0700\n", path,
			    (unsigned)(st.st_mode & 07777));
		return;
	}
	problem(t, msg);
}

/* check_space - free space on the spool against min_free_space */
static void
check_space(struct tally *t, const struct config *conf)
{
	struct statvfs sv;
	char msg[PATH_MAX + 128];
	unsigned long long avail;

	if (statvfs(conf->spool, &sv) == -1)
		return;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	if (avail >= conf->min_free_space)
		return;
	(void)snprintf(msg, sizeof(msg), "%s: %llu bytes free, under "
	    "min_free_space %llu", conf->spool, avail, conf->min_free_space);
	problem(t, msg);
}

/* check_relay - relay_networks wide enough to make an open relay */
static void
check_relay(struct tally *t, const struct config *conf)
{
	char msg[128];
	size_t i;

	for (i = 0; i < conf->nrelay; i++) {
		const struct cidr *c = &conf->relay[i];

		if (c->bits == 0) {
			(void)snprintf(msg, sizeof(msg), "relay_networks entry "
			    "%zu is /0: an open relay", i + 1);
			problem(t, msg);
		} else if (c->bits < 8)
			(void)fprintf(stderr, "smtpfe: warning: relay_networks "
			    "entry %zu is wider than /8\n", i + 1);
	}
}

/*
 * check_sendmail - a regular file that the runner's user may execute.
 * As root, access(2) would answer for root: judge the mode bits for the
 * user the runner drops to instead.
 */
static void
check_sendmail(struct tally *t, const struct config *conf,
    const struct account *pw)
{
	char msg[PATH_MAX + 128];
	struct stat st;
	int ok;

	if (stat(conf->sendmail, &st) == -1 || !S_ISREG(st.st_mode))
		ok = 0;
	else if (pw == NULL)
		ok = access(conf->sendmail, X_OK) == 0;
	else if (st.st_uid == pw->uid)
		ok = (st.st_mode & S_IXUSR) != 0;
	else if (st.st_gid == pw->gid)
		ok = (st.st_mode & S_IXGRP) != 0;
	else
		ok = (st.st_mode & S_IXOTH) != 0;
	if (ok)
		return;
	(void)snprintf(msg, sizeof(msg), "sendmail %s: not a program that %s "
	    "may run", conf->sendmail, pw != NULL ? conf->user : "this user");
	problem(t, msg);
}

/* confcheck - print every problem on stderr; 0, or 78 (EX_CONFIG) */
int
confcheck(const char *path)
{
	static struct config conf;
	struct tally t = { path, 0 };
	struct account acct, *pw = NULL;
	char msg[PATH_MAX + 64];

	if (config_load(&conf, path, problem, &t) != 0)
		return EX_CONFIG;
	if (conf.recipients[0] != '\0' &&
	    config_map_recipients(&conf, problem, &t) == 0)
		(void)config_check_recipients(&conf, problem, &t);
	if (geteuid() == 0 && config_account(&conf, &acct) == 0)
		pw = &acct;
	if (geteuid() == 0 && (pw == NULL || pw->uid == 0)) {
		pw = NULL;
		(void)snprintf(msg, sizeof(msg), "user %s: not in " PASSWD_FILE
		    ", or root",
		    conf.user);
		problem(&t, msg);
	}
	check_dir(&t, &conf, "tmp", pw);
	check_dir(&t, &conf, "new", pw);
	check_dir(&t, &conf, "failed", pw);
	check_space(&t, &conf);
	check_relay(&t, &conf);
	if (strcmp(conf.handoff, "sendmail") == 0)
		check_sendmail(&t, &conf, pw);
	else if (mta_probe(&conf, msg, sizeof(msg)) == -1)
		problem(&t, msg);
	if (t.errors == 0)
		(void)printf("smtpfe: %s: ok\n", path);
	return t.errors == 0 ? 0 : EX_CONFIG;
}
