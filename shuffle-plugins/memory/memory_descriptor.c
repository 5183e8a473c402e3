/*
 * The memory plugin's shuffle descriptor: a msgpack map
 *   {"v": 1, "job": str, "edge": u32, "producer": u32, "attempt": u32,
 *    "nsub": u32, "type": u32, "loc": str | nil}
 * The decoder ignores keys it does not know, so later versions may add
 * some without breaking older readers; it refuses a different "v".
 * Descriptors cross process boundaries (the operation log, later the
 * network), so the decoder trusts nothing.
 */
#include <sluice/msgpack_check.h>
#include <msgpack.h>
#include <string.h>

#include "memory.h"

static int
pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return msgpack_pack_str_body(pk, s, n);
}

static int
pack_u32(msgpack_packer *pk, const char *key, uint32_t v)
{
	if (pack_str(pk, key) != 0)
		return -1;
	return msgpack_pack_uint32(pk, v);
}

int
mem_desc_encode(
    const struct sl_host *host, const struct mem_desc *d, struct sl_bytes *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rv = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 8) != 0 ||
	    pack_u32(&pk, "v", MEM_DESC_VERSION) != 0 ||
	    pack_str(&pk, "job") != 0 || pack_str(&pk, d->job_id) != 0 ||
	    pack_u32(&pk, "edge", d->edge) != 0 ||
	    pack_u32(&pk, "producer", d->producer) != 0 ||
	    pack_u32(&pk, "attempt", d->attempt) != 0 ||
	    pack_u32(&pk, "nsub", d->num_subpartitions) != 0 ||
	    pack_u32(&pk, "type", d->type) != 0 || pack_str(&pk, "loc") != 0 ||
	    (d->location != NULL ? pack_str(&pk, d->location)
	                         : msgpack_pack_nil(&pk)) != 0) {
		rv = SL_ENOMEM;
		goto out;
	}
	if ((out->data = host->alloc(sb.size)) == NULL) {
		rv = SL_ENOMEM;
		goto out;
	}
	memcpy(out->data, sb.data, sb.size);
	out->len = sb.size;
out:
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

static bool
key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	    memcmp(k->via.str.ptr, name, n) == 0;
}

static int
get_u32(const msgpack_object *v, uint32_t *out)
{
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v->via.u64 > UINT32_MAX)
		return SL_EPARSE;
	*out = (uint32_t)v->via.u64;
	return 0;
}

/* Copy a msgpack string into a NUL-terminated one; an embedded NUL would
 * make two descriptors that differ compare equal, so it is refused. */
static int
get_str(const struct sl_host *host, const msgpack_object *v, char **out)
{
	char *s;

	if (v->type != MSGPACK_OBJECT_STR ||
	    memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL)
		return SL_EPARSE;
	if ((s = host->alloc(v->via.str.size + 1)) == NULL)
		return SL_ENOMEM;
	memcpy(s, v->via.str.ptr, v->via.str.size);
	s[v->via.str.size] = '\0';
	host->free(*out);
	*out = s;
	return 0;
}

enum {
	SEEN_V = 1 << 0,
	SEEN_JOB = 1 << 1,
	SEEN_EDGE = 1 << 2,
	SEEN_PRODUCER = 1 << 3,
	SEEN_ATTEMPT = 1 << 4,
	SEEN_NSUB = 1 << 5,
	SEEN_REQUIRED = (1 << 6) - 1,
};

static int
decode_map(
    const struct sl_host *host, const msgpack_object *o, struct mem_desc *d)
{
	uint32_t version = 0;
	unsigned seen = 0;
	int rv = 0;

	if (o->type != MSGPACK_OBJECT_MAP)
		return SL_EPARSE;
	for (uint32_t i = 0; rv == 0 && i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;

		if (key_is(k, "v")) {
			rv = get_u32(v, &version);
			seen |= SEEN_V;
		} else if (key_is(k, "job")) {
			rv = get_str(host, v, &d->job_id);
			seen |= SEEN_JOB;
		} else if (key_is(k, "edge")) {
			rv = get_u32(v, &d->edge);
			seen |= SEEN_EDGE;
		} else if (key_is(k, "producer")) {
			rv = get_u32(v, &d->producer);
			seen |= SEEN_PRODUCER;
		} else if (key_is(k, "attempt")) {
			rv = get_u32(v, &d->attempt);
			seen |= SEEN_ATTEMPT;
		} else if (key_is(k, "nsub")) {
			rv = get_u32(v, &d->num_subpartitions);
			seen |= SEEN_NSUB;
		} else if (key_is(k, "type")) {
			rv = get_u32(v, &d->type);
		} else if (key_is(k, "loc")) {
			if (v->type == MSGPACK_OBJECT_NIL) {
				host->free(d->location);
				d->location = NULL;
			} else {
				rv = get_str(host, v, &d->location);
			}
		}
	}
	if (rv != 0)
		return rv;
	if ((seen & SEEN_REQUIRED) != SEEN_REQUIRED ||
	    version != MEM_DESC_VERSION || d->job_id[0] == '\0' ||
	    d->num_subpartitions == 0 ||
	    d->num_subpartitions > MEM_MAX_SUBPARTITIONS)
		return SL_EPARSE;
	return 0;
}

int
mem_desc_decode(
    const struct sl_host *host, const void *buf, size_t len, struct mem_desc *d)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rv;

	memset(d, 0, sizeof(*d));
	if (buf == NULL || len == 0) {
		host->set_error("memory: empty shuffle descriptor");
		return SL_EPARSE;
	}
	/* Bounds the unpacker's allocations by len (msgpack_check.h). */
	if (sl_msgpack_check(buf, len) != 0) {
		host->set_error("memory: malformed shuffle descriptor");
		return SL_EPARSE;
	}
	msgpack_unpacked_init(&u);
	switch (msgpack_unpack_next(&u, buf, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		rv = off == len ? decode_map(host, &u.data, d) : SL_EPARSE;
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		rv = SL_ENOMEM;
		break;
	default:
		rv = SL_EPARSE;
		break;
	}
	msgpack_unpacked_destroy(&u);
	if (rv != 0) {
		mem_desc_clear(host, d);
		if (rv == SL_EPARSE)
			host->set_error("memory: not a memory shuffle "
			                "descriptor (version %d)",
			    MEM_DESC_VERSION);
	}
	return rv;
}

void
mem_desc_clear(const struct sl_host *host, struct mem_desc *d)
{
	host->free(d->job_id);
	host->free(d->location);
	memset(d, 0, sizeof(*d));
}

bool
mem_desc_same_key(const struct mem_desc *a, const struct mem_desc *b)
{
	return a->edge == b->edge && a->producer == b->producer &&
	    a->attempt == b->attempt && strcmp(a->job_id, b->job_id) == 0;
}

uint64_t
mem_desc_hash(const struct mem_desc *d)
{
	/* FNV-1a: the key is short and this is not exposed to attackers
	 * beyond the coordinator's own jobs. */
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	uint32_t w[3] = { d->edge, d->producer, d->attempt };

	for (const char *s = d->job_id; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	for (size_t i = 0; i < sizeof(w); i++)
		h = (h ^ ((const unsigned char *)w)[i]) *
		    UINT64_C(0x100000001b3);
	return h;
}
