/*
 * The localdisk plugin's descriptor, paths and the in-process table of
 * partitions being written (the plugin itself: ld_plugin.c). localdisk.h
 * describes the design.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>
#include <sluice/msgpack_check.h>

#include "ld_file.h"
#include "localdisk.h"

/* ---- descriptor ---- */

int
ld_desc_encode(
    const struct sl_host *host, const struct ld_desc *d, struct sl_bytes *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t jl = strlen(d->job);
	int rv = SL_ENOMEM;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_array(&pk, d->replica != NULL ? 11 : 10) == 0 &&
	    msgpack_pack_uint32(&pk, LD_DESC_VERSION) == 0 &&
	    msgpack_pack_str(&pk, jl) == 0 &&
	    msgpack_pack_str_body(&pk, d->job, jl) == 0 &&
	    msgpack_pack_uint32(&pk, d->edge) == 0 &&
	    msgpack_pack_uint32(&pk, d->producer) == 0 &&
	    msgpack_pack_uint32(&pk, d->attempt) == 0 &&
	    msgpack_pack_uint32(&pk, d->nsub) == 0 &&
	    msgpack_pack_uint32(&pk, d->type) == 0 &&
	    (d->location == NULL
	            ? msgpack_pack_nil(&pk)
	            : (msgpack_pack_str(&pk, strlen(d->location)) ||
	                  msgpack_pack_str_body(
	                      &pk, d->location, strlen(d->location)))) == 0 &&
	    msgpack_pack_uint32(&pk, d->codec) == 0 &&
	    msgpack_pack_uint64(&pk, d->token) == 0 &&
	    (d->replica == NULL ||
	        (msgpack_pack_str(&pk, strlen(d->replica)) == 0 &&
	            msgpack_pack_str_body(
	                &pk, d->replica, strlen(d->replica)) == 0)) &&
	    (out->data = host->alloc(sb.size)) != NULL) {
		memcpy(out->data, sb.data, sb.size);
		out->len = sb.size;
		rv = 0;
	}
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

/* A string without NUL bytes, copied; NULL when not one. */
static char *
str_of(const struct sl_host *host, const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL ||
	    (s = host->alloc(o->via.str.size + 1)) == NULL)
		return NULL;
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

