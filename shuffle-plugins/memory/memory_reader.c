/*
 * The memory plugin's reader. It attaches one slot to every (input,
 * subpartition) it reads; whoever changes a slot's subpartition (a write,
 * finish, fail, release) puts the slot on the reader's ready list, so next()
 * costs the same however many inputs there are.
 *
 * Notification rule: when next() finds the ready list empty it sets `armed`
 * under reader->mtx; whoever next makes a slot ready clears it, counts
 * itself in `inflight` and calls notify after dropping every lock of this
 * plugin. So notify may call anything except back into this reader, and
 * fini waits for inflight to reach zero before the state goes away.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "memory.h"

struct slot {
	struct mreader *r;
	struct part *part;
	uint32_t input;
	uint32_t sub;  /* absolute subpartition index */
	bool attached; /* part->subs[sub].reader == this */
	bool took;     /* a buffer was taken; reader thread only */
	bool done;     /* finished and drained; reader thread only */
	bool ready;    /* on r's ready list; r->mtx */
	struct slot *rnext;
	struct fetch *fetch; /* the input is in another process */
};

struct mreader {
	const struct sl_host *host;
	void (*notify)(void *arg);
	void *notify_arg;
	uint32_t credits;
	uint32_t remote_credits; /* for inputs in another process */

	struct part **inputs; /* one reference each */
	bool *remote;         /* per input: a proxy of another process's */
	uint32_t ninputs;
	struct slot *slots;
	uint32_t nslots;

	/* reader thread only */
	uint32_t ndone;
	int64_t failed; /* input index reported as unreadable, or -1 */
	uint32_t held;  /* buffers handed out and not released */

	atomic_bool closed;
	bool sync_ok;
	pthread_mutex_t mtx;
	pthread_cond_t cv; /* fini waits here for inflight == 0 */
	struct slot *ready_head, *ready_tail;
	bool armed;
	uint32_t inflight;
};

struct mreader *
slot_reader(struct slot *s)
{
	return s->r;
}

bool
slot_ready_locked(struct slot *s)
{
	struct mreader *r = s->r;
	bool notify = false;

	pthread_mutex_lock(&r->mtx);
	if (!s->ready) {
		s->ready = true;
		s->rnext = NULL;
		if (r->ready_tail != NULL)
			r->ready_tail->rnext = s;
		else
			r->ready_head = s;
		r->ready_tail = s;
	}
	if (r->armed) {
		r->armed = false;
		r->inflight++;
		notify = true;
	}
	pthread_mutex_unlock(&r->mtx);
	return notify;
}

void
reader_notify(struct mreader *r)
{
	r->notify(r->notify_arg);
	pthread_mutex_lock(&r->mtx);
	if (--r->inflight == 0)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mtx);
}

/* part->mtx held. A new reader sees what happened before it came. */
static void
attach_locked(struct mreader *r, struct slot *s, struct sub *sub)
{
	struct part *p = s->part;

	sub->reader = s;
	s->attached = true;
	sub->credits = r->credits;
	if (sub->head != NULL || sub->lost || p->state != PART_OPEN ||
	    sub->ended || sub->rfailed)
		(void)slot_ready_locked(s); /* not armed yet: no notify */
	if (p->writer_waiting)
		pthread_cond_broadcast(&p->cv); /* credits may have grown */
}

static int
open_input(struct mreader *r, const struct sl_bytes *b, uint32_t i, uint32_t lo,
    uint32_t hi)
{
	struct mem_desc d;
	int rv;

	if ((rv = mem_desc_decode(r->host, b->data, b->len, &d)) != 0)
		return rv;
	if (hi >= d.num_subpartitions) {
		r->host->set_error("memory: input %u has %u subpartitions, "
		                   "cannot read up to %u",
		    i, d.num_subpartitions, hi);
		rv = SL_ERANGE;
	} else {
		r->remote[i] = mem_is_remote(&d);
		rv = part_get(r->host, &d, &r->inputs[i]);
	}
	mem_desc_clear(r->host, &d);
	return rv;
}

