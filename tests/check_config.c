/*
 * check_config.c - unit tests for config.c: defaults, every key, every
 * kind of error with its line number, and the recipients map.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "policy.h"
#include "smtpfe.h"

/* The reports of one load, kept in order. */
struct reports {
	int	 n;
	char	 msg[64][PATH_MAX + 600];
};

static struct reports rep;
static char tmpdir[64];
static char conf_path[128];

/* collect - the config_report_fn of the tests */
static void
collect(void *arg, const char *msg)
{
	struct reports *r = arg;

	ck_assert_int_lt(r->n, 64);
	ck_assert_int_eq(str_copy(r->msg[r->n++], msg, sizeof(r->msg[0])), 0);
}

/* setup - a private directory; the config file goes there */
static void
setup(void)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	(void)snprintf(conf_path, sizeof(conf_path), "%s/smtpfe.conf", tmpdir);
	memset(&rep, 0, sizeof(rep));
}

/* teardown - remove the directory */
static void
teardown(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* write_file - PATH gets exactly LEN octets of TEXT */
static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* load - write TEXT as the config file and load it; the problem count */
static int
load(struct config *c, const char *text)
{
	write_file(conf_path, text, strlen(text));
	memset(&rep, 0, sizeof(rep));
	return config_load(c, conf_path, collect, &rep);
}

/* expect_report - report I is "FILE:LINE: " followed by TEXT */
static void
expect_report(int i, unsigned long line, const char *text)
{
	char want[PATH_MAX + 600];

	ck_assert_int_lt(i, rep.n);
	if (line > 0)
		(void)snprintf(want, sizeof(want), "%s:%lu: %s", conf_path, line,
		    text);
	else
		(void)snprintf(want, sizeof(want), "%s: %s", conf_path, text);
	ck_assert_str_eq(rep.msg[i], want);
}

/* relay_has - peer_is_relay for an address given as text */
static int
relay_has(const struct config *c, const char *ip)
{
	struct peer p;

	ck_assert_int_eq(peer_set_text(&p, ip), 0);
	return peer_is_relay(c, &p);
}

START_TEST(test_defaults)
{
	struct config c;

	config_defaults(&c);
	ck_assert_uint_gt(strlen(c.hostname), 0);
	ck_assert_ptr_null(policy_helo(c.hostname));
	ck_assert_str_eq(c.spool, "/var/spool/smtpfe");
	ck_assert_str_eq(c.user, "smtpfe");
	ck_assert_int_eq(c.chroot, 1);
	ck_assert_uint_eq(c.nlocal, 0);
	ck_assert_uint_eq(c.nrelay, 2);
	ck_assert_int_eq(relay_has(&c, "127.0.0.1"), 1);
	ck_assert_int_eq(relay_has(&c, "127.255.255.254"), 1);
	ck_assert_int_eq(relay_has(&c, "128.0.0.1"), 0);
	ck_assert_int_eq(relay_has(&c, "::1"), 1);
	ck_assert_int_eq(relay_has(&c, "::2"), 0);
	ck_assert_str_eq(c.recipients, "");
	ck_assert_ptr_null(c.rcptmap.base);
	ck_assert_uint_eq(c.max_message_size, 10485760);
	ck_assert_uint_eq(c.max_recipients, 100);
	ck_assert_uint_eq(c.max_errors, 20);
	ck_assert_uint_eq(c.max_junk_commands, 100);
	ck_assert_uint_eq(c.max_messages, 100);
	ck_assert_uint_eq(c.timeout, 300);
	ck_assert_uint_eq(c.session_timeout, 1800);
	ck_assert_uint_eq(c.min_free_space, 104857600);
	ck_assert_int_eq(c.mime_partial_accept, 0);
	ck_assert_int_eq(c.external_body_accept, 0);
	ck_assert_uint_eq(c.max_received, 100);
	ck_assert_uint_eq(c.greet_pause, 300);
	ck_assert_str_eq(c.sendmail, "/usr/sbin/sendmail");
	ck_assert_uint_eq(c.retry_max_age, 432000);
	config_free(&c);	/* the default relay list is not freed */
	config_free(&c);
}
END_TEST

START_TEST(test_minimal)
{
	struct config c;

	ck_assert_int_eq(load(&c, "local_domains = example.org\n"), 0);
	ck_assert_int_eq(rep.n, 0);
	ck_assert_uint_eq(c.nlocal, 1);
	ck_assert_str_eq(c.local_domains[0], "example.org");
	ck_assert_uint_eq(c.nrelay, 2);
	ck_assert_str_eq(c.spool, "/var/spool/smtpfe");
	config_free(&c);
	/* a user name of 32 octets, the most allowed */
	ck_assert_int_eq(load(&c, "local_domains = example.org\n"
	    "user = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"), 0);
	ck_assert_uint_eq(strlen(c.user), 32);
	config_free(&c);
}
END_TEST

START_TEST(test_every_key)
{
	static const char text[] =
	    "# every key, none at its default\n"
	    "hostname = mx.Example.ORG\n"
	    "spool = /srv/spool\n"
	    "user = nobody\n"
	    "chroot = no\n"
	    "local_domains = Example.ORG, .sub.example.net  other.example,"
	    "\tthird.example\n"
	    "relay_networks = 10.0.0.0/8, 192.0.2.0/24 2001:db8::/32\n"
	    "recipients = /etc/smtpfe/recipients\n"
	    "max_message_size = 1000\n"
	    "max_recipients = 1000\n"
	    "max_errors = 3\n"
	    "max_junk_commands = 7\n"
	    "max_messages = 9\n"
	    "timeout = 60\n"
	    "session_timeout = 600\n"
	    "min_free_space = 0\n"
	    "mime_partial = accept\n"
	    "external_body = ACCEPT\n"
	    "max_received = 30\n"
	    "greet_pause = 0\n"
	    "sendmail = /usr/lib/sendmail\n"
	    "retry_max_age = 3600\n";
	struct config c;

	ck_assert_int_eq(load(&c, text), 0);
	ck_assert_int_eq(rep.n, 0);
	ck_assert_str_eq(c.hostname, "mx.Example.ORG");
	ck_assert_str_eq(c.spool, "/srv/spool");
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_int_eq(c.chroot, 0);
	ck_assert_uint_eq(c.nlocal, 4);
	ck_assert_str_eq(c.local_domains[0], "example.org");
	ck_assert_str_eq(c.local_domains[1], ".sub.example.net");
	ck_assert_str_eq(c.local_domains[2], "other.example");
	ck_assert_str_eq(c.local_domains[3], "third.example");
	ck_assert_int_eq(domain_is_local(&c, "a.SUB.example.net"), 1);
	ck_assert_uint_eq(c.nrelay, 3);
	ck_assert_int_eq(relay_has(&c, "10.9.8.7"), 1);
	ck_assert_int_eq(relay_has(&c, "192.0.2.9"), 1);
	ck_assert_int_eq(relay_has(&c, "2001:db8::9"), 1);
	ck_assert_int_eq(relay_has(&c, "127.0.0.1"), 0);
	ck_assert_int_eq(relay_has(&c, "::1"), 0);
	ck_assert_str_eq(c.recipients, "/etc/smtpfe/recipients");
	ck_assert_ptr_null(c.rcptmap.base);
	ck_assert_uint_eq(c.max_message_size, 1000);
	ck_assert_uint_eq(c.max_recipients, 1000);
	ck_assert_uint_eq(c.max_errors, 3);
	ck_assert_uint_eq(c.max_junk_commands, 7);
	ck_assert_uint_eq(c.max_messages, 9);
	ck_assert_uint_eq(c.timeout, 60);
	ck_assert_uint_eq(c.session_timeout, 600);
	ck_assert_uint_eq(c.min_free_space, 0);
	ck_assert_int_eq(c.mime_partial_accept, 1);
	ck_assert_int_eq(c.external_body_accept, 1);
	ck_assert_uint_eq(c.max_received, 30);
	ck_assert_uint_eq(c.greet_pause, 0);
	ck_assert_str_eq(c.sendmail, "/usr/lib/sendmail");
	ck_assert_uint_eq(c.retry_max_age, 3600);
	config_free(&c);
}
END_TEST

START_TEST(test_layout)
{
	static const char text[] =
	    "\n"
	    "   # an indented comment\n"
	    "#hostname = commented.example\n"
	    "\t\n"
	    "local_domains=example.org,example.net#no blank before the comment\n"
	    "  chroot\t=\tyes   # trailing comment\n"
	    "user = nobody\r\n"
	    "relay_networks = ,127.0.0.1 , , ::1,\n"
	    "max_errors = 5";	/* no LF at the end */
	struct config c;

	ck_assert_int_eq(load(&c, text), 0);
	ck_assert_uint_eq(c.nlocal, 2);
	ck_assert_str_eq(c.local_domains[1], "example.net");
	ck_assert_int_eq(c.chroot, 1);
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_uint_eq(c.nrelay, 2);
	ck_assert_int_eq(relay_has(&c, "127.0.0.1"), 1);
	ck_assert_int_eq(relay_has(&c, "127.0.0.2"), 0);
	ck_assert_uint_eq(c.max_errors, 5);
	ck_assert_str_ne(c.hostname, "commented.example");
	config_free(&c);
}
END_TEST

START_TEST(test_relay_empty)
{
	struct config c;

	ck_assert_int_eq(load(&c, "local_domains = example.org\n"
	    "relay_networks =\n"), 0);
	ck_assert_uint_eq(c.nrelay, 0);
	ck_assert_int_eq(relay_has(&c, "127.0.0.1"), 0);
	config_free(&c);
}
END_TEST

struct error_case {
	const char	*line;
	const char	*text;	/* the report after "FILE:LINE: " */
};

static const struct error_case error_cases[] = {
	{ "bogus = 1", "unknown key \"bogus\"" },
	{ "Hostname = a.example", "expected \"key = value\"" },
	{ "hostname a.example", "expected \"=\" after \"hostname\"" },
	{ "hostname", "expected \"=\" after \"hostname\"" },
	{ "= a.example", "expected \"key = value\"" },
	{ "host-name = a.example", "expected \"key = value\"" },
	{ "hostname =", "hostname: empty value" },
	{ "hostname = a.example.", "hostname: not a domain name: "
	    "\"a.example.\"" },
	{ "hostname = a_b.example", "hostname: not a domain name: "
	    "\"a_b.example\"" },
	{ "hostname = [127.0.0.1]", "hostname: not a domain name: "
	    "\"[127.0.0.1]\"" },
	{ "hostname = a.example b.example", "hostname: not a domain name: "
	    "\"a.example b.example\"" },
	{ "spool = var/spool", "spool: not an absolute path: \"var/spool\"" },
	{ "spool = /var/my spool", "spool: not an absolute path: "
	    "\"/var/my spool\"" },
	{ "sendmail = sendmail", "sendmail: not an absolute path: "
	    "\"sendmail\"" },
	{ "recipients = ./r", "recipients: not an absolute path: \"./r\"" },
	{ "user = -root", "user: not a user name: \"-root\"" },
	{ "user = a b", "user: not a user name: \"a b\"" },
	{ "user = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "user: not a user name: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"" },
	{ "chroot = maybe", "chroot: expected yes or no, not \"maybe\"" },
	{ "smtputf8 = maybe", "smtputf8: expected yes or no, not \"maybe\"" },
	{ "chroot = 1", "chroot: expected yes or no, not \"1\"" },
	{ "mime_partial = drop", "mime_partial: expected accept or reject, "
	    "not \"drop\"" },
	{ "external_body = yes", "external_body: expected accept or reject, "
	    "not \"yes\"" },
	{ "max_message_size = 10M", "max_message_size: expected a number "
	    "from 1 to 1099511627776, not \"10M\"" },
	{ "max_message_size = -1", "max_message_size: expected a number "
	    "from 1 to 1099511627776, not \"-1\"" },
	{ "max_message_size = 99999999999999999999999",
	    "max_message_size: expected a number from 1 to 1099511627776, "
	    "not \"99999999999999999999999\"" },
	{ "max_recipients = 0", "max_recipients: expected a number from 1 to "
	    "1000, not \"0\"" },
	{ "max_recipients = 1001", "max_recipients: expected a number from 1 "
	    "to 1000, not \"1001\"" },
	{ "greet_pause = 10001", "greet_pause: expected a number from 0 to "
	    "10000, not \"10001\"" },
	{ "timeout = 0", "timeout: expected a number from 1 to 86400, "
	    "not \"0\"" },
	{ "timeout = 1 0", "timeout: expected a number from 1 to 86400, "
	    "not \"1 0\"" },
	{ "relay_networks = 10.0.0.1/8", "relay_networks: not an address or "
	    "network (host bits must be zero): \"10.0.0.1/8\"" },
	{ "relay_networks = 127.0.0.1 localhost", "relay_networks: not an "
	    "address or network (host bits must be zero): \"localhost\"" },
	{ "relay_networks = 10.0.0.0/33", "relay_networks: not an address or "
	    "network (host bits must be zero): \"10.0.0.0/33\"" },
};

/* Each bad line alone on line 2, between two good ones. */
START_TEST(test_error_table)
{
	const struct error_case *e = &error_cases[_i];
	char text[512];
	struct config c;

	(void)snprintf(text, sizeof(text), "local_domains = example.org\n"
	    "%s\nmax_errors = 7\n", e->line);
	ck_assert_int_eq(load(&c, text), 1);
	ck_assert_int_eq(rep.n, 1);
	expect_report(0, 2, e->text);
	ck_assert_uint_eq(c.max_errors, 7);	/* the loader kept going */
	config_free(&c);
}
END_TEST

START_TEST(test_local_domains_errors)
{
	struct config c;

	ck_assert_int_eq(load(&c, "local_domains = example.org, exa_mple.org "
	    "example.net.\n"), 2);
	expect_report(0, 1, "local_domains: not a domain name: "
	    "\"exa_mple.org\"");
	expect_report(1, 1, "local_domains: not a domain name: "
	    "\"example.net.\"");
	config_free(&c);

	ck_assert_int_eq(load(&c, "local_domains = , ,\n"), 1);
	expect_report(0, 1, "local_domains: at least one domain is required");
	config_free(&c);

	ck_assert_int_eq(load(&c, "local_domains =\n"), 1);
	expect_report(0, 1, "local_domains: empty value");
	config_free(&c);

	ck_assert_int_eq(load(&c, "local_domains = ..example.org .\n"), 2);
	config_free(&c);
}
END_TEST

/*
 * test_local_domains_idn - U-labels are stored in A-label form, ASCII
 * lower-cased; ill-formed UTF-8, C1 controls and a label over 63 octets
 * in A-label form are refused (issue 12).
 */
START_TEST(test_local_domains_idn)
{
	struct config c;

	ck_assert_int_eq(load(&c, "local_domains = Ex\xc3\xa4mple.ORG, "
	    ".\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a, "
	    "XN--BCHER-KVA.example\n"), 0);
	ck_assert_uint_eq(c.nlocal, 3);
	ck_assert_str_eq(c.local_domains[0], "xn--exmple-cua.org");
	ck_assert_str_eq(c.local_domains[1], ".xn--fsqu00a.xn--4rr70v");
	ck_assert_str_eq(c.local_domains[2], "xn--bcher-kva.example");
	ck_assert_int_eq(domain_is_local(&c, "ex\xc3\xa4mple.org"), 1);
	ck_assert_int_eq(domain_is_local(&c, "b\xc3\xbc" "cher.example"), 1);
	ck_assert_int_eq(domain_is_local(&c, "a.\xe4\xbe\x8b\xe5\xad\x90."
	    "xn--4rr70v"), 1);
	ck_assert_int_eq(domain_is_local(&c, "ex\xc3\x84mple.org"), 0);
	ck_assert_uint_eq(c.smtputf8, 1);
	config_free(&c);

	ck_assert_int_eq(load(&c, "local_domains = ex\xe4mple.org, "
	    "a\xc2\x85.org, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa\xc3\xbc.org, \xc3\xbc_x.org\nsmtputf8 = no\n"), 4);
	ck_assert_int_eq(rep.n, 4);
	config_free(&c);
}
END_TEST

START_TEST(test_missing_local_domains)
{
	struct config c;

	ck_assert_int_eq(load(&c, "# nothing but a comment\n"), 1);
	ck_assert_int_eq(rep.n, 1);
	expect_report(0, 0, "local_domains is required");
	config_free(&c);
	ck_assert_int_eq(load(&c, ""), 1);
	expect_report(0, 0, "local_domains is required");
	config_free(&c);
}
END_TEST

START_TEST(test_many_errors)
{
	static const char text[] =
	    "hostname = ok.example\n"		/* 1 */
	    "bogus = 1\n"			/* 2 */
	    "\n"				/* 3 */
	    "# comment\n"			/* 4 */
	    "max_errors = 5\n"			/* 5 */
	    "max_errors = 6\n"			/* 6 */
	    "chroot = perhaps   # comment\n"	/* 7 */
	    "spool = relative\n"		/* 8 */
	    "max_errors = 7\n";			/* 9 */
	struct config c;

	ck_assert_int_eq(load(&c, text), 6);
	ck_assert_int_eq(rep.n, 6);
	expect_report(0, 2, "unknown key \"bogus\"");
	expect_report(1, 6, "duplicate key \"max_errors\" (first on line 5)");
	expect_report(2, 7, "chroot: expected yes or no, not \"perhaps\"");
	expect_report(3, 8, "spool: not an absolute path: \"relative\"");
	expect_report(4, 9, "duplicate key \"max_errors\" (first on line 5)");
	expect_report(5, 0, "local_domains is required");
	ck_assert_uint_eq(c.max_errors, 5);	/* the first one counts */
	config_free(&c);
}
END_TEST

START_TEST(test_long_line)
{
	static char text[3 * 4200];
	struct config c;
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "local_domains = example.org\n# ");
	memset(text + n, 'x', 4094 - 2);	/* line 2: exactly 4094 + "# " */
	n += 4094 - 2;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "ab\n# ");
	memset(text + n, 'y', 4095);		/* line 3: 4097 octets */
	n += 4095;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nmax_errors = 4\n");
	ck_assert_uint_lt(n, sizeof(text));
	ck_assert_int_eq(load(&c, text), 1);
	expect_report(0, 3, "line longer than 4096 octets");
	ck_assert_uint_eq(c.max_errors, 4);
	config_free(&c);
}
END_TEST

