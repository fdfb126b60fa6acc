/*
 * config.c - load the configuration file (SPEC.md "Configuration file").
 *
 * `key = value` lines, '#' to the end of a line is a comment, lists are
 * separated by commas or blanks.  Every problem is reported with the file
 * and line number and the loader keeps going, so that `smtpfe -n` shows
 * them all at once.  Memory is allocated here only, before the greeting.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dnsbl.h"
#include "mta.h"
#include "policy.h"
#include "smtpfe.h"
#include "utf8.h"

/* Our choice: the longest configuration line, comment included. */
#define CONF_LINE_MAX		4096
/* Our choice: the longest value quoted back in a message. */
#define CONF_ECHO_MAX		64
/* spool.h ENVELOPE_RCPT_MAX: the envelope holds at most 1000 recipients. */
#define CONF_RCPT_MAX		1000
/* Our choice: greet_pause above 10 s would trip clients' own timeouts. */
#define CONF_GREET_PAUSE_MAX	10000
/* utf8.h: a local_domains entry in A-label form, a leading dot and NUL. */
#define CONF_ACE_MAX		(IDN_DOMAIN_ACE_MAX + 2)
/* Our choice: a user name as useradd(8) allows it, at most 32 octets. */
#define CONF_USER_MAX		32

enum conf_type {
	CT_DOMAIN,		/* one domain name */
	CT_PATH,		/* an absolute path */
	CT_USER,		/* an account name */
	CT_BOOL,		/* yes | no */
	CT_ACCEPT,		/* reject | accept */
	CT_NUMBER,		/* a decimal in [min, max] */
	CT_DOMAINS,		/* local_domains */
	CT_NETWORKS,		/* relay_networks */
	CT_ZONES,		/* dnsbl */
	CT_RESOLVER,		/* dns_resolver */
	CT_HANDOFF		/* sendmail | smtp:ADDR:PORT */
};

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	size_t			 off;	/* offsetof(struct config, field) */
	size_t			 size;	/* strings: the field's size */
	unsigned long long	 min;
	unsigned long long	 max;
};

#define CK_STR(n, t)	{ #n, t, offsetof(struct config, n), \
			  sizeof(((struct config *)0)->n), 0, 0 }
#define CK_INT(k, t, f)	{ k, t, offsetof(struct config, f), 0, 0, 0 }
#define CK_NUM(n, lo, hi) { #n, CT_NUMBER, offsetof(struct config, n), 0, \
			  lo, hi }

/*
 * Every key of SPEC.md with the range we accept.  A zero where it would
 * switch the limit off or make the server refuse everything is refused;
 * the upper bounds only catch typos (a 1 TiB message, a year-long read).
 */
static const struct conf_key conf_keys[] = {
	CK_STR(hostname, CT_DOMAIN),
	CK_STR(spool, CT_PATH),
	CK_STR(user, CT_USER),
	CK_INT("chroot", CT_BOOL, chroot),
	CK_INT("local_domains", CT_DOMAINS, local_domains),
	CK_INT("relay_networks", CT_NETWORKS, relay),
	CK_STR(recipients, CT_PATH),
	CK_NUM(max_message_size, 1, 1ULL << 40),
	CK_NUM(max_recipients, 1, CONF_RCPT_MAX),
	CK_NUM(max_errors, 1, 10000),
	CK_NUM(max_junk_commands, 1, 1000000),
	CK_NUM(max_messages, 1, 1000000),
	CK_NUM(timeout, 1, 86400),
	CK_NUM(session_timeout, 1, 604800),
	CK_NUM(min_free_space, 0, 1ULL << 50),
	CK_INT("mime_partial", CT_ACCEPT, mime_partial_accept),
	CK_INT("external_body", CT_ACCEPT, external_body_accept),
	CK_NUM(max_received, 1, 10000),
	CK_NUM(greet_pause, 0, CONF_GREET_PAUSE_MAX),
	CK_STR(sendmail, CT_PATH),
	CK_NUM(retry_max_age, 0, 31536000),
	CK_INT("dnsbl", CT_ZONES, dnsbl),
	CK_STR(dns_resolver, CT_RESOLVER),
	CK_STR(tls_cert, CT_PATH),
	CK_STR(tls_key, CT_PATH),
	CK_STR(tls_wrapper, CT_PATH),
	CK_INT("smtputf8", CT_BOOL, smtputf8),
	CK_STR(handoff, CT_HANDOFF),
	CK_NUM(handoff_processes, 1, 64),
};
#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* The default relay_networks; config_free knows not to free it. */
static struct cidr conf_default_relay[] = {
	{ AF_INET, { 127 }, 8 },
	{ AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 },
};

