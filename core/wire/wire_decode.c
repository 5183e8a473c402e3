/*
 * Decoding a message from another process. sl_msgpack_check bounds what
 * msgpack-c allocates by the input's length; then every field of the
 * type's table (wire.c) must be present once, of its msgpack type and in
 * its range, and is copied out, so nothing of the msgpack zone survives.
 * Keys the table does not know are skipped, whatever their value.
 */
#include <msgpack.h>
#include <msgpack/unpack_define.h> /* MSGPACK_EMBED_STACK_SIZE */
#include <stdlib.h>
#include <string.h>

#include <sluice/msgpack_check.h>

#include "common/error.h"
#include "wire_impl.h"

struct dec {
	struct wire_path path;
	char buf[96]; /* for a problem's text */
};

static const char *
got(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return "int";
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "negative int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "float";
	case MSGPACK_OBJECT_STR:
		return "string";
	case MSGPACK_OBJECT_BIN:
		return "binary";
	case MSGPACK_OBJECT_ARRAY:
		return "array";
	case MSGPACK_OBJECT_MAP:
		return "map";
	case MSGPACK_OBJECT_EXT:
		return "ext";
	}
	return "?";
}

static int
expected(struct dec *d, const char *what, const msgpack_object *o)
{
	return sli__wire_fail(
	    SL_EPARSE, &d->path, "expected %s, got %s", what, got(o));
}

/*
 * Whether containers nest deeper than msgpack-c's unpacker goes: it keeps
 * at most MSGPACK_EMBED_STACK_SIZE non-empty arrays and maps open, and
 * reports any array or map met when that many are open (an empty one too)
 * as out of memory, which a peer must not be able to make us believe. buf
 * passed sl_msgpack_check, so every length fits.
 */
static bool
nested_too_deep(const unsigned char *p, size_t len)
{
	uint64_t left[MSGPACK_EMBED_STACK_SIZE]; /* items per open one */
	unsigned top = 0;
	size_t pos = 0;

	while (pos < len) {
		unsigned b = p[pos++];
		uint64_t items = 0, skip = 0;
		size_t hdr = 0;
		bool container =
		    (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);

		if (container && top == MSGPACK_EMBED_STACK_SIZE)
			return true;
		if (b >= 0x80 && b <= 0x8f)
			items = 2 * (uint64_t)(b & 0x0f);
		else if (b >= 0x90 && b <= 0x9f)
			items = b & 0x0f;
		else if (b >= 0xa0 && b <= 0xbf)
			skip = b & 0x1f;
		else if (b == 0xc4 || b == 0xd9 || b == 0xc7)
			hdr = 1, skip = b == 0xc7;
		else if (b == 0xc5 || b == 0xda || b == 0xc8)
			hdr = 2, skip = b == 0xc8;
		else if (b == 0xc6 || b == 0xdb || b == 0xc9)
			hdr = 4, skip = b == 0xc9;
		else if (b == 0xcc || b == 0xd0)
			skip = 1;
		else if (b == 0xcd || b == 0xd1 || b == 0xd4)
			skip = 2;
		else if (b == 0xd5)
			skip = 3;
		else if (b == 0xca || b == 0xce || b == 0xd2)
			skip = 4;
		else if (b == 0xd6)
			skip = 5;
		else if (b == 0xcb || b == 0xcf || b == 0xd3)
			skip = 8;
		else if (b == 0xd7)
			skip = 9;
		else if (b == 0xd8)
			skip = 17;
		else if (b >= 0xdc && b <= 0xdf) {
			size_t n = (b == 0xdc || b == 0xde) ? 2 : 4;

			items =
			    sl__msgpack_be(p + pos, n) * (b >= 0xde ? 2 : 1);
			pos += n;
		}
		if (hdr > 0) {
			skip += sl__msgpack_be(p + pos, hdr);
			pos += hdr;
		}
		pos += (size_t)skip;
		if (items > 0) {
			left[top++] = items;
			continue;
		}
		/* A whole object: it may complete the containers around. */
		while (top > 0 && --left[top - 1] == 0)
			top--;
	}
	return false;
}

static int
nomem(void)
{
	return sli_err(SL_ENOMEM, "wire: decode: out of memory");
}

