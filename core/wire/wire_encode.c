/*
 * Encoding a message: walk its type's fields (wire.c) in table order,
 * checking each against the rules the decoder applies, so nothing is sent
 * that the peer would refuse. Keys go out in table order after "v" and
 * "t", integers in their shortest form: the encoding of a message is
 * canonical, which the fuzzer and the exact-bytes test rely on.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "wire_impl.h"

struct enc {
	msgpack_packer pk;
	struct wire_path path;
	char buf[96]; /* for a problem's text */
};

/* msgpack-c's packer fails only when the buffer cannot grow. */
#define PACK(call)                        \
	do {                              \
		if ((call) != 0)          \
			return SL_ENOMEM; \
	} while (0)

static int
pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	if (msgpack_pack_str(pk, n) != 0)
		return -1;
	return msgpack_pack_str_body(pk, s, n);
}

static int
pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	if (msgpack_pack_bin(pk, n) != 0)
		return -1;
	return n > 0 ? msgpack_pack_bin_body(pk, p, n) : 0;
}

/* A text with every byte that does not start a valid UTF-8 sequence (and
 * so NUL too, which cannot be in a C string anyway) replaced by U+FFFD:
 * a worker's error report must not fail to send because an operator put
 * a file's bytes into its message. */
static int
pack_text(msgpack_packer *pk, const char *s)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, o = 0, step;
	char *fixed;
	int rv;

	for (i = 0; i < n; i += step)
		if ((step = sli__utf8_seq(u + i, n - i)) == 0)
			break;
	if (i == n)
		return pack_str(pk, s, n);
	if ((fixed = malloc(3 * n)) == NULL)
		return -1;
	for (i = 0; i < n; i += step) {
		if ((step = sli__utf8_seq(u + i, n - i)) == 0) {
			memcpy(fixed + o, repl, 3);
			o += 3;
			step = 1;
		} else {
			memcpy(fixed + o, s + i, step);
			o += step;
		}
	}
	rv = pack_str(pk, fixed, o);
	free(fixed);
	return rv;
}

static int enc_value(
    struct enc *e, const struct wire_field *f, const void *base);

static int
enc_map(struct enc *e, const struct wire_layout *l, const void *s)
{
	const char *problem;
	int rv;

	for (unsigned i = 0; i < l->nfields; i++) {
		const struct wire_field *f = &l->fields[i];
		size_t mark;

		PACK(pack_str(&e->pk, f->key, strlen(f->key)));
		mark = sli__wire_path_push(&e->path, ".%s", f->key);
		if ((rv = enc_value(e, f, s)) != 0)
			return rv;
		sli__wire_path_pop(&e->path, mark);
	}
	if (l->check != NULL &&
	    (problem = l->check(s, e->buf, sizeof(e->buf))) != NULL)
		return sli__wire_fail(SL_EINVAL, &e->path, "%s", problem);
	return 0;
}

static int
enc_value(struct enc *e, const struct wire_field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	const char *problem;

	switch (f->kind) {
	case WF_U32: {
		uint32_t v = *(const uint32_t *)p;

		if (v < f->min || v > f->max)
			return sli__wire_fail(SL_EINVAL, &e->path,
			    "%u out of range %llu..%llu", (unsigned)v,
			    (unsigned long long)f->min,
			    (unsigned long long)f->max);
		PACK(msgpack_pack_uint32(&e->pk, v));
		return 0;
	}
	case WF_U64:
		PACK(msgpack_pack_uint64(&e->pk, *(const uint64_t *)p));
		return 0;
	case WF_NAME:
	case WF_STR:
	case WF_TEXT: {
		const char *s = *(char *const *)p ? *(char *const *)p : "";

		if (f->kind == WF_TEXT) {
			PACK(pack_text(&e->pk, s));
			return 0;
		}
		if ((problem = sli__wire_str_problem(f->kind, f->max, s,
		         strlen(s), e->buf, sizeof(e->buf))) != NULL)
			return sli__wire_fail(
			    SL_EINVAL, &e->path, "%s", problem);
		PACK(pack_str(&e->pk, s, strlen(s)));
		return 0;
	}
	case WF_JSON: {
		const char *s = *(char *const *)p;
		size_t n = *(const size_t *)((const char *)base + f->noff);

		if (s == NULL && n > 0)
			return sli__wire_fail(
			    SL_EINVAL, &e->path, "NULL with length %zu", n);
		PACK(pack_bin(&e->pk, s, n));
		return 0;
	}
	case WF_BIN: {
		const struct sl_bytes *b = (const void *)p;

		if (b->data == NULL && b->len > 0)
			return sli__wire_fail(SL_EINVAL, &e->path,
			    "NULL with length %zu", b->len);
		PACK(pack_bin(&e->pk, b->data, b->len));
		return 0;
	}
	case WF_LIST: {
		const char *v = *(char *const *)p;
		uint32_t n = *(const uint32_t *)((const char *)base + f->noff);
		int rv;

		if (n > f->max)
			return sli__wire_fail(SL_EINVAL, &e->path,
			    "%u entries, at most %llu", (unsigned)n,
			    (unsigned long long)f->max);
		if (v == NULL && n > 0)
			return sli__wire_fail(SL_EINVAL, &e->path,
			    "NULL with %u entries", (unsigned)n);
		PACK(msgpack_pack_array(&e->pk, n));
		for (uint32_t i = 0; i < n; i++) {
			size_t mark =
			    sli__wire_path_push(&e->path, "[%u]", (unsigned)i);

			if ((rv = enc_value(e, f->elem, v + i * f->esize)) != 0)
				return rv;
			sli__wire_path_pop(&e->path, mark);
		}
		return 0;
	}
	case WF_MAP:
		PACK(msgpack_pack_map(&e->pk, f->map->nfields));
		return enc_map(e, f->map, p);
	}
	return SL_EINVAL;
}

int
sli_wire_encode(const struct sli_msg *m, void **data, size_t *len)
{
	const struct wire_layout *l;
	msgpack_sbuffer sb;
	struct enc e;
	int rv = SL_ENOMEM;

	if (m == NULL || data == NULL || len == NULL)
		return sli_err(SL_EINVAL, "wire: encode: NULL argument");
	if ((l = sli__wire_layout(m->type)) == NULL)
		return sli_err(SL_EINVAL,
		    "wire: encode: unknown message type %u", (unsigned)m->type);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&e.pk, &sb, msgpack_sbuffer_write);
	sli__wire_path_init(&e.path, sli_msg_type_name((int)m->type));
	if (msgpack_pack_map(&e.pk, 2 + l->nfields) != 0 ||
	    pack_str(&e.pk, "v", 1) != 0 ||
	    msgpack_pack_uint32(&e.pk, SLI_WIRE_VERSION) != 0 ||
	    pack_str(&e.pk, "t", 1) != 0 ||
	    msgpack_pack_uint32(&e.pk, m->type) != 0)
		goto out;
	if ((rv = enc_map(&e, l, &m->hello)) != 0)
		goto out;
	if (sb.size > SLI_WIRE_MAX) {
		rv = sli_err(SL_ERANGE, "%s: %zu bytes encoded, at most %u",
		    sli_msg_type_name((int)m->type), sb.size, SLI_WIRE_MAX);
		goto out;
	}
	*len = sb.size;
	*data = msgpack_sbuffer_release(&sb);
	return 0;
out:
	if (rv == SL_ENOMEM)
		sli_err(rv, "wire: encode: out of memory");
	msgpack_sbuffer_destroy(&sb);
	return rv;
}
