/*
 * The memory plugin's writer: appends the caller's buffers to the
 * subpartition queues of its part, waiting for credit when a queue's reader
 * holds `credits` buffers it has not released yet.
 */
#include <string.h>

#include "memory.h"

struct mwriter {
	const struct sl_host *host;
	struct part *part; /* one reference */
	bool attached;     /* we are part->has_writer */
	bool done;         /* finished or failed */
	atomic_bool closed;
	uint64_t bytes;
	uint64_t buffers;
};

/*
 * Task thread, does not block. Finds or creates the part for desc; a second
 * writer of the same attempt is refused with SL_EBUSY.
 */
static int
writer_open(
    void *state, const struct sl_host *host, const void *desc, size_t len)
{
	struct mwriter *w = state;
	struct mem_desc d;
	struct part *p;
	int rv;

	w->host = host;
	atomic_init(&w->closed, false);
	if ((rv = mem_desc_decode(host, desc, len, &d)) != 0)
		return rv;
	rv = part_get(host, &d, &w->part);
	mem_desc_clear(host, &d);
	if (rv != 0)
		return rv;
	p = w->part;
	pthread_mutex_lock(&p->mtx);
	if (!p->has_writer)
		p->has_writer = w->attached = true;
	pthread_mutex_unlock(&p->mtx);
	if (!w->attached) {
		host->set_error("memory: partition %s/%u/%u/%u already has a "
		                "writer",
		    p->desc.job_id, p->desc.edge, p->desc.producer,
		    p->desc.attempt);
		return SL_EBUSY;
	}
	return 0;
}

/* part->mtx held: why no buffer can go into sub now, or 0. */
static int
write_refusal(struct mwriter *w, struct part *p)
{
	if (atomic_load(&w->closed))
		return SL_ECLOSED;
	if (p->released) {
		w->host->set_error("memory: partition was released");
		return SL_ECLOSED;
	}
	if (p->state != PART_OPEN || w->done) {
		w->host->set_error("memory: write after finish or fail");
		return SL_ESTATE;
	}
	return 0;
}

/*
 * Task thread; blocks while the subpartition's reader holds no credit, until
 * it releases a buffer, the writer is closed (SL_ECLOSED) or the partition
 * is released (SL_ECLOSED). Zero copy: the node carries buf->data itself to
 * the reader. If the subpartition's reader left without draining, the
 * buffer is dropped: nobody can read it any more.
 */
static int
writer_write(void *state, uint32_t subpartition, struct sl_buffer *buf)
{
	struct mwriter *w = state;
	struct part *p = w->part;
	struct mreader *notify = NULL;
	struct node *n;
	struct sub *s;
	bool drop = false;
	int rv;

	if (p == NULL || buf == NULL || (buf->data == NULL && buf->len > 0))
		return SL_EINVAL;
	if (subpartition >= p->desc.num_subpartitions) {
		w->host->set_error("memory: subpartition %u of %u",
		    subpartition, p->desc.num_subpartitions);
		return SL_ERANGE;
	}
	if ((n = w->host->alloc(sizeof(*n))) == NULL)
		return SL_ENOMEM;
	n->next = NULL;
	n->data = buf->data;
	n->len = buf->len;
	n->kind = buf->kind;
	n->sub = subpartition;
	n->part = p;
	s = &p->subs[subpartition];

	pthread_mutex_lock(&p->mtx);
	while ((rv = write_refusal(w, p)) == 0 && !s->lost &&
	    s->outstanding >= s->credits) {
		p->writer_waiting = true;
		pthread_cond_wait(&p->cv, &p->mtx);
		p->writer_waiting = false;
	}
	if (rv == 0 && s->lost) {
		drop = true;
	} else if (rv == 0) {
		if (s->tail != NULL)
			s->tail->next = n;
		else
			s->head = n;
		s->tail = n;
		s->outstanding++;
		if (s->reader != NULL && slot_ready_locked(s->reader))
			notify = slot_reader(s->reader);
	}
	pthread_mutex_unlock(&p->mtx);

	if (rv != 0) {
		w->host->free(n);
		return rv;
	}
	if (notify != NULL)
		reader_notify(notify);
	if (drop)
		node_free_list(w->host, n);
	else {
		w->bytes += buf->len;
		w->buffers++;
	}
	buf->data = NULL;
	return 0;
}

/*
 * Task thread, does not block: everything written is already visible, so
 * finishing only marks the end of data and wakes the readers.
 */
static int
writer_finish(void *state)
{
	struct mwriter *w = state;
	struct part *p = w->part;
	int rv;

	if (p == NULL)
		return SL_EINVAL;
	pthread_mutex_lock(&p->mtx);
	if ((rv = write_refusal(w, p)) == 0)
		p->state = PART_FINISHED;
	pthread_mutex_unlock(&p->mtx);
	if (rv != 0)
		return rv;
	w->done = true;
	part_wake_readers(p);
	return 0;
}

/*
 * Task thread, does not block. Drops the queued buffers (buffers readers
 * already took stay theirs until released) and makes readers of this
 * attempt see SL_EUNREADABLE.
 */
static void
writer_fail(void *state)
{
	struct mwriter *w = state;

	if (w->part == NULL || !w->attached)
		return;
	w->done = true;
	part_discard(w->part, false);
}

/* Any thread, never blocks for long: wakes a write waiting for credit. */
static void
writer_close(void *state)
{
	struct mwriter *w = state;

	atomic_store(&w->closed, true);
	if (w->part == NULL)
		return;
	pthread_mutex_lock(&w->part->mtx);
	pthread_cond_broadcast(&w->part->cv);
	pthread_mutex_unlock(&w->part->mtx);
}

/*
 * Task thread. A writer that neither finished nor failed counts as failed:
 * its readers must not wait for an end that never comes. Safe after a
 * failed open.
 */
static void
writer_fini(void *state)
{
	struct mwriter *w = state;

	if (w->part == NULL)
		return;
	if (w->attached && !w->done)
		writer_fail(w);
	if (w->buffers > 0) {
		w->host->counter_add(
		    "shuffle_memory_bytes_written", (int64_t)w->bytes);
		w->host->counter_add(
		    "shuffle_memory_buffers_written", (int64_t)w->buffers);
	}
	if (w->attached) {
		struct part *p = w->part;
		bool keep;

		/* Finished but not drained: our reference stays with the
		 * part until it is (sub_drained_locked), or it is released
		 * or discarded. */
		pthread_mutex_lock(&p->mtx);
		keep = p->state == PART_FINISHED && !p->released &&
		    p->ndrained < p->desc.num_subpartitions;
		p->linger = keep;
		pthread_mutex_unlock(&p->mtx);
		if (keep) {
			w->part = NULL;
			return;
		}
	}
	part_put(w->part);
	w->part = NULL;
}

const struct sl_shuffle_writer_ops mem_writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = sizeof(struct mwriter),
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.close = writer_close,
	.fini = writer_fini,
};