/*
 * Task thread, does not block. Each subpartition of a pipelined partition
 * has at most one reader: reading one that another reader holds is
 * SL_EBUSY.
 */
static int
reader_open(
    void *state, const struct sl_host *host, const struct sl_reader_spec *spec)
{
	struct mreader *r = state;
	uint64_t nsub, nslots;
	int rv;

	r->host = host;
	r->failed = -1;
	atomic_init(&r->closed, false);
	if (spec == NULL ||
	    spec->struct_size < offsetof(struct sl_reader_spec, notify_arg) +
	            sizeof(spec->notify_arg) ||
	    spec->sub_lo > spec->sub_hi ||
	    (spec->num_descriptors > 0 && spec->descriptors == NULL)) {
		host->set_error("memory: bad reader spec");
		return SL_EINVAL;
	}
	r->notify = spec->notify;
	r->notify_arg = spec->notify_arg;
	r->credits = MEM_DEFAULT_CREDITS;
	r->remote_credits = MEM_REMOTE_CREDITS;
	if (spec->struct_size >= offsetof(struct sl_reader_spec, credits) +
	            sizeof(spec->credits) &&
	    spec->credits > 0)
		r->credits = r->remote_credits = spec->credits;
	if (pthread_mutex_init(&r->mtx, NULL) != 0)
		return SL_ENOMEM;
	if (pthread_cond_init(&r->cv, NULL) != 0) {
		pthread_mutex_destroy(&r->mtx);
		return SL_ENOMEM;
	}
	r->sync_ok = true;

	nsub = (uint64_t)spec->sub_hi - spec->sub_lo + 1;
	nslots = nsub * spec->num_descriptors;
	if (nslots > UINT32_MAX / sizeof(struct slot)) {
		host->set_error(
		    "memory: reader of %" PRIu64 " subpartitions", nslots);
		return SL_ERANGE;
	}
	if (spec->num_descriptors == 0)
		return 0;
	r->inputs = host->alloc(sizeof(*r->inputs) * spec->num_descriptors);
	r->remote = host->alloc(sizeof(*r->remote) * spec->num_descriptors);
	r->slots = host->alloc(sizeof(*r->slots) * nslots);
	if (r->inputs == NULL || r->remote == NULL || r->slots == NULL)
		return SL_ENOMEM;
	memset(r->inputs, 0, sizeof(*r->inputs) * spec->num_descriptors);
	memset(r->remote, 0, sizeof(*r->remote) * spec->num_descriptors);
	memset(r->slots, 0, sizeof(*r->slots) * nslots);
	for (uint32_t i = 0; i < spec->num_descriptors; i++) {
		rv = open_input(
		    r, &spec->descriptors[i], i, spec->sub_lo, spec->sub_hi);
		if (rv != 0)
			return rv;
		r->ninputs++;
	}

	for (uint32_t i = 0; i < r->ninputs; i++) {
		struct part *p = r->inputs[i];

		pthread_mutex_lock(&p->mtx);
		for (uint32_t j = 0; j < nsub; j++) {
			struct slot *s = &r->slots[r->nslots];
			struct sub *sub = &p->subs[spec->sub_lo + j];

			if (sub->reader != NULL) {
				pthread_mutex_unlock(&p->mtx);
				host->set_error("memory: input %u "
				                "subpartition %u already has "
				                "a reader",
				    i, spec->sub_lo + j);
				return SL_EBUSY;
			}
			s->r = r;
			s->part = p;
			s->input = i;
			s->sub = spec->sub_lo + j;
			attach_locked(r, s, sub);
			r->nslots++;
		}
		pthread_mutex_unlock(&p->mtx);
	}
	/* Start fetching once every slot is attached, so an answer always
	 * finds its reader. */
	for (uint32_t k = 0; k < r->nslots; k++) {
		struct slot *s = &r->slots[k];
		struct part *p = s->part;

		if (!r->remote[s->input])
			continue;
		if ((rv = fetch_start(
		         host, p, s->sub, r->remote_credits, &s->fetch)) != 0)
			return rv;
		pthread_mutex_lock(&p->mtx);
		p->subs[s->sub].fetch = s->fetch;
		pthread_mutex_unlock(&p->mtx);
	}
	return 0;
}

