/*
 * fuzz_dnsbl.c - arbitrary datagrams through the dnsbl answer parser, as
 * if they came from the resolver for our query of 2.0.0.127.bl.test with
 * ID 0x4242 (the seeds in corpus/dnsbl/ are real answers to it).
 *
 * The datagram is handed over in a buffer of exactly its length, so that
 * ASan sees any read past it.  Besides crashes, it checks what the
 * verdict promises: a listing is an A record in 127.0.0.0/8 outside
 * 127.255.255.0/24, a refusal one inside it, "outside" one not in
 * 127.0.0.0/8; and the same datagram always gets the same verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* query - our query, as dnsbl_start makes it */
static void
query(struct dnsbl_query *q)
{
	memset(q, 0, sizeof(*q));
	q->zone = "bl.test";
	q->id = 0x4242;
	q->qlen = dnsbl_name_wire("2.0.0.127.bl.test", q->qname,
	    sizeof(q->qname));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsbl_query q, q2;
	enum dnsbl_verdict v;
	unsigned char *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	query(&q);
	query(&q2);
	v = dnsbl_parse(copy, size, &q);
	if (dnsbl_parse(copy, size, &q2) != v)
		abort();
	switch (v) {
	case DNSBL_LISTED:
		if (q.answer[0] != 127 || (q.answer[1] == 255 &&
		    q.answer[2] == 255))
			abort();
		break;
	case DNSBL_REFUSED:
		if (q.answer[0] != 127 || q.answer[1] != 255 ||
		    q.answer[2] != 255)
			abort();
		break;
	case DNSBL_OUTSIDE:
		if (q.answer[0] == 127)
			abort();
		break;
	case DNSBL_TIMEOUT:
		abort();	/* only the wait says that */
	default:
		break;
	}
	free(copy);
	return 0;
}