/* An empty recipients file is mapped to this: base non-NULL, len 0. */
static const char conf_empty_map[1] = "";

/* The state of one config_load. */
struct loader {
	struct config		*conf;
	const char		*file;
	unsigned long		 line;
	unsigned long		 seen[CONF_NKEYS];	/* line, 0 = not yet */
	config_report_fn	*report;
	void			*arg;
	int			 problems;
};

static void	conf_problem(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* conf_problem - report "FILE:LINE: text" (or "FILE: text" at line 0) */
static void
conf_problem(struct loader *ld, const char *fmt, ...)
{
	char text[512], msg[PATH_MAX + 600];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ld->line > 0)
		(void)snprintf(msg, sizeof(msg), "%s:%lu: %s", ld->file,
		    ld->line, text);
	else
		(void)snprintf(msg, sizeof(msg), "%s: %s", ld->file, text);
	ld->problems++;
	if (ld->report != NULL)
		ld->report(ld->arg, msg);
}

/* conf_echo - a value made printable and short, for a message */
static const char *
conf_echo(char *buf, size_t size, const char *v)
{
	str_printable(buf, size, v, strlen(v));
	return buf;
}

/* is_blank - a separator inside a line */
static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* domain_syntax_ok - a domain name, not a literal; policy's validator */
static int
domain_syntax_ok(const char *s)
{
	return s[0] != '\0' && s[0] != '[' && policy_helo(s) == NULL;
}