int
ld_desc_decode(
    const struct sl_host *host, const void *buf, size_t len, struct ld_desc *d)
{
	msgpack_unpacked u;
	const msgpack_object *a;
	uint32_t v[6];
	size_t off = 0;
	int rv = SL_EPARSE;

	memset(d, 0, sizeof(*d));
	if (buf == NULL || len == 0 || sl_msgpack_check(buf, len) != 0) {
		host->set_error("localdisk: malformed shuffle descriptor");
		return SL_EPARSE;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != len || u.data.type != MSGPACK_OBJECT_ARRAY ||
	    u.data.via.array.size < 8)
		goto out;
	a = u.data.via.array.ptr;
	/* v, edge, producer, attempt, nsub, type: unsigned 32-bit */
	for (int i = 0, k = 0; i < 7; i++) {
		if (i == 1)
			continue; /* the job */
		if (a[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    a[i].via.u64 > UINT32_MAX)
			goto out;
		v[k++] = (uint32_t)a[i].via.u64;
	}
	if (v[0] != LD_DESC_VERSION || v[4] == 0 ||
	    v[4] > LD_MAX_SUBPARTITIONS ||
	    (d->job = str_of(host, &a[1])) == NULL ||
	    strchr(d->job, '/') != NULL || strcmp(d->job, "..") == 0 ||
	    strcmp(d->job, ".") == 0)
		goto out;
	d->edge = v[1];
	d->producer = v[2];
	d->attempt = v[3];
	d->nsub = v[4];
	d->type = v[5];
	if (a[7].type != MSGPACK_OBJECT_NIL &&
	    (d->location = str_of(host, &a[7])) == NULL)
		goto out;
	if (u.data.via.array.size > 8) {
		if (a[8].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    a[8].via.u64 > SL_COMPRESSION_ZSTD)
			goto out;
		d->codec = (uint32_t)a[8].via.u64;
	}
	if (u.data.via.array.size > 9) {
		if (a[9].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			goto out;
		d->token = a[9].via.u64;
	}
	if (u.data.via.array.size > 10 && a[10].type != MSGPACK_OBJECT_NIL &&
	    (d->replica = str_of(host, &a[10])) == NULL)
		goto out;
	rv = 0;
out:
	msgpack_unpacked_destroy(&u);
	if (rv != 0) {
		ld_desc_clear(host, d);
		host->set_error("localdisk: malformed shuffle descriptor");
	}
	return rv;
}

void
ld_desc_clear(const struct sl_host *host, struct ld_desc *d)
{
	host->free(d->job);
	host->free(d->location);
	host->free(d->replica);
	d->job = d->location = d->replica = NULL;
}

/* ---- paths ---- */

static void
base_dir(char *buf, size_t cap)
{
	const char *e = getenv("SLUICE_LOCALDISK_DIR"), *t = getenv("TMPDIR");

	if (e != NULL && e[0] == '/')
		snprintf(buf, cap, "%s", e);
	else
		snprintf(buf, cap, "%s/sluice-localdisk",
		    t != NULL && t[0] == '/' ? t : "/tmp");
}

/* BASE/JOB.TOKEN, the directory of d's job */
static void
job_dir(const struct ld_desc *d, char *buf, size_t cap)
{
	char base[2048];

	base_dir(base, sizeof(base));
	if (d->token != 0)
		snprintf(buf, cap, "%s/%s.%016llx", base, d->job,
		    (unsigned long long)d->token);
	else
		snprintf(buf, cap, "%s/%s", base, d->job);
}

bool
ld_same_partition(const struct ld_desc *a, const struct ld_desc *b)
{
	return a->edge == b->edge && a->producer == b->producer &&
	    a->attempt == b->attempt && a->token == b->token &&
	    strcmp(a->job, b->job) == 0;
}

int
ld_paths(const struct sl_host *host, const struct ld_desc *d, bool make_dir,
    char **data, char **index)
{
	char base[2048], dir[4096], p[4200];

	*data = *index = NULL;
	base_dir(base, sizeof(base));
	job_dir(d, dir, sizeof(dir));
	if (make_dir) {
		snprintf(p, sizeof(p), "%s", dir);
		if ((mkdir(base, 0755) != 0 && errno != EEXIST) ||
		    (mkdir(p, 0755) != 0 && errno != EEXIST)) {
			host->set_error("localdisk: cannot make %s: %s", p,
			    strerror(errno));
			return SL_EIO;
		}
	}
	snprintf(p, sizeof(p), "%s/e%u.p%u.a%u.data", dir, d->edge, d->producer,
	    d->attempt);
	if ((*data = host->alloc(strlen(p) + 1)) != NULL)
		strcpy(*data, p);
	snprintf(p, sizeof(p), "%s/e%u.p%u.a%u.index", dir, d->edge,
	    d->producer, d->attempt);
	if ((*index = host->alloc(strlen(p) + 1)) != NULL)
		strcpy(*index, p);
	if (*data == NULL || *index == NULL) {
		host->free(*data);
		host->free(*index);
		*data = *index = NULL;
		return SL_ENOMEM;
	}
	return 0;
}

int
ld_open_writer(const struct sl_host *host, const struct ld_desc *d,
    size_t spill, struct ld_writer **out)
{
	int rv = 0;

	/* A release of the job's last other partition removes the job's
	 * directory when it empties (ld_remove): between this mkdir and the
	 * file's creation, say. Then the directory is made again. */
	for (int tries = 0; tries < 5; tries++) {
		char *data, *index, dir[4096];
		struct stat sb;

		if ((rv = ld_paths(host, d, true, &data, &index)) != 0)
			return rv;
		rv = ld_writer_open(host, data, index, d->nsub, spill, out);
		host->free(data);
		host->free(index);
		job_dir(d, dir, sizeof(dir));
		if (rv == 0 || stat(dir, &sb) == 0)
			break;
	}
	if (rv == 0 && (rv = ld_writer_compress(*out, d->codec)) != 0) {
		ld_writer_free(*out);
		*out = NULL;
	}
	return rv;
}

void
ld_remove(const struct sl_host *host, const struct ld_desc *d)
{
	char *data, *index, dir[4096];

	if (ld_paths(host, d, false, &data, &index) != 0)
		return;
	/* the index first: without it the partition is gone */
	unlink(index);
	unlink(data);
	/* and what a writer killed before its rename left (its worker died
	 * with it; this runs in the coordinator or a worker of its host) */
	for (int k = 0; k < 2; k++) {
		const char *base = k == 0 ? index : data;
		size_t n = strlen(base);
		char *tmp = host->alloc(n + 5);

		if (tmp != NULL) {
			memcpy(tmp, base, n);
			memcpy(tmp + n, ".tmp", 5);
			unlink(tmp);
			host->free(tmp);
		}
	}
	host->free(data);
	host->free(index);
	job_dir(d, dir, sizeof(dir));
	(void)rmdir(dir); /* fails while other partitions are there */
}

/* ---- partitions being written in this process ---- */

struct entry {
	struct entry *next;
	struct ld_desc key; /* job only compared by content */
	enum ld_state state;
	bool has_writer; /* else a reader's: gone with its last waiter */
	struct ld_waiter *waiters;
};

static pthread_mutex_t table_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;

/* table_mtx held */
static struct entry *
find(const struct ld_desc *d)
{
	for (struct entry *e = table; e != NULL; e = e->next)
		if (ld_same_partition(&e->key, d))
			return e;
	return NULL;
}

/* table_mtx held: the entry for d, made when absent. */
static struct entry *
get(const struct sl_host *host, const struct ld_desc *d)
{
	struct entry *e = find(d);

	if (e != NULL)
		return e;
	if ((e = host->alloc(sizeof(*e))) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->key = *d;
	e->key.location = e->key.replica = NULL;
	if ((e->key.job = host->alloc(strlen(d->job) + 1)) == NULL) {
		host->free(e);
		return NULL;
	}
	strcpy(e->key.job, d->job);
	e->state = LD_WRITING;
	e->next = table;
	table = e;
	return e;
}

/* table_mtx held: free e when nobody needs it any more. */
static void
drop_if_unused(const struct sl_host *host, struct entry *e)
{
	struct entry **pp;

	if (e->has_writer || e->waiters != NULL)
		return;
	for (pp = &table; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	host->free(e->key.job);
	host->free(e);
}

int
ld_table_writing(const struct sl_host *host, const struct ld_desc *d)
{
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	if ((e = get(host, d)) != NULL) {
		e->state = LD_WRITING;
		e->has_writer = true;
	}
	pthread_mutex_unlock(&table_mtx);
	return e != NULL ? 0 : SL_ENOMEM;
}

void
ld_table_settle(const struct ld_desc *d, enum ld_state s)
{
	struct ld_waiter *w = NULL;
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	if ((e = find(d)) != NULL) {
		e->state = s;
		w = e->waiters;
	}
	/* Waiters stay linked until they unwait; notify never blocks and
	 * never calls back into the reader (shuffle.h). */
	for (; w != NULL; w = w->next)
		w->notify(w->arg);
	pthread_mutex_unlock(&table_mtx);
}

void
ld_table_forget(const struct sl_host *host, const struct ld_desc *d)
{
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	/* A reader still waiting keeps it, settled. */
	if ((e = find(d)) != NULL) {
		e->has_writer = false;
		drop_if_unused(host, e);
	}
	pthread_mutex_unlock(&table_mtx);
}

enum ld_state
ld_table_wait(
    const struct sl_host *host, const struct ld_desc *d, struct ld_waiter *w)
{
	enum ld_state s = LD_WRITING;
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	if ((e = get(host, d)) != NULL) {
		s = e->state;
		w->next = e->waiters;
		e->waiters = w;
	}
	pthread_mutex_unlock(&table_mtx);
	return e != NULL ? s : LD_FAILED;
}

bool
ld_table_has_writer(const struct ld_desc *d)
{
	struct entry *e;
	bool has;

	pthread_mutex_lock(&table_mtx);
	has = (e = find(d)) != NULL && e->has_writer;
	pthread_mutex_unlock(&table_mtx);
	return has;
}

enum ld_state
ld_table_state(const struct ld_desc *d)
{
	enum ld_state s = LD_WRITING;
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	if ((e = find(d)) != NULL)
		s = e->state;
	pthread_mutex_unlock(&table_mtx);
	return s;
}

void
ld_table_unwait(
    const struct sl_host *host, const struct ld_desc *d, struct ld_waiter *w)
{
	struct ld_waiter **pp;
	struct entry *e;

	pthread_mutex_lock(&table_mtx);
	if ((e = find(d)) != NULL) {
		for (pp = &e->waiters; *pp != NULL; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		drop_if_unused(host, e);
	}
	pthread_mutex_unlock(&table_mtx);
}

/* ---- the plugin ---- */