/* Copy n bytes and a NUL after them. */
static char *
copy_z(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int
get_uint(struct dec *d, const struct wire_field *f, const msgpack_object *o,
    uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return expected(d, "uint", o);
	if (o->via.u64 < f->min || o->via.u64 > f->max)
		return sli__wire_fail(SL_EPARSE, &d->path,
		    "%llu out of range %llu..%llu",
		    (unsigned long long)o->via.u64, (unsigned long long)f->min,
		    (unsigned long long)f->max);
	*v = o->via.u64;
	return 0;
}

static int dec_map(struct dec *d, const struct wire_layout *l,
    const msgpack_object *o, void *s, bool top);

static int
dec_value(struct dec *d, const struct wire_field *f, const msgpack_object *o,
    void *base)
{
	char *p = (char *)base + f->off;
	const char *problem;
	uint64_t v = 0;
	int rv;

	switch (f->kind) {
	case WF_U32:
		if ((rv = get_uint(d, f, o, &v)) == 0)
			*(uint32_t *)p = (uint32_t)v;
		return rv;
	case WF_U64:
		if ((rv = get_uint(d, f, o, &v)) == 0)
			*(uint64_t *)p = v;
		return rv;
	case WF_NAME:
	case WF_STR:
	case WF_TEXT:
		if (o->type != MSGPACK_OBJECT_STR)
			return expected(d, "string", o);
		if ((problem = sli__wire_str_problem(f->kind, f->max,
		         o->via.str.ptr, o->via.str.size, d->buf,
		         sizeof(d->buf))) != NULL)
			return sli__wire_fail(
			    SL_EPARSE, &d->path, "%s", problem);
		if ((*(char **)p = copy_z(o->via.str.ptr, o->via.str.size)) ==
		    NULL)
			return nomem();
		return 0;
	case WF_JSON:
		/* bin from us; str accepted from tools that write JSON
		 * text as a string. */
		if (o->type != MSGPACK_OBJECT_BIN &&
		    o->type != MSGPACK_OBJECT_STR)
			return expected(d, "binary or string", o);
		/* str and bin share their layout in msgpack_object. */
		if ((*(char **)p = copy_z(o->via.bin.ptr, o->via.bin.size)) ==
		    NULL)
			return nomem();
		*(size_t *)((char *)base + f->noff) = o->via.bin.size;
		return 0;
	case WF_BIN: {
		struct sl_bytes *b = (void *)p;

		if (o->type != MSGPACK_OBJECT_BIN)
			return expected(d, "binary", o);
		if (o->via.bin.size > 0) {
			if ((b->data = malloc(o->via.bin.size)) == NULL)
				return nomem();
			memcpy(b->data, o->via.bin.ptr, o->via.bin.size);
		}
		b->len = o->via.bin.size;
		return 0;
	}
	case WF_LIST: {
		uint32_t n;
		char *arr;

		if (o->type != MSGPACK_OBJECT_ARRAY)
			return expected(d, "array", o);
		if ((n = o->via.array.size) > f->max)
			return sli__wire_fail(SL_EPARSE, &d->path,
			    "%u entries, at most %llu", (unsigned)n,
			    (unsigned long long)f->max);
		if (n == 0)
			return 0;
		/* n <= the input's length (sl_msgpack_check). Zeroed and
		 * counted at once, so a failure part way frees cleanly. */
		if ((arr = calloc(n, f->esize)) == NULL)
			return nomem();
		*(char **)p = arr;
		*(uint32_t *)((char *)base + f->noff) = n;
		for (uint32_t i = 0; i < n; i++) {
			size_t mark =
			    sli__wire_path_push(&d->path, "[%u]", (unsigned)i);

			if ((rv = dec_value(d, f->elem, &o->via.array.ptr[i],
			         arr + i * f->esize)) != 0)
				return rv;
			sli__wire_path_pop(&d->path, mark);
		}
		return 0;
	}
	case WF_MAP:
		return dec_map(d, f->map, o, p, false);
	}
	return SL_EPARSE;
}

static bool
key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	    memcmp(k->via.str.ptr, name, n) == 0;
}

/* Decode the fields of l from the map o into the struct s. At the top,
 * "v" and "t" were dealt with already. */
