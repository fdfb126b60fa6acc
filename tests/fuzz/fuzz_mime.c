/*
 * fuzz_mime.c - arbitrary bytes through the content scanner.
 *
 * The first octet picks the policy and the seed of the split; the rest is
 * the message.  The message is scanned three times: whole, one octet at
 * a time, and in random pieces.  The three verdicts must be the same (the
 * scanner promises a verdict that does not depend on the split), every
 * refusal must be a 554 reply line, and with both kinds accepted and no
 * Received limit a message this small can never be refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* scan - feed MSG in pieces: STEP octets, or random ones when STEP is 0 */
static const char *
scan(const struct mime_policy *pol, const char *msg, size_t len,
    size_t step, uint32_t seed)
{
	struct mime m;
	size_t k;

	mime_init(&m, pol);
	while (len > 0) {
		k = step;
		if (k == 0) {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 16) % ((seed & 1) ? 7 : 300);
		}
		if (k > len)
			k = len;
		mime_feed(&m, msg, k);
		msg += k;
		len -= k;
	}
	return mime_verdict(&m);
}

/* same - two verdicts are the same reply (or both accept) */
static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* reply_ok - a refusal is one 554 reply line */
static int
reply_ok(const char *r)
{
	size_t len = strlen(r);

	return len > 10 && len < 510 && strncmp(r, "554 5.", 6) == 0 &&
	    strpbrk(r, "\r\n") == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_policy pol;
	const char *msg = (const char *)data + 1, *whole, *bytes, *pieces;
	size_t len;

	if (size == 0)
		return 0;
	len = size - 1;
	pol.accept_partial = data[0] & 1;
	pol.accept_external = (data[0] >> 1) & 1;
	pol.max_received = (data[0] >> 2) & 7;
	if (pol.max_received == 7)
		pol.max_received = ~0ULL;
	whole = scan(&pol, msg, len, len == 0 ? 1 : len, 0);
	bytes = scan(&pol, msg, len, 1, 0);
	pieces = scan(&pol, msg, len, 0, data[0] * 2654435761u);
	if (!same(whole, bytes) || !same(whole, pieces))
		abort();
	if (whole != NULL && !reply_ok(whole))
		abort();
	if (whole != NULL && pol.accept_partial && pol.accept_external &&
	    pol.max_received == ~0ULL && len <= MIME_SECTION_MAX)
		abort();
	return 0;
}
