/* Push, commit and ping frames (rs_frame.h). */
#include <stdbool.h>
#include <string.h>

#include "net.h"
#include "rs_frame.h"
#include "rs_store.h"

/* A ping's map: v, op, secret, job, token. */
static int
ping_encode(msgpack_packer *pk, const struct rs_req *q)
{
	size_t sl = strlen(q->secret), jl = strlen(q->job);

	if (msgpack_pack_map(pk, 5) != 0 || shc_pack_key(pk, "v") != 0 ||
	    msgpack_pack_uint32(pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(pk, "op") != 0 ||
	    msgpack_pack_uint32(pk, q->op) != 0 ||
	    shc_pack_key(pk, "secret") != 0 || msgpack_pack_str(pk, sl) != 0 ||
	    msgpack_pack_str_body(pk, q->secret, sl) != 0 ||
	    shc_pack_key(pk, "job") != 0 || msgpack_pack_str(pk, jl) != 0 ||
	    msgpack_pack_str_body(pk, q->job, jl) != 0 ||
	    shc_pack_key(pk, "token") != 0 ||
	    msgpack_pack_uint64(pk, q->token) != 0)
		return SL_ENOMEM;
	return 0;
}

int
rs_req_encode(msgpack_sbuffer *sb, const struct rs_req *q)
{
	msgpack_packer pk;
	size_t sl = strlen(q->secret);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (q->op == RS_OP_PING)
		return ping_encode(&pk, q);
	/* without "out" when 0: a frame as it was before it */
	if (msgpack_pack_map(&pk, q->out != 0 ? 6 : 5) != 0 ||
	    shc_pack_key(&pk, "v") != 0 ||
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
	if (q->out != 0 &&
	    (shc_pack_key(&pk, "out") != 0 ||
	        msgpack_pack_uint32(&pk, q->out) != 0))
		return SL_ENOMEM;
	return 0;
}

int
rs_rep_encode(msgpack_sbuffer *sb, const struct rs_rep *r)
{
	msgpack_packer pk;
	size_t el = strlen(r->err);
	/* a push's and a commit's replies stay as they were */
	uint32_t n = 4 + (r->bytes != 0) + (r->used != 0);

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, n) != 0 || shc_pack_key(&pk, "v") != 0 ||
	    msgpack_pack_uint32(&pk, LD_NET_VERSION) != 0 ||
	    shc_pack_key(&pk, "st") != 0 ||
	    msgpack_pack_uint32(&pk, r->st) != 0 ||
	    shc_pack_key(&pk, "next") != 0 ||
	    msgpack_pack_uint64(&pk, r->next) != 0 ||
	    shc_pack_key(&pk, "err") != 0 || msgpack_pack_str(&pk, el) != 0 ||
	    msgpack_pack_str_body(&pk, r->err, el) != 0)
		return SL_ENOMEM;
	if (r->bytes != 0 &&
	    (shc_pack_key(&pk, "bytes") != 0 ||
	        msgpack_pack_uint64(&pk, r->bytes) != 0))
		return SL_ENOMEM;
	if (r->used != 0 &&
	    (shc_pack_key(&pk, "used") != 0 ||
	        msgpack_pack_uint32(&pk, r->used) != 0))
		return SL_ENOMEM;
	return 0;
}

/* An optional unsigned key: absent is 0; present, it must be one within
 * 0..hi. */
static bool
opt_u64(const msgpack_object *o, const char *key, uint64_t hi, uint64_t *out)
{
	*out = 0;
	return shc_map_get(o, key) == NULL || shc_get_u64(o, key, 0, hi, out);
}

/* A ping's job: what a descriptor's job may be (ld_desc_decode), since it
 * names a directory of the data dir. */
static bool
job_ok(const msgpack_object *j, size_t cap)
{
	return j != NULL && j->type == MSGPACK_OBJECT_STR &&
	    j->via.str.size > 0 && j->via.str.size < cap &&
	    memchr(j->via.str.ptr, '\0', j->via.str.size) == NULL &&
	    memchr(j->via.str.ptr, '/', j->via.str.size) == NULL &&
	    !(j->via.str.size == 1 && j->via.str.ptr[0] == '.') &&
	    !(j->via.str.size == 2 && memcmp(j->via.str.ptr, "..", 2) == 0);
}

/* The fields of a push or a commit (d, seq) or of a ping (job, token) into
 * q; whether they are there and well-formed. */
static bool
op_fields(const msgpack_object *map, uint64_t op, size_t plen, struct rs_req *q)
{
	const msgpack_object *d, *j;
	uint64_t out;

	if (op == RS_OP_PING) {
		j = shc_map_get(map, "job");
		if (plen != 0 || !job_ok(j, sizeof(q->job)) ||
		    !shc_get_u64(map, "token", 0, UINT64_MAX, &q->token))
			return false;
		memcpy(q->job, j->via.str.ptr, j->via.str.size);
		q->job[j->via.str.size] = '\0';
		return true;
	}
	if ((d = shc_map_get(map, "desc")) == NULL ||
	    d->type != MSGPACK_OBJECT_BIN || d->via.bin.size == 0 ||
	    !shc_get_u64(map, "seq", 0, UINT64_MAX / 2, &q->seq) ||
	    !opt_u64(map, "out", op == RS_OP_PUSH ? RS_MAX_OUT : 0, &out) ||
	    plen > RS_MAX_BATCH || (op != RS_OP_PUSH && plen != 0))
		return false;
	q->out = (uint32_t)out;
	q->desc = d->via.bin.ptr; /* bin objects point into buf */
	q->desc_len = d->via.bin.size;
	return true;
}

int
rs_req_decode(const void *buf, size_t len, struct rs_req *q)
{
	msgpack_unpacked u;
	const msgpack_object *s;
	const unsigned char *payload;
	size_t plen;
	uint64_t v, op;
	int rv = SL_EPARSE;

	memset(q, 0, sizeof(*q));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 &&
	    shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "op", RS_OP_PUSH, RS_OP_PING, &op) &&
	    (s = shc_map_get(&u.data, "secret")) != NULL &&
	    s->type == MSGPACK_OBJECT_STR &&
	    s->via.str.size < sizeof(q->secret) &&
	    op_fields(&u.data, op, plen, q)) {
		q->op = (uint32_t)op;
		memcpy(q->secret, s->via.str.ptr, s->via.str.size);
		q->secret[s->via.str.size] = '\0';
		q->blocks = payload;
		q->len = plen;
		rv = 0;
	}
	if (rv != 0)
		memset(q, 0, sizeof(*q));
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
	uint64_t v, st, next, bytes, used;
	int rv = SL_EPARSE;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&u);
	if (shc_unframe(buf, len, &u, &payload, &plen) == 0 && plen == 0 &&
	    shc_get_u64(&u.data, "v", LD_NET_VERSION, LD_NET_VERSION, &v) &&
	    shc_get_u64(&u.data, "st", LD_ST_DATA, LD_ST_ERROR, &st) &&
	    st != 1 && shc_get_u64(&u.data, "next", 0, UINT64_MAX / 2, &next) &&
	    (err = shc_map_get(&u.data, "err")) != NULL &&
	    err->type == MSGPACK_OBJECT_STR &&
	    opt_u64(&u.data, "bytes", UINT64_MAX, &bytes) &&
	    opt_u64(&u.data, "used", 100, &used)) {
		r->st = (uint32_t)st;
		r->next = next;
		r->bytes = bytes;
		r->used = (uint32_t)used;
		shc_copy_text(r->err, sizeof(r->err), err);
		rv = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}
