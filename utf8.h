/*
 * utf8.h - UTF-8 validation, Punycode and IDNA A-labels (issue 12).
 *
 * A module of its own rather than part of policy.c: the three pieces are
 * self-contained algorithms with RFC test vectors of their own, and the
 * session, the runner, the configuration loader and the fuzz targets all
 * use them.  Pure like policy: no locale, no <ctype.h>, no allocation,
 * no I/O; every function writes only into the buffer it is given.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "smtpfe.h"

/* utf8_check verdicts */
#define UTF8_OK		0	/* well-formed, no C1 control */
#define UTF8_BAD	(-1)	/* not well-formed (RFC 3629) */
#define UTF8_C1		(-2)	/* well-formed, but a U+0080-U+009F */

/* RFC 1035 2.3.4: a label is at most 63 octets (in A-label form too). */
#define IDN_LABEL_MAX	63
/* RFC 5890 2.3.2.1: the ACE prefix of an A-label. */
#define IDN_ACE_PREFIX	"xn--"
#define IDN_ACE_PREFIX_LEN 4
/*
 * Our bound: the A-label form of a domain of at most SMTP_DOMAIN_MAX
 * octets as sent.  A label that grows when encoded has at least two
 * octets, so there are at most 128 labels, each at most 63 octets and a
 * dot in A-label form.
 */
#define IDN_DOMAIN_ACE_MAX ((SMTP_DOMAIN_MAX / 2 + 1) * (IDN_LABEL_MAX + 1))

/* utf8_decode - one code point at S (LEN > 0): its length, 0 if ill-formed */
size_t	utf8_decode(const char *, size_t, uint32_t *);
/* utf8_encode - CP as UTF-8 into OUT (room for 4): its length, 0 if bad */
size_t	utf8_encode(uint32_t, char *);
/* utf8_check - UTF8_OK, UTF8_BAD or UTF8_C1 for LEN octets at S */
int	utf8_check(const char *, size_t);
/* utf8_has_confusable - 1 when S holds U+FF01-U+FF5E or U+FE50-U+FE6B */
int	utf8_has_confusable(const char *, size_t);

/*
 * punycode_encode - RFC 3492 6.3: N code points into at most OUTMAX
 * octets at OUT (not terminated); the length, or -1 (a code point that
 * is a surrogate or above U+10FFFF, no room, or an overflow).
 */
long	punycode_encode(const uint32_t *, size_t, char *, size_t);
/*
 * punycode_decode - RFC 3492 6.2: LEN octets into at most OUTMAX code
 * points; the count, or -1 (bad digit, non-basic octet, no room,
 * overflow, or a surrogate or a code point above U+10FFFF).
 */
long	punycode_decode(const char *, size_t, uint32_t *, size_t);

/*
 * idn_domain_ascii - the A-label form of a domain (RFC 5891): each label
 * with a non-ASCII octet becomes "xn--" and its Punycode, ASCII labels
 * are kept; ASCII letters are lower-cased.  Writes a terminated string
 * into OUT; the length, or -1 (an empty label, ill-formed UTF-8, a
 * control octet, a label over 63 octets in A-label form, no room).
 */
long	idn_domain_ascii(const char *, size_t, char *, size_t);
/*
 * idn_domain_unicode - the U-label form of a domain for people: each
 * "xn--" label decoded; the length, or -1 (bad Punycode, no room).
 */
long	idn_domain_unicode(const char *, size_t, char *, size_t);

#endif
