/*
 * The frames of the memory plugin's data path between processes: encoding,
 * and decoding that trusts nothing (the bytes come from another process,
 * maybe another host). Pure functions on bytes, so the fuzzer
 * (tests/fuzz/fuzz_memory_frames.c) runs them alone.
 *
 * A frame is a u32 LE n, an n-byte msgpack map, then (replies) payload:
 *   request {"v": 1, "op": 1 fetch | 2 close, "desc": bin, "sub": u32,
 *            "seq": u64, "n": u32 (1..NET_MAX_BATCH), "credits": u32}
 *   reply   {"v": 1, "st": 0 data | 2 error, "end": bool,
 *            "kinds": [u32], "lens": [u64], "err": str}
 *            + the buffers' bytes, concatenated in order
 * A fetch asks for buffers seq, seq+1, ... of one subpartition, at most n.
 * A data reply carries 0..n of them (0 only with "end"), "end" when the
 * subpartition ended after them.
 */
#include <stdio.h>
#include <string.h>

#include <sluice/msgpack_check.h>

#include "memory.h"

int
net_req_encode(msgpack_sbuffer *sb, const struct net_req *q)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 7) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "op") != 0 ||
	    msgpack_pack_uint32(&pk, q->op) != 0 ||
	    shc_pack_key(&pk, "desc") != 0 ||
	    msgpack_pack_bin(&pk, q->desc_len) != 0 ||
	    msgpack_pack_bin_body(&pk, q->desc, q->desc_len) != 0 ||
	    shc_pack_key(&pk, "sub") != 0 ||
	    msgpack_pack_uint32(&pk, q->sub) != 0 ||
	    shc_pack_key(&pk, "seq") != 0 ||
	    msgpack_pack_uint64(&pk, q->seq) != 0 ||
	    shc_pack_key(&pk, "n") != 0 ||
	    msgpack_pack_uint32(&pk, q->n) != 0 ||
	    shc_pack_key(&pk, "credits") != 0 ||
	    msgpack_pack_uint32(&pk, q->credits) != 0)
		return SL_ENOMEM;
	return 0;
}

int
net_rep_encode(msgpack_sbuffer *sb, const struct net_rep *r)
{
	msgpack_packer pk;
	const char *err = r->err != NULL ? r->err : "";

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 6) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "st") != 0 ||
	    msgpack_pack_uint32(&pk, r->st) != 0 ||
	    shc_pack_key(&pk, "end") != 0 ||
	    (r->end ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) != 0 ||
	    shc_pack_key(&pk, "kinds") != 0 ||
	    msgpack_pack_array(&pk, r->count) != 0)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < r->count; i++)
		if (msgpack_pack_uint32(&pk, r->kinds[i]) != 0)
			return SL_ENOMEM;
	if (shc_pack_key(&pk, "lens") != 0 ||
	    msgpack_pack_array(&pk, r->count) != 0)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < r->count; i++)
		if (msgpack_pack_uint64(&pk, r->lens[i]) != 0)
			return SL_ENOMEM;
	if (shc_pack_key(&pk, "err") != 0 ||
	    msgpack_pack_str(&pk, strlen(err)) != 0 ||
	    msgpack_pack_str_body(&pk, err, strlen(err)) != 0)
		return SL_ENOMEM;
	return 0;
}

int
net_req_decode(const void *buf, size_t len, struct net_req *q)
{
	msgpack_unpacked u;
	const msgpack_object *d;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, op, sub, seq, n, credits;
	int rv = SL_EPARSE;

	memset(q, 0, sizeof(*q));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 && plen == 0 &&
	    shc_get_u64(&u.data, "v", NET_VERSION, NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "op", OP_FETCH, OP_CLOSE, &op) &&
	    (d = shc_map_get(&u.data, "desc")) != NULL &&
	    d->type == MSGPACK_OBJECT_BIN && d->via.bin.size > 0 &&
	    shc_get_u64(&u.data, "sub", 0, MEM_MAX_SUBPARTITIONS - 1, &sub) &&
	    shc_get_u64(&u.data, "seq", 0, UINT64_MAX / 2, &seq) &&
	    shc_get_u64(&u.data, "n", 1, NET_MAX_BATCH, &n) &&
	    shc_get_u64(&u.data, "credits", 1, NET_MAX_CREDITS, &credits)) {
		/* desc points into buf, not into u: msgpack-c's bin objects
		 * reference the input. */
		q->op = (uint32_t)op;
		q->desc = d->via.bin.ptr;
		q->desc_len = d->via.bin.size;
		q->sub = (uint32_t)sub;
		q->seq = seq;
		q->n = (uint32_t)n;
		q->credits = (uint32_t)credits;
		rv = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}

int
net_rep_decode(const void *buf, size_t len, struct net_rep_in *r)
{
	msgpack_unpacked u;
	const msgpack_object *end, *kinds, *lens, *err;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, st, total = 0;
	int rv = SL_EPARSE;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) != 0 ||
	    !shc_get_u64(&u.data, "v", NET_VERSION, NET_VERSION, &v) ||
	    !shc_get_u64(&u.data, "st", ST_DATA, ST_ERROR, &st) ||
	    (end = shc_map_get(&u.data, "end")) == NULL ||
	    end->type != MSGPACK_OBJECT_BOOLEAN ||
	    (kinds = shc_map_get(&u.data, "kinds")) == NULL ||
	    kinds->type != MSGPACK_OBJECT_ARRAY ||
	    (lens = shc_map_get(&u.data, "lens")) == NULL ||
	    lens->type != MSGPACK_OBJECT_ARRAY ||
	    kinds->via.array.size != lens->via.array.size ||
	    kinds->via.array.size > NET_MAX_BATCH ||
	    (err = shc_map_get(&u.data, "err")) == NULL ||
	    err->type != MSGPACK_OBJECT_STR)
		goto out;
	r->st = (uint32_t)st;
	r->end = end->via.boolean;
	r->count = kinds->via.array.size;
	for (uint32_t i = 0; i < r->count; i++) {
		const msgpack_object *k = &kinds->via.array.ptr[i];
		const msgpack_object *l = &lens->via.array.ptr[i];

		if (k->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    k->via.u64 > SL_BUFFER_EVENT ||
		    l->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    l->via.u64 > plen - total)
			goto out;
		r->kinds[i] = (uint32_t)k->via.u64;
		r->lens[i] = l->via.u64;
		total += l->via.u64;
	}
	/* The payload is exactly the buffers; a data reply carries some
	 * unless it says the end; an error carries none. */
	if (total != plen || (st == ST_DATA && r->count == 0 && !r->end) ||
	    (st == ST_ERROR && r->count != 0))
		goto out;
	shc_copy_text(r->err, sizeof(r->err), err);
	r->payload = (const char *)payload;
	rv = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rv;
}
