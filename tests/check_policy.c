/*
 * check_policy.c - unit tests for policy.c: address syntax, trick forms,
 * relay decisions, MAIL/RCPT/HELO arguments and the recipients map.
 *
 * Every address is given to addr_parse in a heap buffer of exactly its
 * length, so that ASan catches a read past the end; every proper prefix
 * of it is fed the same way (the one-octet-at-a-time idea).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "config.h"
#include "policy.h"
#include "smtpfe.h"

/* A literal with its length, NULs included. */
#define S(x)	x, sizeof(x) - 1

enum expect {
	OK,		/* accepted */
	SYNTAX,		/* 501 5.1.7 / 501 5.1.3 */
	TRICK,		/* 553 5.1.7 / 553 5.1.3 */
	ASCII		/* 553 5.6.7 */
};

struct addr_case {
	const char	*in;
	size_t		 len;
	enum expect	 expect;
	const char	*path;	/* OK: the path kept; else a text to find */
	int		 literal;
};

static const struct addr_case addr_cases[] = {
	/* dot-atoms, quoted strings, domains, literals, routes */
	{ S("<a@example.org>"), OK, "<a@example.org>", 0 },
	{ S("<first.last@example.org>"), OK, "<first.last@example.org>", 0 },
	{ S("<a!#$%&'*+/=?^_`{|}~-b@example.org>"), OK,
	    "<a!#$%&'*+/=?^_`{|}~-b@example.org>", 0 },
	{ S("<\"john doe\"@example.org>"), OK, "<\"john doe\"@example.org>", 0 },
	{ S("<\"a\\\"b\"@example.org>"), OK, "<\"a\\\"b\"@example.org>", 0 },
	{ S("<\"a\\\\b\"@example.org>"), OK, "<\"a\\\\b\"@example.org>", 0 },
	{ S("<\"a@b\"@example.org>"), OK, "<\"a@b\"@example.org>", 0 },
	{ S("<\"a>b\"@example.org>"), OK, "<\"a>b\"@example.org>", 0 },
	{ S("<\" x\"@example.org>"), OK, "<\" x\"@example.org>", 0 },
	{ S("<x@EXAMPLE.Org>"), OK, "<x@EXAMPLE.Org>", 0 },
	{ S("<x@a-b.c0.example>"), OK, "<x@a-b.c0.example>", 0 },
	{ S("<x@1.2.3.4>"), OK, "<x@1.2.3.4>", 0 },
	{ S("<x@example>"), OK, "<x@example>", 0 },
	{ S("<x@[192.0.2.1]>"), OK, "<x@[192.0.2.1]>", 1 },
	{ S("<x@[IPv6:2001:db8::1]>"), OK, "<x@[IPv6:2001:db8::1]>", 1 },
	{ S("<x@[ipv6:::1]>"), OK, "<x@[ipv6:::1]>", 1 },
	{ S("<x@[IPv6:::ffff:192.0.2.1]>"), OK,
	    "<x@[IPv6:::ffff:192.0.2.1]>", 1 },
	{ S("<@a.example,@b.example:x@example.org>"), OK, "<x@example.org>",
	    0 },
	{ S("<@a.example:x@example.org>"), OK, "<x@example.org>", 0 },
	{ S("<@a.example:x@[10.0.0.1]>"), OK, "<x@[10.0.0.1]>", 1 },

	/* syntax */
	{ S(""), SYNTAX, "in <>", 0 },
	{ S("<"), SYNTAX, "in <>", 0 },
	{ S(">"), SYNTAX, "in <>", 0 },
	{ S("a@example.org"), SYNTAX, "in <>", 0 },
	{ S("<a@example.org"), SYNTAX, "in <>", 0 },
	{ S("a@example.org>"), SYNTAX, "in <>", 0 },
	{ S("<a@example.org> "), SYNTAX, "in <>", 0 },
	{ S("<a>"), SYNTAX, "needs @domain", 0 },
	{ S("<postmaster>"), SYNTAX, "needs @domain", 0 },
	{ S("<a@>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@example.org.>"), SYNTAX, "ends in a dot", 0 },
	{ S("<a@.example.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@exa..mple.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@-example.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@example-.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@exa_mple.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<a@exa mple.org>"), SYNTAX, "Bad domain", 0 },
	{ S("<.a@example.org>"), SYNTAX, "local part", 0 },
	{ S("<a.@example.org>"), SYNTAX, "local part", 0 },
	{ S("<a..b@example.org>"), SYNTAX, "local part", 0 },
	{ S("<a b@example.org>"), SYNTAX, "local part", 0 },
	{ S("<a(c)@example.org>"), SYNTAX, "local part", 0 },
	{ S("<a\\b@example.org>"), SYNTAX, "local part", 0 },
	{ S("<\"a@example.org>"), SYNTAX, "local part", 0 },
	{ S("<\"a\"b@example.org>"), SYNTAX, "local part", 0 },
	{ S("<\"a\\\"@example.org>"), SYNTAX, "local part", 0 },
	{ S("<\"\"@example.org>"), SYNTAX, "Empty local part", 0 },
	{ S("<a@[1.2.3]>"), SYNTAX, "literal", 0 },
	{ S("<a@[300.1.1.1]>"), SYNTAX, "literal", 0 },
	{ S("<a@[IPv6:1.2.3.4]>"), SYNTAX, "literal", 0 },
	{ S("<a@[IPv6:gggg::]>"), SYNTAX, "literal", 0 },
	{ S("<a@[2001:db8::1]>"), SYNTAX, "literal", 0 },
	{ S("<a@[Foo:bar]>"), SYNTAX, "literal", 0 },
	{ S("<a@[1.2.3.4>"), SYNTAX, "literal", 0 },
	{ S("<a@[]>"), SYNTAX, "literal", 0 },
	{ S("<a@1.2.3.4]>"), SYNTAX, "Bad domain", 0 },
	{ S("<@a.example:>"), SYNTAX, "local part", 0 },
	{ S("<@:a@example.org>"), SYNTAX, "source route", 0 },
	{ S("<@a.example>"), SYNTAX, "source route", 0 },
	{ S("<@a.example,x@example.org>"), SYNTAX, "source route", 0 },
	{ S("<@a.example.:x@example.org>"), SYNTAX, "source route", 0 },
	{ S("<@[1.2.3.4]:x@example.org>"), SYNTAX, "source route", 0 },
	{ S("<@a.example,:x@example.org>"), SYNTAX, "source route", 0 },

	/* a second unquoted @, wherever it is */
	{ S("<a@b@example.org>"), TRICK, "second @", 0 },
	{ S("<a@@example.org>"), TRICK, "second @", 0 },
	{ S("<@r.example:a@b@example.org>"), TRICK, "second @", 0 },

	/* non-ASCII anywhere: 553 5.6.7, before the syntax */
	{ S("<\xc3\xa9@example.org>"), ASCII, "Non-ASCII", 0 },
	{ S("<a@ex\xc3\xa4mple.org>"), ASCII, "Non-ASCII", 0 },
	{ S("<\"\xff\"@example.org>"), ASCII, "Non-ASCII", 0 },
	{ S("<a@b\x80"), ASCII, "Non-ASCII", 0 },

	/* control octets anywhere, quoted or not, NUL included */
	{ S("<a\x01" "b@example.org>"), TRICK, "Control", 0 },
	{ S("<\"a\tb\"@example.org>"), TRICK, "Control", 0 },
	{ S("<\"a\\\tb\"@example.org>"), TRICK, "Control", 0 },
	{ S("<a@exa\x7fmple.org>"), TRICK, "Control", 0 },
	{ S("<a\0b@example.org>"), TRICK, "Control", 0 },
	{ S("<a@example.org\r\n>"), TRICK, "Control", 0 },

	/* programs, files, options, :include: */
	{ S("<|cmd@example.org>"), TRICK, "Program", 0 },
	{ S("<\"|/bin/sh -c x\"@example.org>"), TRICK, "Program", 0 },
	{ S("<\" |cmd\"@example.org>"), TRICK, "Program", 0 },
	{ S("<\"\\|cmd\"@example.org>"), TRICK, "Program", 0 },
	{ S("</etc/passwd@example.org>"), TRICK, "File", 0 },
	{ S("<\"/tmp/x y\"@example.org>"), TRICK, "File", 0 },
	{ S("<-oQ/tmp@example.org>"), TRICK, "'-'", 0 },
	{ S("<\"-X/tmp/log\"@example.org>"), TRICK, "'-'", 0 },
	{ S("<\":include:/etc/x\"@example.org>"), TRICK, ":include:", 0 },
	{ S("<\"a:INCLUDE:b\"@example.org>"), TRICK, ":include:", 0 },
	{ S("<\"a:InClUdE:\"@example.org>"), TRICK, ":include:", 0 },
	{ S("<@r.example:|cmd@example.org>"), TRICK, "Program", 0 },
	{ S("<@r.example,@s.example:\"/x\"@example.org>"), TRICK, "File", 0 },
};