/* conf_set_domain - hostname: one domain name */
static int
conf_set_domain(struct loader *ld, const struct conf_key *k, const char *v)
{
	char echo[CONF_ECHO_MAX];

	if (!domain_syntax_ok(v) || strlen(v) >= k->size) {
		conf_problem(ld, "%s: not a domain name: \"%s\"",
		    k->name, conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	return str_copy((char *)ld->conf + k->off, v, k->size);
}

/* conf_set_path - an absolute path, no blanks or control octets */
static int
conf_set_path(struct loader *ld, const struct conf_key *k, const char *v)
{
	char echo[CONF_ECHO_MAX];
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			break;
	if (v[0] != '/' || v[i] != '\0' || i >= k->size) {
		conf_problem(ld, "%s: not an absolute path: \"%s\"",
		    k->name, conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	return str_copy((char *)ld->conf + k->off, v, k->size);
}

/* conf_set_user - an account name: letters, digits, '.', '_', '-' */
static int
conf_set_user(struct loader *ld, const struct conf_key *k, const char *v)
{
	char echo[CONF_ECHO_MAX];
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '.' || v[i] == '_' || v[i] == '-'))
			break;
	if (v[i] != '\0' || i == 0 || i > CONF_USER_MAX || v[0] == '-') {
		conf_problem(ld, "%s: not a user name: \"%s\"",
		    k->name, conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	return str_copy((char *)ld->conf + k->off, v, k->size);
}

/* conf_set_handoff - "sendmail" or "smtp:ADDR:PORT" (mta.c parses it) */
static int
conf_set_handoff(struct loader *ld, const struct conf_key *k, const char *v)
{
	struct sockaddr_storage ss;
	char echo[CONF_ECHO_MAX];
	socklen_t len;

	if (strcmp(v, "sendmail") != 0 && (strlen(v) >= k->size ||
	    mta_target(v, &ss, &len) == -1)) {
		conf_problem(ld, "%s: neither sendmail nor smtp:ADDR:PORT "
		    "(IPv6: smtp:[ADDR]:PORT): \"%s\"", k->name,
		    conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	return str_copy((char *)ld->conf + k->off, v, k->size);
}

/* conf_set_choice - yes|no or accept|reject (any case) into an int */
static int
conf_set_choice(struct loader *ld, const struct conf_key *k, const char *v)
{
	const char *on = k->type == CT_BOOL ? "yes" : "accept";
	const char *off = k->type == CT_BOOL ? "no" : "reject";
	int *field = (int *)(void *)((char *)ld->conf + k->off);
	char echo[CONF_ECHO_MAX];

	if (str_casecmp(v, on) != 0 && str_casecmp(v, off) != 0) {
		conf_problem(ld, "%s: expected %s or %s, not \"%s\"",
		    k->name, on, off,
		    conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	*field = str_casecmp(v, on) == 0;
	return 0;
}

/* conf_set_number - a decimal in [min, max] */
static int
conf_set_number(struct loader *ld, const struct conf_key *k, const char *v)
{
	unsigned long long *field, n;
	char echo[CONF_ECHO_MAX];

	field = (unsigned long long *)(void *)((char *)ld->conf + k->off);
	if (parse_number(v, k->max, &n) != 0 || n < k->min) {
		conf_problem(ld, "%s: expected a number from %llu to %llu, "
		    "not \"%s\"", k->name, k->min, k->max,
		    conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	*field = n;
	return 0;
}

/*
 * list_next - the next item of a list separated by commas or blanks:
 * terminated in place, *PP moved past it; NULL at the end.
 */
static char *
list_next(char **pp)
{
	char *p = *pp, *item;

	while (*p == ',' || is_blank((unsigned char)*p))
		p++;
	if (*p == '\0')
		return NULL;
	item = p;
	while (*p != '\0' && *p != ',' && !is_blank((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return item;
}

/* list_count - the number of items in a list (an upper bound is enough) */
static size_t
list_count(const char *v)
{
	size_t n = 1;

	for (; *v != '\0'; v++)
		if (*v == ',' || is_blank((unsigned char)*v))
			n++;
	return n;
}

/*
 * local_domain_ok - a local_domains entry: a domain, or "." + a domain,
 * in U-label or A-label form; stored lower-cased in A-label form (ACE,
 * room for CONF_ACE_MAX octets), which is how policy compares domains.
 */
static int
local_domain_ok(char *d, char *ace)
{
	size_t i, dot = d[0] == '.';

	for (i = 0; d[i] != '\0'; i++)
		d[i] = (char)ascii_lower((unsigned char)d[i]);
	if (utf8_check(d, strlen(d)) != UTF8_OK)
		return 0;
	ace[0] = '.';
	if (idn_domain_ascii(d + dot, strlen(d + dot), ace + dot,
	    CONF_ACE_MAX - dot) < 0)
		return 0;
	return domain_syntax_ok(ace + dot);
}

/* conf_set_domains - local_domains: at least one, lower-cased */
static int
conf_set_domains(struct loader *ld, const struct conf_key *k, char *v)
{
	struct config *c = ld->conf;
	char echo[CONF_ECHO_MAX], ace[CONF_ACE_MAX], *item, *copy;
	int bad = 0;

	if ((c->local_domains = calloc(list_count(v), sizeof(char *))) == NULL) {
		conf_problem(ld, "%s: out of memory", k->name);
		return -1;
	}
	while ((item = list_next(&v)) != NULL) {
		if (!local_domain_ok(item, ace)) {
			conf_problem(ld, "%s: not a domain name: \"%s\"",
			    k->name,
			    conf_echo(echo, sizeof(echo), item));
			bad = 1;
		} else if ((copy = strdup(ace)) == NULL) {
			conf_problem(ld, "%s: out of memory", k->name);
			bad = 1;
		} else
			c->local_domains[c->nlocal++] = copy;
	}
	if (c->nlocal == 0 && !bad)
		conf_problem(ld, "%s: at least one domain is required",
		    k->name);
	return bad || c->nlocal == 0 ? -1 : 0;
}

/* conf_set_networks - relay_networks: CIDR list, may be empty (no relay) */
static int
conf_set_networks(struct loader *ld, const struct conf_key *k, char *v)
{
	struct config *c = ld->conf;
	struct cidr *nets;
	char echo[CONF_ECHO_MAX], *item;
	int bad = 0;

	if ((nets = calloc(list_count(v), sizeof(*nets))) == NULL) {
		conf_problem(ld, "%s: out of memory", k->name);
		return -1;
	}
	c->relay = nets;
	c->nrelay = 0;
	while ((item = list_next(&v)) != NULL) {
		if (cidr_parse(item, &nets[c->nrelay]) != 0) {
			conf_problem(ld, "%s: not an address or network "
			    "(host bits must be zero): \"%s\"",
			    k->name,
			    conf_echo(echo, sizeof(echo), item));
			bad = 1;
		} else
			c->nrelay++;
	}
	return bad ? -1 : 0;
}

/* conf_set_zones - dnsbl: up to DNSBL_ZONES_MAX zones, in order */
static int
conf_set_zones(struct loader *ld, const struct conf_key *k, char *v)
{
	struct config *c = ld->conf;
	char echo[CONF_ECHO_MAX], *item;
	int bad = 0;

	c->ndnsbl = 0;
	while ((item = list_next(&v)) != NULL) {
		if (!dnsbl_zone_ok(item)) {
			conf_problem(ld, "%s: not a zone name (labels of 1-63 "
			    "letters, digits, hyphens; %d octets at most): "
			    "\"%s\"", k->name, DNSBL_ZONE_MAX,
			    conf_echo(echo, sizeof(echo), item));
			bad = 1;
		} else if (c->ndnsbl == DNSBL_ZONES_MAX) {
			conf_problem(ld, "%s: more than %d zones", k->name,
			    DNSBL_ZONES_MAX);
			return -1;
		} else
			(void)str_copy(c->dnsbl[c->ndnsbl++], item,
			    sizeof(c->dnsbl[0]));
	}
	return bad ? -1 : 0;
}

/* conf_set_resolver - dns_resolver: ADDR, ADDR:PORT or [V6]:PORT */
static int
conf_set_resolver(struct loader *ld, const struct conf_key *k, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char echo[CONF_ECHO_MAX];

	if (dnsbl_resolver_parse(v, &ss, &len) == -1) {
		conf_problem(ld, "%s: not ADDR, ADDR:PORT or [IPv6]:PORT: "
		    "\"%s\"", k->name, conf_echo(echo, sizeof(echo), v));
		return -1;
	}
	return str_copy((char *)ld->conf + k->off, v, k->size);
}

/* conf_set - store VALUE for key K according to its type */
static int
conf_set(struct loader *ld, const struct conf_key *k, char *v)
{
	if (*v == '\0' && k->type != CT_NETWORKS) {
		conf_problem(ld, "%s: empty value", k->name);
		return -1;
	}
	switch (k->type) {
	case CT_DOMAIN:
		return conf_set_domain(ld, k, v);
	case CT_PATH:
		return conf_set_path(ld, k, v);
	case CT_USER:
		return conf_set_user(ld, k, v);
	case CT_BOOL:
	case CT_ACCEPT:
		return conf_set_choice(ld, k, v);
	case CT_NUMBER:
		return conf_set_number(ld, k, v);
	case CT_DOMAINS:
		return conf_set_domains(ld, k, v);
	case CT_NETWORKS:
		return conf_set_networks(ld, k, v);
	case CT_ZONES:
		return conf_set_zones(ld, k, v);
	case CT_RESOLVER:
		return conf_set_resolver(ld, k, v);
	case CT_HANDOFF:
		return conf_set_handoff(ld, k, v);
	}
	return -1;
}

/* conf_lookup - the table row of KEY, or -1 */
static long
conf_lookup(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return (long)i;
	return -1;
}

/* conf_trim - cut the comment and the trailing blanks; skip leading ones */
static char *
conf_trim(char *line)
{
	char *p;
	size_t n;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	n = strlen(line);
	while (n > 0 && is_blank((unsigned char)line[n - 1]))
		line[--n] = '\0';
	while (is_blank((unsigned char)*line))
		line++;
	return line;
}

/* conf_line - one line: "key = value", a comment or a blank line */
static void
conf_line(struct loader *ld, char *line)
{
	char echo[CONF_ECHO_MAX], *key, *p;
	long i;

	key = conf_trim(line);
	if (*key == '\0')
		return;
	for (p = key; (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
	    *p == '_'; p++)
		continue;
	if (p == key || (*p != '=' && *p != '\0' &&
	    !is_blank((unsigned char)*p))) {
		conf_problem(ld, "expected \"key = value\"");
		return;
	}
	while (is_blank((unsigned char)*p))
		*p++ = '\0';
	if (*p != '=') {
		conf_problem(ld, "expected \"=\" after \"%s\"",
		    conf_echo(echo, sizeof(echo), key));
		return;
	}
	*p++ = '\0';
	while (is_blank((unsigned char)*p))
		p++;
	if ((i = conf_lookup(key)) < 0) {
		conf_problem(ld, "unknown key \"%s\"",
		    conf_echo(echo, sizeof(echo), key));
		return;
	}
	if (ld->seen[i] != 0) {
		conf_problem(ld, "duplicate key \"%s\" (first on line %lu)",
		    key, ld->seen[i]);
		return;
	}
	ld->seen[i] = ld->line;
	(void)conf_set(ld, &conf_keys[i], p);
}

/*
 * conf_read_line - read one line into BUF (CONF_LINE_MAX + 1 octets):
 * 1 a line, 0 end of file, -1 too long (the rest of it is skipped),
 * -2 a NUL octet in the line.
 */
static int
conf_read_line(FILE *fp, char *buf)
{
	size_t n = 0;
	int ch, toolong = 0, nul = 0;

	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = 1;
		if (n < CONF_LINE_MAX)
			buf[n++] = (char)ch;
		else
			toolong = 1;
	}
	buf[n] = '\0';
	if (ch == EOF && n == 0 && !toolong)
		return 0;
	if (toolong)
		return -1;
	return nul ? -2 : 1;
}

/* conf_read - every line of FP */
static void
conf_read(struct loader *ld, FILE *fp)
{
	char buf[CONF_LINE_MAX + 1];
	int r;

	for (;;) {
		r = conf_read_line(fp, buf);
		if (r == 0)
			break;
		ld->line++;
		if (r == -1)
			conf_problem(ld, "line longer than %d octets",
			    CONF_LINE_MAX);
		else if (r == -2)
			conf_problem(ld, "NUL octet in line");
		else
			conf_line(ld, buf);
	}
	if (ferror(fp)) {
		ld->line = 0;
		conf_problem(ld, "read error: %s", strerror(errno));
	}
}

/* config_defaults - fill in every default of SPEC.md */
void
config_defaults(struct config *c)
{
	char host[SMTP_DOMAIN_MAX + 2];

	memset(c, 0, sizeof(*c));
	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) != 0 ||
	    !domain_syntax_ok(host) || str_copy(c->hostname, host,
	    sizeof(c->hostname)) != 0)
		(void)str_copy(c->hostname, "localhost", sizeof(c->hostname));
	(void)str_copy(c->spool, "/var/spool/smtpfe", sizeof(c->spool));
	(void)str_copy(c->user, "smtpfe", sizeof(c->user));
	c->chroot = 1;
	c->relay = conf_default_relay;
	c->nrelay = sizeof(conf_default_relay) / sizeof(conf_default_relay[0]);
	c->max_message_size = 10485760;
	c->max_recipients = 100;
	c->max_errors = 20;
	c->max_junk_commands = 100;
	c->max_messages = 100;
	c->timeout = 300;
	c->session_timeout = 1800;
	c->min_free_space = 104857600;
	c->max_received = 100;
	c->greet_pause = 300;
	(void)str_copy(c->sendmail, "/usr/sbin/sendmail", sizeof(c->sendmail));
	c->retry_max_age = 432000;
	(void)str_copy(c->tls_wrapper, "/usr/bin/stunnel4",
	    sizeof(c->tls_wrapper));
	c->smtputf8 = 1;
	(void)str_copy(c->handoff, "sendmail", sizeof(c->handoff));
	c->handoff_processes = 8;
}

/* config_load - defaults, then FILE; returns the number of problems */
int
config_load(struct config *c, const char *file, config_report_fn *report,
    void *arg)
{
	struct loader ld;
	FILE *fp;

	config_defaults(c);
	memset(&ld, 0, sizeof(ld));
	ld.conf = c;
	ld.file = file;
	ld.report = report;
	ld.arg = arg;
	if ((fp = fopen(file, "re")) == NULL) {
		conf_problem(&ld, "cannot open: %s", strerror(errno));
		return ld.problems;
	}
	conf_read(&ld, fp);
	(void)fclose(fp);
	ld.line = 0;
	if (ld.seen[conf_lookup("local_domains")] == 0)
		conf_problem(&ld, "local_domains is required");
	return ld.problems;
}

/*
 * config_map_recipients - open and map the recipients file (before the
 * chroot); nothing to do when the key is unset.  Returns 0, or -1 after
 * reporting the problem.  The map is shared and read-only: a file
 * replaced with rename(2) is picked up by the next connection.
 */
int
config_map_recipients(struct config *c, config_report_fn *report, void *arg)
{
	struct loader ld;
	struct stat st;
	void *base;
	int fd;

	memset(&ld, 0, sizeof(ld));
	ld.file = c->recipients;
	ld.report = report;
	ld.arg = arg;
	if (c->recipients[0] == '\0' || c->rcptmap.base != NULL)
		return 0;
	if ((fd = open(c->recipients, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		conf_problem(&ld, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > SIZE_MAX) {
		conf_problem(&ld, "not a regular file of a usable size");
		(void)close(fd);
		return -1;
	}
	base = st.st_size == 0 ? NULL : mmap(NULL, (size_t)st.st_size,
	    PROT_READ, MAP_SHARED, fd, 0);
	(void)close(fd);
	if (base == MAP_FAILED) {
		conf_problem(&ld, "cannot map: %s", strerror(errno));
		return -1;
	}
	c->rcptmap.base = base != NULL ? base : conf_empty_map;
	c->rcptmap.len = (size_t)st.st_size;
	return 0;
}

/* line_has_upper - 1 when the line holds an ASCII capital */
static int
line_has_upper(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/*
 * line_domain_8bit - 1 when the domain of the line (after its last '@')
 * holds a non-ASCII octet: the file lists domains in A-label form (SPEC),
 * so such a line could never match.
 */
static int
line_domain_8bit(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && s[i - 1] != '@')
		i--;
	for (; i > 0 && i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* line_before - 1 when line A sorts before line B, as LC_ALL=C sort */
static int
line_before(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c < 0 || (c == 0 && alen < blen);
}

/*
 * config_check_recipients - report the first line out of order, the
 * first with upper case and the first with a CR (a CRLF file): each
 * would make look-ups miss.  It reads the whole map (`smtpfe -n` only).
 * Returns the number of problems.
 */
int
config_check_recipients(const struct config *c, config_report_fn *report,
    void *arg)
{
	struct loader ld;
	const char *b = c->rcptmap.base, *prev = NULL, *nl;
	size_t pos = 0, len, plen = 0;
	int unsorted = 0, upper = 0, cr = 0, ulabel = 0;

	memset(&ld, 0, sizeof(ld));
	ld.file = c->recipients;
	ld.report = report;
	ld.arg = arg;
	for (; b != NULL && pos < c->rcptmap.len; pos += len + 1) {
		nl = memchr(b + pos, '\n', c->rcptmap.len - pos);
		len = nl != NULL ? (size_t)(nl - (b + pos)) :
		    c->rcptmap.len - pos;
		ld.line++;
		if (!unsorted && prev != NULL &&
		    line_before(b + pos, len, prev, plen)) {
			conf_problem(&ld, "not sorted (use LC_ALL=C sort -u)");
			unsorted = 1;
		}
		if (!upper && line_has_upper(b + pos, len)) {
			conf_problem(&ld, "upper case (lines must be lower case)");
			upper = 1;
		}
		if (!cr && memchr(b + pos, '\r', len) != NULL) {
			conf_problem(&ld, "carriage return (lines must end "
			    "in LF only)");
			cr = 1;
		}
		if (!ulabel && line_domain_8bit(b + pos, len)) {
			conf_problem(&ld, "domain not in A-label form (write "
			    "xn--...: U-labels never match)");
			ulabel = 1;
		}
		prev = b + pos;
		plen = len;
	}
	return ld.problems;
}

/* config_free - release what config_load allocated */
void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nlocal; i++)
		free(c->local_domains[i]);
	free(c->local_domains);
	c->local_domains = NULL;
	c->nlocal = 0;
	if (c->relay != conf_default_relay)
		free(c->relay);
	c->relay = NULL;
	c->nrelay = 0;
	if (c->rcptmap.base != NULL && c->rcptmap.len > 0)
		(void)munmap((void *)(uintptr_t)c->rcptmap.base,
		    c->rcptmap.len);
	c->rcptmap.base = NULL;
	c->rcptmap.len = 0;
}

/*
 * config_account - look "user" up in PASSWD_FILE.  Not getpwnam(3): NSS
 * would load shared modules while we are still root, and would tie the
 * program to the dynamic loader.  The account a front end drops to is a
 * local system account; it belongs in the local file.
 */
int
config_account(const struct config *conf, struct account *acct)
{
	struct passwd *pw;
	FILE *f;
	int found = -1;

	if ((f = fopen(PASSWD_FILE, "re")) == NULL)
		return -1;
	while ((pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, conf->user) == 0) {
			acct->uid = (unsigned int)pw->pw_uid;
			acct->gid = (unsigned int)pw->pw_gid;
			found = 0;
			break;
		}
	(void)fclose(f);
	return found;
}
