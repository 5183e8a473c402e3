/* Push and commit frames (rs_frame.h). */
#include <string.h>

#include "net.h"
#include "rs_frame.h"
#include "rs_store.h"

int
rs_req_encode(msgpack_sbuffer *sb, const struct rs_req *q)
{
	msgpack_packer pk;
	size_t sl = strlen(q->secret);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 5) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "op") != 0 ||
	    msgpack_pack_uint32(&pk, q->op) != 0 ||
	    shc_pack_key(&pk, "secret") != 0 ||
	    msgpack_pack_str(&pk, sl) != 0 ||
	    msgpack_pack_str_body(&pk, q->secret, sl) != 0 ||
	    shc_pack_key(&pk, "desc") != 0 ||
	    msgpack_pack_bin(&pk, q->desc_len) != 0 ||
	    msgpack_pack_bin_body(&pk, q->desc, q->desc_len) != 0 ||
	    shc_pack_key(&pk, "seq") != 0 ||
	    msgpack_pack_uint64(&pk, q->seq) != 0)
		return SL_ENOMEM;
	return 0;
}

int
rs_rep_encode(msgpack_sbuffer *sb, const struct rs_rep *r)
{
	msgpack_packer pk;
	size_t el = strlen(r->err);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 4) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "st") != 0 ||
	    msgpack_pack_uint32(&pk, r->st) != 0 ||
	    shc_pack_key(&pk, "next") != 0 ||
	    msgpack_pack_uint64(&pk, r->next) != 0 ||
	    shc_pack_key(&pk, "err") != 0 || msgpack_pack_str(&pk, el) != 0 ||
	    msgpack_pack_str_body(&pk, r->err, el) != 0)
		return SL_ENOMEM;
	return 0;
}

int
rs_req_decode(const void *buf, size_t len, struct rs_req *q)
{
	msgpack_unpacked u;
	const msgpack_object *d, *s;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, op, seq;
	int rv = SL_EPARSE;

	memset(q, 0, sizeof(*q));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 &&
	    shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "op", RS_OP_PUSH, RS_OP_COMMIT, &op) &&
	    (s = shc_map_get(&u.data, "secret")) != NULL &&
	    s->type == MSGPACK_OBJECT_STR &&
	    s->via.str.size < sizeof(q->secret) &&
	    (d = shc_map_get(&u.data, "desc")) != NULL &&
	    d->type == MSGPACK_OBJECT_BIN && d->via.bin.size > 0 &&
	    shc_get_u64(&u.data, "seq", 0, UINT64_MAX / 2, &seq) &&
	    plen <= RS_MAX_BATCH && (op == RS_OP_PUSH || plen == 0)) {
		q->op = (uint32_t)op;
		memcpy(q->secret, s->via.str.ptr, s->via.str.size);
		q->secret[s->via.str.size] = '\0';
		q->desc = d->via.bin.ptr; /* bin objects point into buf */
		q->desc_len = d->via.bin.size;
		q->seq = seq;
		q->blocks = payload;
		q->len = plen;
		rv = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}

int
rs_rep_decode(const void *buf, size_t len, struct rs_rep *r)
{
	msgpack_unpacked u;
	const msgpack_object *err;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, st, next;
	int rv = SL_EPARSE;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 && plen == 0 &&
	    shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "st", LD_ST_DATA, LD_ST_ERROR, &st) &&
	    st != 1 && shc_get_u64(&u.data, "next", 0, UINT64_MAX / 2, &next) &&
	    (err = shc_map_get(&u.data, "err")) != NULL &&
	    err->type == MSGPACK_OBJECT_STR) {
		r->st = (uint32_t)st;
		r->next = next;
		shc_copy_text(r->err, sizeof(r->err), err);
		rv = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}
