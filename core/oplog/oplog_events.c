/* The operation log's records: msgpack in, JSON out (oplog_events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/error.h"
#include "oplog_events.h"

struct rec {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

/* The map's header, "t" and "ms"; nfields more pairs follow. */
static void
rec_start(struct rec *r, const char *type, uint64_t ms, uint32_t nfields)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&r->pk, 2 + nfields);
	msgpack_pack_str_with_body(&r->pk, "t", 1);
	msgpack_pack_str_with_body(&r->pk, type, strlen(type));
	msgpack_pack_str_with_body(&r->pk, "ms", 2);
	msgpack_pack_uint64(&r->pk, ms);
}

static void
key(struct rec *r, const char *k)
{
	msgpack_pack_str_with_body(&r->pk, k, strlen(k));
}

static void
str(struct rec *r, const char *k, const char *v)
{
	key(r, k);
	if (v == NULL)
		v = "";
	msgpack_pack_str_with_body(&r->pk, v, strlen(v));
}

static void
u64(struct rec *r, const char *k, uint64_t v)
{
	key(r, k);
	msgpack_pack_uint64(&r->pk, v);
}

static int
rec_end(struct rec *r, struct sli_oplog *log)
{
	int rv = sli_oplog_append(log, r->sb.data, r->sb.size);

	msgpack_sbuffer_destroy(&r->sb);
	return rv;
}

int
sli_oplog_submitted(struct sli_oplog *log, uint64_t ms, const char *job,
    const char *origin, const char *json, size_t json_len)
{
	struct rec r;

	rec_start(&r, "submitted", ms, 3);
	str(&r, "job", job);
	str(&r, "origin", origin);
	key(&r, "json");
	msgpack_pack_str_with_body(&r.pk, json, json_len);
	return rec_end(&r, log);
}

int
sli_oplog_decided(struct sli_oplog *log, uint64_t ms, uint32_t vertex,
    const char *id, uint32_t parallelism, const uint32_t *starts)
{
	struct rec r;

	rec_start(&r, "decided", ms, 4);
	u64(&r, "vertex", vertex);
	str(&r, "id", id);
	u64(&r, "parallelism", parallelism);
	key(&r, "starts");
	msgpack_pack_array(&r.pk, starts != NULL ? parallelism : 0);
	for (uint32_t k = 0; starts != NULL && k < parallelism; k++)
		msgpack_pack_uint32(&r.pk, starts[k]);
	return rec_end(&r, log);
}

int
sli_oplog_finished(struct sli_oplog *log, uint64_t ms, uint32_t vertex,
    uint32_t index, uint32_t attempt, const char *worker,
    const struct sli_oplog_output *outs, uint32_t nout)
{
	struct rec r;

	rec_start(&r, "finished", ms, 5);
	u64(&r, "vertex", vertex);
	u64(&r, "index", index);
	u64(&r, "attempt", attempt);
	str(&r, "worker", worker);
	key(&r, "outputs");
	msgpack_pack_array(&r.pk, nout);
	for (uint32_t k = 0; k < nout; k++) {
		msgpack_pack_array(&r.pk, 3);
		msgpack_pack_uint32(&r.pk, outs[k].edge);
		msgpack_pack_bin_with_body(
		    &r.pk, outs[k].desc.data, outs[k].desc.len);
		msgpack_pack_array(&r.pk, outs[k].nsub);
		for (uint32_t i = 0; i < outs[k].nsub; i++)
			msgpack_pack_uint64(&r.pk, outs[k].sub_bytes[i]);
	}
	return rec_end(&r, log);
}

int
sli_oplog_reset(struct sli_oplog *log, uint64_t ms, const char *cause,
    const uint32_t (*restarted)[3], uint32_t n)
{
	struct rec r;

	rec_start(&r, "reset", ms, 2);
	str(&r, "cause", cause);
	key(&r, "restarted");
	msgpack_pack_array(&r.pk, n);
	for (uint32_t i = 0; i < n; i++) {
		msgpack_pack_array(&r.pk, 3);
		for (int k = 0; k < 3; k++)
			msgpack_pack_uint32(&r.pk, restarted[i][k]);
	}
	return rec_end(&r, log);
}

int
sli_oplog_snapshot(struct sli_oplog *log, uint64_t ms, const char *plugin,
    const void *data, size_t len)
{
	struct rec r;

	rec_start(&r, "snapshot", ms, 2);
	str(&r, "plugin", plugin);
	key(&r, "data");
	msgpack_pack_bin_with_body(&r.pk, data, len);
	return rec_end(&r, log);
}

int
sli_oplog_ended(
    struct sli_oplog *log, uint64_t ms, const char *state, const char *message)
{
	struct rec r;

	rec_start(&r, "ended", ms, 2);
	str(&r, "state", state);
	str(&r, "message", message);
	return rec_end(&r, log);
}

const msgpack_object *
sli_oplog_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

uint64_t
sli_oplog_u64(const msgpack_object *o)
{
	return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER
	    ? o->via.u64
	    : UINT64_MAX;
}

static json_t *
to_json(const msgpack_object *o)
{
	static const char hex[] = "0123456789abcdef";
	json_t *j = NULL;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_stringn_nocheck(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN: {
		char *s = malloc(2 * (size_t)o->via.bin.size + 1);

		if (s == NULL)
			return NULL;
		for (uint32_t i = 0; i < o->via.bin.size; i++) {
			unsigned char c = (unsigned char)o->via.bin.ptr[i];

			s[2 * i] = hex[c >> 4];
			s[2 * i + 1] = hex[c & 15];
		}
		s[2 * (size_t)o->via.bin.size] = '\0';
		j = json_string(s);
		free(s);
		return j;
	}
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; j != NULL && i < o->via.array.size; i++)
			json_array_append_new(j, to_json(&o->via.array.ptr[i]));
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (uint32_t i = 0; j != NULL && i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			char name[128];

			if (k->type != MSGPACK_OBJECT_STR)
				continue;
			snprintf(name, sizeof(name), "%.*s",
			    (int)k->via.str.size, k->via.str.ptr);
			json_object_set_new(
			    j, name, to_json(&o->via.map.ptr[i].val));
		}
		return j;
	default:
		return json_null();
	}
}

json_t *
sli_oplog_record_json(const void *payload, size_t len)
{
	msgpack_unpacked u;
	json_t *j = NULL;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, payload, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		j = to_json(&u.data);
	msgpack_unpacked_destroy(&u);
	return j;
}
