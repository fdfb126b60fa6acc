/*
 * check_mime.c - the content scanner, from a table.
 *
 * Every case is fed whole, one octet at a time, and in random splits:
 * the verdict must not depend on how the message was cut into pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mime.h"

#define PARTIAL	"554 5.6.0 message/partial is refused"
#define EXTERN	"554 5.6.0 message/external-body is refused"
#define LOOP	"554 5.4.6 "
#define DEEP	"554 5.6.0 MIME nesting too deep"
#define BIG	"554 5.6.0 Header section too large"
#define NOBND	"554 5.6.0 Multipart without a usable boundary"
#define ENCOD	"554 5.6.0 Encoded multipart or message part"
#define CTLONG	"554 5.6.0 Content-Type field too long"

enum pol { P_DEF, P_AP, P_AE, P_ALL, P_R3, P_R0 };

static const struct mime_policy policies[] = {
	[P_DEF] = { 0, 0, 100 },
	[P_AP] = { 1, 0, 100 },
	[P_AE] = { 0, 1, 100 },
	[P_ALL] = { 1, 1, 100 },
	[P_R3] = { 0, 0, 3 },
	[P_R0] = { 0, 0, 0 },
};

/* A growable message, for the generated cases. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* buf_add - append LEN octets */
static void
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* buf_str - append a string */
static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* buf_fill - append N copies of C */
static void
buf_fill(struct buf *b, char c, size_t n)
{
	char chunk[4096];
	size_t k;

	memset(chunk, c, sizeof(chunk));
	for (; n > 0; n -= k) {
		k = n < sizeof(chunk) ? n : sizeof(chunk);
		buf_add(b, chunk, k);
	}
}

/* gen_nest - multiparts nested N deep, the innermost part of type INNER */
static void
gen_nest(struct buf *b, int n, const char *inner)
{
	char line[128];
	int i;

	buf_str(b, "From: a@example.org\n");
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
		    "Content-Type: multipart/mixed; boundary=\"lvl%d\"\n\n"
		    "preamble\n--lvl%d\n", i, i);
		buf_str(b, line);
	}
	buf_str(b, "Content-Type: ");
	buf_str(b, inner);
	buf_str(b, "\n\nbody\n");
	for (i = n; i-- > 0;) {
		snprintf(line, sizeof(line), "--lvl%d--\n", i);
		buf_str(b, line);
	}
}

static void gen_depth_max(struct buf *b)
{ gen_nest(b, MIME_DEPTH_MAX, "text/plain"); }
static void gen_depth_over(struct buf *b)
{ gen_nest(b, MIME_DEPTH_MAX + 1, "text/plain"); }
static void gen_depth_max_partial(struct buf *b)
{ gen_nest(b, MIME_DEPTH_MAX, "message/partial; id=1"); }
static void gen_depth_rfc822_ok(struct buf *b)
{
	gen_nest(b, MIME_DEPTH_MAX - 1,
	    "message/rfc822\n\nContent-Type: message/partial");
}
static void gen_depth_rfc822_over(struct buf *b)
{ gen_nest(b, MIME_DEPTH_MAX, "message/rfc822\n\nSubject: x"); }

/* gen_section - a top-level header section of exactly N octets */
static void
gen_section(struct buf *b, size_t n, int end)
{
	static const char name[] = "X-Filler: ";
	size_t k;

	for (; n > 0; n -= k) {
		k = n >= 2000 ? 1000 : n;
		buf_str(b, name);
		buf_fill(b, 'y', k - (sizeof(name) - 1) - 1);
		buf_str(b, "\n");
	}
	if (end)
		buf_str(b, "\nbody\n");
}

static void gen_section_max(struct buf *b)
{ gen_section(b, MIME_SECTION_MAX, 1); }
static void gen_section_over(struct buf *b)
{ gen_section(b, MIME_SECTION_MAX + 1000, 1); }
static void gen_section_max_eof(struct buf *b)
{ gen_section(b, MIME_SECTION_MAX, 0); }

static void
gen_section_plus1(struct buf *b)
{
	gen_section(b, MIME_SECTION_MAX, 0);
	buf_str(b, "Y\n\nbody\n");
}

/* One octet past: the last field gets one octet longer. */
static void
gen_section_one_past(struct buf *b)
{
	gen_section(b, MIME_SECTION_MAX, 0);
	b->p[b->len - 1] = 'z';
	buf_str(b, "\n\nbody\n");
}

