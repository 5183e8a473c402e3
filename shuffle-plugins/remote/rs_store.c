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
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "rs_store_int.h"

static _Thread_local char ld_err[300];

void
rs_disk_error_clear(void)
{
	ld_err[0] = '\0';
}

static void
keep_ld_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld_err, sizeof(ld_err), fmt, ap);
	va_end(ap);
}

/* What a failed call of localdisk's files (rv) said, naming the data dir,
 * into why (cap bytes); "" when it said nothing (out of memory). */
void
rs_disk_why(struct rs_store *s, int rv, char *why, size_t cap)
{
	const char *e = ld_err;

	why[0] = '\0';
	if (rv == SL_ENOMEM || e[0] == '\0')
		return;
	if (strncmp(e, "localdisk: ", 11) == 0)
		e += 11;
	/* cut short when long: the reply's field is shorter still */
	if ((s->dir[0] != '\0'
	            ? snprintf(why, cap, "remote: data dir %s: %s", s->dir, e)
	            : snprintf(why, cap, "remote: %s", e)) < 0)
		why[0] = '\0';
}

/* The error of a failed call of localdisk's files, rv, said again naming
 * the data dir. */
static int
disk_error(struct rs_store *s, int rv)
{
	char why[400];

	rs_disk_why(s, rv, why, sizeof(why));
	if (why[0] != '\0')
		s->host->set_error("%s", why);
	return rv; /* nothing said: the caller's "out of memory" */
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

/* mtx held: d's attempt, once one released is gone (its files removed:
 * a new one of the same name must not meet them); pp as find's */
static struct attempt *
find_live(struct rs_store *s, const struct ld_desc *d, struct attempt ***pp)
{
	struct attempt *a;

	while ((a = find(s, d, pp)) != NULL && a->dead)
		pthread_cond_wait(&s->changed, &s->mtx);
	return a;
}

/* mtx held: unlink a, wherever it is in its bucket */
static void
unlink_attempt(struct rs_store *s, struct attempt *a)
{
	for (struct attempt **p = &s->bucket[bucket_of(&a->key)]; *p != NULL;
	     p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			return;
		}
}

/* mtx held: a reference on a dropped; the last frees it (its writer and
 * batches gone before). */
void
rs_attempt_put(struct rs_store *s, struct attempt *a)
{
	if (--a->refs > 0)
		return;
	ld_desc_clear(s->host, &a->key);
	pthread_mutex_destroy(&a->mtx);
	s->host->free(a);
}

/* mtx held: the disk failed a (rv, why): its bytes no longer held, what
 * is queued dropped (into *drop), every request of it told. Its writer is
 * gone already. */
void
rs_attempt_fail(struct rs_store *s, struct attempt *a, int rv, const char *why,
    struct batch **drop)
{
	if (a->err != 0 || a->dead)
		return;
	a->err = rv;
	snprintf(a->why, sizeof(a->why), "%s",
	    why[0] != '\0' ? why : "remote: out of memory");
	s->bytes -= a->bytes;
	a->bytes = 0;
	rs_tier_unqueue(s, a, drop);
	pthread_cond_broadcast(&s->changed);
}

/* ---- the store ---- */

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
	s->mem_limit = RS_MEMORY_DEFAULT;
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->changed, NULL);
	for (; s->nfeeders < RS_FEEDERS; s->nfeeders++)
		if (pthread_create(&s->feeder[s->nfeeders], NULL,
		        rs_tier_feeder, s) != 0) {
			rs_store_close(s);
			return SL_ENOMEM;
		}
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
	pthread_mutex_lock(&s->mtx);
	s->stopping = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mtx);
	for (uint32_t i = 0; i < s->nfeeders; i++)
		pthread_join(s->feeder[i], NULL);
	/* nobody else: the writers' lent blocks take the lock as they go */
	for (uint32_t b = 0; b < NBUCKETS; b++)
		while (s->bucket[b] != NULL) {
			struct attempt *a = s->bucket[b];
			struct batch *drop = NULL;

			s->bucket[b] = a->next;
			rs_tier_unqueue(s, a, &drop);
			rs_tier_free(drop);
			if (a->w != NULL) {
				/* not committed: its temporary files, then
				 * the job's dir if empty */
				ld_writer_free(a->w);
				ld_remove(&s->ld_host, &a->key);
			}
			a->refs = 1;
			rs_attempt_put(s, a);
		}
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->mtx);
	s->host->free(s);
}