static struct slot *
pop_ready(struct mreader *r)
{
	struct slot *s;

	pthread_mutex_lock(&r->mtx);
	if ((s = r->ready_head) != NULL) {
		if ((r->ready_head = s->rnext) == NULL)
			r->ready_tail = NULL;
		s->ready = false;
		/* We are running: a slot made ready now needs no notify. */
		r->armed = false;
	} else if (r->notify != NULL) {
		r->armed = true;
	}
	pthread_mutex_unlock(&r->mtx);
	return s;
}

/*
 * Task thread, never blocks. A failed input is reported again on every
 * later call: the consumer cannot make progress past it.
 */
static int
reader_next(void *state, struct sl_buffer *out)
{
	struct mreader *r = state;
	bool unlinger = false;

	if (atomic_load(&r->closed))
		return SL_ECLOSED;
	for (;;) {
		struct slot *s;
		struct part *p;
		struct sub *sub;
		struct node *n;

		if (r->failed >= 0) {
			out->input = (uint32_t)r->failed;
			return SL_EUNREADABLE;
		}
		if (r->ndone == r->nslots)
			return SL_EEOF;
		if ((s = pop_ready(r)) == NULL)
			return SL_EAGAIN;
		if (s->done)
			continue;
		p = s->part;
		sub = &p->subs[s->sub];

		pthread_mutex_lock(&p->mtx);
		if (sub->lost || p->state == PART_FAILED ||
		    (sub->rfailed && sub->head == NULL)) {
			pthread_mutex_unlock(&p->mtx);
			r->failed = s->input;
			if (sub->rfailed && s->fetch != NULL)
				r->host->set_error("memory: input %u "
				                   "subpartition %u: %s",
				    s->input, s->sub, fetch_error(s->fetch));
			else
				r->host->set_error("memory: input %u "
				                   "subpartition %u was %s",
				    s->input, s->sub,
				    p->state == PART_FAILED
				        ? "failed by its writer"
				        : "dropped");
			continue;
		}
		if ((n = sub->head) != NULL) {
			if ((sub->head = n->next) == NULL)
				sub->tail = NULL;
			/* More to read, or an end to see after it. */
			if (sub->head != NULL || p->state != PART_OPEN ||
			    sub->ended || sub->rfailed)
				(void)slot_ready_locked(s);
			pthread_mutex_unlock(&p->mtx);
			out->data = n->data;
			out->len = n->len;
			out->kind = n->kind;
			out->subpartition = n->sub;
			out->input = s->input;
			out->plugin_private = n;
			s->took = true;
			r->held++;
			return 0;
		}
		if (p->state == PART_FINISHED || sub->ended) {
			s->done = true;
			r->ndone++;
			unlinger = sub_drained_locked(p, s->sub);
		}
		pthread_mutex_unlock(&p->mtx);
		if (unlinger) {
			part_put(p); /* ours (r->inputs) keeps it alive */
			unlinger = false;
		}
	}
}

/*
 * Task thread, does not block for long. Frees the buffer and gives its
 * credit back, waking the writer if it waits for it.
 */