static void
gen_received(struct buf *b, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		buf_str(b, name);
		buf_str(b, " from x by y; Sat, 28 Nov 2026 15:04:05 +0000\n");
	}
	buf_str(b, "Subject: loop\n\nReceived: in the body\n");
}

static void gen_rcvd_3(struct buf *b) { gen_received(b, 3, "Received:"); }
static void gen_rcvd_4(struct buf *b) { gen_received(b, 4, "Received:"); }
static void gen_rcvd_100(struct buf *b) { gen_received(b, 100, "ReCeIvEd:"); }
static void gen_rcvd_101(struct buf *b) { gen_received(b, 101, "received :"); }

/* Received: fields inside an embedded message are not ours to count. */
static void
gen_rcvd_inner(struct buf *b)
{
	buf_str(b, "Received: one\nContent-Type: message/rfc822\n\n");
	gen_received(b, 5, "Received:");
}

static void
gen_long_body(struct buf *b)
{
	buf_str(b, "Subject: long\n\n");
	buf_fill(b, 'a', 1 << 20);
}

static void
gen_long_part(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n\n");
	buf_fill(b, '-', 1 << 20);
}

/* A delimiter line padded with a megabyte of blanks still counts. */
static void
gen_long_delim(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=b1\n\n--b1");
	buf_fill(b, ' ', 1 << 20);
	buf_str(b, "\nContent-Type: message/partial\n\n--b1--\n");
}

/* ...but not when something follows the blanks. */
static void
gen_long_notdelim(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n\n--b1");
	buf_fill(b, ' ', 1 << 20);
	buf_str(b, "x\nContent-Type: message/partial\n\n--b1--\n");
}

static void
gen_long_field(struct buf *b)
{
	buf_str(b, "Subject: ");
	buf_fill(b, 's', 1000000);
	buf_str(b, "\n\nbody");
}

/* The type hides behind more blanks than the scanner keeps. */
static void
gen_ct_blanks(struct buf *b)
{
	buf_str(b, "Content-Type:");
	buf_fill(b, ' ', 3 * MIME_HDR_MAX);
	buf_str(b, "message/partial\n\n");
}

static void
gen_ct_name_blanks(struct buf *b)
{
	buf_str(b, "Content-Type");
	buf_fill(b, ' ', 3 * MIME_HDR_MAX);
	buf_str(b, ": message/partial\n\n");
}

static void
gen_ct_comment(struct buf *b)
{
	buf_str(b, "Content-Type: (");
	buf_fill(b, 'c', 3 * MIME_HDR_MAX);
	buf_str(b, ") message/partial\n\n");
}

/* The boundary parameter falls past what is kept. */
static void
gen_ct_bnd_cut(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; x-pad=\"");
	buf_fill(b, 'p', 2 * MIME_HDR_MAX);
	buf_str(b, "\"; boundary=b1\n\n--b1\nContent-Type: text/plain\n\n"
	    "--b1--\n");
}

/* A long but harmless parameter after the boundary. */
static void
gen_ct_long_tail(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=b1; x-pad=\"");
	buf_fill(b, 'p', 2 * MIME_HDR_MAX);
	buf_str(b, "\"\n\n--b1\nContent-Type: message/partial\n\n--b1--\n");
}

/* The boundary is cut in the middle: it must not be half-used. */
static void
gen_ct_bnd_mid(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed;");
	buf_fill(b, ' ', MIME_HDR_MAX - 30 - 14 - 2);
	buf_str(b, "boundary=abcdefghijklmnop\n\n--abcdefg\n"
	    "Content-Type: message/partial\n\n");
}

static void
gen_bnd70(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=\"");
	buf_fill(b, 'q', 70);
	buf_str(b, "\"\n\n--");
	buf_fill(b, 'q', 70);
	buf_str(b, "\nContent-Type: message/partial\n\n");
}

static void
gen_bnd71(struct buf *b)
{
	buf_str(b, "Content-Type: multipart/mixed; boundary=\"");
	buf_fill(b, 'q', 71);
	buf_str(b, "\"\n\n--");
	buf_fill(b, 'q', 71);
	buf_str(b, "\nContent-Type: text/plain\n\n");
}

/* A NUL inside the subtype: not message/partial. */
static void
gen_nul(struct buf *b)
{
	static const char text[] = "Content-Type: message/part\0ial\n\n";

	buf_add(b, text, sizeof(text) - 1);
}

