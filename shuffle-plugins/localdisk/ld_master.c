/*
 * The localdisk master, in the coordinator: hands out descriptors, removes
 * a released partition's files, and says a partition is available until it
 * is released or its worker is lost. A released partition's files are
 * removed here (the coordinator of `sluice run` shares its host with the
 * workers) and by the producing worker's server, told without waiting.
 */
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sluice/msgpack_check.h>

#include "localdisk.h"

struct released {
	struct released *next;
	struct ld_desc d;
};

struct lmaster {
	const struct sl_host *host;
	uint64_t token; /* in every descriptor: this run of the job's */
	char **lost;    /* locations of workers lost */
	uint32_t nlost, caplost;
	struct released *released;
};

static int
master_init(void *state, const struct sl_host *host, const char *config_json)
{
	struct lmaster *m = state;

	(void)config_json;
	m->host = host;
	/* 0 means "none" in a descriptor */
	while (m->token == 0)
		if (getrandom(&m->token, sizeof(m->token), 0) !=
		    (ssize_t)sizeof(m->token))
			m->token =
			    (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	return 0;
}

static void
master_fini(void *state)
{
	struct lmaster *m = state;

	for (uint32_t i = 0; i < m->nlost; i++)
		m->host->free(m->lost[i]);
	if (m->host != NULL)
		m->host->free(m->lost);
	while (m->released != NULL) {
		struct released *r = m->released;

		m->released = r->next;
		ld_desc_clear(m->host, &r->d);
		m->host->free(r);
	}
}

static bool
is_released(const struct lmaster *m, const struct ld_desc *d)
{
	for (const struct released *r = m->released; r != NULL; r = r->next)
		if (ld_same_partition(&r->d, d))
			return true;
	return false;
}

static int
master_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *desc)
{
	struct lmaster *m = state;
	struct ld_desc d = {
		.job = (char *)spec->job_id,
		.edge = spec->edge,
		.producer = spec->producer,
		.attempt = spec->attempt,
		.nsub = spec->num_subpartitions,
		.type = spec->type,
		.location = (char *)spec->producer_location,
		.token = m->token,
	};

	if (spec->struct_size >=
	    offsetof(struct sl_partition_spec, compression) +
	        sizeof(spec->compression))
		d.codec = spec->compression;
	if (d.codec > SL_COMPRESSION_ZSTD) {
		m->host->set_error(
		    "localdisk: unknown compression %u", d.codec);
		return SL_ENOTSUP;
	}

	if (spec->type != SL_PARTITION_BLOCKING) {
		m->host->set_error("localdisk: partition type %u is not "
		                   "supported, only blocking",
		    spec->type);
		return SL_ENOTSUP;
	}
	if (spec->job_id == NULL || spec->job_id[0] == '\0' ||
	    strchr(spec->job_id, '/') != NULL || spec->num_subpartitions == 0 ||
	    spec->num_subpartitions > LD_MAX_SUBPARTITIONS) {
		m->host->set_error("localdisk: bad partition spec");
		return SL_EINVAL;
	}
	return ld_desc_encode(m->host, &d, desc);
}

/* Remember d as released (taken); with remove, remove its files: here,
 * and through its worker's server when it has one (another host). */
static void
released(struct lmaster *m, struct ld_desc *d, const struct sl_bytes *desc,
    bool remove)
{
	struct released *r;

	if (is_released(m, d)) {
		ld_desc_clear(m->host, d);
		return;
	}
	if (remove) {
		ld_remove(m->host, d);
		ld_served_release(m->host, d);
		if (d->location != NULL && d->location[0] != '\0')
			ld_remote_release_partition(m->host, d->location, desc);
		/* a remote service's copy on a second daemon */
		if (d->replica != NULL && d->replica[0] != '\0')
			ld_remote_release_partition(m->host, d->replica, desc);
	}
	if ((r = m->host->alloc(sizeof(*r))) == NULL) {
		ld_desc_clear(m->host, d);
		return;
	}
	r->d = *d;
	r->next = m->released;
	m->released = r;
}

static int
master_release(void *state, const void *desc, size_t len)
{
	struct lmaster *m = state;
	struct sl_bytes b = { (void *)desc, len };
	struct ld_desc d;
	int rv;

	if ((rv = ld_desc_decode(m->host, desc, len, &d)) != 0)
		return rv;
	released(m, &d, &b, true);
	return 0;
}

/* Whether location was reported lost (a replica's too, where there is
 * one: the partition is available while either copy is). */
static bool
is_lost(const struct lmaster *m, const char *location)
{
	for (uint32_t i = 0; location != NULL && i < m->nlost; i++)
		if (strcmp(m->lost[i], location) == 0)
			return true;
	return false;
}