/* exact_parse - addr_parse on a heap copy of exactly LEN octets */
static const char *
exact_parse(const char *in, size_t len, enum role role, struct addr *a)
{
	char *buf = malloc(len > 0 ? len : 1);
	const char *r;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, in, len);
	r = addr_parse(buf, len, role, 0, a);
	free(buf);
	return r;
}

/* expect_code - the reply code an expectation stands for, by role */
static const char *
expect_code(enum expect e, enum role role)
{
	switch (e) {
	case SYNTAX:
		return role == ROLE_SENDER ? "501 5.1.7 " : "501 5.1.3 ";
	case TRICK:
		return role == ROLE_SENDER ? "553 5.1.7 " : "553 5.1.3 ";
	case ASCII:
		return "553 5.6.7 ";
	case OK:
		break;
	}
	return NULL;
}

/* check_addr_case - one table row in one role, then all its prefixes */
static void
check_addr_case(const struct addr_case *c, enum role role)
{
	const char *code = expect_code(c->expect, role), *r;
	struct addr a;
	size_t n;

	r = exact_parse(c->in, c->len, role, &a);
	if (c->expect == OK) {
		ck_assert_msg(r == NULL, "%s: refused: %s", c->in, r);
		ck_assert_str_eq(a.path, c->path);
		ck_assert_int_eq(a.literal, c->literal);
		ck_assert_int_eq(a.null, 0);
	} else {
		ck_assert_msg(r != NULL, "%s: accepted", c->in);
		ck_assert_msg(strncmp(r, code, strlen(code)) == 0,
		    "%s: got \"%s\", want %s", c->in, r, code);
		ck_assert_msg(strstr(r, c->path) != NULL,
		    "%s: got \"%s\", want text \"%s\"", c->in, r, c->path);
		ck_assert_str_eq(a.path, "");
	}
	for (n = 0; n < c->len; n++) {
		r = exact_parse(c->in, n, role, &a);
		ck_assert_msg(c->expect != OK || r != NULL,
		    "%s: prefix of %zu octets accepted", c->in, n);
	}
}

START_TEST(test_addr_table_sender)
{
	check_addr_case(&addr_cases[_i], ROLE_SENDER);
}
END_TEST

START_TEST(test_addr_table_rcpt)
{
	check_addr_case(&addr_cases[_i], ROLE_RCPT);
}
END_TEST

START_TEST(test_addr_null)
{
	struct addr a;
	const char *r;

	r = exact_parse(S("<>"), ROLE_SENDER, &a);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(a.null, 1);
	ck_assert_str_eq(a.path, "<>");
	r = exact_parse(S("<>"), ROLE_RCPT, &a);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "501 5.1.3 ", 10) == 0, "%s", r);
}
END_TEST

/* make_domain - a valid domain of exactly N octets (labels of <= 63) */
static void
make_domain(char *out, size_t n)
{
	size_t rem = n, label;

	while (rem > 63) {
		label = rem - 64 >= 1 ? 63 : 62;
		memset(out, 'a', label);
		out[label] = '.';
		out += label + 1;
		rem -= label + 1;
	}
	memset(out, 'b', rem);
	out[rem] = '\0';
}

/* make_addr - "<" LOCAL "@" DOMAIN ">" with given lengths; its length */
static size_t
make_addr(char *out, size_t llen, int quoted, size_t dlen)
{
	size_t n = 0;

	out[n++] = '<';
	memset(out + n, 'l', llen);
	if (quoted) {
		out[n] = '"';
		out[n + llen - 1] = '"';
	}
	n += llen;
	out[n++] = '@';
	make_domain(out + n, dlen);
	n += dlen;
	out[n++] = '>';
	out[n] = '\0';
	return n;
}

/* expect_len_case - make_addr, parse in both roles, check the verdict */
static void
expect_len_case(size_t llen, int quoted, size_t dlen, const char *text)
{
	char buf[1024];
	struct addr a;
	const char *r;
	size_t len;
	int role;

	len = make_addr(buf, llen, quoted, dlen);
	for (role = ROLE_SENDER; role <= ROLE_RCPT; role++) {
		r = exact_parse(buf, len, (enum role)role, &a);
		if (text == NULL) {
			ck_assert_msg(r == NULL, "%zu/%zu: %s", llen, dlen, r);
			ck_assert_uint_eq(strlen(a.path), len);
			continue;
		}
		ck_assert_msg(r != NULL, "%zu/%zu accepted", llen, dlen);
		ck_assert_msg(strncmp(r, role == ROLE_SENDER ? "501 5.1.7 " :
		    "501 5.1.3 ", 10) == 0, "%s", r);
		ck_assert_msg(strstr(r, text) != NULL, "%zu/%zu: %s", llen,
		    dlen, r);
	}
}

START_TEST(test_addr_limits)
{
	/* local part: 64 octets as written, quotes included */
	expect_len_case(64, 0, 11, NULL);
	expect_len_case(65, 0, 11, "Local part longer than 64 octets");
	expect_len_case(64, 1, 11, NULL);
	expect_len_case(65, 1, 11, "Local part longer than 64 octets");
	/* path: 256 octets, brackets included: 1 + 64 + 1 + 189 + 1 */
	expect_len_case(64, 0, 189, NULL);
	expect_len_case(64, 0, 190, "Path longer than 256 octets");
	expect_len_case(1, 0, 252, NULL);
	expect_len_case(1, 0, 253, "Path longer than 256 octets");
	/* a 255-octet domain passes its own limit, then the path's */
	expect_len_case(1, 0, 255, "Path longer than 256 octets");
	expect_len_case(1, 0, 256, "Domain longer than 255 octets");
}
END_TEST

/* make_route_addr - "<@...,@...:x@example.org>" of exactly LEN octets */
static size_t
make_route_addr(char *out, size_t len)
{
	static const char tail[] = "x@example.org>";
	size_t n = 0, rem = len - 1 - (sizeof(tail) - 1);

	out[n++] = '<';
	while (rem > 64) {
		out[n++] = '@';
		memset(out + n, 'r', 60);
		n += 60;
		out[n++] = ',';
		rem -= 62;
	}
	out[n++] = '@';
	memset(out + n, 's', rem - 2);
	n += rem - 2;
	out[n++] = ':';
	memcpy(out + n, tail, sizeof(tail));
	return n + sizeof(tail) - 1;
}

START_TEST(test_addr_raw_limit)
{
	char buf[1024];
	struct addr a;
	const char *r;
	size_t len;

	len = make_route_addr(buf, 512);
	ck_assert_uint_eq(len, 512);
	r = exact_parse(buf, len, ROLE_RCPT, &a);
	ck_assert_msg(r == NULL, "%s", r);
	ck_assert_str_eq(a.path, "<x@example.org>");
	len = make_route_addr(buf, 513);
	ck_assert_uint_eq(len, 513);
	r = exact_parse(buf, len, ROLE_RCPT, &a);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r, "501 5.1.3 Path longer than 512 octets");
	r = exact_parse(buf, len, ROLE_SENDER, &a);
	ck_assert_str_eq(r, "501 5.1.7 Path longer than 512 octets");
}
END_TEST

START_TEST(test_addr_label_limit)
{
	char buf[128];
	struct addr a;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "<x@", 3);
	memset(buf + 3, 'a', 63);
	memcpy(buf + 66, ".org>", 5);
	ck_assert_ptr_null(exact_parse(buf, 71, ROLE_RCPT, &a));
	memset(buf + 3, 'a', 64);
	memcpy(buf + 67, ".org>", 5);
	ck_assert_str_eq(exact_parse(buf, 72, ROLE_RCPT, &a),
	    "501 5.1.3 Bad domain syntax");
}
END_TEST

/* ---- the configuration used by the RCPT and MAIL tests ---- */

static char *test_domains[] = { "example.org", ".sub.example.net" };
static struct cidr test_relay[2];

/* test_config - local_domains and relay_networks for the tables */
static void
test_config(struct config *c)
{
	config_defaults(c);
	c->local_domains = test_domains;
	c->nlocal = 2;
	ck_assert_int_eq(cidr_parse("127.0.0.1/32", &test_relay[0]), 0);
	ck_assert_int_eq(cidr_parse("2001:db8:1::/64", &test_relay[1]), 0);
	c->relay = test_relay;
	c->nrelay = 2;
	c->max_message_size = 1000;
}

struct rcpt_case {
	const char	*peer;	/* NULL: unknown */
	const char	*arg;
	const char	*code;	/* NULL: accepted */
};

#define RELAY	"127.0.0.1"
#define STRANGER "127.0.0.2"

