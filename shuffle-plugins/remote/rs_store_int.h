/*
 * The remote store's pieces (rs_store.h), shared by its two files:
 * rs_store.c (the attempts: push, commit, release, the disk) and
 * rs_tier.c (the memory tier: batches queued, lent to the writers, and
 * the feeders that hand them over). Locks: the store's mtx for the table,
 * the queues and the counts; an attempt's mtx for its writer, taken
 * before the store's when both are (a writer done with a batch's blocks
 * takes the store's to count it out), never after.
 */
#ifndef SL_RS_STORE_INT_H
#define SL_RS_STORE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_file.h"
#include "rs_store.h"

#define NBUCKETS 4096

struct rs_store;

/* A push queued: its blocks, in bytes an owner keeps until the writer is
 * done with them. */
struct batch {
	struct batch *next;
	struct rs_store *s;
	const unsigned char *p;
	size_t len; /* the blocks' bytes: its charge to the memory tier */
	void (*release)(void *owner);
	void *owner;
	/* its attempt's mtx: blocks the writer holds, plus one while its
	 * feeder adds them */
	uint32_t left;
	struct ld_lend lend;
};

struct attempt {
	struct attempt *next; /* its bucket's */
	struct ld_desc key;   /* job copied, no location */
	/* the store's mtx */
	uint64_t expect;           /* the next batch accepted */
	uint64_t queued;           /* the next batch to queue (the ones
	                            * between wait for memory) */
	struct batch *head, *tail; /* queued for the writer */
	uint64_t bytes;            /* its share of rs_store's */
	uint32_t refs;             /* the table's, feeders', requests' */
	struct attempt *rnext;     /* s->ready's */
	struct attempt *dnext;     /* rs_store_drop_job's */
	bool ready;                /* in s->ready */
	bool busy;                 /* a feeder has it */
	bool sealed;               /* a commit began: no new batch */
	bool committed;
	bool adopted; /* committed by an earlier daemon */
	bool dead;    /* released: in the table until its files are gone */
	int err;      /* the disk failed it: what every request gets */
	char why[300];
	/* its writer: a run written, the commit */
	pthread_mutex_t mtx;
	struct ld_writer *w; /* NULL once committed, failed or released */
};

struct rs_store {
	const struct sl_host *host;
	/* host, but the errors of localdisk's files kept (ld_err), to be
	 * said again naming the data dir */
	struct sl_host ld_host;
	pthread_mutex_t mtx;
	pthread_cond_t work;    /* feeders: an attempt ready, or stop */
	pthread_cond_t changed; /* memory freed, an attempt drained, queued
	                         * or gone */
	struct attempt *bucket[NBUCKETS];
	struct attempt *ready, *ready_tail; /* batches queued, no feeder */
	uint64_t bytes;
	uint64_t mem, mem_limit;
	char dir[PATH_MAX]; /* "" until rs_store_set_disk */
	uint32_t max_use;
	bool paused, stopping;
	pthread_t feeder[RS_FEEDERS];
	uint32_t nfeeders;
};

/* ---- rs_store.c ---- */

/* mtx held: a reference on a dropped; the last frees it (its writer and
 * batches gone before). */
void rs_attempt_put(struct rs_store *s, struct attempt *a);
/* mtx held: the disk failed a (rv, why): its bytes no longer held, what
 * is queued dropped (into *drop, to be freed once mtx is let go), every
 * request of it told. Its writer is gone already. */
void rs_attempt_fail(struct rs_store *s, struct attempt *a, int rv,
    const char *why, struct batch **drop);
/* What this thread's last failed call of localdisk's files said (rv its
 * result), naming the data dir, into why (cap bytes); "" when nothing
 * (out of memory). rs_disk_error_clear forgets it, before a call. */
void rs_disk_why(struct rs_store *s, int rv, char *why, size_t cap);
void rs_disk_error_clear(void);

/* ---- rs_tier.c ---- */

/* A batch of len bytes of blocks at p, owned by owner (release gives it
 * back), not queued yet: host->alloc'd, freed with host->free while not
 * queued (p stays the owner's). NULL when out of memory. */
struct batch *rs_tier_batch(struct rs_store *s, const unsigned char *p,
    size_t len, void (*release)(void *owner), void *owner);
/* mtx held: whether a batch of len bytes of a may be queued now: the tier
 * has room, or a has nothing queued. */
bool rs_tier_room(
    const struct rs_store *s, const struct attempt *a, size_t len);
/* mtx held: b queued for a's writer, counted in the tier; a feeder told. */
void rs_tier_queue(struct rs_store *s, struct attempt *a, struct batch *b);
/* mtx held: a's queued batches out of the tier, into *out to be freed
 * (rs_tier_free) once mtx is let go. */
void rs_tier_unqueue(struct rs_store *s, struct attempt *a, struct batch **out);
/* Give back and free a list of batches (next-linked); mtx not held. */
void rs_tier_free(struct batch *b);
/* mtx held: a has batches queued; a feeder takes it unless one has it. */
void rs_tier_ready(struct rs_store *s, struct attempt *a);
/* mtx held: a out of the feeders' list (released). */
void rs_tier_unready(struct rs_store *s, struct attempt *a);
/* mtx held: a's batches all in its writer. */
bool rs_tier_drained(const struct attempt *a);
/* A feeder's thread (arg: the store), until s->stopping. */
void *rs_tier_feeder(void *arg);

#endif