/* Every block of a batch well-formed and within d's subpartitions: a bad
 * batch is refused whole, never half appended. *payload: its blocks'
 * bytes, headers aside. */
static int
batch_check(const struct sl_host *host, const struct ld_desc *d,
    const unsigned char *p, size_t len, uint64_t *payload)
{
	uint32_t n = 0;

	*payload = 0;
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
		*payload += blen;
	}
	return 0;
}

/* mtx held: a new attempt, its writer open, linked at *pp */
static int
attempt_new(struct rs_store *s, const struct ld_desc *d, struct attempt **pp)
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
	/* runs cut at the same sizes whatever the memory: a replica's files
	 * are the same bytes */
	if ((rv = ld_open_writer(&s->ld_host, d, LD_SPILL_BYTES, &a->w)) != 0) {
		ld_desc_clear(s->host, &a->key);
		s->host->free(a);
		return disk_error(s, rv);
	}
	/* the disk busy while the pushes go on, not only at the commit */
	ld_writer_write_behind(a->w);
	pthread_mutex_init(&a->mtx, NULL);
	a->refs = 1; /* the table's */
	*pp = a;
	return 0;
}

/* mtx held: why a batch or commit of a is refused, said; 0 when not */
static int
refused(struct rs_store *s, const struct attempt *a)
{
	if (a->err != 0) {
		s->host->set_error("%s", a->why);
		return a->err;
	}
	return 0;
}

