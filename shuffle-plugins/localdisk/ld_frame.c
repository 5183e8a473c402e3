/*
 * The frames between a localdisk reader in one process and the server of
 * the producing worker (ld_server.c, ld_fetch.c): encoding, and decoding
 * that trusts nothing (the bytes come from another process, maybe another
 * host). Pure functions on bytes, so the fuzzer
 * (tests/fuzz/fuzz_localdisk_frames.c) runs them alone.
 *
 * A frame is a u32 LE n, an n-byte msgpack map, then (replies) payload:
 *   request {"v": 1, "op": 1 fetch | 2 release, "desc": bin, "lo": u32,
 *            "hi": u32, "run": u32, "pos": u64, "max": u32, and from a
 *            remote shuffle plugin "secret": str}
 *   reply   {"v": 1, "st": 0 data | 2 error, "end": bool, "run": u32,
 *            "pos": u64, "err": str} + whole blocks as on disk
 * A fetch asks for the blocks of subpartitions lo..hi from position (run,
 * pos) on, at most max bytes of them unless one block alone is larger. The
 * reply's position is where the next fetch starts; "end" says nothing is
 * left. Fetches carry their position, so the server keeps no state per
 * reader and a fetch may be sent again.
 */
#include <stdio.h>
#include <string.h>

#include <sluice/msgpack_check.h>

#include "localdisk.h"

int
ld_req_encode(msgpack_sbuffer *sb, const struct ld_req *q)
{
	msgpack_packer pk;

	size_t sl = strlen(q->secret);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, sl > 0 ? 9 : 8) != 0 ||
	    (sl > 0 &&
	        (shc_pack_key(&pk, "secret") != 0 ||
	            msgpack_pack_str(&pk, sl) != 0 ||
	            msgpack_pack_str_body(&pk, q->secret, sl) != 0)) ||
	    shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "op") != 0 ||
	    msgpack_pack_uint32(&pk, q->op) != 0 ||
	    shc_pack_key(&pk, "desc") != 0 ||
	    msgpack_pack_bin(&pk, q->desc_len) != 0 ||
	    msgpack_pack_bin_body(&pk, q->desc, q->desc_len) != 0 ||
	    shc_pack_key(&pk, "lo") != 0 ||
	    msgpack_pack_uint32(&pk, q->lo) != 0 ||
	    shc_pack_key(&pk, "hi") != 0 ||
	    msgpack_pack_uint32(&pk, q->hi) != 0 ||
	    shc_pack_key(&pk, "run") != 0 ||
	    msgpack_pack_uint32(&pk, q->run) != 0 ||
	    shc_pack_key(&pk, "pos") != 0 ||
	    msgpack_pack_uint64(&pk, q->pos) != 0 ||
	    shc_pack_key(&pk, "max") != 0 ||
	    msgpack_pack_uint32(&pk, q->max) != 0)
		return SL_ENOMEM;
	return 0;
}

int
ld_rep_encode(msgpack_sbuffer *sb, const struct ld_rep *r)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 6) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "st") != 0 ||
	    msgpack_pack_uint32(&pk, r->st) != 0 ||
	    shc_pack_key(&pk, "end") != 0 ||
	    (r->end ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) != 0 ||
	    shc_pack_key(&pk, "run") != 0 ||
	    msgpack_pack_uint32(&pk, r->run) != 0 ||
	    shc_pack_key(&pk, "pos") != 0 ||
	    msgpack_pack_uint64(&pk, r->pos) != 0 ||
	    shc_pack_key(&pk, "err") != 0 ||
	    msgpack_pack_str(&pk, strlen(r->err)) != 0 ||
	    msgpack_pack_str_body(&pk, r->err, strlen(r->err)) != 0)
		return SL_ENOMEM;
	return 0;
}

int
ld_req_decode(const void *buf, size_t len, struct ld_req *q)
{
	msgpack_unpacked u;
	const msgpack_object *d;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, op, lo, hi, run, pos, max;
	int rv = SL_EPARSE;

	memset(q, 0, sizeof(*q));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 && plen == 0 &&
	    shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "op", LD_OP_FETCH, LD_OP_RELEASE, &op) &&
	    (d = shc_map_get(&u.data, "desc")) != NULL &&
	    d->type == MSGPACK_OBJECT_BIN && d->via.bin.size > 0 &&
	    shc_get_u64(&u.data, "lo", 0, LD_MAX_SUBPARTITIONS - 1, &lo) &&
	    shc_get_u64(&u.data, "hi", lo, LD_MAX_SUBPARTITIONS - 1, &hi) &&
	    shc_get_u64(&u.data, "run", 0, UINT32_MAX, &run) &&
	    shc_get_u64(&u.data, "pos", 0, UINT64_MAX / 2, &pos) &&
	    shc_get_u64(&u.data, "max", 1, LD_NET_MAX_FETCH, &max)) {
		/* desc points into buf: msgpack-c's bin objects reference
		 * the input */
		q->op = (uint32_t)op;
		q->desc = d->via.bin.ptr;
		q->desc_len = d->via.bin.size;
		q->lo = (uint32_t)lo;
		q->hi = (uint32_t)hi;
		q->run = (uint32_t)run;
		q->pos = pos;
		q->max = (uint32_t)max;
		rv = 0;
		/* optional: a remote shuffle service's */
		if ((d = shc_map_get(&u.data, "secret")) != NULL) {
			if (d->type != MSGPACK_OBJECT_STR ||
			    d->via.str.size >= sizeof(q->secret))
				rv = SL_EPARSE;
			else
				memcpy(
				    q->secret, d->via.str.ptr, d->via.str.size);
		}
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}

int
ld_rep_decode(const void *buf, size_t len, struct ld_rep *r)
{
	msgpack_unpacked u;
	const msgpack_object *end, *err;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, st, run, pos;
	int rv = SL_EPARSE;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) != 0 ||
	    !shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) ||
	    !shc_get_u64(&u.data, "st", LD_ST_DATA, LD_ST_ERROR, &st) ||
	    st == 1 || (end = shc_map_get(&u.data, "end")) == NULL ||
	    end->type != MSGPACK_OBJECT_BOOLEAN ||
	    !shc_get_u64(&u.data, "run", 0, UINT32_MAX, &run) ||
	    !shc_get_u64(&u.data, "pos", 0, UINT64_MAX / 2, &pos) ||
	    (err = shc_map_get(&u.data, "err")) == NULL ||
	    err->type != MSGPACK_OBJECT_STR ||
	    /* an error carries no blocks; data carries some or the end */
	    (st == LD_ST_ERROR && plen != 0) ||
	    (st == LD_ST_DATA && plen == 0 && !end->via.boolean))
		goto out;
	r->st = (uint32_t)st;
	r->end = end->via.boolean;
	r->run = (uint32_t)run;
	r->pos = pos;
	shc_copy_text(r->err, sizeof(r->err), err);
	r->blocks = payload;
	r->len = plen;
	rv = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rv;
}
