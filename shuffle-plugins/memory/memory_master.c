/*
 * The memory plugin's master. It keeps, per registered partition, a
 * reference on the part in the process-wide table, so the data outlives
 * its writer and readers until the coordinator releases it, and a reader
 * deployed before its producer finds the same part.
 *
 * Every op runs on the coordinator thread, so the registry needs no lock.
 */
#include <msgpack.h>
#include <stddef.h>
#include <string.h>

#include "memory.h"

#define SNAPSHOT_VERSION 1

struct mentry {
	struct mentry *next;
	uint64_t hash;
	struct mem_desc desc;
	struct part *part; /* reference; NULL once released or lost */
};

struct mmaster {
	const struct sl_host *host;
	struct mentry **buckets;
	size_t nbuckets;
	size_t count;
};

static struct mentry *
lookup(struct mmaster *m, const struct mem_desc *d)
{
	uint64_t hash = mem_desc_hash(d);

	if (m->nbuckets == 0)
		return NULL;
	for (struct mentry *e = m->buckets[hash % m->nbuckets]; e != NULL;
	     e = e->next)
		if (e->hash == hash && mem_desc_same_key(&e->desc, d))
			return e;
	return NULL;
}

static int
grow(struct mmaster *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64;
	struct mentry **b;

	if ((b = m->host->alloc(sizeof(*b) * n)) == NULL)
		return SL_ENOMEM;
	memset(b, 0, sizeof(*b) * n);
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct mentry *e = m->buckets[i];

		while (e != NULL) {
			struct mentry *next = e->next;

			e->next = b[e->hash % n];
			b[e->hash % n] = e;
			e = next;
		}
	}
	m->host->free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

/* Takes d (its strings) on success. */
static int
insert(struct mmaster *m, struct mem_desc *d, struct part *p)
{
	struct mentry *e;
	int rv;

	if (m->count >= m->nbuckets && (rv = grow(m)) != 0)
		return rv;
	if ((e = m->host->alloc(sizeof(*e))) == NULL)
		return SL_ENOMEM;
	e->hash = mem_desc_hash(d);
	e->desc = *d;
	e->part = p;
	e->next = m->buckets[e->hash % m->nbuckets];
	m->buckets[e->hash % m->nbuckets] = e;
	m->count++;
	memset(d, 0, sizeof(*d));
	return 0;
}

/* Coordinator thread, does not block. The plugin has no configuration. */
static int
master_init(void *state, const struct sl_host *host, const char *config_json)
{
	struct mmaster *m = state;

	m->host = host;
	return 0;
}

/* Coordinator thread, does not block. Drops the master's references;
 * parts still used by a writer or reader live on until those finish. */
static void
master_fini(void *state)
{
	struct mmaster *m = state;

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct mentry *e = m->buckets[i];

		while (e != NULL) {
			struct mentry *next = e->next;

			part_put(e->part);
			mem_desc_clear(m->host, &e->desc);
			m->host->free(e);
			e = next;
		}
	}
	if (m->host != NULL)
		m->host->free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = m->count = 0;
}

/*
 * Coordinator thread, does not block. Creates the part so that readers and
 * the writer meet on it in whatever order they open. Registering the same
 * attempt twice is SL_EEXISTS.
 */