static int
dec_map(struct dec *d, const struct wire_layout *l, const msgpack_object *o,
    void *s, bool top)
{
	uint32_t seen = 0;
	const char *problem;
	int rv;

	if (o->type != MSGPACK_OBJECT_MAP)
		return expected(d, "map", o);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		unsigned j;
		size_t mark;

		if (top && (key_is(k, "v") || key_is(k, "t")))
			continue;
		for (j = 0; j < l->nfields; j++)
			if (key_is(k, l->fields[j].key))
				break;
		if (j == l->nfields)
			continue; /* a later revision's field */
		if (seen & (1u << j))
			return sli__wire_fail(SL_EPARSE, &d->path,
			    "field \"%s\" appears twice", l->fields[j].key);
		seen |= 1u << j;
		mark = sli__wire_path_push(&d->path, ".%s", l->fields[j].key);
		if ((rv = dec_value(
		         d, &l->fields[j], &o->via.map.ptr[i].val, s)) != 0)
			return rv;
		sli__wire_path_pop(&d->path, mark);
	}
	for (unsigned j = 0; j < l->nfields; j++)
		if (!(seen & (1u << j)))
			return sli__wire_fail(SL_EPARSE, &d->path,
			    "missing field \"%s\"", l->fields[j].key);
	if (l->check != NULL &&
	    (problem = l->check(s, d->buf, sizeof(d->buf))) != NULL)
		return sli__wire_fail(SL_EPARSE, &d->path, "%s", problem);
	return 0;
}

/* Find "v" and "t" in the top map and check them: the version before
 * anything else, so that a peer of another version hears that rather
 * than about a type or field this build does not know. */
static int
dec_header(struct dec *d, const msgpack_object *o, uint64_t *type)
{
	const msgpack_object *v = NULL, *t = NULL;

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object **slot = key_is(k, "v") ? &v
		    : key_is(k, "t")                         ? &t
		                                             : NULL;

		if (slot == NULL)
			continue;
		if (*slot != NULL)
			return sli__wire_fail(SL_EPARSE, &d->path,
			    "field \"%s\" appears twice",
			    slot == &v ? "v" : "t");
		*slot = &o->via.map.ptr[i].val;
	}
	if (v == NULL)
		return sli__wire_fail(SL_EPARSE, &d->path,
		    "missing field \"v\" (the protocol version; this build "
		    "speaks version %d)",
		    SLI_WIRE_VERSION);
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return sli__wire_fail(SL_EPARSE, &d->path,
		    "field \"v\": expected uint, got %s", got(v));
	if (v->via.u64 != SLI_WIRE_VERSION)
		return sli__wire_fail(SL_EPARSE, &d->path,
		    "version %llu, this build speaks version %d",
		    (unsigned long long)v->via.u64, SLI_WIRE_VERSION);
	if (t == NULL)
		return sli__wire_fail(
		    SL_EPARSE, &d->path, "missing field \"t\" (the type)");
	if (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return sli__wire_fail(SL_EPARSE, &d->path,
		    "field \"t\": expected uint, got %s", got(t));
	if (sli__wire_layout(t->via.u64) == NULL)
		return sli__wire_fail(SL_EPARSE, &d->path, "unknown type %llu",
		    (unsigned long long)t->via.u64);
	*type = t->via.u64;
	return 0;
}

int
sli_wire_decode(const void *data, size_t len, struct sli_msg *out)
{
	msgpack_unpacked u;
	struct dec d;
	uint64_t type = 0;
	size_t off = 0;
	int rv;

	memset(out, 0, sizeof(*out));
	sli__wire_path_init(&d.path, "message");
	if (data == NULL || len == 0)
		return sli__wire_fail(SL_EPARSE, &d.path, "empty");
	if (len > SLI_WIRE_MAX)
		return sli__wire_fail(SL_EPARSE, &d.path,
		    "%zu bytes, at most %u", len, SLI_WIRE_MAX);
	/* Bounds the unpacker's allocations by len (msgpack_check.h). */
	if (sl_msgpack_check(data, len) != 0)
		return sli__wire_fail(SL_EPARSE, &d.path,
		    "not one well-formed msgpack object (%zu bytes)", len);
	if (nested_too_deep(data, len))
		return sli__wire_fail(SL_EPARSE, &d.path,
		    "nested deeper than %d levels", MSGPACK_EMBED_STACK_SIZE);
	msgpack_unpacked_init(&u);
	switch (msgpack_unpack_next(&u, data, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		rv = nomem();
		goto out;
	default: /* not after sl_msgpack_check and the depth check */
		rv = sli__wire_fail(SL_EPARSE, &d.path, "msgpack-c refused it");
		goto out;
	}
	if (u.data.type != MSGPACK_OBJECT_MAP) {
		rv = expected(&d, "map", &u.data);
		goto out;
	}
	if ((rv = dec_header(&d, &u.data, &type)) != 0)
		goto out;
	out->type = (uint32_t)type;
	sli__wire_path_init(&d.path, sli_msg_type_name((int)type));
	rv = dec_map(&d, sli__wire_layout(type), &u.data, &out->hello, true);
out:
	msgpack_unpacked_destroy(&u);
	if (rv != 0)
		sli_msg_free(out);
	return rv;
}
