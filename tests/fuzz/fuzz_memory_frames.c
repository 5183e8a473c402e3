/*
 * libFuzzer target: any bytes as a frame of the memory plugin's data path
 * between processes (shuffle-plugins/memory/memory_frame.c), both as a
 * request (what a server reads) and as a reply (what a reader reads). A
 * decode fails only with SL_EPARSE; what decodes encodes again and decodes
 * to the same fields, and a reply's buffers lie inside the frame. Any
 * mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_memory_frames: %s\n", what);
	abort();
}

static void
check_request(const uint8_t *data, size_t size)
{
	struct net_req q, q2;
	msgpack_sbuffer sb;
	uint8_t *buf;
	int rv = net_req_decode(data, size, &q);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("request: decode failed wrongly");
		return;
	}
	if ((const uint8_t *)q.desc < data ||
	    (const uint8_t *)q.desc + q.desc_len > data + size)
		fail("request: descriptor outside the frame");
	msgpack_sbuffer_init(&sb);
	if (net_req_encode(&sb, &q) != 0)
		fail("request: does not encode");
	if ((buf = malloc(4 + sb.size)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	if (net_req_decode(buf, 4 + sb.size, &q2) != 0 || q2.op != q.op ||
	    q2.sub != q.sub || q2.seq != q.seq || q2.n != q.n ||
	    q2.credits != q.credits || q2.desc_len != q.desc_len ||
	    memcmp(q2.desc, q.desc, q.desc_len) != 0)
		fail("request: decodes differently once encoded again");
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

static void
check_reply(const uint8_t *data, size_t size)
{
	struct net_rep_in r, r2;
	struct net_rep out;
	msgpack_sbuffer sb;
	uint64_t plen = 0;
	uint8_t *buf;
	int rv = net_rep_decode(data, size, &r);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("reply: decode failed wrongly");
		return;
	}
	for (uint32_t i = 0; i < r.count; i++)
		plen += r.lens[i];
	if ((const uint8_t *)r.payload < data ||
	    (const uint8_t *)r.payload + plen != data + size)
		fail("reply: buffers are not exactly the rest of the frame");
	out = (struct net_rep) { r.st, r.end, r.count, r.kinds, r.lens, r.err };
	msgpack_sbuffer_init(&sb);
	if (net_rep_encode(&sb, &out) != 0)
		fail("reply: does not encode");
	if ((buf = malloc(4 + sb.size + plen + 1)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	memcpy(buf + 4 + sb.size, r.payload, plen);
	if (net_rep_decode(buf, 4 + sb.size + plen, &r2) != 0 ||
	    r2.st != r.st || r2.end != r.end || r2.count != r.count ||
	    memcmp(r2.kinds, r.kinds, sizeof(r.kinds[0]) * r.count) != 0 ||
	    memcmp(r2.lens, r.lens, sizeof(r.lens[0]) * r.count) != 0 ||
	    strcmp(r2.err, r.err) != 0 ||
	    memcmp(r2.payload, r.payload, plen) != 0)
		fail("reply: decodes differently once encoded again");
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_reply(data, size);
	return 0;
}
