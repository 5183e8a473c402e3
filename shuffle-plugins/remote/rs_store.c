/* The remote shuffle service's partitions (rs_store.h). */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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
	uint64_t bytes;      /* its share of rs_store's */
	bool adopted;        /* committed by an earlier daemon */
};

struct rs_store {
	const struct sl_host *host;
	/* host, but the errors of localdisk's files kept (ld_err), to be
	 * said again naming the data dir */
	struct sl_host ld_host;
	pthread_mutex_t mtx;
	struct attempt *bucket[NBUCKETS];
	uint64_t bytes;
	char dir[PATH_MAX]; /* "" until rs_store_set_disk */
	uint32_t max_use;
};

static _Thread_local char ld_err[300];

static void
keep_ld_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld_err, sizeof(ld_err), fmt, ap);
	va_end(ap);
}

/* The error of a failed call of localdisk's files, rv, said again naming
 * the data dir. */
static int
disk_error(struct rs_store *s, int rv)
{
	const char *why = ld_err;

	if (rv == SL_ENOMEM || why[0] == '\0')
		return rv; /* nothing said: the caller's "out of memory" */
	if (strncmp(why, "localdisk: ", 11) == 0)
		why += 11;
	if (s->dir[0] != '\0')
		s->host->set_error("remote: data dir %s: %s", s->dir, why);
	else
		s->host->set_error("remote: %s", why);
	return rv;
}

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