static bool
master_is_available(void *state, const void *desc, size_t len)
{
	struct lmaster *m = state;
	struct ld_desc d;
	bool ok;

	if (ld_desc_decode(m->host, desc, len, &d) != 0)
		return false;
	ok = !is_released(m, &d) &&
	    (!is_lost(m, d.location) ||
	        (d.replica != NULL && !is_lost(m, d.replica)));
	ld_desc_clear(m->host, &d);
	return ok;
}

static void
master_worker_lost(void *state, const char *location)
{
	struct lmaster *m = state;
	char *s;

	if (m->nlost == m->caplost) {
		uint32_t cap = m->caplost ? m->caplost * 2 : 4;
		char **v = m->host->realloc(m->lost, cap * sizeof(*v));

		if (v == NULL)
			return;
		m->lost = v;
		m->caplost = cap;
	}
	if ((s = m->host->alloc(strlen(location) + 1)) == NULL)
		return;
	strcpy(s, location);
	m->lost[m->nlost++] = s;
}

/* Snapshot: msgpack [[released descriptor (bin)...], [lost location...],
 * token]: what makes a partition unavailable, and the token that names
 * the job's files. */
static int
master_snapshot(void *state, struct sl_bytes *out)
{
	struct lmaster *m = state;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n = 0;
	int rv = 0;

	for (struct released *r = m->released; r != NULL; r = r->next)
		n++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_array(&pk, 3) != 0 || msgpack_pack_array(&pk, n) != 0)
		rv = SL_ENOMEM;
	for (struct released *r = m->released; rv == 0 && r != NULL;
	     r = r->next) {
		struct sl_bytes b;

		if ((rv = ld_desc_encode(m->host, &r->d, &b)) != 0)
			break;
		if (msgpack_pack_bin(&pk, b.len) != 0 ||
		    msgpack_pack_bin_body(&pk, b.data, b.len) != 0)
			rv = SL_ENOMEM;
		m->host->free(b.data);
	}
	if (rv == 0 && msgpack_pack_array(&pk, m->nlost) != 0)
		rv = SL_ENOMEM;
	for (uint32_t i = 0; rv == 0 && i < m->nlost; i++) {
		size_t l = strlen(m->lost[i]);

		if (msgpack_pack_str(&pk, l) != 0 ||
		    msgpack_pack_str_body(&pk, m->lost[i], l) != 0)
			rv = SL_ENOMEM;
	}
	if (rv == 0 && msgpack_pack_uint64(&pk, m->token) != 0)
		rv = SL_ENOMEM;
	if (rv == 0 && (out->data = m->host->alloc(sb.size)) == NULL)
		rv = SL_ENOMEM;
	if (rv == 0) {
		memcpy(out->data, sb.data, sb.size);
		out->len = sb.size;
	}
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

static int
master_restore(void *state, const void *data, size_t len)
{
	struct lmaster *m = state;
	const msgpack_object *rel, *lost;
	msgpack_unpacked u;
	size_t off = 0;
	int rv = SL_EPARSE;

	if (data == NULL || len == 0)
		return 0; /* an empty snapshot: nothing released, none lost */
	if (sl_msgpack_check(data, len) != 0) {
		m->host->set_error("localdisk: malformed snapshot");
		return SL_EPARSE;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != len || u.data.type != MSGPACK_OBJECT_ARRAY ||
	    u.data.via.array.size < 2 ||
	    (rel = &u.data.via.array.ptr[0])->type != MSGPACK_OBJECT_ARRAY ||
	    (lost = &u.data.via.array.ptr[1])->type != MSGPACK_OBJECT_ARRAY)
		goto out;
	for (uint32_t i = 0; i < rel->via.array.size; i++) {
		const msgpack_object *b = &rel->via.array.ptr[i];

		struct ld_desc d;

		if (b->type != MSGPACK_OBJECT_BIN ||
		    ld_desc_decode(
		        m->host, b->via.bin.ptr, b->via.bin.size, &d) != 0)
			goto out;
		released(m, &d, NULL, false);
	}
	for (uint32_t i = 0; i < lost->via.array.size; i++) {
		const msgpack_object *l = &lost->via.array.ptr[i];
		char s[1024];

		if (l->type != MSGPACK_OBJECT_STR || l->via.str.size == 0 ||
		    l->via.str.size >= sizeof(s))
			goto out;
		memcpy(s, l->via.str.ptr, l->via.str.size);
		s[l->via.str.size] = '\0';
		master_worker_lost(m, s);
	}
	if (u.data.via.array.size > 2) {
		const msgpack_object *t = &u.data.via.array.ptr[2];

		if (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    t->via.u64 == 0)
			goto out;
		m->token = t->via.u64;
	}
	rv = 0;
out:
	msgpack_unpacked_destroy(&u);
	if (rv != 0)
		m->host->set_error("localdisk: malformed snapshot");
	return rv;
}

const struct sl_shuffle_master_ops ld_master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = sizeof(struct lmaster),
	.init = master_init,
	.fini = master_fini,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	.worker_lost = master_worker_lost,
	.snapshot = master_snapshot,
	.restore = master_restore,
};