START_TEST(test_nul_octet)
{
	static const char text[] = "local_domains = example.org\n"
	    "max_errors = 3\0 4\nmax_messages = 8\n";
	struct config c;

	write_file(conf_path, text, sizeof(text) - 1);
	ck_assert_int_eq(config_load(&c, conf_path, collect, &rep), 1);
	expect_report(0, 2, "NUL octet in line");
	ck_assert_uint_eq(c.max_errors, 20);
	ck_assert_uint_eq(c.max_messages, 8);
	config_free(&c);
}
END_TEST

START_TEST(test_cannot_open)
{
	struct config c;
	char want[PATH_MAX + 64];

	(void)snprintf(conf_path, sizeof(conf_path), "%s/absent.conf", tmpdir);
	ck_assert_int_eq(config_load(&c, conf_path, collect, &rep), 1);
	(void)snprintf(want, sizeof(want), "%s: cannot open: %s", conf_path,
	    strerror(ENOENT));
	ck_assert_str_eq(rep.msg[0], want);
	ck_assert_int_eq(config_load(&c, conf_path, NULL, NULL), 1);
	config_free(&c);
}
END_TEST

struct range_case {
	const char		*key;
	unsigned long long	 min;
	unsigned long long	 max;
};

static const struct range_case range_cases[] = {
	{ "max_message_size", 1, 1099511627776ULL },
	{ "max_recipients", 1, 1000 },
	{ "max_errors", 1, 10000 },
	{ "max_junk_commands", 1, 1000000 },
	{ "max_messages", 1, 1000000 },
	{ "timeout", 1, 86400 },
	{ "session_timeout", 1, 604800 },
	{ "min_free_space", 0, 1125899906842624ULL },
	{ "max_received", 1, 10000 },
	{ "greet_pause", 0, 10000 },
	{ "retry_max_age", 0, 31536000 },
};