/* mtx held, a unlinked: free it, its bytes no longer held */
static void
attempt_free(struct rs_store *s, struct attempt *a)
{
	s->bytes -= a->bytes;
	if (a->w != NULL) {
		/* its temporary files, then the job's dir if empty */
		ld_writer_free(a->w);
		ld_remove(&s->ld_host, &a->key);
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
	s->ld_host = *host;
	s->ld_host.set_error = keep_ld_error;
	s->max_use = 100;
	pthread_mutex_init(&s->mtx, NULL);
	*out = s;
	return 0;
}

void
rs_store_set_disk(struct rs_store *s, const char *dir, uint32_t max_use)
{
	pthread_mutex_lock(&s->mtx);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->max_use = max_use > 100 ? 100 : max_use;
	pthread_mutex_unlock(&s->mtx);
}

/* statvfs of dir: blocks used (by anyone) and blocks a writer may still
 * take, as df counts them. */
static int
disk_blocks(const char *dir, uint64_t *used, uint64_t *avail)
{
	struct statvfs v;

	if (statvfs(dir, &v) != 0)
		return -errno;
	*used = v.f_blocks >= v.f_bfree ? v.f_blocks - v.f_bfree : 0;
	*avail = v.f_bavail;
	return 0;
}

int
rs_disk_used(const char *dir, uint32_t *pct)
{
	uint64_t used = 0, avail = 0;
	int rv;

	*pct = 0;
	if ((rv = disk_blocks(dir, &used, &avail)) != 0)
		return rv;
	if (used + avail > 0)
		*pct = (uint32_t)((used * 100 + used + avail - 1) /
		    (used + avail));
	return 0;
}

/* mtx held: SL_EBUSY, said, when the data dir is more than max_use %
 * used. A file system that cannot say is taken as not full (its writes
 * will say what is wrong). */
static int
disk_room(struct rs_store *s)
{
	uint64_t used = 0, avail = 0;
	uint32_t pct;

	if (s->dir[0] == '\0' || s->max_use >= 100 ||
	    disk_blocks(s->dir, &used, &avail) != 0 ||
	    used * 100 <= (uint64_t)s->max_use * (used + avail))
		return 0;
	rs_disk_used(s->dir, &pct);
	s->host->set_error("remote: data dir %s is %u %% full (limit %u %%)",
	    s->dir, pct, s->max_use);
	return SL_EBUSY;
}

uint64_t
rs_store_bytes(struct rs_store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mtx);
	n = s->bytes;
	pthread_mutex_unlock(&s->mtx);
	return n;
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
		a->bytes += b.len;
		s->bytes += b.len;
		if ((rv = ld_writer_add(a->w, le32toh(sub), &b)) != 0) {
			s->host->free(b.data);
			return disk_error(s, rv);
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
	a->key.location = a->key.replica = NULL;
	if ((a->key.job = s->host->alloc(strlen(d->job) + 1)) == NULL) {
		s->host->free(a);
		return SL_ENOMEM;
	}
	strcpy(a->key.job, d->job);
	ld_err[0] = '\0';
	if ((rv = ld_open_writer(&s->ld_host, d, LD_SPILL_BYTES, &a->w)) != 0) {
		attempt_free(s, a);
		return disk_error(s, rv);
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
	    (rv = disk_room(s)) == 0 && (rv = attempt_new(s, d, &a)) == 0) {
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
	if (a->adopted) {
		s->host->set_error("remote: batch %llu of %s/e%u.p%u.a%u: "
		                   "committed before the daemon restarted",
		    (unsigned long long)seq, d->job, d->edge, d->producer,
		    d->attempt);
		rv = SL_EINVAL;
		goto out;
	}
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
	ld_err[0] = '\0';
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

/* mtx held: a's files just committed: its bytes are now their size. */
static void
count_files(struct rs_store *s, struct attempt *a)
{
	char *data, *index;
	struct stat sd, si;

	if (ld_paths(s->host, &a->key, false, &data, &index) != 0)
		return; /* out of memory: the pushed bytes stand in */
	if (stat(data, &sd) == 0 && stat(index, &si) == 0) {
		s->bytes -= a->bytes;
		a->bytes = (uint64_t)sd.st_size + (uint64_t)si.st_size;
		s->bytes += a->bytes;
	}
	s->host->free(data);
	s->host->free(index);
}

int
rs_store_commit(struct rs_store *s, const struct ld_desc *d, uint64_t nbatches)
{
	struct attempt *a, **pp;
	int rv = 0;

	pthread_mutex_lock(&s->mtx);
	a = find(s, d, &pp);
	if (a != NULL && a->adopted) {
		/* a commit sent again, its answer lost when the daemon
		 * died: the files are whole, what they held is not known */
	} else if (a == NULL || nbatches != a->expect) {
		s->host->set_error("remote: commit of %s/e%u.p%u.a%u after "
		                   "%llu batches, but %llu arrived",
		    d->job, d->edge, d->producer, d->attempt,
		    (unsigned long long)nbatches,
		    (unsigned long long)(a != NULL ? a->expect : 0));
		rv = SL_EINVAL;
	} else if (a->w != NULL) {
		ld_err[0] = '\0';
		if ((rv = ld_writer_finish(a->w)) != 0) {
			rv = disk_error(s, rv);
			*pp = a->next;
			attempt_free(s, a); /* its files too: nothing half */
		} else {
			ld_writer_free(a->w);
			a->w = NULL;
			count_files(s, a);
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
	ld_remove(&s->ld_host, d);
	pthread_mutex_unlock(&s->mtx);
}

int
rs_store_adopt(struct rs_store *s, const struct ld_desc *d, uint64_t bytes)
{
	struct attempt *a, **pp;
	int rv = SL_EEXISTS;

	pthread_mutex_lock(&s->mtx);
	if (find(s, d, &pp) == NULL) {
		rv = SL_ENOMEM;
		if ((a = s->host->alloc(sizeof(*a))) != NULL) {
			memset(a, 0, sizeof(*a));
			a->key = *d;
			a->key.location = a->key.replica = NULL;
			a->key.job = s->host->alloc(strlen(d->job) + 1);
		}
		if (a != NULL && a->key.job != NULL) {
			strcpy(a->key.job, d->job);
			a->adopted = true;
			a->bytes = bytes;
			s->bytes += bytes;
			*pp = a; /* the end of its bucket's list */
			rv = 0;
		} else if (a != NULL) {
			s->host->free(a);
		}
	}
	pthread_mutex_unlock(&s->mtx);
	return rv;
}

int
rs_job_dir(const struct sl_host *host, const char *job, uint64_t token,
    char *dir, size_t cap)
{
	struct ld_desc d = { .job = (char *)job, .token = token };
	char *data, *index, *slash;
	int rv;

	if ((rv = ld_paths(host, &d, false, &data, &index)) != 0)
		return rv;
	if ((slash = strrchr(data, '/')) != NULL)
		*slash = '\0';
	snprintf(dir, cap, "%s", data);
	host->free(data);
	host->free(index);
	return 0;
}

/* Whether k is an attempt of the job whose directory is (job, token)'s.
 * Two names meet when one token is 0: ("x.00000000000000ab", 0) and
 * ("x", 0xab) share a directory, and so do their files. */
static bool
of_job(const struct sl_host *host, const struct ld_desc *k, const char *job,
    uint64_t token)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (k->token == token)
		return strcmp(k->job, job) == 0;
	if (k->token != 0 && token != 0)
		return false;
	return rs_job_dir(host, k->job, k->token, a, sizeof(a)) == 0 &&
	    rs_job_dir(host, job, token, b, sizeof(b)) == 0 &&
	    strcmp(a, b) == 0;
}

uint32_t
rs_store_drop_job(
    struct rs_store *s, const char *job, uint64_t token, uint64_t *bytes)
{
	uint32_t n = 0;

	*bytes = 0;
	pthread_mutex_lock(&s->mtx);
	for (uint32_t b = 0; b < NBUCKETS; b++)
		for (struct attempt **pp = &s->bucket[b]; *pp != NULL;) {
			struct attempt *a = *pp;

			if (!of_job(s->host, &a->key, job, token)) {
				pp = &a->next;
				continue;
			}
			*pp = a->next;
			*bytes += a->bytes;
			n++;
			if (a->w == NULL) /* committed: its files stay else */
				ld_remove(&s->ld_host, &a->key);
			attempt_free(s, a);
		}
	pthread_mutex_unlock(&s->mtx);
	return n;
}