static int
master_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *out)
{
	struct mmaster *m = state;
	const struct sl_host *host = m->host;
	struct mem_desc d = { 0 };
	struct part *p;
	int rv;

	if (spec == NULL || out == NULL ||
	    spec->struct_size <
	        offsetof(struct sl_partition_spec, num_subpartitions) +
	            sizeof(spec->num_subpartitions) ||
	    spec->job_id == NULL || spec->job_id[0] == '\0' ||
	    spec->num_subpartitions == 0 ||
	    spec->num_subpartitions > MEM_MAX_SUBPARTITIONS) {
		host->set_error("memory: bad partition spec");
		return SL_EINVAL;
	}
	if (spec->type != SL_PARTITION_PIPELINED) {
		host->set_error("memory: partition type %u is not supported, "
		                "only pipelined",
		    spec->type);
		return SL_ENOTSUP;
	}
	/* Buffers are handed over, not stored: nothing to gain. */
	if (spec->struct_size >=
	        offsetof(struct sl_partition_spec, compression) +
	            sizeof(spec->compression) &&
	    spec->compression != SL_COMPRESSION_NONE) {
		host->set_error("memory: compression is not supported (it "
		                "hands buffers over; localdisk compresses)");
		return SL_ENOTSUP;
	}
	d.edge = spec->edge;
	d.producer = spec->producer;
	d.attempt = spec->attempt;
	d.num_subpartitions = spec->num_subpartitions;
	d.type = spec->type;
	if ((d.job_id = mem_strdup(host, spec->job_id)) == NULL)
		return SL_ENOMEM;
	if (spec->struct_size >=
	        offsetof(struct sl_partition_spec, producer_location) +
	            sizeof(spec->producer_location) &&
	    spec->producer_location != NULL &&
	    (d.location = mem_strdup(host, spec->producer_location)) == NULL) {
		rv = SL_ENOMEM;
		goto out_clear;
	}
	/* Attempt numbers are never reused, even after a release. */
	if (lookup(m, &d) != NULL) {
		host->set_error("memory: partition %s/%u/%u/%u is already "
		                "registered",
		    d.job_id, d.edge, d.producer, d.attempt);
		rv = SL_EEXISTS;
		goto out_clear;
	}
	if ((rv = mem_desc_encode(host, &d, out)) != 0)
		goto out_clear;
	if ((rv = part_get(host, &d, &p)) != 0)
		goto out_free_desc;
	if ((rv = insert(m, &d, p)) != 0) {
		part_put(p);
		goto out_free_desc;
	}
	return 0;

out_free_desc:
	host->free(out->data);
	out->data = NULL;
	out->len = 0;
out_clear:
	mem_desc_clear(host, &d);
	return rv;
}

static void
drop_entry(struct mentry *e)
{
	if (e->part == NULL)
		return;
	part_discard(e->part, true);
	part_put(e->part);
	e->part = NULL;
}

/*
 * Coordinator thread, does not block for long. Frees the queued buffers at
 * once; readers that had not read everything see SL_EUNREADABLE, the writer
 * gets SL_ECLOSED. Releasing twice, or a partition this master does not
 * know, is not an error.
 */
static int
master_release(void *state, const void *desc, size_t len)
{
	struct mmaster *m = state;
	struct mem_desc d;
	struct mentry *e;
	int rv;

	if ((rv = mem_desc_decode(m->host, desc, len, &d)) != 0)
		return rv;
	if ((e = lookup(m, &d)) != NULL)
		drop_entry(e);
	mem_desc_clear(m->host, &d);
	return 0;
}

/*
 * Coordinator thread, does not block for long. Available: registered here,
 * not released, and not failed by its writer.
 */
static bool
master_is_available(void *state, const void *desc, size_t len)
{
	struct mmaster *m = state;
	struct mem_desc d;
	struct mentry *e;
	bool ok = false;

	if (mem_desc_decode(m->host, desc, len, &d) != 0)
		return false;
	if ((e = lookup(m, &d)) != NULL && e->part != NULL) {
		pthread_mutex_lock(&e->part->mtx);
		ok = e->part->state != PART_FAILED && !e->part->released;
		pthread_mutex_unlock(&e->part->mtx);
	}
	mem_desc_clear(m->host, &d);
	return ok;
}

/* Coordinator thread, does not block for long. Partitions produced at
 * that location are gone. */
static void
master_worker_lost(void *state, const char *location)
{
	struct mmaster *m = state;

	if (location == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct mentry *e = m->buckets[i]; e != NULL; e = e->next)
			if (e->desc.location != NULL &&
			    strcmp(e->desc.location, location) == 0)
				drop_entry(e);
}

/*
 * Coordinator thread, does not block. The snapshot is
 * {"v": 1, "parts": [descriptor as bin, ...]} of the partitions not
 * released.
 */