/* range_load - load "KEY = VALUE" after local_domains; the count */
static int
range_load(struct config *c, const char *key, unsigned long long v)
{
	char text[256];

	(void)snprintf(text, sizeof(text), "local_domains = example.org\n"
	    "%s = %llu\n", key, v);
	return load(c, text);
}

START_TEST(test_number_ranges)
{
	const struct range_case *r = &range_cases[_i];
	struct config c;

	ck_assert_int_eq(range_load(&c, r->key, r->min), 0);
	config_free(&c);
	ck_assert_int_eq(range_load(&c, r->key, r->max), 0);
	config_free(&c);
	ck_assert_int_eq(range_load(&c, r->key, r->max + 1), 1);
	ck_assert_ptr_nonnull(strstr(rep.msg[0], ":2: "));
	config_free(&c);
	if (r->min > 0) {
		ck_assert_int_eq(range_load(&c, r->key, r->min - 1), 1);
		config_free(&c);
	}
}
END_TEST

START_TEST(test_map_recipients)
{
	struct config c;
	char path[128], want[PATH_MAX + 64];

	config_defaults(&c);
	ck_assert_int_eq(config_map_recipients(&c, collect, &rep), 0);
	ck_assert_ptr_null(c.rcptmap.base);

	(void)snprintf(c.recipients, sizeof(c.recipients), "%s/absent",
	    tmpdir);
	ck_assert_int_eq(config_map_recipients(&c, collect, &rep), -1);
	(void)snprintf(want, sizeof(want), "%s: cannot open: %s",
	    c.recipients, strerror(ENOENT));
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(rep.msg[0], want);
	ck_assert_ptr_null(c.rcptmap.base);

	ck_assert_int_eq(str_copy(c.recipients, tmpdir, sizeof(c.recipients)),
	    0);
	ck_assert_int_eq(config_map_recipients(&c, collect, &rep), -1);
	ck_assert_int_eq(rep.n, 2);

	(void)snprintf(path, sizeof(path), "%s/empty", tmpdir);
	write_file(path, "", 0);
	ck_assert_int_eq(str_copy(c.recipients, path, sizeof(c.recipients)), 0);
	ck_assert_int_eq(config_map_recipients(&c, collect, &rep), 0);
	ck_assert_ptr_nonnull(c.rcptmap.base);
	ck_assert_uint_eq(c.rcptmap.len, 0);
	ck_assert_int_eq(config_check_recipients(&c, collect, &rep), 0);
	config_free(&c);
	ck_assert_ptr_null(c.rcptmap.base);

	(void)snprintf(path, sizeof(path), "%s/two", tmpdir);
	write_file(path, "a@example.org\nb@example.org\n", 28);
	config_defaults(&c);
	ck_assert_int_eq(str_copy(c.recipients, path, sizeof(c.recipients)), 0);
	ck_assert_int_eq(config_map_recipients(&c, collect, &rep), 0);
	ck_assert_uint_eq(c.rcptmap.len, 28);
	ck_assert_int_eq(memcmp(c.rcptmap.base, "a@example.org\n", 14), 0);
	ck_assert_int_eq(config_check_recipients(&c, collect, &rep), 0);
	ck_assert_int_eq(rep.n, 2);
	config_free(&c);
}
END_TEST