static const struct rcpt_case rcpt_cases[] = {
	/* relay decisions */
	{ RELAY, " TO:<x@elsewhere.example>", NULL },
	{ STRANGER, " TO:<x@elsewhere.example>", "554 5.7.1 " },
	{ "::ffff:127.0.0.1", " TO:<x@elsewhere.example>", NULL },
	{ "::ffff:127.0.0.2", " TO:<x@elsewhere.example>", "554 5.7.1 " },
	{ "::1", " TO:<x@elsewhere.example>", "554 5.7.1 " },
	{ "2001:db8:1::5", " TO:<x@elsewhere.example>", NULL },
	{ "2001:db8:1:0:ffff:ffff:ffff:ffff", " TO:<x@elsewhere.example>",
	    NULL },
	{ "2001:db8:1:1::5", " TO:<x@elsewhere.example>", "554 5.7.1 " },
	{ NULL, " TO:<x@elsewhere.example>", "554 5.7.1 " },
	{ NULL, " TO:<x@example.org>", NULL },
	{ STRANGER, " TO:<x@example.org>", NULL },
	{ STRANGER, " TO:<x@EXAMPLE.ORG>", NULL },
	{ STRANGER, " TO:<x@Example.Org>", NULL },
	{ STRANGER, " TO:<x@a.example.org>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@example.org.evil.example>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@notexample.org>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@a.sub.example.net>", NULL },
	{ STRANGER, " TO:<x@A.B.SUB.example.NET>", NULL },
	{ STRANGER, " TO:<x@sub.example.net>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@asub.example.net>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@[127.0.0.1]>", "554 5.7.1 " },
	{ STRANGER, " TO:<x@[IPv6:::1]>", "554 5.7.1 " },
	{ RELAY, " TO:<x@[127.0.0.1]>", NULL },
	/* a source route never gets around the relay check */
	{ STRANGER, " TO:<@example.org:x@elsewhere.example>", "554 5.7.1 " },
	{ STRANGER, " TO:<@elsewhere.example:x@example.org>", NULL },
	/* relay tricks in local domains, whoever the client is */
	{ STRANGER, " TO:<a%b@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<a%b@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<a%elsewhere.example@x.sub.example.net>", "553 5.1.3 " },
	{ STRANGER, " TO:<b!a@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<b!a@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<\"a@b\"@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<\"a@b\"@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<\"a%b\"@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<\"a\\%b\"@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<a@b@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<a@b@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<a@b@elsewhere.example>", "553 5.1.3 " },
	/* ... but a relay client may send them to other domains */
	{ RELAY, " TO:<a%b@elsewhere.example>", NULL },
	{ RELAY, " TO:<b!a@elsewhere.example>", NULL },
	{ STRANGER, " TO:<a%b@elsewhere.example>", "554 5.7.1 " },
	/* trick forms for any recipient */
	{ RELAY, " TO:<|cmd@example.org>", "553 5.1.3 " },
	{ RELAY, " TO:<\"/etc/passwd\"@elsewhere.example>", "553 5.1.3 " },
	{ STRANGER, " TO:<-oQ@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<\":include:/x\"@example.org>", "553 5.1.3 " },
	{ STRANGER, " TO:<\xc3\xa9@example.org>", "553 5.6.7 " },
	/* syntax of the command and parameters */
	{ STRANGER, " to:<x@example.org>", NULL },
	{ STRANGER, " To: <x@example.org>", NULL },
	{ STRANGER, " TO:   <x@example.org>  ", NULL },
	{ STRANGER, " TO:<x@example.org> NOTIFY=NEVER", "555 5.5.4 " },
	{ STRANGER, " TO:<x@example.org> ORCPT=rfc822;x@example.org",
	    "555 5.5.4 " },
	{ STRANGER, " TO:<x@example.org> FOO", "555 5.5.4 " },
	{ STRANGER, " TO:<x@example.org>junk", "501 5.5.4 " },
	{ STRANGER, " TO:<x@example.org> =x", "501 5.5.4 " },
	{ STRANGER, " TO x@example.org", "501 5.5.4 " },
	{ STRANGER, " TO:x@example.org", "501 5.1.3 " },
	{ STRANGER, "TO:<x@example.org>", "501 5.5.4 " },
	{ STRANGER, "  TO:<x@example.org>", "501 5.5.4 " },
	{ STRANGER, " TO:<x@example.org", "501 5.1.3 " },
	{ STRANGER, " TO:", "501 5.1.3 " },
	{ STRANGER, "", "501 5.5.4 " },
	{ STRANGER, " FROM:<x@example.org>", "501 5.5.4 " },
	{ STRANGER, " TO:<>", "501 5.1.3 " },
	{ STRANGER, " TO:<x@example.org.>", "501 5.1.3 " },
	{ STRANGER, " TO:<x y@example.org>", "501 5.1.3 " },
	{ STRANGER, " TO:<\"x>y\"@example.org>", NULL },
};

START_TEST(test_rcpt_table)
{
	const struct rcpt_case *c = &rcpt_cases[_i];
	struct config conf;
	struct peer peer;
	struct addr a;
	const char *r;
	char *arg;

	size_t n;

	test_config(&conf);
	if (c->peer != NULL)
		ck_assert_int_eq(peer_set_text(&peer, c->peer), 0);
	else
		ck_assert_int_eq(peer_set_text(&peer, NULL), -1);
	/* every prefix, in a buffer of its exact size: no over-read */
	for (n = 0; n < strlen(c->arg); n++) {
		ck_assert_ptr_nonnull(arg = strndup(c->arg, n));
		(void)policy_rcpt(&conf, &peer, arg, 0, &a);
		free(arg);
	}
	ck_assert_ptr_nonnull(arg = strdup(c->arg));
	r = policy_rcpt(&conf, &peer, arg, 0, &a);
	free(arg);
	if (c->code == NULL)
		ck_assert_msg(r == NULL, "%s from %s: %s", c->arg, c->peer, r);
	else
		ck_assert_msg(r != NULL && strncmp(r, c->code,
		    strlen(c->code)) == 0, "%s from %s: got %s, want %s",
		    c->arg, c->peer, r, c->code);
}
END_TEST

START_TEST(test_rcpt_path_kept)
{
	struct config conf;
	struct peer peer;
	struct addr a;

	test_config(&conf);
	ck_assert_int_eq(peer_set_text(&peer, STRANGER), 0);
	ck_assert_ptr_null(policy_rcpt(&conf, &peer,
	    " TO:<@elsewhere.example:\"X Y\"@Example.ORG>", 0, &a));
	ck_assert_str_eq(a.path, "<\"X Y\"@Example.ORG>");
	ck_assert_str_eq(a.local, "\"X Y\"");
	ck_assert_str_eq(a.domain, "Example.ORG");
	ck_assert_int_eq(a.literal, 0);
	ck_assert_int_eq(a.null, 0);
}
END_TEST

struct mail_case {
	const char		*arg;
	const char		*code;		/* NULL: accepted */
	int			 size_given;
	unsigned long long	 size;
	enum body		 body;
	const char		*path;
};

/* max_message_size is 1000 in test_config. */
static const struct mail_case mail_cases[] = {
	{ " FROM:<a@example.org>", NULL, 0, 0, BODY_NONE, "<a@example.org>" },
	{ " FROM:<>", NULL, 0, 0, BODY_NONE, "<>" },
	{ " from:<>", NULL, 0, 0, BODY_NONE, "<>" },
	{ " From: <a@example.org>", NULL, 0, 0, BODY_NONE, "<a@example.org>" },
	{ " FROM:<a@example.org> SIZE=1000", NULL, 1, 1000, BODY_NONE,
	    "<a@example.org>" },
	{ " FROM:<a@example.org> SIZE=0", NULL, 1, 0, BODY_NONE,
	    "<a@example.org>" },
	{ " FROM:<a@example.org> size=000000000000000000000000999", NULL, 1,
	    999, BODY_NONE, "<a@example.org>" },
	{ " FROM:<a@example.org> SIZE=1001", "552 5.3.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:<a@example.org> SIZE=99999999999999999999999999",
	    "552 5.3.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> SIZE=", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> SIZE", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> SIZE=12k", "501 5.5.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:<a@example.org> SIZE=-1", "501 5.5.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:<a@example.org> SIZE=1=2", "501 5.5.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:<a@example.org> SIZE=10 SIZE=10", "501 5.5.4 ", 0, 0,
	    BODY_NONE, NULL },
	{ " FROM:<a@example.org> BODY=7BIT", NULL, 0, 0, BODY_7BIT,
	    "<a@example.org>" },
	{ " FROM:<a@example.org> body=8bitmime", NULL, 0, 0, BODY_8BITMIME,
	    "<a@example.org>" },
	{ " FROM:<a@example.org> BODY=8BITMIME SIZE=10", NULL, 1, 10,
	    BODY_8BITMIME, "<a@example.org>" },
	{ " FROM:<a@example.org>  SIZE=10   BODY=7BIT  ", NULL, 1, 10,
	    BODY_7BIT, "<a@example.org>" },
	{ " FROM:<a@example.org> BODY=BINARYMIME", "501 5.5.4 ", 0, 0,
	    BODY_NONE, NULL },
	{ " FROM:<a@example.org> BODY", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> BODY=7BIT BODY=7BIT", "501 5.5.4 ", 0, 0,
	    BODY_NONE, NULL },
	{ " FROM:<a@example.org> RET=FULL", "555 5.5.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:<a@example.org> ENVID=x", "555 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> SMTPUTF8", NULL, 0, 0, BODY_NONE,
	    "<a@example.org>" },
	{ " FROM:<a@example.org> AUTH=<>", "555 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> X-FOO=1", "555 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org>SIZE=10", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> -X=1", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org> SIZE=1\x01", "501 5.5.4 ", 0, 0, BODY_NONE,
	    NULL },
	{ " FROM:a@example.org", "501 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM <a@example.org>", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ "FROM:<a@example.org>", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ "  FROM:<a@example.org>", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org", "501 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:", "501 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ "", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " TO:<a@example.org>", "501 5.5.4 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@example.org.>", "501 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<a@b@example.org>", "553 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<|cmd@example.org>", "553 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<\"a\x01\"@example.org>", "553 5.1.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<\xc3\xa9@example.org>", "553 5.6.7 ", 0, 0, BODY_NONE, NULL },
	{ " FROM:<@r.example:a@example.org>", NULL, 0, 0, BODY_NONE,
	    "<a@example.org>" },
	/* the sender is never relay-checked and may be anywhere */
	{ " FROM:<a%b@example.org>", NULL, 0, 0, BODY_NONE, "<a%b@example.org>" },
};

