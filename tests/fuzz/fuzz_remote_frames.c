/*
 * libFuzzer target: any bytes as a frame between a remote shuffle writer
 * or master and a `sluice shuffled` daemon (shuffle-plugins/remote/
 * rs_frame.c), both as a request (push, commit or ping: what the daemon
 * reads) and as a reply (what the writer and the master read). A decode
 * fails only with SL_EPARSE; what decodes lies within its bounds (a push's
 * blocks are exactly the rest of the frame, a commit and a ping have none;
 * a ping's job is one a directory may be named after, a push's and a
 * commit's is empty; a reply's "used" is a percentage), encodes again and
 * decodes to the same fields. Any mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_frame.h"
#include "rs_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_remote_frames: %s\n", what);
	abort();
}

static void
check_request(const uint8_t *data, size_t size)
{
	struct rs_req q, q2;
	msgpack_sbuffer sb;
	uint8_t *buf;
	int rv = rs_req_decode(data, size, &q);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("request: decode failed wrongly");
		return;
	}
	if ((q.op != RS_OP_PUSH && q.op != RS_OP_COMMIT &&
	        q.op != RS_OP_PING) ||
	    memchr(q.secret, '\0', sizeof(q.secret)) == NULL ||
	    memchr(q.job, '\0', sizeof(q.job)) == NULL)
		fail("request: fields out of their bounds");
	if (q.op == RS_OP_PING) {
		if (q.desc != NULL || q.desc_len != 0 || q.seq != 0 ||
		    q.job[0] == '\0' || strchr(q.job, '/') != NULL ||
		    strcmp(q.job, ".") == 0 || strcmp(q.job, "..") == 0)
			fail("request: a ping's fields out of their bounds");
	} else if ((const uint8_t *)q.desc < data ||
	    (const uint8_t *)q.desc + q.desc_len > data + size ||
	    q.desc_len == 0 || q.job[0] != '\0' || q.token != 0) {
		fail("request: fields out of their bounds");
	}
	if (q.out > (q.op == RS_OP_PUSH ? RS_MAX_OUT : 0))
		fail("request: out beyond its bound");
	if (q.blocks < data || q.blocks + q.len != data + size ||
	    q.len > RS_MAX_BATCH || (q.op != RS_OP_PUSH && q.len != 0))
		fail("request: blocks are not exactly the rest of the frame");
	msgpack_sbuffer_init(&sb);
	if (rs_req_encode(&sb, &q) != 0)
		fail("request: does not encode");
	if ((buf = malloc(4 + sb.size + q.len + 1)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	if (q.len > 0)
		memcpy(buf + 4 + sb.size, q.blocks, q.len);
	/* a secret with a NUL inside decodes cut at it: compare as text */
	if (rs_req_decode(buf, 4 + sb.size + q.len, &q2) != 0 ||
	    q2.op != q.op || strcmp(q2.secret, q.secret) != 0 ||
	    q2.seq != q.seq || q2.out != q.out || q2.desc_len != q.desc_len ||
	    (q.desc_len > 0 && memcmp(q2.desc, q.desc, q.desc_len) != 0) ||
	    strcmp(q2.job, q.job) != 0 || q2.token != q.token ||
	    q2.len != q.len ||
	    (q.len > 0 && memcmp(q2.blocks, q.blocks, q.len) != 0))
		fail("request: decodes differently once encoded again");
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

static void
check_reply(const uint8_t *data, size_t size)
{
	struct rs_rep r, r2;
	msgpack_sbuffer sb;
	uint8_t *buf;
	int rv = rs_rep_decode(data, size, &r);

	if (rv != 0) {
		if (rv != SL_EPARSE)
			fail("reply: decode failed wrongly");
		return;
	}
	if ((r.st != LD_ST_DATA && r.st != LD_ST_ERROR) || r.used > 100 ||
	    memchr(r.err, '\0', sizeof(r.err)) == NULL)
		fail("reply: fields out of their bounds");
	for (const char *c = r.err; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			fail("reply: a control character in its message");
	msgpack_sbuffer_init(&sb);
	if (rs_rep_encode(&sb, &r) != 0)
		fail("reply: does not encode");
	if ((buf = malloc(4 + sb.size)) == NULL)
		fail("out of memory");
	shc_frame_header(&sb, buf);
	if (rs_rep_decode(buf, 4 + sb.size, &r2) != 0 || r2.st != r.st ||
	    r2.next != r.next || strcmp(r2.err, r.err) != 0 ||
	    r2.bytes != r.bytes || r2.used != r.used)
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
