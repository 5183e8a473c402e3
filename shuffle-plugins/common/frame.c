/*
 * Frames of the shuffle plugins' data path between processes (net.h).
 */
#include <stdio.h>
#include <string.h>

#include <sluice/msgpack_check.h>

#include "net.h"

int
shc_pack_key(msgpack_packer *pk, const char *k)
{
	size_t n = strlen(k);

	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return msgpack_pack_str_body(pk, k, n);
}

void
shc_frame_header(const msgpack_sbuffer *sb, void *dst)
{
	uint8_t *m = dst;

	m[0] = (uint8_t)sb->size;
	m[1] = (uint8_t)(sb->size >> 8);
	m[2] = (uint8_t)(sb->size >> 16);
	m[3] = (uint8_t)(sb->size >> 24);
	memcpy(m + 4, sb->data, sb->size);
}

int
shc_unframe(const void *buf, size_t len, msgpack_unpacked *u,
    const unsigned char **payload, size_t *plen)
{
	const uint8_t *b = buf;
	size_t n, off = 0;

	if (buf == NULL || len < 4)
		return SL_EPARSE;
	n = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 |
	    (size_t)b[3] << 24;
	if (n > len - 4 || sl_msgpack_check(b + 4, n) != 0)
		return SL_EPARSE;
	if (msgpack_unpack_next(u, (const char *)b + 4, n, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != n || u->data.type != MSGPACK_OBJECT_MAP)
		return SL_EPARSE;
	*payload = b + 4 + n;
	*plen = len - 4 - n;
	return 0;
}

const msgpack_object *
shc_map_get(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &o->via.map.ptr[i].val;
	}
	return NULL;
}

bool
shc_get_u64(const msgpack_object *o, const char *key, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	const msgpack_object *v = shc_map_get(o, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v->via.u64 < lo || v->via.u64 > hi)
		return false;
	*out = v->via.u64;
	return true;
}

void
shc_copy_text(char *dst, size_t cap, const msgpack_object *s)
{
	snprintf(dst, cap, "%.*s", (int)s->via.str.size, s->via.str.ptr);
	for (size_t i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20)
			dst[i] = '?';
}