static int
master_snapshot(void *state, struct sl_bytes *out)
{
	struct mmaster *m = state;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t live = 0;
	int rv = 0;

	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct mentry *e = m->buckets[i]; e != NULL; e = e->next)
			live += e->part != NULL;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, 2) != 0 || msgpack_pack_str(&pk, 1) != 0 ||
	    msgpack_pack_str_body(&pk, "v", 1) != 0 ||
	    msgpack_pack_uint32(&pk, SNAPSHOT_VERSION) != 0 ||
	    msgpack_pack_str(&pk, 5) != 0 ||
	    msgpack_pack_str_body(&pk, "parts", 5) != 0 ||
	    msgpack_pack_array(&pk, live) != 0) {
		rv = SL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; rv == 0 && i < m->nbuckets; i++) {
		for (struct mentry *e = m->buckets[i]; rv == 0 && e != NULL;
		     e = e->next) {
			struct sl_bytes b;

			if (e->part == NULL)
				continue;
			if ((rv = mem_desc_encode(m->host, &e->desc, &b)) != 0)
				break;
			if (msgpack_pack_bin(&pk, b.len) != 0 ||
			    msgpack_pack_bin_body(&pk, b.data, b.len) != 0)
				rv = SL_ENOMEM;
			m->host->free(b.data);
		}
	}
	if (rv == 0) {
		if ((out->data = m->host->alloc(sb.size)) == NULL) {
			rv = SL_ENOMEM;
		} else {
			memcpy(out->data, sb.data, sb.size);
			out->len = sb.size;
		}
	}
out:
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

/*
 * Restore one descriptor. The data lives in this process's table or
 * nowhere: after a real restart nothing is found and the partition is
 * recorded as unavailable.
 */
static int
restore_one(struct mmaster *m, const msgpack_object *o)
{
	struct mem_desc d;
	int rv;

	if (o->type != MSGPACK_OBJECT_BIN)
		return SL_EPARSE;
	if ((rv = mem_desc_decode(
	         m->host, o->via.bin.ptr, o->via.bin.size, &d)) != 0)
		return rv;
	if (lookup(m, &d) != NULL) {
		mem_desc_clear(m->host, &d);
		return SL_EPARSE; /* the same partition twice */
	}
	if ((rv = insert(m, &d, NULL)) != 0) {
		mem_desc_clear(m->host, &d);
		return rv;
	}
	return 0;
}

static void
attach_restored(struct mmaster *m)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (struct mentry *e = m->buckets[i]; e != NULL; e = e->next) {
			struct part *p;
			bool usable;

			if (e->part != NULL ||
			    (p = part_find(&e->desc)) == NULL)
				continue;
			pthread_mutex_lock(&p->mtx);
			usable = !p->released && p->state != PART_FAILED &&
			    p->desc.num_subpartitions ==
			        e->desc.num_subpartitions;
			pthread_mutex_unlock(&p->mtx);
			if (usable)
				e->part = p;
			else
				part_put(p);
		}
	}
}

/* Coordinator thread, does not block, into a freshly initialised master.
 * On failure the master is left empty. */
static int
master_restore(void *state, const void *data, size_t len)
{
	struct mmaster *m = state;
	const msgpack_object *parts = NULL;
	msgpack_unpacked u;
	size_t off = 0;
	uint64_t version = 0;
	int rv = 0;

	if (len == 0)
		return 0;
	if (m->count != 0)
		return SL_ESTATE;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != len || u.data.type != MSGPACK_OBJECT_MAP) {
		rv = SL_EPARSE;
		goto out;
	}
	for (uint32_t i = 0; i < u.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &u.data.via.map.ptr[i];

		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		if (kv->key.via.str.size == 1 &&
		    kv->key.via.str.ptr[0] == 'v' &&
		    kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			version = kv->val.via.u64;
		else if (kv->key.via.str.size == 5 &&
		    memcmp(kv->key.via.str.ptr, "parts", 5) == 0 &&
		    kv->val.type == MSGPACK_OBJECT_ARRAY)
			parts = &kv->val;
	}
	if (version != SNAPSHOT_VERSION || parts == NULL) {
		rv = SL_EPARSE;
		goto out;
	}
	for (uint32_t i = 0; rv == 0 && i < parts->via.array.size; i++)
		rv = restore_one(m, &parts->via.array.ptr[i]);
	if (rv == 0)
		attach_restored(m);
out:
	msgpack_unpacked_destroy(&u);
	if (rv != 0) {
		master_fini(m);
		m->host->set_error("memory: bad master snapshot");
	}
	return rv;
}

const struct sl_shuffle_master_ops mem_master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = sizeof(struct mmaster),
	.init = master_init,
	.fini = master_fini,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	.worker_lost = master_worker_lost,
	.snapshot = master_snapshot,
	.restore = master_restore,
};