/* check_map - map TEXT and run config_check_recipients; the count */
static int
check_map(struct config *c, const char *text)
{
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/rcpt", tmpdir);
	write_file(path, text, strlen(text));
	config_defaults(c);
	ck_assert_int_eq(str_copy(c->recipients, path, sizeof(c->recipients)),
	    0);
	ck_assert_int_eq(config_map_recipients(c, collect, &rep), 0);
	memset(&rep, 0, sizeof(rep));
	return config_check_recipients(c, collect, &rep);
}

START_TEST(test_check_recipients)
{
	struct config c;
	char want[256];

	ck_assert_int_eq(check_map(&c, "@b.example\na@b.example\nab@b.example\n"
	    "b@b.example"), 0);
	config_free(&c);

	ck_assert_int_eq(check_map(&c,
	    "a@b.example\n"		/* 1 */
	    "c@b.example\n"		/* 2 */
	    "b@b.example\n"		/* 3: out of order */
	    "d@b.example\n"		/* 4 */
	    "e@B.example\n"		/* 5: upper case */
	    "f@b.example\r\n"		/* 6: CR */
	    "a@b.example\n"		/* 7: out of order again */
	    "G@b.example\n"), 3);	/* 8: upper case again */
	(void)snprintf(want, sizeof(want), "%s/rcpt:3: not sorted (use "
	    "LC_ALL=C sort -u)", tmpdir);
	ck_assert_str_eq(rep.msg[0], want);
	(void)snprintf(want, sizeof(want), "%s/rcpt:5: upper case (lines "
	    "must be lower case)", tmpdir);
	ck_assert_str_eq(rep.msg[1], want);
	(void)snprintf(want, sizeof(want), "%s/rcpt:6: carriage return "
	    "(lines must end in LF only)", tmpdir);
	ck_assert_str_eq(rep.msg[2], want);
	config_free(&c);

	/* a prefix sorts first, as with LC_ALL=C sort */
	ck_assert_int_eq(check_map(&c, "ab@x.example\na@x.example\n"), 1);
	ck_assert_ptr_nonnull(strstr(rep.msg[0], "/rcpt:2: not sorted"));
	config_free(&c);
	ck_assert_int_eq(check_map(&c, "b@x.example\nB@x.example"), 2);
	config_free(&c);

	/* Domains in A-label form; a UTF-8 local part is fine. */
	ck_assert_int_eq(check_map(&c, "a@xn--bcher-kva.example\n"
	    "\xc3\xa9@b.example\n"), 0);
	config_free(&c);
	ck_assert_int_eq(check_map(&c, "a@b\xc3\xbc" "cher.example\n"
	    "b@b\xc3\xbc" "cher.example\n"), 1);
	ck_assert_ptr_nonnull(strstr(rep.msg[0], "/rcpt:1: domain not in "
	    "A-label form"));
	config_free(&c);
	ck_assert_int_eq(check_map(&c, "@b\xae" "example.net\n"), 1);
	config_free(&c);
}
END_TEST

#define NCASES(t)	(int)(sizeof(t) / sizeof((t)[0]))

/* config_suite - every test case of this file */
static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("load");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_relay_empty);
	tcase_add_loop_test(tc, test_error_table, 0, NCASES(error_cases));
	tcase_add_test(tc, test_local_domains_errors);
	tcase_add_test(tc, test_local_domains_idn);
	tcase_add_test(tc, test_missing_local_domains);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_nul_octet);
	tcase_add_test(tc, test_cannot_open);
	tcase_add_loop_test(tc, test_number_ranges, 0, NCASES(range_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("recipients");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_map_recipients);
	tcase_add_test(tc, test_check_recipients);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(config_suite)