START_TEST(test_mail_table)
{
	const struct mail_case *c = &mail_cases[_i];
	struct config conf;
	struct mailargs m;
	const char *r;
	char *arg;

	size_t n;

	test_config(&conf);
	for (n = 0; n < strlen(c->arg); n++) {
		ck_assert_ptr_nonnull(arg = strndup(c->arg, n));
		(void)policy_mail(&conf, arg, &m);
		free(arg);
	}
	ck_assert_ptr_nonnull(arg = strdup(c->arg));
	r = policy_mail(&conf, arg, &m);
	free(arg);
	if (c->code != NULL) {
		ck_assert_msg(r != NULL && strncmp(r, c->code,
		    strlen(c->code)) == 0, "%s: got %s, want %s", c->arg, r,
		    c->code);
		return;
	}
	ck_assert_msg(r == NULL, "%s: %s", c->arg, r);
	ck_assert_int_eq(m.size_given, c->size_given);
	ck_assert_uint_eq(m.size, c->size);
	ck_assert_int_eq(m.body, c->body);
	ck_assert_str_eq(m.from.path, c->path);
	ck_assert_int_eq(m.from.null, strcmp(c->path, "<>") == 0);
}
END_TEST

START_TEST(test_mail_size_text)
{
	struct config conf;
	struct mailargs m;

	test_config(&conf);
	ck_assert_str_eq(policy_mail(&conf, " FROM:<a@b.example> SIZE=1001",
	    &m), "552 5.3.4 Message size exceeds max_message_size");
	ck_assert_str_eq(policy_mail(&conf, " FROM:<a@b.example> SIZE=1 SIZE=1",
	    &m), "501 5.5.4 Duplicate SIZE parameter");
}
END_TEST

struct helo_case {
	const char	*arg;
	int		 ok;
};

static const struct helo_case helo_cases[] = {
	{ "mail.example.org", 1 },
	{ "MAIL.Example.ORG", 1 },
	{ "localhost", 1 },
	{ "a-b.example", 1 },
	{ "192.0.2.1", 1 },
	{ "[192.0.2.1]", 1 },
	{ "[IPv6:2001:db8::1]", 1 },
	{ "", 0 },
	{ " ", 0 },
	{ "mail.example.org.", 0 },
	{ ".example.org", 0 },
	{ "mail..example.org", 0 },
	{ "-mail.example.org", 0 },
	{ "mail-.example.org", 0 },
	{ "mail_x.example.org", 0 },
	{ "mail.example.org ", 0 },
	{ "mail example", 0 },
	{ "[192.0.2.1", 0 },
	{ "[192.0.2.256]", 0 },
	{ "[2001:db8::1]", 0 },
	{ "[IPv6:zz::1]", 0 },
	{ "m\xc3\xa4il.example", 0 },
	{ "mail.example\r", 0 },
	{ "<mail.example>", 0 },
};

START_TEST(test_helo_table)
{
	const struct helo_case *c = &helo_cases[_i];
	const char *r;
	char *arg;

	ck_assert_ptr_nonnull(arg = strdup(c->arg));
	r = policy_helo(arg);
	free(arg);
	if (c->ok)
		ck_assert_msg(r == NULL, "\"%s\": %s", c->arg, r);
	else
		ck_assert_msg(r != NULL && strncmp(r, "501 5.5.4 ", 10) == 0,
		    "\"%s\": %s", c->arg, r);
}
END_TEST

START_TEST(test_helo_limits)
{
	char buf[300];

	make_domain(buf, 255);
	ck_assert_ptr_null(policy_helo(buf));
	make_domain(buf, 256);
	ck_assert_str_eq(policy_helo(buf),
	    "501 5.5.4 HELO/EHLO argument longer than 255 octets");
	ck_assert_str_eq(policy_helo(""),
	    "501 5.5.4 HELO/EHLO requires a domain name");
}
END_TEST

START_TEST(test_domain_is_local)
{
	struct config conf;

	test_config(&conf);
	ck_assert_int_eq(domain_is_local(&conf, "example.org"), 1);
	ck_assert_int_eq(domain_is_local(&conf, "EXAMPLE.ORG"), 1);
	ck_assert_int_eq(domain_is_local(&conf, "a.example.org"), 0);
	ck_assert_int_eq(domain_is_local(&conf, "xexample.org"), 0);
	ck_assert_int_eq(domain_is_local(&conf, "example.org.x"), 0);
	ck_assert_int_eq(domain_is_local(&conf, "sub.example.net"), 0);
	ck_assert_int_eq(domain_is_local(&conf, "a.sub.example.net"), 1);
	ck_assert_int_eq(domain_is_local(&conf, "a.b.Sub.Example.Net"), 1);
	ck_assert_int_eq(domain_is_local(&conf, "asub.example.net"), 0);
	ck_assert_int_eq(domain_is_local(&conf, "example.net"), 0);
	ck_assert_int_eq(domain_is_local(&conf, ""), 0);
	ck_assert_int_eq(domain_is_local(&conf, "[127.0.0.1]"), 0);
	conf.nlocal = 0;
	ck_assert_int_eq(domain_is_local(&conf, "example.org"), 0);
}
END_TEST

struct cidr_case {
	const char	*in;
	int		 ok;
	int		 family;
	unsigned int	 bits;
};