/* RS_REORDER_MS from now, for pthread_cond_timedwait */
static struct timespec
reorder_deadline(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RS_REORDER_MS / 1000;
	until.tv_nsec += (RS_REORDER_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

/* mtx held, a referenced: wait until the batches before seq arrived, or
 * a is gone, failed or being committed, until the deadline */
static void
wait_turn(struct rs_store *s, struct attempt *a, uint64_t seq,
    const struct timespec *until)
{
	while (seq > a->expect && !a->dead && a->err == 0 && !a->sealed &&
	    pthread_cond_timedwait(&s->changed, &s->mtx, until) == 0)
		;
}

int
rs_store_push_owned(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    uint32_t out, const unsigned char *blocks, size_t len,
    void (*release)(void *owner), void *owner, uint64_t *next)
{
	struct attempt *a, **pp;
	struct timespec until = { 0, 0 };
	struct batch *b;
	uint64_t payload;
	int rv;

	*next = 0;
	if ((rv = batch_check(s->host, d, blocks, len, &payload)) != 0)
		return rv;
	if (seq > 0 && out > 0)
		until = reorder_deadline();
	if ((b = rs_tier_batch(s, blocks, len, release, owner)) == NULL)
		return SL_ENOMEM;
	pthread_mutex_lock(&s->mtx);
	/* batch 0 on its way still: it makes the attempt */
	while ((a = find_live(s, d, &pp)) == NULL && seq > 0 && seq <= out &&
	    pthread_cond_timedwait(&s->changed, &s->mtx, &until) == 0)
		;
	if (a == NULL && seq == 0 && (rv = disk_room(s)) == 0 &&
	    (rv = attempt_new(s, d, pp)) == 0) {
		a = *pp;
		pthread_cond_broadcast(&s->changed); /* its batch 1, waiting */
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
		goto out_refused;
	}
	*next = a->expect;
	if (a->adopted) {
		s->host->set_error("remote: batch %llu of %s/e%u.p%u.a%u: "
		                   "committed before the daemon restarted",
		    (unsigned long long)seq, d->job, d->edge, d->producer,
		    d->attempt);
		rv = SL_EINVAL;
		goto out_refused;
	}
	if (seq > a->expect && seq - a->expect <= out) {
		bool dead;

		a->refs++;
		wait_turn(s, a, seq, &until);
		dead = a->dead;
		*next = a->expect;
		rs_attempt_put(s, a);
		if (dead) {
			s->host->set_error("remote: batch %llu of "
			                   "%s/e%u.p%u.a%u: released",
			    (unsigned long long)seq, d->job, d->edge,
			    d->producer, d->attempt);
			rv = SL_EINVAL;
			goto out_refused;
		}
	}
	if ((rv = refused(s, a)) != 0)
		goto out_refused;
	if (seq < a->expect) {
		/* sent again: it is there already (or waiting to be) */
		pthread_mutex_unlock(&s->mtx);
		s->host->free(b);
		release(owner);
		return 0;
	}
	if (seq > a->expect || a->sealed) {
		s->host->set_error("remote: batch %llu of %s/e%u.p%u.a%u: "
		                   "%s %llu",
		    (unsigned long long)seq, d->job, d->edge, d->producer,
		    d->attempt,
		    a->sealed ? "already committed after batch"
		              : "expected batch",
		    (unsigned long long)(a->sealed ? a->expect - 1
		                                   : a->expect));
		rv = SL_EINVAL;
		goto out_refused;
	}
	/* taken: a copy sent again from now on is a duplicate */
	*next = ++a->expect;
	a->bytes += payload;
	s->bytes += payload;
	a->refs++;
	/* in order, and into a tier with room, or as the attempt's only
	 * batch queued */
	while (!a->dead && a->err == 0 &&
	    (a->queued != seq || !rs_tier_room(s, a, len)))
		pthread_cond_wait(&s->changed, &s->mtx);
	if (a->dead || a->err != 0) {
		if ((rv = refused(s, a)) == 0) {
			s->host->set_error("remote: batch %llu of "
			                   "%s/e%u.p%u.a%u: released",
			    (unsigned long long)seq, d->job, d->edge,
			    d->producer, d->attempt);
			rv = SL_EINVAL;
		}
		rs_attempt_put(s, a);
		goto out_refused;
	}
	a->queued++;
	rs_tier_queue(s, a, b);
	pthread_cond_broadcast(&s->changed); /* the next batch's turn */
	rs_attempt_put(s, a);
	pthread_mutex_unlock(&s->mtx);
	return 0;
out_refused:
	pthread_mutex_unlock(&s->mtx);
	s->host->free(b); /* not its owner's bytes: they stay the caller's */
	return rv;
}

int
rs_store_push(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    const unsigned char *blocks, size_t len, uint64_t *next)
{
	unsigned char *copy = s->host->alloc(len ? len : 1);
	int rv;

	*next = 0;
	if (copy == NULL)
		return SL_ENOMEM;
	memcpy(copy, blocks, len);
	rv = rs_store_push_owned(
	    s, d, seq, 0, copy, len, s->host->free, copy, next);
	if (rv != 0)
		s->host->free(copy);
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
	struct batch *drop = NULL;
	struct attempt *a;
	char why[400] = "";
	bool done = false;
	int rv = 0;

	pthread_mutex_lock(&s->mtx);
	a = find_live(s, d, NULL);
	if (a != NULL && a->adopted) {
		/* a commit sent again, its answer lost when the daemon
		 * died: the files are whole, what they held is not known */
		goto out;
	}
	if (a == NULL || nbatches != a->expect) {
		s->host->set_error("remote: commit of %s/e%u.p%u.a%u after "
		                   "%llu batches, but %llu arrived",
		    d->job, d->edge, d->producer, d->attempt,
		    (unsigned long long)nbatches,
		    (unsigned long long)(a != NULL ? a->expect : 0));
		rv = SL_EINVAL;
		goto out;
	}
	if ((rv = refused(s, a)) != 0 || a->committed)
		goto out;
	a->sealed = true;
	a->refs++;
	while (!a->dead && a->err == 0 && !rs_tier_drained(a))
		pthread_cond_wait(&s->changed, &s->mtx);
	pthread_mutex_unlock(&s->mtx);

	pthread_mutex_lock(&a->mtx);
	if (a->w != NULL) {
		ld_err[0] = '\0';
		if ((rv = ld_writer_finish(a->w)) != 0)
			rs_disk_why(s, rv, why, sizeof(why));
		/* finished: nothing to remove; failed: its files go */
		ld_writer_free(a->w);
		a->w = NULL;
		done = rv == 0;
	}
	pthread_mutex_unlock(&a->mtx);

	pthread_mutex_lock(&s->mtx);
	if (done) {
		a->committed = true;
		count_files(s, a);
	} else if (rv != 0) {
		rs_attempt_fail(s, a, rv, why, &drop);
		if (why[0] != '\0')
			s->host->set_error("%s", why);
	} else if (!a->committed && (rv = refused(s, a)) == 0) {
		s->host->set_error("remote: commit of %s/e%u.p%u.a%u: "
		                   "released meanwhile",
		    d->job, d->edge, d->producer, d->attempt);
		rv = SL_EINVAL;
	}
	rs_attempt_put(s, a);
out:
	pthread_mutex_unlock(&s->mtx);
	rs_tier_free(drop);
	return rv;
}

/* mtx held: a, linked, marked released: no batch of it is queued from
 * now on, nor a new attempt of its name made until it is unlinked (by
 * gone). Its queued batches into *drop. */
static void
doom(struct rs_store *s, struct attempt *a, struct batch **drop)
{
	rs_tier_unready(s, a); /* no feeder will look at it */
	a->dead = true;
	a->refs++;
	rs_tier_unqueue(s, a, drop);
	pthread_cond_broadcast(&s->changed); /* its pushes and commits */
}

/* a doomed, mtx not held: its writer and files gone (after a run being
 * written, or a commit, ends). */
static void
bury(struct rs_store *s, struct attempt *a)
{
	pthread_mutex_lock(&a->mtx);
	ld_writer_free(a->w); /* a run's lent blocks given back */
	a->w = NULL;
	ld_remove(&s->ld_host, &a->key);
	pthread_mutex_unlock(&a->mtx);
}

/* mtx held: a buried: out of the table, its bytes no longer held */
static void
gone(struct rs_store *s, struct attempt *a)
{
	unlink_attempt(s, a);
	s->bytes -= a->bytes;
	a->bytes = 0;
	pthread_cond_broadcast(&s->changed);
	rs_attempt_put(s, a); /* doom's */
	rs_attempt_put(s, a); /* the table's */
}

void
rs_store_release(struct rs_store *s, const struct ld_desc *d)
{
	struct batch *drop = NULL;
	struct attempt *a;

	pthread_mutex_lock(&s->mtx);
	if ((a = find_live(s, d, NULL)) == NULL) {
		/* under the lock: the same attempt pushed again meanwhile
		 * keeps its new files */
		ld_remove(&s->ld_host, d);
		pthread_mutex_unlock(&s->mtx);
		return;
	}
	doom(s, a, &drop);
	pthread_mutex_unlock(&s->mtx);
	rs_tier_free(drop);
	bury(s, a);
	pthread_mutex_lock(&s->mtx);
	gone(s, a);
	pthread_mutex_unlock(&s->mtx);
}

int
rs_store_adopt(struct rs_store *s, const struct ld_desc *d, uint64_t bytes)
{
	struct attempt *a, **pp;
	int rv = SL_EEXISTS;

	pthread_mutex_lock(&s->mtx);
	if (find_live(s, d, &pp) == NULL) {
		rv = SL_ENOMEM;
		if ((a = s->host->alloc(sizeof(*a))) != NULL) {
			memset(a, 0, sizeof(*a));
			a->key = *d;
			a->key.location = a->key.replica = NULL;
			a->key.job = s->host->alloc(strlen(d->job) + 1);
		}
		if (a != NULL && a->key.job != NULL) {
			strcpy(a->key.job, d->job);
			pthread_mutex_init(&a->mtx, NULL);
			a->refs = 1;
			a->adopted = a->committed = true;
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
	struct attempt *doomed = NULL, *a, *next;
	struct batch *drop = NULL;
	uint32_t n = 0;

	*bytes = 0;
	pthread_mutex_lock(&s->mtx);
	for (uint32_t b = 0; b < NBUCKETS; b++)
		for (a = s->bucket[b]; a != NULL; a = a->next) {
			/* one released meanwhile is its releaser's */
			if (a->dead || !of_job(s->host, &a->key, job, token))
				continue;
			doom(s, a, &drop);
			a->dnext = doomed;
			doomed = a;
			n++;
		}
	pthread_mutex_unlock(&s->mtx);
	rs_tier_free(drop);
	for (a = doomed; a != NULL; a = a->dnext)
		bury(s, a);
	pthread_mutex_lock(&s->mtx);
	for (a = doomed; a != NULL; a = next) {
		next = a->dnext;
		*bytes += a->bytes;
		gone(s, a);
	}
	pthread_mutex_unlock(&s->mtx);
	return n;
}
