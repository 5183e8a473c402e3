/* The remote shuffle service's partitions (rs_store.h). */
#include <endian.h>
#include <pthread.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ld_file.h"
#include "rs_store.h"

#define NBUCKETS 4096

struct attempt {
	struct attempt *next;
	struct ld_desc key;  /* job copied, no location */
	uint64_t expect;     /* the next batch */
	struct ld_writer *w; /* NULL once committed */
};

struct rs_store {
	const struct sl_host *host;
	pthread_mutex_t mtx;
	struct attempt *bucket[NBUCKETS];
};

static uint32_t
bucket_of(const struct ld_desc *d)
{
	uint32_t k[3] = { d->edge, d->producer, d->attempt };
	uint64_t h = XXH3_64bits_withSeed(d->job, strlen(d->job), d->token);

	return (uint32_t)(XXH3_64bits_withSeed(k, sizeof(k), h) % NBUCKETS);
}

/* mtx held; pp: where it is linked, for unlinking */
static struct attempt *
find(struct rs_store *s, const struct ld_desc *d, struct attempt ***pp)
{
	struct attempt **p = &s->bucket[bucket_of(d)];

	for (; *p != NULL; p = &(*p)->next)
		if (ld_same_partition(&(*p)->key, d))
			break;
	if (pp != NULL)
		*pp = p;
	return *p;
}

static void
attempt_free(struct rs_store *s, struct attempt *a)
{
	if (a->w != NULL) {
		ld_writer_free(a->w);        /* removes its temporary files */
		ld_remove(s->host, &a->key); /* and the job's dir if empty */
	}
	ld_desc_clear(s->host, &a->key);
	s->host->free(a);
}

int
rs_store_open(const struct sl_host *host, struct rs_store **out)
{
	struct rs_store *s = host->alloc(sizeof(*s));

	if (s == NULL)
		return SL_ENOMEM;
	memset(s, 0, sizeof(*s));
	s->host = host;
	pthread_mutex_init(&s->mtx, NULL);
	*out = s;
	return 0;
}

void
rs_store_close(struct rs_store *s)
{
	if (s == NULL)
		return;
	for (uint32_t b = 0; b < NBUCKETS; b++)
		while (s->bucket[b] != NULL) {
			struct attempt *a = s->bucket[b];

			s->bucket[b] = a->next;
			attempt_free(s, a);
		}
	pthread_mutex_destroy(&s->mtx);
	s->host->free(s);
}

/* Every block of a batch well-formed and within d's subpartitions: a bad
 * batch is refused whole, never half appended. */
static int
batch_check(const struct sl_host *host, const struct ld_desc *d,
    const unsigned char *p, size_t len, uint32_t *nblocks)
{
	uint32_t n = 0;

	if (len > RS_MAX_BATCH) {
		host->set_error("remote: a batch of %zu bytes (at most %u)",
		    len, RS_MAX_BATCH);
		return SL_EPARSE;
	}
	for (size_t off = 0; off < len; n++) {
		uint32_t sub, kind, blen;

		if (len - off < RS_BLOCK_HEADER) {
			host->set_error(
			    "remote: block %u: a header cut short", n);
			return SL_EPARSE;
		}
		memcpy(&sub, p + off, 4);
		memcpy(&kind, p + off + 4, 4);
		memcpy(&blen, p + off + 8, 4);
		sub = le32toh(sub);
		kind = le32toh(kind);
		blen = le32toh(blen);
		off += RS_BLOCK_HEADER;
		if (sub >= d->nsub || kind > SL_BUFFER_EVENT ||
		    blen > len - off) {
			host->set_error("remote: block %u: subpartition %u of "
			                "%u, kind %u, %u bytes of %zu left",
			    n, sub, d->nsub, kind, blen, len - off);
			return SL_EPARSE;
		}
		off += blen;
	}
	*nblocks = n;
	return 0;
}

/* mtx held: append a checked batch */
static int
batch_add(
    struct rs_store *s, struct attempt *a, const unsigned char *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		struct sl_buffer b = { 0 };
		uint32_t sub, kind, blen;
		int rv;

		memcpy(&sub, p + off, 4);
		memcpy(&kind, p + off + 4, 4);
		memcpy(&blen, p + off + 8, 4);
		off += RS_BLOCK_HEADER;
		b.len = le32toh(blen);
		b.kind = le32toh(kind);
		if ((b.data = s->host->alloc(b.len ? b.len : 1)) == NULL)
			return SL_ENOMEM;
		memcpy(b.data, p + off, b.len);
		off += b.len;
		if ((rv = ld_writer_add(a->w, le32toh(sub), &b)) != 0) {
			s->host->free(b.data);
			return rv;
		}
	}
	return 0;
}