static const struct cidr_case cidr_cases[] = {
	{ "127.0.0.0/8", 1, AF_INET, 8 },
	{ "127.0.0.1", 1, AF_INET, 32 },
	{ "0.0.0.0/0", 1, AF_INET, 0 },
	{ "192.0.2.128/25", 1, AF_INET, 25 },
	{ "10.1.2.3/32", 1, AF_INET, 32 },
	{ "::1/128", 1, AF_INET6, 128 },
	{ "::1", 1, AF_INET6, 128 },
	{ "2001:db8::/32", 1, AF_INET6, 32 },
	{ "::/0", 1, AF_INET6, 0 },
	{ "::ffff:10.0.0.0/104", 1, AF_INET, 8 },
	{ "::ffff:10.1.2.3", 1, AF_INET, 32 },
	{ "10.0.0.1/8", 0, 0, 0 },		/* host bits set */
	{ "192.0.2.129/25", 0, 0, 0 },
	{ "2001:db8::1/32", 0, 0, 0 },
	{ "10.0.0.0/33", 0, 0, 0 },
	{ "::/129", 0, 0, 0 },
	{ "10.0.0.0/", 0, 0, 0 },
	{ "10.0.0.0/-1", 0, 0, 0 },
	{ "10.0.0.0/8x", 0, 0, 0 },
	{ "/8", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "10.0.0", 0, 0, 0 },
	{ "localhost", 0, 0, 0 },
	{ "10.0.0.0/8/8", 0, 0, 0 },
	{ "2001:db8::g/32", 0, 0, 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/128", 0, 0, 0 },
};

START_TEST(test_cidr_table)
{
	const struct cidr_case *c = &cidr_cases[_i];
	struct cidr cidr;
	int r;

	r = cidr_parse(c->in, &cidr);
	ck_assert_msg((r == 0) == c->ok, "%s: %d", c->in, r);
	if (c->ok) {
		ck_assert_int_eq(cidr.family, c->family);
		ck_assert_uint_eq(cidr.bits, c->bits);
	}
}
END_TEST

START_TEST(test_peer_sockaddr)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct peer p;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
	ck_assert_int_eq(peer_set_sockaddr(&p, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	ck_assert_int_eq(p.known, 1);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_str_eq(p.text, "192.0.2.7");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &sin6.sin6_addr), 1);
	ck_assert_int_eq(peer_set_sockaddr(&p, (struct sockaddr *)&sin6,
	    sizeof(sin6)), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_str_eq(p.text, "127.0.0.1");

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:DB8::1", &sin6.sin6_addr),
	    1);
	ck_assert_int_eq(peer_set_sockaddr(&p, (struct sockaddr *)&sin6,
	    sizeof(sin6)), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_str_eq(p.text, "2001:db8::1");

	ck_assert_int_eq(peer_set_sockaddr(&p, (struct sockaddr *)&sin6, 8),
	    -1);
	ck_assert_int_eq(p.known, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(peer_set_sockaddr(&p, (struct sockaddr *)&sun,
	    sizeof(sun)), -1);
	ck_assert_int_eq(p.known, 0);
	ck_assert_str_eq(p.text, "unknown");
}
END_TEST

START_TEST(test_peer_text)
{
	struct config conf;
	struct peer p;

	test_config(&conf);
	ck_assert_int_eq(peer_set_text(&p, "127.0.0.1"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
	ck_assert_int_eq(peer_set_text(&p, "127.0.0.2"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	ck_assert_int_eq(peer_set_text(&p, "::ffff:127.0.0.1"), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_str_eq(p.text, "127.0.0.1");
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
	ck_assert_int_eq(peer_set_text(&p, "2001:DB8:1::1"), 0);
	ck_assert_str_eq(p.text, "2001:db8:1::1");
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
	ck_assert_int_eq(peer_set_text(&p, "2001:db8:2::1"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	ck_assert_int_eq(peer_set_text(&p, "not-an-ip"), -1);
	ck_assert_int_eq(p.known, 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	ck_assert_int_eq(peer_set_text(&p, ""), -1);
	ck_assert_int_eq(peer_set_text(&p, "[127.0.0.1]"), -1);
	ck_assert_int_eq(peer_set_text(&p, "127.0.0.1 "), -1);
	ck_assert_int_eq(peer_set_text(&p, "fe80::1%eth0"), -1);
	/* an unknown peer is never a relay, even with 0.0.0.0/0 */
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &test_relay[0]), 0);
	ck_assert_int_eq(cidr_parse("::/0", &test_relay[1]), 0);
	ck_assert_int_eq(peer_set_text(&p, NULL), -1);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	ck_assert_int_eq(peer_set_text(&p, "198.51.100.1"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
	p.known = 0;
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	/* a /25 boundary */
	ck_assert_int_eq(cidr_parse("192.0.2.128/25", &test_relay[0]), 0);
	ck_assert_int_eq(peer_set_text(&p, "192.0.2.127"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 0);
	ck_assert_int_eq(peer_set_text(&p, "192.0.2.128"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
	ck_assert_int_eq(peer_set_text(&p, "192.0.2.255"), 0);
	ck_assert_int_eq(peer_is_relay(&conf, &p), 1);
}
END_TEST

/* ---- the recipients map ---- */

static char tmpdir[64];

/* map_setup - a private temporary directory for the map files */
static void
map_setup(void)
{
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_policy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* map_teardown - remove the files and the directory */
static void
map_teardown(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* map_file - write TEXT (LEN octets) to NAME in tmpdir, map it into C */
static void
map_file(struct config *c, const char *name, const char *text, size_t len)
{
	FILE *fp;

	test_config(c);
	(void)snprintf(c->recipients, sizeof(c->recipients), "%s/%s", tmpdir,
	    name);
	ck_assert_ptr_nonnull(fp = fopen(c->recipients, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(config_map_recipients(c, NULL, NULL), 0);
	ck_assert_ptr_nonnull(c->rcptmap.base);
}

/* has - rcptmap_has for an address given as text */
static int
has(const struct config *c, const char *path)
{
	struct addr a;

	ck_assert_ptr_null(exact_parse(path, strlen(path), ROLE_RCPT, &a));
	return rcptmap_has(&c->rcptmap, &a);
}

/* unmap - release the map only (the lists are the test's own) */
static void
unmap(struct config *c)
{
	c->local_domains = NULL;
	c->nlocal = 0;
	c->relay = NULL;
	c->nrelay = 0;
	config_free(c);
}

START_TEST(test_map_small)
{
	static const char text[] =
	    "\"john doe\"@example.org\n"
	    "@catch.example.org\n"
	    "alice@example.org\n"
	    "bob@example.org\n"
	    "carol@example.org";	/* the last line has no LF */
	struct config c;

	map_file(&c, "small", text, sizeof(text) - 1);
	ck_assert_int_eq(has(&c, "<alice@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<ALICE@Example.ORG>"), 1);
	ck_assert_int_eq(has(&c, "<bob@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<carol@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<\"John Doe\"@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<john.doe@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<carol@example.or>"), 0);
	ck_assert_int_eq(has(&c, "<caro@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<alicex@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<aaa@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<zzz@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<anyone@catch.example.org>"), 1);
	ck_assert_int_eq(has(&c, "<Anyone@CATCH.example.org>"), 1);
	ck_assert_int_eq(has(&c, "<anyone@x.catch.example.org>"), 0);
	ck_assert_int_eq(has(&c, "<x@[127.0.0.1]>"), 0);
	unmap(&c);
}
END_TEST

START_TEST(test_map_edges)
{
	struct config c;

	map_file(&c, "empty", "", 0);
	ck_assert_uint_eq(c.rcptmap.len, 0);
	ck_assert_int_eq(has(&c, "<a@example.org>"), 0);
	unmap(&c);
	map_file(&c, "one", "a@example.org\n", 14);
	ck_assert_int_eq(has(&c, "<a@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<b@example.org>"), 0);
	ck_assert_int_eq(has(&c, "<x@a.example.org>"), 0);
	unmap(&c);
	map_file(&c, "onenolf", "a@example.org", 13);
	ck_assert_int_eq(has(&c, "<a@example.org>"), 1);
	ck_assert_int_eq(has(&c, "<a@example.orga>"), 0);
	unmap(&c);
	map_file(&c, "blank", "\n\na@example.org\n", 16);
	ck_assert_int_eq(has(&c, "<a@example.org>"), 1);
	unmap(&c);
}
END_TEST

/* cmp_lines - qsort's bytewise compare of two strings */
static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* linear_has - the reference answer: a plain scan of the line list */
static int
linear_has(char **lines, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(lines[i], key) == 0)
			return 1;
	return 0;
}

START_TEST(test_map_against_scan)
{
	enum { N = 3000 };
	static char store[N][40];
	static char *lines[N];
	char text[N * 41], addr[80], key[64];
	size_t i, n = 0, len = 0;
	unsigned int seed = 12345;
	struct config c;

	for (i = 0; i < N; i++) {
		size_t j, llen;

		seed = seed * 1103515245u + 12345u;
		llen = 1 + (seed >> 16) % 12;
		for (j = 0; j < llen; j++) {
			seed = seed * 1103515245u + 12345u;
			store[i][j] = (char)('a' + (seed >> 16) % 4);
		}
		(void)snprintf(store[i] + llen, 40 - llen, "@d%u.example",
		    (unsigned)(i % 3));
		lines[i] = store[i];
	}
	qsort(lines, N, sizeof(lines[0]), cmp_lines);
	for (i = 0; i < N; i++)
		if (n == 0 || strcmp(lines[n - 1], lines[i]) != 0)
			lines[n++] = lines[i];
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n",
		    lines[i]);
	map_file(&c, "random", text, len);
	for (i = 0; i < n; i++) {
		(void)snprintf(addr, sizeof(addr), "<%s>", lines[i]);
		ck_assert_msg(has(&c, addr) == 1, "%s missing", lines[i]);
	}
	for (i = 0; i < 4000; i++) {
		size_t j, llen;

		seed = seed * 1103515245u + 12345u;
		llen = 1 + (seed >> 16) % 13;
		for (j = 0; j < llen; j++) {
			seed = seed * 1103515245u + 12345u;
			key[j] = (char)('a' + (seed >> 16) % 4);
		}
		(void)snprintf(key + llen, sizeof(key) - llen, "@d%u.example",
		    (unsigned)(i % 4));
		(void)snprintf(addr, sizeof(addr), "<%s>", key);
		ck_assert_msg(has(&c, addr) == linear_has(lines, n, key),
		    "%s: map and scan disagree", key);
	}
	unmap(&c);
}
END_TEST

START_TEST(test_map_million)
{
	enum { LINES = 1000000 };
	char path[128], addr[64];
	struct config c;
	FILE *fp;
	size_t i;

	test_config(&c);
	(void)snprintf(path, sizeof(path), "%s/million", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	/* '@' (0x40) sorts before the digits' successors and every letter */
	ck_assert_int_ge(fprintf(fp, "@catch.example\n"), 0);
	for (i = 0; i < LINES; i++)
		ck_assert_int_ge(fprintf(fp, "user%07zu@big.example\n", i), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(str_copy(c.recipients, path, sizeof(c.recipients)),
	    0);
	ck_assert_int_eq(config_map_recipients(&c, NULL, NULL), 0);
	ck_assert_uint_eq(c.rcptmap.len, 15 + (size_t)LINES * 24);
	ck_assert_int_eq(config_check_recipients(&c, NULL, NULL), 0);

	ck_assert_int_eq(has(&c, "<user0000000@big.example>"), 1);
	ck_assert_int_eq(has(&c, "<user0999999@big.example>"), 1);
	ck_assert_int_eq(has(&c, "<user0500000@big.example>"), 1);
	ck_assert_int_eq(has(&c, "<USER0500001@Big.Example>"), 1);
	ck_assert_int_eq(has(&c, "<user1000000@big.example>"), 0);
	ck_assert_int_eq(has(&c, "<user050000@big.example>"), 0);
	ck_assert_int_eq(has(&c, "<aaa@big.example>"), 0);
	ck_assert_int_eq(has(&c, "<zzz@big.example>"), 0);
	ck_assert_int_eq(has(&c, "<anyone@catch.example>"), 1);
	ck_assert_int_eq(has(&c, "<anyone@catch.exampl>"), 0);
	/* in place: 200,000 look-ups would take hours if each scanned */
	for (i = 0; i < 200000; i++) {
		(void)snprintf(addr, sizeof(addr), "<user%07zu@big.example>",
		    (i * 7919) % (LINES + 100));
		ck_assert_int_eq(has(&c, addr), (i * 7919) % (LINES + 100) <
		    LINES);
	}
	unmap(&c);
}
END_TEST

START_TEST(test_rcpt_with_map)
{
	static const char text[] = "alice@example.org\nbob@x.sub.example.net\n";
	struct config c;
	struct peer peer;
	struct addr a;

	map_file(&c, "rcpt", text, sizeof(text) - 1);
	ck_assert_int_eq(peer_set_text(&peer, STRANGER), 0);
	ck_assert_ptr_null(policy_rcpt(&c, &peer, " TO:<Alice@Example.org>", 0,
	    &a));
	ck_assert_str_eq(policy_rcpt(&c, &peer, " TO:<carol@example.org>", 0,
	    &a), "550 5.1.1 No such user here");
	ck_assert_ptr_null(policy_rcpt(&c, &peer,
	    " TO:<bob@x.sub.example.net>", 0, &a));
	ck_assert_str_eq(policy_rcpt(&c, &peer, " TO:<bob@y.sub.example.net>", 0,
	    &a), "550 5.1.1 No such user here");
	/* the order: syntax, trick forms, relay, list */
	ck_assert_str_eq(policy_rcpt(&c, &peer, " TO:<bob@elsewhere.example>", 0,
	    &a), "554 5.7.1 Relaying denied: domain is not local");
	ck_assert_ptr_nonnull(policy_rcpt(&c, &peer, " TO:<a%b@example.org>", 0,
	    &a));
	ck_assert_int_eq(strncmp(policy_rcpt(&c, &peer,
	    " TO:<a%b@example.org>", 0, &a), "553 5.1.3 ", 10), 0);
	/* non-local recipients from a relay client are not looked up */
	ck_assert_int_eq(peer_set_text(&peer, RELAY), 0);
	ck_assert_ptr_null(policy_rcpt(&c, &peer,
	    " TO:<bob@elsewhere.example>", 0, &a));
	ck_assert_ptr_null(policy_rcpt(&c, &peer, " TO:<x@[192.0.2.1]>", 0, &a));
	ck_assert_str_eq(policy_rcpt(&c, &peer, " TO:<carol@example.org>", 0,
	    &a), "550 5.1.1 No such user here");
	unmap(&c);
}
END_TEST

#define NCASES(t)	(int)(sizeof(t) / sizeof((t)[0]))

/* ---- SMTPUTF8: UTF-8 addresses, A-labels, confusables (issue 12) ---- */

/*
 * addr_utf8_cases - judged in an SMTPUTF8 transaction.  The same text
 * without the parameter is 553 5.6.7 when it holds a non-ASCII octet.
 */
static const struct addr_case addr_utf8_cases[] = {
	{ S("<jos\xc3\xa9@ex\xc3\xa4mple.org>"), OK,
	    "<jos\xc3\xa9@ex\xc3\xa4mple.org>", 0 },
	/* 用户@例子.广告 */
	{ S("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
	    "\xe5\x91\x8a>"), OK, "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5"
	    "\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>", 0 },
	{ S("<\"jo s\xc3\xa9\"@example.org>"), OK,
	    "<\"jo s\xc3\xa9\"@example.org>", 0 },
	{ S("<a@xn--bcher-kva.example>"), OK, "<a@xn--bcher-kva.example>", 0 },
	{ S("<a@b\xc3\xbc-cher.example>"), OK, "<a@b\xc3\xbc-cher.example>", 0 },
	{ S("<@r\xc3\xa9.example:a@b.example>"), OK, "<a@b.example>", 0 },
	{ S("<a@[192.0.2.1]>"), OK, "<a@[192.0.2.1]>", 1 },
	/* U+3002 is not a dot: "例子。广告" is one label */
	{ S("<a@\xe4\xbe\x8b\xe5\xad\x90\xe3\x80\x82\xe5\xb9\xbf\xe5\x91\x8a>"),
	    OK, "<a@\xe4\xbe\x8b\xe5\xad\x90\xe3\x80\x82\xe5\xb9\xbf\xe5\x91"
	    "\x8a>", 0 },
	/* ill-formed UTF-8 and C1 controls: 501 */
	{ S("<a\xc3@example.org>"), SYNTAX, "not well-formed UTF-8", 0 },
	{ S("<a@example.or\xc3>"), SYNTAX, "not well-formed UTF-8", 0 },
	{ S("<\xc0\xaf" "a@example.org>"), SYNTAX, "not well-formed UTF-8", 0 },
	{ S("<\xe0\x80\xaf" "a@example.org>"), SYNTAX, "not well-formed", 0 },
	{ S("<a@\xed\xa0\x80.org>"), SYNTAX, "not well-formed UTF-8", 0 },
	{ S("<a\xf4\x90\x80\x80@example.org>"), SYNTAX, "not well-formed", 0 },
	{ S("<a\xff@example.org>"), SYNTAX, "not well-formed UTF-8", 0 },
	{ S("<a\xc2\x85@example.org>"), SYNTAX, "C1 control", 0 },
	{ S("<a\xc2\x80@example.org>"), SYNTAX, "C1 control", 0 },
	{ S("<a\xc2\x9f@example.org>"), SYNTAX, "C1 control", 0 },
	{ S("<a\xc2\xa0@example.org>"), OK, "<a\xc2\xa0@example.org>", 0 },
	/* U-label syntax: hyphens at the ends, ASCII that is not LDH */
	{ S("<a@-\xc3\xbc.org>"), SYNTAX, "Bad domain syntax", 0 },
	{ S("<a@\xc3\xbc-.org>"), SYNTAX, "Bad domain syntax", 0 },
	{ S("<a@\xc3\xbc_x.org>"), SYNTAX, "Bad domain syntax", 0 },
	{ S("<a@\xc3\xbc..org>"), SYNTAX, "Bad domain syntax", 0 },
	{ S("<a@\xc3\xbc.org.>"), SYNTAX, "ends in a dot", 0 },
	{ S("<a@[\xc3\xbc]>"), SYNTAX, "Address literal", 0 },
	/* confusables: fullwidth and small forms, any role, any client */
	{ S("<a\xef\xbc\x85" "b@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<\xef\xbd\x9c" "cmd@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<\xef\xbc\x8f" "etc@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<\xef\xbc\x8d" "oQ@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<a\xef\xbc\x81" "b@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<a\xef\xbd\x9e" "b@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<a\xef\xb9\x90" "b@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<a\xef\xb9\xab" "b@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<\"a\xef\xbc\xa0" "b\"@example.org>"), TRICK, "Fullwidth", 0 },
	{ S("<a\xef\xbc\x80" "b@example.org>"), OK,
	    "<a\xef\xbc\x80" "b@example.org>", 0 },
	{ S("<a\xef\xbd\x9f" "b@example.org>"), OK,
	    "<a\xef\xbd\x9f" "b@example.org>", 0 },
	{ S("<a\xef\xb9\x8f" "b@example.org>"), OK,
	    "<a\xef\xb9\x8f" "b@example.org>", 0 },
	{ S("<a\xef\xb9\xac" "b@example.org>"), OK,
	    "<a\xef\xb9\xac" "b@example.org>", 0 },
	/* the domain is not a local part: a fullwidth form there is IDNA's */
	{ S("<a@b\xef\xbc\x85.org>"), OK, "<a@b\xef\xbc\x85.org>", 0 },
	/* every ASCII trick still holds on UTF-8 text */
	{ S("<|\xc3\xa9@example.org>"), TRICK, "Program", 0 },
	{ S("<\"/\xc3\xa9\"@example.org>"), TRICK, "File", 0 },
	{ S("<\xc3\xa9\x01@example.org>"), TRICK, "Control", 0 },
	{ S("<\xc3\xa9@b@example.org>"), TRICK, "second @", 0 },
};

/* exact_parse_utf8 - addr_parse in an SMTPUTF8 transaction, exact buffer */
static const char *
exact_parse_utf8(const char *in, size_t len, enum role role, int utf8,
    struct addr *a)
{
	char *buf = malloc(len > 0 ? len : 1);
	const char *r;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, in, len);
	r = addr_parse(buf, len, role, utf8, a);
	free(buf);
	return r;
}

/* has_high - 1 when the text has an octet outside ASCII */
static int
has_high(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* check_utf8_case - one row, one role: with SMTPUTF8, then without */
static void
check_utf8_case(const struct addr_case *c, enum role role)
{
	const char *code = expect_code(c->expect, role), *r;
	struct addr a;
	size_t n;

	r = exact_parse_utf8(c->in, c->len, role, 1, &a);
	if (c->expect == OK) {
		ck_assert_msg(r == NULL, "%s: refused: %s", c->in, r);
		ck_assert_str_eq(a.path, c->path);
		ck_assert_int_eq(a.literal, c->literal);
	} else {
		ck_assert_msg(r != NULL && strncmp(r, code, strlen(code)) == 0,
		    "%s: got \"%s\", want %s", c->in, r, code);
		ck_assert_msg(strstr(r, c->path) != NULL,
		    "%s: got \"%s\", want text \"%s\"", c->in, r, c->path);
	}
	r = exact_parse_utf8(c->in, c->len, role, 0, &a);
	if (has_high(c->in, c->len))
		ck_assert_msg(r != NULL && strcmp(r, "553 5.6.7 Non-ASCII "
		    "address refused (no SMTPUTF8)") == 0, "%s: %s", c->in, r);
	for (n = 0; n < c->len; n++) {
		r = exact_parse_utf8(c->in, n, role, 1, &a);
		ck_assert_msg(c->expect != OK || r != NULL,
		    "%s: prefix of %zu octets accepted", c->in, n);
	}
}

START_TEST(test_addr_utf8_sender)
{
	check_utf8_case(&addr_utf8_cases[_i], ROLE_SENDER);
}
END_TEST

START_TEST(test_addr_utf8_rcpt)
{
	check_utf8_case(&addr_utf8_cases[_i], ROLE_RCPT);
}
END_TEST

/*
 * make_uaddr - "<" LOCAL "@" DOMAIN ">": a local part of LLEN octets of
 * "é" (and one "a" when LLEN is odd), a domain of DLEN octets of labels
 * of ten "é" (20 octets, xn--9caaaaaaaaaa) and an ASCII label to fill.
 */
static size_t
make_uaddr(char *out, size_t llen, size_t dlen)
{
	size_t n = 0, i, rem;

	out[n++] = '<';
	for (i = 0; i + 2 <= llen; i += 2, n += 2)
		memcpy(out + n, "\xc3\xa9", 2);
	if (llen % 2)
		out[n++] = 'a';
	out[n++] = '@';
	for (rem = dlen; rem > 25; rem -= 21, n += 21)
		memcpy(out + n, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9.", 21);
	memset(out + n, 'd', rem);
	n += rem;
	out[n++] = '>';
	return n;
}

/* expect_ulen - one make_uaddr case: accepted, or the text of the reply */
static void
expect_ulen(size_t llen, size_t dlen, const char *text)
{
	char buf[1024];
	struct addr a;
	const char *r;
	size_t len = make_uaddr(buf, llen, dlen);

	ck_assert_uint_eq(len, llen + dlen + 3);
	r = exact_parse_utf8(buf, len, ROLE_RCPT, 1, &a);
	if (text == NULL)
		ck_assert_msg(r == NULL, "local %zu, domain %zu: %s", llen, dlen,
		    r);
	else
		ck_assert_msg(r != NULL && strstr(r, text) != NULL,
		    "local %zu, domain %zu: got %s, want %s", llen, dlen, r,
		    text);
}

/*
 * test_addr_utf8_limits - SPEC: lengths count octets as sent (UTF-8), at
 * the limit and one past it; each label fits 63 octets in A-label form.
 */
START_TEST(test_addr_utf8_limits)
{
	char buf[128];
	struct addr a;
	const char *r;

	/* local part: 64 octets (32 "é"), 65 */
	expect_ulen(64, 11, NULL);
	expect_ulen(65, 11, "Local part longer than 64 octets");
	/* path: 1 + 64 + 1 + 189 + 1 = 256, then 257 */
	expect_ulen(64, 189, NULL);
	expect_ulen(64, 190, "Path longer than 256 octets");
	/* domain: 255 passes its own limit (then the path's), 256 not */
	expect_ulen(1, 252, NULL);
	expect_ulen(1, 253, "Path longer than 256 octets");
	expect_ulen(1, 255, "Path longer than 256 octets");
	expect_ulen(1, 256, "Domain longer than 255 octets");
	/* a label: 55 'a' and "ü" is 63 octets as an A-label, 56 is 64 */
	memcpy(buf, "<a@", 3);
	memset(buf + 3, 'a', 55);
	memcpy(buf + 58, "\xc3\xbc.org>", 7);
	r = exact_parse_utf8(buf, 65, ROLE_RCPT, 1, &a);
	ck_assert_msg(r == NULL, "%s", r);
	memset(buf + 3, 'a', 56);
	memcpy(buf + 59, "\xc3\xbc.org>", 7);
	r = exact_parse_utf8(buf, 66, ROLE_RCPT, 1, &a);
	ck_assert_str_eq(r, "501 5.1.3 Bad domain syntax");
	/* the same label last in the domain */
	memcpy(buf, "<a@x.", 5);
	memset(buf + 5, 'a', 55);
	memcpy(buf + 60, "\xc3\xbc>", 3);
	ck_assert_ptr_null(exact_parse_utf8(buf, 63, ROLE_RCPT, 1, &a));
	memset(buf + 5, 'a', 56);
	memcpy(buf + 61, "\xc3\xbc>", 3);
	ck_assert_ptr_nonnull(exact_parse_utf8(buf, 64, ROLE_RCPT, 1, &a));
}
END_TEST

struct mail_utf8_case {
	int		 smtputf8;	/* the configuration key */
	const char	*arg;
	const char	*code;		/* NULL: accepted */
	int		 flag;		/* mailargs.smtputf8 when accepted */
};

static const struct mail_utf8_case mail_utf8_cases[] = {
	{ 1, " FROM:<jos\xc3\xa9@example.org> SMTPUTF8", NULL, 1 },
	{ 1, " FROM:<jos\xc3\xa9@example.org> smtputf8", NULL, 1 },
	{ 1, " FROM:<a@example.org> SMTPUTF8", NULL, 1 },
	{ 1, " FROM:<a@example.org>", NULL, 0 },
	{ 1, " FROM:<> SMTPUTF8", NULL, 1 },
	{ 1, " FROM:<jos\xc3\xa9@example.org> BODY=8BITMIME SMTPUTF8 SIZE=10",
	    NULL, 1 },
	{ 1, " FROM:<jos\xc3\xa9@example.org>", "553 5.6.7 ", 0 },
	{ 1, " FROM:<jos\xc3\xa9@example.org> SMTPUTF8=yes", "553 5.6.7 ", 0 },
	{ 1, " FROM:<a@example.org> SMTPUTF8=yes", "501 5.5.4 ", 0 },
	{ 1, " FROM:<a@example.org> SMTPUTF8 SMTPUTF8", "501 5.5.4 ", 0 },
	{ 1, " FROM:<a\xc3@example.org> SMTPUTF8", "501 5.1.7 ", 0 },
	{ 1, " FROM:<a\xc2\x85@example.org> SMTPUTF8", "501 5.1.7 ", 0 },
	{ 1, " FROM:<a\xef\xbc\x85" "b@example.org> SMTPUTF8", "553 5.1.7 ",
	    0 },
	{ 1, " FROM:<jos\xc3\xa9@example.org> SMTPUTF8 FOO", "555 5.5.4 ", 0 },
	{ 1, " FROM:<jos\xc3\xa9@example.org>SMTPUTF8", "553 5.6.7 ", 0 },
	{ 1, " FROM:<jos\xc3\xa9@example.org> X=\xc3\xa9 SMTPUTF8",
	    "553 5.6.7 ", 0 },
	/* smtputf8 = no: the parameter is 555, non-ASCII still 553 5.6.7 */
	{ 0, " FROM:<a@example.org> SMTPUTF8", "555 5.5.4 ", 0 },
	{ 0, " FROM:<jos\xc3\xa9@example.org> SMTPUTF8", "553 5.6.7 ", 0 },
	{ 0, " FROM:<a@example.org>", NULL, 0 },
};

START_TEST(test_mail_utf8_table)
{
	const struct mail_utf8_case *c = &mail_utf8_cases[_i];
	struct config conf;
	struct mailargs m;
	const char *r;
	char *arg;
	size_t n;

	test_config(&conf);
	conf.smtputf8 = c->smtputf8;
	for (n = 0; n < strlen(c->arg); n++) {
		ck_assert_ptr_nonnull(arg = strndup(c->arg, n));
		(void)policy_mail(&conf, arg, &m);
		free(arg);
	}
	ck_assert_ptr_nonnull(arg = strdup(c->arg));
	r = policy_mail(&conf, arg, &m);
	free(arg);
	if (c->code != NULL) {
		ck_assert_msg(r != NULL && strncmp(r, c->code,
		    strlen(c->code)) == 0, "%s: got %s, want %s", c->arg, r,
		    c->code);
		return;
	}
	ck_assert_msg(r == NULL, "%s: %s", c->arg, r);
	ck_assert_int_eq(m.smtputf8, c->flag);
}
END_TEST

/* U-label local_domains as config_load stores them: in A-label form. */
static char *test_udomains[] = { "example.org", "xn--exmple-cua.org",
	".xn--fsqu00a.xn--4rr70v" };

struct rcpt_utf8_case {
	const char	*peer;
	int		 utf8;		/* the transaction's flag */
	const char	*arg;
	const char	*code;		/* NULL: accepted */
};

static const struct rcpt_utf8_case rcpt_utf8_cases[] = {
	{ STRANGER, 1, " TO:<jos\xc3\xa9@ex\xc3\xa4mple.org>", NULL },
	{ STRANGER, 1, " TO:<jos\xc3\xa9@EX\xc3\xa4MPLE.ORG>", NULL },
	{ STRANGER, 1, " TO:<jos\xc3\xa9@xn--exmple-cua.org>", NULL },
	{ STRANGER, 1, " TO:<jos\xc3\xa9@XN--EXMPLE-CUA.org>", NULL },
	{ STRANGER, 0, " TO:<jose@xn--exmple-cua.org>", NULL },
	/* Ä is not folded to ä: another domain */
	{ STRANGER, 1, " TO:<jos\xc3\xa9@ex\xc3\x84mple.org>", "554 5.7.1 " },
	{ RELAY, 1, " TO:<jos\xc3\xa9@ex\xc3\x84mple.org>", NULL },
	/* subdomains of 例子.广告, either form */
	{ STRANGER, 1, " TO:<a@x.\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91"
	    "\x8a>", NULL },
	{ STRANGER, 1, " TO:<a@x.xn--fsqu00a.xn--4rr70v>", NULL },
	{ STRANGER, 1, " TO:<a@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91"
	    "\x8a>", "554 5.7.1 " },
	/* U+3002 is not a dot */
	{ STRANGER, 1, " TO:<a@x.\xe4\xbe\x8b\xe5\xad\x90\xe3\x80\x82\xe5\xb9"
	    "\xbf\xe5\x91\x8a>", "554 5.7.1 " },
	/* the relay tricks of a local domain on UTF-8 text */
	{ RELAY, 1, " TO:<a%\xc3\xa9@ex\xc3\xa4mple.org>", "553 5.1.3 " },
	{ RELAY, 1, " TO:<\xc3\xa9!a@ex\xc3\xa4mple.org>", "553 5.1.3 " },
	{ RELAY, 1, " TO:<\"\xc3\xa9@a\"@ex\xc3\xa4mple.org>", "553 5.1.3 " },
	/* confusables for any domain and any client */
	{ RELAY, 1, " TO:<a\xef\xbc\x85" "b@elsewhere.example>", "553 5.1.3 " },
	{ RELAY, 1, " TO:<\xef\xbd\x9c" "cmd@example.org>", "553 5.1.3 " },
	/* non-ASCII without the parameter; ill-formed with it */
	{ RELAY, 0, " TO:<jos\xc3\xa9@example.org>", "553 5.6.7 " },
	{ RELAY, 0, " TO:<a@ex\xc3\xa4mple.org>", "553 5.6.7 " },
	{ RELAY, 0, " TO:<a\xc3@example.org>", "553 5.6.7 " },
	{ RELAY, 1, " TO:<a\xc3@example.org>", "501 5.1.3 " },
	{ RELAY, 1, " TO:<a\xc2\x9f@example.org>", "501 5.1.3 " },
	{ RELAY, 1, " TO:<a@example.org> SMTPUTF8", "555 5.5.4 " },
};

START_TEST(test_rcpt_utf8_table)
{
	const struct rcpt_utf8_case *c = &rcpt_utf8_cases[_i];
	struct config conf;
	struct peer peer;
	struct addr a;
	const char *r;
	char *arg;
	size_t n;

	test_config(&conf);
	conf.local_domains = test_udomains;
	conf.nlocal = 3;
	ck_assert_int_eq(peer_set_text(&peer, c->peer), 0);
	for (n = 0; n < strlen(c->arg); n++) {
		ck_assert_ptr_nonnull(arg = strndup(c->arg, n));
		(void)policy_rcpt(&conf, &peer, arg, c->utf8, &a);
		free(arg);
	}
	ck_assert_ptr_nonnull(arg = strdup(c->arg));
	r = policy_rcpt(&conf, &peer, arg, c->utf8, &a);
	free(arg);
	if (c->code == NULL)
		ck_assert_msg(r == NULL, "%s from %s: %s", c->arg, c->peer, r);
	else
		ck_assert_msg(r != NULL && strncmp(r, c->code,
		    strlen(c->code)) == 0, "%s from %s: got %s, want %s",
		    c->arg, c->peer, r, c->code);
}
END_TEST

/*
 * test_map_utf8 - the recipients file lists UTF-8 local parts and A-label
 * domains; a U-label RCPT finds its line; only ASCII letters fold.
 */
START_TEST(test_map_utf8)
{
	static const char text[] =
	    "@x.xn--fsqu00a.xn--4rr70v\n"
	    "bob@example.org\n"
	    "jos\xc3\xa9@xn--exmple-cua.org\n";
	struct config c;
	struct peer peer;
	struct addr a;

	map_file(&c, "rcpt", text, sizeof(text) - 1);
	c.local_domains = test_udomains;
	c.nlocal = 3;
	ck_assert_int_eq(peer_set_text(&peer, STRANGER), 0);
	ck_assert_ptr_null(policy_rcpt(&c, &peer,
	    " TO:<jos\xc3\xa9@ex\xc3\xa4mple.org>", 1, &a));
	ck_assert_ptr_null(policy_rcpt(&c, &peer,
	    " TO:<JOS\xc3\xa9@xn--EXMPLE-cua.org>", 1, &a));
	ck_assert_str_eq(policy_rcpt(&c, &peer,
	    " TO:<JOS\xc3\x89@ex\xc3\xa4mple.org>", 1, &a),
	    "550 5.1.1 No such user here");
	ck_assert_str_eq(policy_rcpt(&c, &peer,
	    " TO:<jose@ex\xc3\xa4mple.org>", 1, &a),
	    "550 5.1.1 No such user here");
	/* the catch-all of x.例子.广告, named with a U-label */
	ck_assert_ptr_null(policy_rcpt(&c, &peer,
	    " TO:<anyone@x.\xe4\xbe\x8b\xe5\xad\x90.xn--4rr70v>", 1, &a));
	ck_assert_str_eq(policy_rcpt(&c, &peer,
	    " TO:<anyone@y.\xe4\xbe\x8b\xe5\xad\x90.xn--4rr70v>", 1, &a),
	    "550 5.1.1 No such user here");
	ck_assert_int_eq(has(&c, "<bob@example.org>"), 1);
	c.local_domains = NULL;
	c.nlocal = 0;
	unmap(&c);
}
END_TEST

/* policy_suite - every test case of this file */
static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("addr");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_addr_table_sender, 0, NCASES(addr_cases));
	tcase_add_loop_test(tc, test_addr_table_rcpt, 0, NCASES(addr_cases));
	tcase_add_test(tc, test_addr_null);
	tcase_add_test(tc, test_addr_limits);
	tcase_add_test(tc, test_addr_raw_limit);
	tcase_add_test(tc, test_addr_label_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_rcpt_table, 0, NCASES(rcpt_cases));
	tcase_add_test(tc, test_rcpt_path_kept);
	tcase_add_loop_test(tc, test_mail_table, 0, NCASES(mail_cases));
	tcase_add_test(tc, test_mail_size_text);
	tcase_add_loop_test(tc, test_helo_table, 0, NCASES(helo_cases));
	tcase_add_test(tc, test_helo_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("network");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_domain_is_local);
	tcase_add_loop_test(tc, test_cidr_table, 0, NCASES(cidr_cases));
	tcase_add_test(tc, test_peer_sockaddr);
	tcase_add_test(tc, test_peer_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("rcptmap");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, map_setup, map_teardown);
	tcase_add_test(tc, test_map_small);
	tcase_add_test(tc, test_map_edges);
	tcase_add_test(tc, test_map_against_scan);
	tcase_add_test(tc, test_map_million);
	tcase_add_test(tc, test_rcpt_with_map);
	tcase_add_test(tc, test_map_utf8);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_addr_utf8_sender, 0,
	    NCASES(addr_utf8_cases));
	tcase_add_loop_test(tc, test_addr_utf8_rcpt, 0, NCASES(addr_utf8_cases));
	tcase_add_test(tc, test_addr_utf8_limits);
	tcase_add_loop_test(tc, test_mail_utf8_table, 0,
	    NCASES(mail_utf8_cases));
	tcase_add_loop_test(tc, test_rcpt_utf8_table, 0,
	    NCASES(rcpt_utf8_cases));
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(policy_suite)