struct mcase {
	const char	*name;
	const char	*text;
	void		(*gen)(struct buf *);
	enum pol	 pol;
	const char	*want;		/* prefix of the verdict, or NULL */
};

#define MP(b)	"Content-Type: multipart/mixed; boundary=\"" b "\"\n\n"

static const struct mcase cases[] = {
	{ "empty", "", NULL, P_DEF, NULL },
	{ "plain", "From: a@example.org\nSubject: hi\n\nHello\n", NULL,
	    P_DEF, NULL },
	{ "headers only", "Subject: hi", NULL, P_DEF, NULL },
	{ "body only", "\nContent-Type: message/partial\n", NULL, P_DEF,
	    NULL },
	{ "partial top",
	    "Content-Type: message/partial; id=\"x@y\"; number=1; total=2\n"
	    "\nbody\n", NULL, P_DEF, PARTIAL },
	{ "partial at eof", "Subject: x\nContent-Type: message/partial",
	    NULL, P_DEF, PARTIAL },
	{ "partial at eof LF", "Content-Type: message/partial\n", NULL,
	    P_DEF, PARTIAL },
	{ "partial case", "content-TYPE: Message/Partial; id=1\n\n", NULL,
	    P_DEF, PARTIAL },
	{ "partial blank before colon", "Content-Type : message/partial\n\n",
	    NULL, P_DEF, PARTIAL },
	{ "partial blanks and comments",
	    "Content-Type: (a (nested) comment) message (x) / (y) partial"
	    " (z)\n\n", NULL, P_DEF, PARTIAL },
	{ "partial folded",
	    "Subject: x\nContent-Type:\n message/partial;\n\tid=1\n\n", NULL,
	    P_DEF, PARTIAL },
	{ "partial folded in name? no", "Content-\n Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "other field", "X-Content-Type: message/partial\n\n", NULL, P_DEF,
	    NULL },
	{ "partial NUL", NULL, gen_nul, P_DEF, NULL },
	{ "partial accepted", "Content-Type: message/partial; id=1\n\n",
	    NULL, P_AP, NULL },
	{ "partial, only external accepted",
	    "Content-Type: message/partial; id=1\n\n", NULL, P_AE, PARTIAL },
	{ "external",
	    "Content-Type: message/external-body; access-type=URL;\n"
	    " URL=\"http://example.org/x\"\n\nContent-Type: text/plain\n\n",
	    NULL, P_DEF, EXTERN },
	{ "external case", "CONTENT-TYPE: MESSAGE/EXTERNAL-BODY\n\n", NULL,
	    P_AP, EXTERN },
	{ "external accepted", "Content-Type: message/external-body\n\n",
	    NULL, P_AE, NULL },
	{ "both accepted",
	    MP("b1") "--b1\nContent-Type: message/partial\n\n--b1\n"
	    "Content-Type: message/external-body\n\n--b1--\n", NULL, P_ALL,
	    NULL },
	{ "partial in a part",
	    MP("b1") "preamble\n--b1\nContent-Type: text/plain\n\nhi\n--b1\n"
	    "Content-Type: message/partial; id=2\n\nx\n--b1--\nepilogue\n",
	    NULL, P_DEF, PARTIAL },
	{ "external in a part",
	    MP("b1") "--b1\nContent-Type: message/external-body\n\n--b1--\n",
	    NULL, P_DEF, EXTERN },
	{ "unquoted boundary",
	    "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n--b1--\n", NULL, P_DEF,
	    PARTIAL },
	{ "unquoted boundary with =",
	    "Content-Type: multipart/alternative;\n"
	    "\tboundary=----=_Part_1_2.3\n\n------=_Part_1_2.3\n"
	    "Content-Type: message/partial\n\n------=_Part_1_2.3--\n", NULL,
	    P_DEF, PARTIAL },
	{ "quoted-pair boundary",
	    "Content-Type: multipart/mixed; boundary=\"a\\\"b\"\n\n--a\"b\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "boundary in a comment is not one",
	    "Content-Type: multipart/mixed (boundary=fake; x) ;\n"
	    "  boundary = (c) \"real\" (d)\n\n--fake\n"
	    "Content-Type: message/partial\n\n--real--\n", NULL, P_DEF, NULL },
	{ "boundary after comments",
	    "Content-Type: multipart/mixed (boundary=fake; x) ;\n"
	    "  boundary = (c) \"real\" (d)\n\n--real\n"
	    "Content-Type: message/partial\n\n--real--\n", NULL, P_DEF,
	    PARTIAL },
	{ "param name case",
	    "Content-Type: Multipart/Mixed; BOUNDARY=b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "folded content-type",
	    "Content-Type: multipart/mixed;\n boundary=\n\t\"b1\"\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "delimiter with blanks",
	    MP("b1") "--b1 \t \nContent-Type: message/partial\n\n", NULL,
	    P_DEF, PARTIAL },
	{ "close with blanks then nothing",
	    MP("b1") "--b1\n\n--b1--  \nContent-Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "after the close line is epilogue",
	    MP("b1") "--b1\n\n--b1--\n--b1\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "boundary prefix is no delimiter",
	    MP("b1") "--b1\n\n--b1x\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "indented delimiter is none",
	    MP("b1") "--b1\n\n --b1\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "partial in the preamble",
	    MP("b1") "Content-Type: message/partial\n\n--b1\n\n--b1--\n",
	    NULL, P_DEF, NULL },
	{ "boundary-like line in a text body",
	    "Content-Type: text/plain; boundary=b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n--b1--\n", NULL, P_DEF, NULL },
	{ "other boundary in a part",
	    MP("b1") "--b1\n\n--b2\nContent-Type: message/partial\n\n--b1--\n",
	    NULL, P_DEF, NULL },
	{ "empty part header",
	    MP("b1") "--b1\n\nbody\n--b1\n\n--b1--\n", NULL, P_DEF, NULL },
	{ "nested 3 deep",
	    MP("b1") "--b1\nContent-Type: text/plain\n\nx\n--b1\n"
	    "Content-Type: multipart/alternative; boundary=b2\n\n--b2\n"
	    "Content-Type: multipart/related; boundary=\"b3\"\n\n--b3\n"
	    "Content-Type: text/html\n\n<p>\n--b3\n"
	    "Content-Type: message/partial; id=3\n\n--b3--\n--b2--\n--b1--\n",
	    NULL, P_DEF, PARTIAL },
	{ "nested 3 deep, clean",
	    MP("b1") "--b1\nContent-Type: text/plain\n\nx\n--b1\n"
	    "Content-Type: multipart/alternative; boundary=b2\n\n--b2\n"
	    "Content-Type: multipart/related; boundary=\"b3\"\n\n--b3\n"
	    "Content-Type: text/html\n\n<p>\n--b3--\n--b2--\n--b1--\n",
	    NULL, P_DEF, NULL },
	{ "outer delimiter ends inner parts",
	    MP("b1") "--b1\nContent-Type: multipart/mixed; boundary=b2\n\n"
	    "--b2\n\nnever closed\n--b1\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, PARTIAL },
	{ "closed inner is not followed again",
	    MP("b1") "--b1\nContent-Type: multipart/mixed; boundary=b2\n\n"
	    "--b2\n\n--b2--\n--b2\nContent-Type: message/partial\n\n--b1--\n",
	    NULL, P_DEF, NULL },
	{ "delimiter inside a part header",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n--b1\n"
	    "Content-Type: text/plain\n\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, NULL },
	{ "delimiter inside a part header, partial after",
	    MP("b1") "--b1\nSubject: x\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "partial inside message/rfc822",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n\n"
	    "From: x@example.org\nContent-Type: message/partial; id=1\n\n"
	    "--b1--\n", NULL, P_DEF, PARTIAL },
	{ "rfc822 body is not a header",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n\n"
	    "From: x@example.org\n\nContent-Type: message/partial\n\n"
	    "--b1--\n", NULL, P_DEF, NULL },
	{ "message/global",
	    MP("b1") "--b1\nContent-Type: message/global\n\n"
	    "Content-Type: message/external-body\n\n--b1--\n", NULL, P_DEF,
	    EXTERN },
	{ "top-level rfc822, multipart inside",
	    "Content-Type: message/rfc822\n\nSubject: inner\n" MP("in")
	    "--in\nContent-Type: message/rfc822\n\n"
	    "Content-Type: message/partial\n\n--in--\n", NULL, P_DEF,
	    PARTIAL },
	{ "after rfc822 part, next part",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n\nSubject: i\n\n"
	    "text\n--b1\nContent-Type: message/partial\n\n--b1--\n", NULL,
	    P_DEF, PARTIAL },
	{ "digest default is rfc822",
	    "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Content-Type: message/partial\n\n--d--\n", NULL, P_DEF,
	    PARTIAL },
	{ "digest text part",
	    "Content-Type: multipart/digest; boundary=d\n\n--d\n"
	    "Content-Type: text/plain\n\nContent-Type: message/partial\n\n"
	    "--d--\n", NULL, P_DEF, NULL },
	{ "mixed default is text",
	    MP("d") "--d\n\nContent-Type: message/partial\n\n--d--\n", NULL,
	    P_DEF, NULL },
	{ "two content-types, multipart followed",
	    "Content-Type: text/plain\n"
	    "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "two content-types, partial second",
	    "Content-Type: text/plain\nContent-Type: message/partial\n\n",
	    NULL, P_DEF, PARTIAL },
	{ "rfc2231 boundary only",
	    "Content-Type: multipart/mixed; boundary*=us-ascii'en'b1\n\n"
	    "--b1\nContent-Type: text/plain\n\n--b1--\n", NULL, P_DEF, NOBND },
	{ "rfc2231 boundary continued",
	    "Content-Type: multipart/mixed; boundary*0=\"b\";\n"
	    " boundary*1*=%31\n\n--b1\n\n--b1--\n", NULL, P_DEF, NOBND },
	{ "rfc2231 and plain boundary",
	    "Content-Type: multipart/mixed; boundary=b1; boundary*=''b2\n\n"
	    "--b1\n\n--b1--\n", NULL, P_DEF, NOBND },
	{ "rfc2231 boundary, both accepted",
	    "Content-Type: multipart/mixed; boundary*=''b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n--b1--\n", NULL, P_ALL, NULL },
	{ "rfc2231 other parameter",
	    "Content-Type: multipart/mixed; boundary=b1;\n"
	    " name*0*=us-ascii''a%20b; name*1=c\n\n--b1\n"
	    "Content-Type: message/partial; x*=''y\n\n--b1--\n", NULL, P_DEF,
	    PARTIAL },
	{ "rfc2231 junk",
	    "Content-Type: multipart/mixed; boundary*=''\"; boundary*0*=\n\n",
	    NULL, P_DEF, NOBND },
	{ "no boundary", "Content-Type: multipart/mixed\n\n--b1\n\n", NULL,
	    P_DEF, NOBND },
	{ "no boundary, both accepted", "Content-Type: multipart/mixed\n\n",
	    NULL, P_ALL, NULL },
	{ "no boundary, one accepted", "Content-Type: multipart/mixed\n\n",
	    NULL, P_AP, NOBND },
	{ "empty boundary", "Content-Type: multipart/mixed; boundary=\"\"\n\n",
	    NULL, P_DEF, NOBND },
	{ "unterminated boundary",
	    "Content-Type: multipart/mixed; boundary=\"b1\n\n--b1\n\n", NULL,
	    P_DEF, NOBND },
	{ "boundary ends in a blank",
	    "Content-Type: multipart/mixed; boundary=\"b1 \"\n\n", NULL,
	    P_DEF, NOBND },
	{ "boundary twice, same",
	    "Content-Type: multipart/mixed; boundary=b1; boundary=\"b1\"\n\n"
	    "--b1\nContent-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "boundary twice, different",
	    "Content-Type: multipart/mixed; boundary=b1; boundary=b2\n\n",
	    NULL, P_DEF, NOBND },
	{ "multipart without subtype",
	    "Content-Type: multipart; boundary=b1\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "params junk", "Content-Type: multipart/mixed; =; \"x;y\" ;;"
	    " a; b=; boundary=b1 c=d\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "unterminated comment",
	    "Content-Type: multipart/mixed; boundary=b1 (oops\n\n--b1\n"
	    "Content-Type: message/partial\n\n", NULL, P_DEF, PARTIAL },
	{ "base64 rfc822 part",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n\nQ29udGVudC1UeXBl\n--b1--\n",
	    NULL, P_DEF, ENCOD },
	{ "base64 rfc822 part, both accepted",
	    MP("b1") "--b1\nContent-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n\nQ29udGVudC1UeXBl\n--b1--\n",
	    NULL, P_ALL, NULL },
	{ "qp multipart",
	    "Content-Transfer-Encoding: Quoted-Printable\n" MP("b1")
	    "--b1--\n", NULL, P_DEF, ENCOD },
	{ "7bit multipart",
	    "Content-Transfer-Encoding: 7bit\n" MP("b1") "--b1\n"
	    "Content-Transfer-Encoding: base64\n\nAAAA\n--b1--\n", NULL,
	    P_DEF, NULL },
	{ "received 3 of 3", NULL, gen_rcvd_3, P_R3, NULL },
	{ "received 4 of 3", NULL, gen_rcvd_4, P_R3, LOOP },
	{ "received 100 of 100", NULL, gen_rcvd_100, P_DEF, NULL },
	{ "received 101 of 100", NULL, gen_rcvd_101, P_DEF, LOOP },
	{ "received 101, partial accepted", NULL, gen_rcvd_101, P_ALL, LOOP },
	{ "received inside rfc822", NULL, gen_rcvd_inner, P_R3, NULL },
	{ "received 0 of 0", "Subject: x\n\nReceived: x\n", NULL, P_R0,
	    NULL },
	{ "received 1 of 0", "Received: x\n\n", NULL, P_R0, LOOP },
	{ "received folded",
	    "Received: from a\n\tby b;\n\tSat, 28 Nov 2026\nReceived: x\n"
	    "Received: y\nX-Received: z\n\n", NULL, P_R3, NULL },
	{ "first refusal wins: partial",
	    "Content-Type: message/partial\nReceived: a\nReceived: b\n\n",
	    NULL, P_R0, PARTIAL },
	{ "first refusal wins: received",
	    "Received: a\nContent-Type: message/partial\n\n", NULL, P_R0,
	    LOOP },
	{ "depth max", NULL, gen_depth_max, P_DEF, NULL },
	{ "depth max, partial inside", NULL, gen_depth_max_partial, P_DEF,
	    PARTIAL },
	{ "depth max+1", NULL, gen_depth_over, P_DEF, DEEP },
	{ "depth max+1, both accepted", NULL, gen_depth_over, P_ALL, NULL },
	{ "depth max with rfc822", NULL, gen_depth_rfc822_ok, P_DEF,
	    PARTIAL },
	{ "depth max+1 with rfc822", NULL, gen_depth_rfc822_over, P_DEF,
	    DEEP },
	{ "section at the limit", NULL, gen_section_max, P_DEF, NULL },
	{ "section at the limit, eof", NULL, gen_section_max_eof, P_DEF,
	    NULL },
	{ "section one past", NULL, gen_section_one_past, P_DEF, BIG },
	{ "section a line past", NULL, gen_section_plus1, P_DEF, BIG },
	{ "section far past", NULL, gen_section_over, P_ALL, BIG },
	{ "1 MB body line", NULL, gen_long_body, P_DEF, NULL },
	{ "1 MB line in a part", NULL, gen_long_part, P_DEF, NULL },
	{ "1 MB padded delimiter", NULL, gen_long_delim, P_DEF, PARTIAL },
	{ "1 MB padded non-delimiter", NULL, gen_long_notdelim, P_DEF,
	    NULL },
	{ "1 MB header field", NULL, gen_long_field, P_DEF, NULL },
	{ "content-type behind blanks", NULL, gen_ct_blanks, P_DEF, CTLONG },
	{ "content-type behind blanks, accepted", NULL, gen_ct_blanks,
	    P_ALL, NULL },
	{ "blanks before the colon", NULL, gen_ct_name_blanks, P_DEF,
	    CTLONG },
	{ "content-type behind a comment", NULL, gen_ct_comment, P_DEF,
	    CTLONG },
	{ "boundary past the kept field", NULL, gen_ct_bnd_cut, P_DEF,
	    NOBND },
	{ "long parameter after the boundary", NULL, gen_ct_long_tail,
	    P_DEF, PARTIAL },
	{ "boundary cut in the middle", NULL, gen_ct_bnd_mid, P_DEF, NOBND },
	{ "boundary of 70", NULL, gen_bnd70, P_DEF, PARTIAL },
	{ "boundary of 71", NULL, gen_bnd71, P_DEF, NOBND },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* case_text - the message of case I; *FREEME set when generated */
static const char *
case_text(size_t i, size_t *len, char **freeme)
{
	struct buf b = { NULL, 0, 0 };

	*freeme = NULL;
	if (cases[i].gen == NULL) {
		*len = strlen(cases[i].text);
		return cases[i].text;
	}
	cases[i].gen(&b);
	*freeme = b.p;
	*len = b.len;
	return b.p;
}

/* check_verdict - the verdict is the one the case wants */
static void
check_verdict(size_t i, const char *how, const char *got)
{
	const char *want = cases[i].want;

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s (%s): got \"%s\", want accept",
		    cases[i].name, how, got);
	else
		ck_assert_msg(got != NULL &&
		    strncmp(got, want, strlen(want)) == 0,
		    "%s (%s): got \"%s\", want \"%s...\"", cases[i].name, how,
		    got == NULL ? "accept" : got, want);
}

/* next_rand - a small deterministic generator for the splits */
static unsigned long
next_rand(unsigned long *state)
{
	*state = *state * 6364136223846793005UL + 1442695040888963407UL;
	return *state >> 33;
}

/* feed - scan P in pieces of STEP octets (0: random, from SEED) */
static const char *
feed(size_t i, const char *p, size_t len, size_t step, unsigned long seed)
{
	struct mime m;
	const char *v;
	size_t k;

	mime_init(&m, &policies[cases[i].pol]);
	while (len > 0) {
		k = step;
		if (k == 0)
			k = 1 + next_rand(&seed) % (seed % 3 == 0 ? 4096 : 80);
		if (k > len)
			k = len;
		mime_feed(&m, p, k);
		p += k;
		len -= k;
	}
	v = mime_verdict(&m);
	ck_assert_ptr_eq(v, mime_verdict(&m));
	return v;
}

START_TEST(test_whole)
{
	char *freeme;
	size_t len;
	const char *p = case_text((size_t)_i, &len, &freeme);

	check_verdict((size_t)_i, "whole", feed((size_t)_i, p, len,
	    len == 0 ? 1 : len, 0));
	free(freeme);
}
END_TEST

START_TEST(test_bytes)
{
	char *freeme;
	size_t len;
	const char *p = case_text((size_t)_i, &len, &freeme);

	check_verdict((size_t)_i, "byte by byte",
	    feed((size_t)_i, p, len, 1, 0));
	free(freeme);
}
END_TEST

START_TEST(test_random)
{
	char *freeme, how[32];
	size_t len;
	const char *p = case_text((size_t)_i, &len, &freeme);
	unsigned long seed;

	for (seed = 1; seed <= 8; seed++) {
		snprintf(how, sizeof(how), "random split %lu", seed);
		check_verdict((size_t)_i, how,
		    feed((size_t)_i, p, len, 0, seed * 7919 + (size_t)_i));
	}
	free(freeme);
}
END_TEST

/* After the first refusal, the rest is consumed and ignored. */
START_TEST(test_after_refusal)
{
	struct mime m;
	static const char msg[] = "Content-Type: message/partial\n\n";

	mime_init(&m, &policies[P_DEF]);
	mime_feed(&m, msg, sizeof(msg) - 1);
	mime_feed(&m, "Received: x\n", 12);
	ck_assert_str_eq(mime_verdict(&m), PARTIAL);
	mime_feed(&m, "more", 4);
	ck_assert_str_eq(mime_verdict(&m), PARTIAL);
}
END_TEST

/* The reply texts carry exact codes and fit a reply line. */
START_TEST(test_replies)
{
	struct mime m;
	static const char msg[] = "Received: a\nReceived: b\n\n";
	struct mime_policy pol = { 0, 0, 1 };

	mime_init(&m, &pol);
	mime_feed(&m, msg, sizeof(msg) - 1);
	ck_assert_str_eq(mime_verdict(&m),
	    "554 5.4.6 Too many Received headers (max_received): mail loop?");
}
END_TEST

/* The session may reuse one struct for the next message. */
START_TEST(test_reinit)
{
	struct mime m;
	static const char bad[] = MP("b1") "--b1\nContent-Type: message/part";
	static const char good[] = "Subject: x\n\nbody\n";

	mime_init(&m, &policies[P_DEF]);
	mime_feed(&m, bad, sizeof(bad) - 1);
	mime_init(&m, &policies[P_DEF]);
	mime_feed(&m, good, sizeof(good) - 1);
	ck_assert_ptr_null(mime_verdict(&m));
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_whole, 0, (int)NCASES);
	tcase_add_loop_test(tc, test_bytes, 0, (int)NCASES);
	tcase_add_loop_test(tc, test_random, 0, (int)NCASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_after_refusal);
	tcase_add_test(tc, test_replies);
	tcase_add_test(tc, test_reinit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(mime_suite)
