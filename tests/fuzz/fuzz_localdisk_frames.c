/*
 * libFuzzer target: any bytes as a frame between a localdisk reader and
 * the producer's server (shuffle-plugins/localdisk/ld_frame.c), both as a
 * request (what a server reads) and as a reply (what a reader reads); a
 * reply's blocks are then walked as the reader walks them (ld_block_parse).
 * A decode fails only with SL_EPARSE; what decodes encodes again and
 * decodes to the same fields; blocks lie inside the frame. Any mismatch
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_file.h"
#include "localdisk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_localdisk_frames: %s\n", what);
	abort();
}

static void
check_request(const uint8_t *data, size_t size)
{
	struct ld_req q, q2;
	msgpack_sbuffer sb;
	uint8_t *buf;
	int rv = ld_req_decode(data, size, &q);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("request: decode failed wrongly");
		return;
	}
	if ((const uint8_t *)q.desc < data ||
	    (const uint8_t *)q.desc + q.desc_len > data + size || q.lo > q.hi ||
	    q.max == 0 || q.max > LD_NET_MAX_FETCH)
		fail("request: fields out of their bounds");
	msgpack_sbuffer_init(&sb);
	if (ld_req_encode(&sb, &q) != 0)
		fail("request: does not encode");
	if ((buf = malloc(4 + sb.size)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	if (ld_req_decode(buf, 4 + sb.size, &q2) != 0 || q2.op != q.op ||
	    q2.lo != q.lo || q2.hi != q.hi || q2.run != q.run ||
	    q2.pos != q.pos || q2.max != q.max || q2.desc_len != q.desc_len ||
	    memcmp(q2.desc, q.desc, q.desc_len) != 0)
		fail("request: decodes differently once encoded again");
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

static void
check_reply(const uint8_t *data, size_t size)
{
	struct ld_rep r, r2;
	msgpack_sbuffer sb;
	uint8_t *buf;
	size_t off = 0;
	int rv = ld_rep_decode(data, size, &r);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("reply: decode failed wrongly");
		return;
	}
	if (r.blocks < data || r.blocks + r.len != data + size)
		fail("reply: blocks are not exactly the rest of the frame");
	msgpack_sbuffer_init(&sb);
	if (ld_rep_encode(&sb, &r) != 0)
		fail("reply: does not encode");
	if ((buf = malloc(4 + sb.size + r.len + 1)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	if (r.len > 0)
		memcpy(buf + 4 + sb.size, r.blocks, r.len);
	if (ld_rep_decode(buf, 4 + sb.size + r.len, &r2) != 0 ||
	    r2.st != r.st || r2.end != r.end || r2.run != r.run ||
	    r2.pos != r.pos || strcmp(r2.err, r.err) != 0 || r2.len != r.len ||
	    (r.len > 0 && memcmp(r2.blocks, r.blocks, r.len) != 0))
		fail("reply: decodes differently once encoded again");
	free(buf);
	msgpack_sbuffer_destroy(&sb);
	/* the blocks, as a reader of every subpartition walks them */
	while (off < r.len) {
		struct sl_buffer b;
		const char *why;
		size_t used;

		if (ld_block_parse(r.blocks + off, r.len - off, 0,
		        LD_MAX_SUBPARTITIONS, &b, &used, &why) != 0)
			break;
		if (used < LD_BLOCK_HEADER || used > r.len - off ||
		    (const uint8_t *)b.data + b.len != r.blocks + off + used)
			fail("block: outside the reply");
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_reply(data, size);
	return 0;
}
