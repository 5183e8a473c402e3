/* The remote store's memory tier and its feeders (rs_store_int.h). */
#include <endian.h>
#include <string.h>

#include "rs_store_int.h"

/* Give the batch's bytes back and free it; mtx held or not (locked). */
static void
batch_free(struct batch *b)
{
	b->release(b->owner);
	b->s->host->free(b);
}

/* mtx held: b's bytes out of the memory tier */
static void
uncharge(struct rs_store *s, struct batch *b)
{
	s->mem -= b->len;
	pthread_cond_broadcast(&s->changed);
}

/* The writer is done with one of b's blocks (a's mtx held). */
static void
block_done(struct ld_lend *lend)
{
	struct batch *b =
	    (struct batch *)((char *)lend - offsetof(struct batch, lend));
	struct rs_store *s = b->s;

	if (--b->left > 0)
		return;
	pthread_mutex_lock(&s->mtx);
	uncharge(s, b);
	pthread_mutex_unlock(&s->mtx);
	batch_free(b);
}

struct batch *
rs_tier_batch(struct rs_store *s, const unsigned char *p, size_t len,
    void (*release)(void *owner), void *owner)
{
	struct batch *b = s->host->alloc(sizeof(*b));

	if (b != NULL)
		*b = (struct batch) { .s = s,
			.p = p,
			.len = len,
			.release = release,
			.owner = owner,
			.lend = { block_done } };
	return b;
}

bool
rs_tier_room(const struct rs_store *s, const struct attempt *a, size_t len)
{
	/* an attempt with nothing queued always moves: else attempts whose
	 * runs are being gathered (held in the tier) could wait on each
	 * other for good */
	return a->head == NULL || s->mem == 0 || s->mem + len <= s->mem_limit;
}

void
rs_tier_queue(struct rs_store *s, struct attempt *a, struct batch *b)
{
	s->mem += b->len;
	b->next = NULL;
	if (a->tail != NULL)
		a->tail->next = b;
	else
		a->head = b;
	a->tail = b;
	rs_tier_ready(s, a);
}

void
rs_tier_unready(struct rs_store *s, struct attempt *a)
{
	struct attempt **p = &s->ready, *prev = NULL;

	if (!a->ready)
		return;
	while (*p != a) {
		prev = *p;
		p = &(*p)->rnext;
	}
	*p = a->rnext;
	if (s->ready_tail == a)
		s->ready_tail = prev;
	a->ready = false;
}

/* mtx held: a's queued batches out of the tier, into *out to be freed
 * once mtx is let go */
void
rs_tier_unqueue(struct rs_store *s, struct attempt *a, struct batch **out)
{
	while (a->head != NULL) {
		struct batch *b = a->head;

		a->head = b->next;
		uncharge(s, b);
		b->next = *out;
		*out = b;
	}
	a->tail = NULL;
}

void
rs_tier_free(struct batch *b)
{
	while (b != NULL) {
		struct batch *next = b->next;

		batch_free(b);
		b = next;
	}
}

/* mtx held: a's batches all in its writer */
bool
rs_tier_drained(const struct attempt *a)
{
	return a->queued == a->expect && a->head == NULL && !a->busy;
}

/* ---- the feeders ---- */

/* Hand b's blocks to w (a's mtx held): 0 or the writer's error. b is the
 * writer's or freed after, whatever it returns. */
static int
feed_batch(struct ld_writer *w, struct batch *b)
{
	int rv = 0;

	b->left = 1;
	for (size_t off = 0; w != NULL && off < b->len;) {
		uint32_t sub, kind, blen;

		memcpy(&sub, b->p + off, 4);
		memcpy(&kind, b->p + off + 4, 4);
		memcpy(&blen, b->p + off + 8, 4);
		off += RS_BLOCK_HEADER;
		blen = le32toh(blen);
		b->left++;
		if ((rv = ld_writer_add_lent(w, le32toh(sub), b->p + off, blen,
		         le32toh(kind), &b->lend)) != 0)
			break;
		off += blen;
	}
	block_done(&b->lend); /* the feeder's hold */
	return rv;
}

void *
rs_tier_feeder(void *arg)
{
	struct rs_store *s = arg;

	pthread_mutex_lock(&s->mtx);
	for (;;) {
		struct batch *list, *drop = NULL;
		struct attempt *a;
		char why[400] = "";
		int rv = 0;

		while (!s->stopping && (s->paused || s->ready == NULL))
			pthread_cond_wait(&s->work, &s->mtx);
		if (s->stopping)
			break;
		a = s->ready;
		if ((s->ready = a->rnext) == NULL)
			s->ready_tail = NULL;
		a->ready = false;
		a->busy = true;
		a->refs++;
		list = a->head;
		a->head = a->tail = NULL;
		pthread_mutex_unlock(&s->mtx);

		pthread_mutex_lock(&a->mtx);
		rs_disk_error_clear();
		while (list != NULL) {
			struct batch *b = list;

			list = b->next;
			if (rv == 0 && a->w != NULL)
				rv = feed_batch(a->w, b);
			else /* the writer failed or is gone: dropped */
				feed_batch(NULL, b);
		}
		if (rv != 0) {
			/* the run written may hold part of a batch: the
			 * attempt is lost, its temporary files go */
			rs_disk_why(s, rv, why, sizeof(why));
			ld_writer_free(a->w);
			a->w = NULL;
		}
		pthread_mutex_unlock(&a->mtx);

		pthread_mutex_lock(&s->mtx);
		a->busy = false;
		if (rv != 0)
			rs_attempt_fail(s, a, rv, why, &drop);
		if (a->head != NULL && !a->dead) /* queued meanwhile */
			rs_tier_ready(s, a);
		pthread_cond_broadcast(&s->changed);
		rs_attempt_put(s, a);
		if (drop != NULL) {
			pthread_mutex_unlock(&s->mtx);
			rs_tier_free(drop);
			pthread_mutex_lock(&s->mtx);
		}
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* mtx held: a has batches queued; a feeder takes it unless one has it */
void
rs_tier_ready(struct rs_store *s, struct attempt *a)
{
	if (a->ready || a->busy)
		return; /* its feeder looks again when it is done */
	a->ready = true;
	a->rnext = NULL;
	if (s->ready_tail != NULL)
		s->ready_tail->rnext = a;
	else
		s->ready = a;
	s->ready_tail = a;
	pthread_cond_signal(&s->work);
}

void
rs_store_set_memory(struct rs_store *s, uint64_t limit)
{
	pthread_mutex_lock(&s->mtx);
	s->mem_limit = limit ? limit : RS_MEMORY_DEFAULT;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mtx);
}

uint64_t
rs_store_memory(struct rs_store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mtx);
	n = s->mem;
	pthread_mutex_unlock(&s->mtx);
	return n;
}

void
rs_store_feed(struct rs_store *s, bool on)
{
	pthread_mutex_lock(&s->mtx);
	s->paused = !on;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mtx);
}