static void
reader_release(void *state, struct sl_buffer *buf)
{
	struct mreader *r = state;
	struct fetch *f;
	struct node *n;
	struct part *p;

	if (buf == NULL || (n = buf->plugin_private) == NULL)
		return;
	p = n->part;
	pthread_mutex_lock(&p->mtx);
	p->subs[n->sub].outstanding--;
	f = p->subs[n->sub].fetch;
	if (p->writer_waiting)
		pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
	if (f != NULL)
		fetch_credit(f); /* the credit travels back to the producer */
	r->host->free(n->data);
	r->host->free(n);
	r->held--;
	buf->data = NULL;
	buf->plugin_private = NULL;
}

/*
 * Any thread, never blocks for long. Later calls to next return SL_ECLOSED;
 * a task waiting for notify is notified so it finds out.
 */
static void
reader_close(void *state)
{
	struct mreader *r = state;
	bool notify = false;

	atomic_store(&r->closed, true);
	if (!r->sync_ok)
		return;
	pthread_mutex_lock(&r->mtx);
	if (r->armed) {
		r->armed = false;
		r->inflight++;
		notify = true;
	}
	pthread_mutex_unlock(&r->mtx);
	if (notify)
		reader_notify(r);
}

/* part->mtx held: take s off its subpartition. */
static struct node *
detach_locked(struct slot *s, bool *unlinger)
{
	struct part *p = s->part;
	struct sub *sub = &p->subs[s->sub];
	struct node *drop = NULL;

	sub->reader = NULL;
	s->attached = false;
	/*
	 * Leaving after reading part of a subpartition loses the rest:
	 * pipelined data is read once, and the writer must not wait for
	 * credit that never comes. A reader that took nothing (or whose open
	 * failed) leaves the data whole for another.
	 */
	if (s->took && !s->done &&
	    (sub->head != NULL || p->state == PART_OPEN)) {
		sub->lost = true;
		drop = sub_drain_locked(sub);
		if (p->writer_waiting)
			pthread_cond_broadcast(&p->cv);
		*unlinger = sub_drained_locked(p, s->sub);
	}
	return drop;
}

/*
 * Task thread; waits only for notify calls in flight in other threads.
 * Safe after a failed open. Buffers not released are leaked and logged.
 */
static void
reader_fini(void *state)
{
	struct mreader *r = state;

	for (uint32_t i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slots[i];
		struct node *drop;

		if (s->fetch != NULL) {
			pthread_mutex_lock(&s->part->mtx);
			s->part->subs[s->sub].fetch = NULL;
			pthread_mutex_unlock(&s->part->mtx);
			fetch_stop(s->fetch);
			s->fetch = NULL;
		}
		bool unlinger = false;

		if (!s->attached)
			continue;
		pthread_mutex_lock(&s->part->mtx);
		drop = detach_locked(s, &unlinger);
		pthread_mutex_unlock(&s->part->mtx);
		node_free_list(r->host, drop);
		if (unlinger)
			part_put(s->part);
	}
	if (r->sync_ok) {
		/* No new notify can start: every slot is detached. */
		pthread_mutex_lock(&r->mtx);
		while (r->inflight > 0)
			pthread_cond_wait(&r->cv, &r->mtx);
		pthread_mutex_unlock(&r->mtx);
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mtx);
		r->sync_ok = false;
	}
	if (r->held > 0)
		r->host->log(r->host, SL_LOG_ERROR,
		    "reader closed holding %u buffers", r->held);
	for (uint32_t i = 0; i < r->ninputs; i++)
		part_put(r->inputs[i]);
	if (r->host != NULL) {
		r->host->free(r->inputs);
		r->host->free(r->remote);
		r->host->free(r->slots);
	}
	r->remote = NULL;
	r->inputs = NULL;
	r->slots = NULL;
	r->ninputs = r->nslots = 0;
}

const struct sl_shuffle_reader_ops mem_reader_ops = {
	.struct_size = sizeof(struct sl_shuffle_reader_ops),
	.state_size = sizeof(struct mreader),
	.open = reader_open,
	.next = reader_next,
	.release = reader_release,
	.close = reader_close,
	.fini = reader_fini,
};