/* mtx held: a new attempt, its writer open */
static int
attempt_new(struct rs_store *s, const struct ld_desc *d, struct attempt **out)
{
	struct attempt *a = s->host->alloc(sizeof(*a));
	int rv;

	if (a == NULL)
		return SL_ENOMEM;
	memset(a, 0, sizeof(*a));
	a->key = *d;
	a->key.location = NULL;
	if ((a->key.job = s->host->alloc(strlen(d->job) + 1)) == NULL) {
		s->host->free(a);
		return SL_ENOMEM;
	}
	strcpy(a->key.job, d->job);
	if ((rv = ld_open_writer(s->host, d, LD_SPILL_BYTES, &a->w)) != 0) {
		attempt_free(s, a);
		return rv;
	}
	*out = a;
	return 0;
}

int
rs_store_push(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    const unsigned char *blocks, size_t len, uint64_t *next)
{
	struct attempt *a, **pp;
	uint32_t nblocks;
	int rv;

	*next = 0;
	if ((rv = batch_check(s->host, d, blocks, len, &nblocks)) != 0)
		return rv;
	pthread_mutex_lock(&s->mtx);
	if ((a = find(s, d, &pp)) == NULL && seq == 0 &&
	    (rv = attempt_new(s, d, &a)) == 0) {
		a->next = NULL;
		*pp = a;
	}
	if (rv != 0 || a == NULL) {
		if (rv == 0) {
			s->host->set_error(
			    "remote: batch %llu of %s/e%u.p%u.a%u "
			    "before batch 0",
			    (unsigned long long)seq, d->job, d->edge,
			    d->producer, d->attempt);
			rv = SL_EINVAL;
		}
		goto out;
	}
	*next = a->expect;
	if (seq < a->expect)
		goto out; /* sent again: it is there already */
	if (seq > a->expect || a->w == NULL) {
		s->host->set_error("remote: batch %llu of %s/e%u.p%u.a%u: "
		                   "%s %llu",
		    (unsigned long long)seq, d->job, d->edge, d->producer,
		    d->attempt,
		    a->w == NULL ? "already committed after batch"
		                 : "expected batch",
		    (unsigned long long)(a->w == NULL ? a->expect - 1
		                                      : a->expect));
		rv = SL_EINVAL;
		goto out;
	}
	if ((rv = batch_add(s, a, blocks, len)) != 0) {
		/* the writer may hold part of the batch: the attempt is
		 * lost, its writer must start again */
		*pp = a->next;
		attempt_free(s, a);
		goto out;
	}
	*next = ++a->expect;
out:
	pthread_mutex_unlock(&s->mtx);
	return rv;
}

int
rs_store_commit(struct rs_store *s, const struct ld_desc *d, uint64_t nbatches)
{
	struct attempt *a, **pp;
	int rv = 0;

	pthread_mutex_lock(&s->mtx);
	if ((a = find(s, d, &pp)) == NULL || nbatches != a->expect) {
		s->host->set_error("remote: commit of %s/e%u.p%u.a%u after "
		                   "%llu batches, but %llu arrived",
		    d->job, d->edge, d->producer, d->attempt,
		    (unsigned long long)nbatches,
		    (unsigned long long)(a != NULL ? a->expect : 0));
		rv = SL_EINVAL;
	} else if (a->w != NULL) {
		if ((rv = ld_writer_finish(a->w)) != 0) {
			*pp = a->next;
			attempt_free(s, a);
		} else {
			ld_writer_free(a->w);
			a->w = NULL;
		}
	}
	pthread_mutex_unlock(&s->mtx);
	return rv;
}

void
rs_store_release(struct rs_store *s, const struct ld_desc *d)
{
	struct attempt *a, **pp;

	pthread_mutex_lock(&s->mtx);
	if ((a = find(s, d, &pp)) != NULL) {
		*pp = a->next;
		attempt_free(s, a);
	}
	/* under the lock: the same attempt pushed again meanwhile keeps
	 * its new files */
	ld_remove(s->host, d);
	pthread_mutex_unlock(&s->mtx);
}
