/*
 * confcheck.c - smtpfe -n.
 *
 * Apart from main.c because it is the one place that judges the machine
 * around the configuration (directories, owners, modes, free space, the
 * MTA's program) rather than the configuration itself: every problem is
 * printed, one line each, and any error makes the exit status 78.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "confcheck.h"
#include "config.h"
#include "dnsbl.h"
#include "mta.h"
#include "tls.h"

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

/* report_tls - a TLS problem (tls.c counts it: no tally here) */
static void
report_tls(void *arg, const char *msg)
{
	(void)arg;
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

/*
 * check_spool_top - the spool directory itself: whoever may write to it
 * can rename new/ away and put a directory of forged messages in its
 * place, for the runner to hand off.  Group or others writing: a problem.
 */
static void
check_spool_top(struct tally *t, const struct config *conf)
{
	char msg[PATH_MAX + 128];
	struct stat st;

	/* A missing spool is reported for each of tmp/, new/, failed/. */
	if (stat(conf->spool, &st) == -1)
		return;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		(void)snprintf(msg, sizeof(msg), "%s: writable by group or "
		    "others (mode %04o); want 0755, owned by root",
		    conf->spool, (unsigned)(st.st_mode & 07777));
	else
		return;
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

/*
 * check_dnsbl - with dnsbl set and dns_resolver not, the resolver comes
 * from resolv.conf at each session's start: it must be there and usable.
 * (The zones' and dns_resolver's syntax is config_load's to judge.)
 */
static void
check_dnsbl(struct tally *t, const struct config *conf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char ns[DNSBL_RESOLVER_MAX], msg[256];

	if (conf->ndnsbl == 0 || conf->dns_resolver[0] != '\0')
		return;
	if (dnsbl_resolv_conf(DNSBL_RESOLV_CONF, ns, sizeof(ns)) == -1)
		(void)snprintf(msg, sizeof(msg), "dnsbl: dns_resolver is unset "
		    "and " DNSBL_RESOLV_CONF " has no readable nameserver line");
	else if (dnsbl_resolver_parse(ns, &ss, &len) == -1)
		(void)snprintf(msg, sizeof(msg), "dnsbl: dns_resolver is unset "
		    "and the first nameserver of " DNSBL_RESOLV_CONF " is not "
		    "an address: \"%.64s\"", ns);
	else {
		(void)printf("smtpfe: dnsbl: %zu zone%s, asked of %s (from "
		    DNSBL_RESOLV_CONF ")\n", conf->ndnsbl, conf->ndnsbl == 1 ?
		    "" : "s", ns);
		return;
	}
	problem(t, msg);
}

/* Our choice: a program larger than this is not read by the EAI probe. */
#define PROBE_SIZE_MAX	(64UL * 1024 * 1024)

/* has_text - 1 when the LEN octets at P contain the string S */
static int
has_text(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s), i;
	const char *q;

	for (i = 0; i + n <= len; i = (size_t)(q - p) + 1) {
		if ((q = memchr(p + i, s[0], len - n + 1 - i)) == NULL)
			return 0;
		if (memcmp(q, s, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * sendmail_no_eai - 1 when the program at PATH is sendmail 8 built
 * without EAI (RFC 6530), which cannot take a UTF-8 envelope.  The file
 * is read, never run: sendmail 8 is recognised by its option
 * DontBlameSendmail and its "Compiled with:" banner (-d0.1); a build
 * without EAI carries the message "requires USE_EAI support" (Debian 12's
 * 8.17.1.9 does), and one from before EAI has no USE_EAI at all.
 * Postfix's and Exim's programs have neither marker: never flagged.
 */
static int
sendmail_no_eai(const char *path)
{
	struct stat st;
	const char *p;
	void *map;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (unsigned long long)st.st_size > PROBE_SIZE_MAX) {
		(void)close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (map == MAP_FAILED)
		return 0;
	p = map;
	if (has_text(p, (size_t)st.st_size, "DontBlameSendmail") &&
	    has_text(p, (size_t)st.st_size, "Compiled with:"))
		r = has_text(p, (size_t)st.st_size,
		    "requires USE_EAI support") ||
		    !has_text(p, (size_t)st.st_size, "USE_EAI");
	(void)munmap(map, (size_t)st.st_size);
	return r;
}

/*
 * check_smtputf8 - smtputf8 = yes in front of an MTA program known not to
 * take UTF-8 addresses: such mail would be accepted and then refused by
 * the hand-off.  Only what can be known is reported (see smtpfe(8)).
 */
static void
check_smtputf8(struct tally *t, const struct config *conf)
{
	char msg[PATH_MAX + 200];

	if (!conf->smtputf8 || !sendmail_no_eai(conf->sendmail))
		return;
	(void)snprintf(msg, sizeof(msg), "smtputf8 = yes, but sendmail %s is "
	    "sendmail 8 built without EAI: it cannot take UTF-8 addresses "
	    "(set smtputf8 = no, or hand off to Postfix or Exim)",
	    conf->sendmail);
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
	check_spool_top(&t, &conf);
	check_dir(&t, &conf, "tmp", pw);
	check_dir(&t, &conf, "new", pw);
	check_dir(&t, &conf, "failed", pw);
	check_space(&t, &conf);
	check_relay(&t, &conf);
	if (strcmp(conf.handoff, "sendmail") == 0) {
		check_sendmail(&t, &conf, pw);
		check_smtputf8(&t, &conf);
	} else if (mta_probe(&conf, msg, sizeof(msg)) == -1)
		problem(&t, msg);
	check_dnsbl(&t, &conf);
	t.errors += tls_confcheck(&conf, pw != NULL ? (long long)pw->uid : -1,
	    pw != NULL ? (long long)pw->gid : -1, report_tls, &t);
	if (t.errors == 0)
		(void)printf("smtpfe: %s: ok\n", path);
	return t.errors == 0 ? 0 : EX_CONFIG;
}
