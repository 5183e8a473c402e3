/*
 * The frames a remote shuffle writer sends a `sluice shuffled` daemon
 * (docs/remote-shuffle.md), beside localdisk's fetch and release
 * (ld_frame.c), in the same framing: a u32 LE n, an n-byte msgpack map,
 * then a payload.
 *
 *   push    {"v": 1, "op": 3, "secret": str, "desc": bin, "seq": u64,
 *           "out": u32 (optional)} + the batch's blocks (rs_store.h)
 *   commit  {"v": 1, "op": 4, "secret": str, "desc": bin, "seq": u64
 *           (the number of batches pushed)}
 *   ping    {"v": 1, "op": 5, "secret": str, "job": str, "token": u64}
 *           (a coordinator's master: job is alive; what do you hold?)
 *   reply   {"v": 1, "st": 0 ok | 2 error, "next": u64, "err": str,
 *           "bytes": u64, "used": u32 (0..100)}
 *
 * A push's "out" says how many batches before it its writer may still
 * have on their way (0..RS_MAX_OUT; absent: 0): the daemon waits a while
 * for those instead of refusing the push as a gap, since its threads may
 * take two pushes sent one after the other in either order.
 *
 * "bytes" and "used" answer a ping: the bytes of partitions the daemon
 * holds (all jobs, committed or being written) and the percentage of its
 * data dir's file system in use. They are sent only when not 0 (a push's
 * or commit's reply has neither) and decode as 0 when absent.
 *
 * Decoding trusts nothing: the bytes come from another host.
 */
#ifndef SL_RS_FRAME_H
#define SL_RS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "localdisk.h"

enum { RS_OP_PUSH = 3, RS_OP_COMMIT = 4, RS_OP_PING = 5 };

#define RS_MAX_OUT 16 /* a push's "out" at most */

struct rs_req {
	uint32_t op;
	char secret[256];
	const void *desc; /* push, commit; decode: points into the frame */
	size_t desc_len;
	uint64_t seq;
	const unsigned char *blocks; /* push: the payload, in the frame */
	size_t len;
	uint32_t out; /* push: batches before it maybe still on their way */
	/* ping: a job name as a descriptor's (not empty, no '/', not "."
	 * or ".."), and its master's token; "" and 0 for push and commit */
	char job[256];
	uint64_t token;
};

struct rs_rep {
	uint32_t st; /* LD_ST_DATA (ok) or LD_ST_ERROR */
	uint64_t next;
	char err[300];
	uint64_t bytes; /* ping: bytes held; else 0 */
	uint32_t used;  /* ping: % of the data dir's file system used */
};

/* The header map into sb (shc_frame_header frames it; a push's blocks
 * follow it). */
int rs_req_encode(msgpack_sbuffer *sb, const struct rs_req *q);
int rs_rep_encode(msgpack_sbuffer *sb, const struct rs_rep *r);
/* SL_EPARSE for anything but a well-formed frame of these. */
int rs_req_decode(const void *buf, size_t len, struct rs_req *q);
int rs_rep_decode(const void *buf, size_t len, struct rs_rep *r);

#endif
