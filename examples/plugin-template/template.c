/*
 * sluice-shuffle-template: a small, complete shuffle plugin to copy from.
 *
 * Buffers move between tasks of one process. The master registers each
 * partition in a process-wide table and returns a descriptor naming it; the
 * writer appends buffers to a list per subpartition; readers take them off.
 * Back pressure is by credits: a writer waits while the reader of a
 * subpartition holds `credits` buffers it has not released. One mutex and
 * one condition variable guard everything, and a descriptor means something
 * only in the process that made it: simple, not fast.
 *
 * It builds from the installed headers alone and calls nothing of the core:
 * everything it needs from sluice comes through struct sl_host.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <sluice/plugin.h>
#include <sluice/shuffle.h>

struct node { /* a buffer waiting in a subpartition, oldest first */
	struct node *next;
	void *data;
	size_t len;
	uint32_t kind;
};

struct queue {
	struct node *head, *tail;
	uint32_t outstanding; /* queued + handed out, not released yet */
	uint32_t credits;     /* 0 while no reader is attached: no limit */
};

#define DEFAULT_CREDITS 4

enum { P_WRITING, P_FINISHED, P_FAILED, P_RELEASED };

struct partition {
	struct partition *next; /* in the registry until released */
	uint64_t id;
	int state;
	int refs; /* the registration, the writer, each reader input */
	bool has_writer;
	void *owner; /* the master state that registered it */
	uint32_t nsub;
	struct queue subs[]; /* one per subpartition */
};

/*
 * Per-role state. The core allocates state_size bytes, zeroed, before open
 * (or init) and frees them after fini; we free only what they point to.
 */
struct master {
	char unused;
};

struct writer {
	struct partition *p;
	bool done; /* finished or failed */
	bool closed;
};

struct reader {
	struct reader *next;   /* in the list of all readers */
	struct partition **in; /* per descriptor; NULL: no such partition */
	uint32_t n;            /* inputs open managed to set up */
	uint32_t lo, hi;       /* inclusive subpartition range */
	uint32_t cursor;       /* input to serve first, for fairness */
	bool want_notify;      /* next() returned SL_EAGAIN; notify is owed */
	bool closed;
	void (*notify)(void *);
	void *notify_arg;
};

static const struct sl_host *host; /* valid from init() until unload */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t credit = PTHREAD_COND_INITIALIZER; /* writers wait */
static struct partition *registry;
static struct reader *readers;
static uint64_t epoch; /* so a reloaded plugin refuses stale descriptors */
static uint64_t last_id;

/*
 * Descriptors must be msgpack. Ours is a fixarray of four unsigned ints,
 * [format, epoch, partition id, num_subpartitions], each a msgpack uint 64
 * (0xcf, then 8 bytes big-endian): valid msgpack, fixed size, no library.
 */
enum { DESC_FORMAT = 1, DESC_FIELDS = 4, DESC_LEN = 1 + DESC_FIELDS * 9 };

static void
desc_encode(uint8_t *out, const uint64_t f[DESC_FIELDS])
{
	*out++ = 0x90 | DESC_FIELDS;
	for (int i = 0; i < DESC_FIELDS; i++) {
		*out++ = 0xcf;
		for (int b = 7; b >= 0; b--)
			*out++ = (uint8_t)(f[i] >> (8 * b));
	}
}

static int
desc_decode(const void *desc, size_t len, uint64_t f[DESC_FIELDS])
{
	const uint8_t *p = desc;

	if (p == NULL || len != DESC_LEN || *p++ != (0x90 | DESC_FIELDS))
		goto bad;
	for (int i = 0; i < DESC_FIELDS; i++) {
		if (*p++ != 0xcf)
			goto bad;
		f[i] = 0;
		for (int b = 0; b < 8; b++)
			f[i] = f[i] << 8 | *p++;
	}
	if (f[0] == DESC_FORMAT)
		return 0;
bad:
	host->set_error("template: not a template shuffle descriptor");
	return SL_EPARSE;
}

/* ---- partitions: call these with the lock held ---------------------- */

static struct partition *
find(const uint64_t f[DESC_FIELDS])
{
	struct partition *p = registry;
	while (p != NULL && !(f[1] == epoch && p->id == f[2]))
		p = p->next;
	return p;
}

/* Free the queued buffers of subpartitions lo..hi. Buffers a reader holds
 * stay valid until it releases them. */
static void
drop_data(struct partition *p, uint32_t lo, uint32_t hi)
{
	for (uint32_t s = lo; s <= hi; s++) {
		for (struct node *n = p->subs[s].head, *next; n; n = next) {
			next = n->next;
			host->free(n->data);
			host->free(n);
			p->subs[s].outstanding--;
		}
		p->subs[s].head = p->subs[s].tail = NULL;
	}
	pthread_cond_broadcast(&credit); /* a writer may wait for that room */
}

/* Something changed: notify every reader whose next() returned SL_EAGAIN
 * (all of them, not only p's: simple, if wasteful). Calling notify with our
 * lock held is allowed because notify must not call back into the reader. */
static void
wake_readers(void)
{
	for (struct reader *r = readers; r != NULL; r = r->next) {
		if (r->want_notify && !r->closed) {
			r->want_notify = false;
			r->notify(r->notify_arg);
		}
	}
}

static void
unref(struct partition *p)
{
	if (--p->refs == 0) {
		drop_data(p, 0, p->nsub - 1);
		host->free(p);
	}
}

static void
release_locked(struct partition *p)
{
	struct partition **pp = &registry;
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next; /* descriptors no longer find it */
	p->state = P_RELEASED;
	drop_data(p, 0, p->nsub - 1);
	wake_readers();
	unref(p); /* the registration's reference */
}

/* ---- master: coordinator thread ------------------------------------- */

static int
master_init(void *state, const struct sl_host *h, const char *cfg)
{
	(void)state, (void)h, (void)cfg; /* nothing to configure */
	return 0;
}

static void
master_fini(void *state)
{
	pthread_mutex_lock(&lock);
	for (struct partition *p = registry, *next; p != NULL; p = next) {
		next = p->next;
		if (p->owner == state)
			release_locked(p);
	}
	pthread_mutex_unlock(&lock);
}

static int
master_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *desc)
{
	uint32_t nsub = spec->num_subpartitions;
	struct partition *p;
	uint8_t *bytes;

	if (spec->type != SL_PARTITION_PIPELINED || nsub == 0) {
		host->set_error("template: only pipelined partitions with "
		                "at least one subpartition");
		return spec->type != SL_PARTITION_PIPELINED ? SL_ENOTSUP
		                                            : SL_EINVAL;
	}
	/* An ABI 1.2 field: refuse what this plugin does not do, rather
	 * than ignore it. */
	if (spec->struct_size >=
	        offsetof(struct sl_partition_spec, compression) +
	            sizeof(spec->compression) &&
	    spec->compression != SL_COMPRESSION_NONE) {
		host->set_error("template: no compression");
		return SL_ENOTSUP;
	}
	/* The descriptor goes to the core, so it comes from host->alloc. */
	p = host->alloc(sizeof(*p) + nsub * sizeof(p->subs[0]));
	bytes = host->alloc(DESC_LEN);
	if (p == NULL || bytes == NULL) {
		host->free(p);
		host->free(bytes);
		return SL_ENOMEM;
	}
	memset(p, 0, sizeof(*p) + nsub * sizeof(p->subs[0]));
	p->state = P_WRITING;
	p->refs = 1;
	p->owner = state;
	p->nsub = nsub;

	pthread_mutex_lock(&lock);
	p->id = ++last_id;
	p->next = registry;
	registry = p;
	pthread_mutex_unlock(&lock);

	desc_encode(bytes, (uint64_t[]) { DESC_FORMAT, epoch, p->id, nsub });
	desc->data = bytes;
	desc->len = DESC_LEN;
	return 0;
}

static int
master_release(void *state, const void *desc, size_t len)
{
	uint64_t f[DESC_FIELDS];
	struct partition *p;
	int rc = desc_decode(desc, len, f);

	(void)state;
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&lock);
	if ((p = find(f)) != NULL) /* idempotent: already gone is fine */
		release_locked(p);
	pthread_mutex_unlock(&lock);
	return 0;
}

static bool
master_is_available(void *state, const void *desc, size_t len)
{
	uint64_t f[DESC_FIELDS];
	struct partition *p;
	bool ok;

	(void)state;
	if (desc_decode(desc, len, f) != 0)
		return false;
	pthread_mutex_lock(&lock);
	ok = (p = find(f)) != NULL && p->state != P_FAILED;
	pthread_mutex_unlock(&lock);
	return ok;
}

/* ---- writer: producing task's thread -------------------------------- */

static int
writer_open(void *state, const struct sl_host *h, const void *desc, size_t len)
{
	struct writer *w = state;
	uint64_t f[DESC_FIELDS];
	int rc = desc_decode(desc, len, f);

	(void)h;
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&lock);
	if ((w->p = find(f)) == NULL || w->p->has_writer) {
		host->set_error("template: partition %llu is %s",
		    (unsigned long long)f[2],
		    w->p ? "taken" : "not registered");
		rc = w->p ? SL_EBUSY : SL_ENOTFOUND;
		w->p = NULL; /* so fini knows there is nothing to undo */
	} else {
		w->p->has_writer = true;
		w->p->refs++;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Discard the data; readers of this attempt then see SL_EUNREADABLE. */
static void
fail_locked(struct writer *w)
{
	w->done = true;
	if (w->p->state == P_WRITING || w->p->state == P_FINISHED) {
		w->p->state = P_FAILED;
		drop_data(w->p, 0, w->p->nsub - 1);
		wake_readers();
	}
}

static int
writer_write(void *state, uint32_t sub, struct sl_buffer *buf)
{
	struct writer *w = state;
	struct queue *q;
	struct node *n;
	int rc = 0;

	if (sub >= w->p->nsub) {
		host->set_error(
		    "template: subpartition %u of %u", sub, w->p->nsub);
		return SL_ERANGE;
	}
	if (buf == NULL || (buf->data == NULL && buf->len > 0))
		return SL_EINVAL;
	if ((n = host->alloc(sizeof(*n))) == NULL)
		return SL_ENOMEM;
	*n = (struct node) { NULL, buf->data, buf->len, buf->kind };

	pthread_mutex_lock(&lock);
	q = &w->p->subs[sub];
	/* Back pressure: wait while the reader holds all its credit. close,
	 * release, fail and reader_release broadcast; recheck every wake-up. */
	while (!w->closed && w->p->state == P_WRITING && q->credits > 0 &&
	    q->outstanding >= q->credits)
		pthread_cond_wait(&credit, &lock);
	if (w->closed) {
		rc = SL_ECLOSED;
	} else if (w->done || w->p->state != P_WRITING) {
		host->set_error(
		    "template: write after finish, fail or release");
		rc = SL_ESTATE;
	} else {
		*(q->tail ? &q->tail->next : &q->head) = n;
		q->tail = n;
		q->outstanding++;
		buf->data = NULL; /* the buffer is ours now */
		wake_readers();
	}
	pthread_mutex_unlock(&lock);
	if (rc != 0)
		host->free(n); /* on failure the caller keeps buf->data */
	return rc;
}

static int
writer_finish(void *state)
{
	struct writer *w = state;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (w->closed) {
		rc = SL_ECLOSED;
	} else if (w->done || w->p->state != P_WRITING) {
		host->set_error(
		    "template: finish after finish, fail or release");
		rc = SL_ESTATE;
	} else { /* commit: everything written is now visible to readers */
		w->done = true;
		w->p->state = P_FINISHED;
		wake_readers();
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
writer_fail(void *state)
{
	pthread_mutex_lock(&lock);
	fail_locked(state);
	pthread_mutex_unlock(&lock);
}

/* Any thread, never blocks (the lock is only ever held briefly): later
 * calls fail, and a write waiting for credit wakes up and returns
 * SL_ECLOSED. */
static void
writer_close(void *state)
{
	pthread_mutex_lock(&lock);
	((struct writer *)state)->closed = true;
	pthread_cond_broadcast(&credit);
	pthread_mutex_unlock(&lock);
}

static void
writer_fini(void *state)
{
	struct writer *w = state;

	if (w->p == NULL) /* open failed: nothing to undo */
		return;
	pthread_mutex_lock(&lock);
	if (!w->done) /* never committed: readers must not wait forever */
		fail_locked(w);
	unref(w->p);
	pthread_mutex_unlock(&lock);
}

/* ---- reader: consuming task's thread -------------------------------- */

static int
reader_open(
    void *state, const struct sl_host *h, const struct sl_reader_spec *spec)
{
	struct reader *r = state;
	uint32_t n = spec->num_descriptors;
	uint64_t f[DESC_FIELDS];
	uint32_t credits;
	int rc = 0;

	(void)h;
	if (spec->sub_lo > spec->sub_hi || spec->notify == NULL ||
	    (n > 0 && spec->descriptors == NULL)) {
		host->set_error("template: bad reader spec");
		return SL_EINVAL;
	}
	r->lo = spec->sub_lo;
	r->hi = spec->sub_hi;
	r->notify = spec->notify;
	r->notify_arg = spec->notify_arg;
	credits = spec->credits > 0 ? spec->credits : DEFAULT_CREDITS;
	if (n > 0 && (r->in = host->alloc(n * sizeof(*r->in))) == NULL)
		return SL_ENOMEM;

	pthread_mutex_lock(&lock);
	r->next = readers;
	readers = r;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_bytes *d = &spec->descriptors[i];
		if ((rc = desc_decode(d->data, d->len, f)) != 0)
			break;
		if (f[3] <= r->hi) {
			host->set_error(
			    "template: input %u has %llu subpartitions", i,
			    (unsigned long long)f[3]);
			rc = SL_ERANGE;
			break;
		}
		/* A partition already gone is not an open error: next()
		 * reports it as SL_EUNREADABLE and names the input. */
		if ((r->in[i] = find(f)) != NULL) {
			r->in[i]->refs++;
			for (uint32_t s = r->lo; s <= r->hi; s++)
				r->in[i]->subs[s].credits = credits;
		}
		r->n = i + 1; /* fini undoes exactly this much */
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
reader_next(void *state, struct sl_buffer *out)
{
	struct reader *r = state;
	bool finished = true;
	int rc = SL_EAGAIN;

	pthread_mutex_lock(&lock);
	if (r->closed) {
		rc = SL_ECLOSED;
		goto out;
	}
	for (uint32_t i = 0; i < r->n; i++) {
		struct partition *p = r->in[i];
		if (p == NULL || p->state == P_FAILED ||
		    p->state == P_RELEASED) {
			host->set_error(
			    "template: input %u failed or released", i);
			out->input = i;
			rc = SL_EUNREADABLE;
			goto out;
		}
	}
	/* The oldest buffer of the first non-empty subpartition, starting
	 * with the input after the one served last. */
	for (uint32_t k = 0; k < r->n; k++) {
		uint32_t i = (r->cursor + k) % r->n;
		struct partition *p = r->in[i];
		for (uint32_t s = r->lo; s <= r->hi; s++) {
			struct queue *q = &p->subs[s];
			struct node *nd = q->head;
			if (nd == NULL)
				continue;
			if ((q->head = nd->next) == NULL)
				q->tail = NULL;
			/* plugin_private: the token release needs to find the
			 * credit it gives back */
			*out = (struct sl_buffer) { .data = nd->data,
				.len = nd->len,
				.kind = nd->kind,
				.subpartition = s,
				.input = i,
				.plugin_private = p };
			host->free(nd); /* still outstanding until release */
			r->cursor = i + 1;
			rc = 0;
			goto out;
		}
		finished = finished && p->state == P_FINISHED;
	}
	if (finished)
		rc = SL_EEOF;
	else
		r->want_notify = true; /* the next change calls notify */
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Takes back a buffer from next(), and with it one credit: a writer
 * waiting for room in that subpartition may go on. */
static void
reader_release(void *state, struct sl_buffer *buf)
{
	struct partition *p = buf->plugin_private;

	(void)state;
	if (p != NULL) {
		pthread_mutex_lock(&lock);
		p->subs[buf->subpartition].outstanding--;
		pthread_cond_broadcast(&credit);
		pthread_mutex_unlock(&lock);
	}
	host->free(buf->data);
	buf->data = NULL;
	buf->plugin_private = NULL;
}

/* Any thread, never blocks. A task waiting for notify is told, so that
 * its next call finds SL_ECLOSED. */
static void
reader_close(void *state)
{
	struct reader *r = state;

	pthread_mutex_lock(&lock);
	r->closed = true;
	if (r->want_notify) {
		r->want_notify = false;
		r->notify(r->notify_arg);
	}
	pthread_mutex_unlock(&lock);
}

static void
reader_fini(void *state)
{
	struct reader *r = state, **pp = &readers;

	pthread_mutex_lock(&lock);
	while (*pp != NULL && *pp != r) /* not listed if open failed early */
		pp = &(*pp)->next;
	if (*pp != NULL)
		*pp = r->next;
	for (uint32_t i = 0; i < r->n; i++) {
		struct partition *p = r->in[i];
		if (p == NULL)
			continue;
		/* Pipelined data is read once: what this reader leaves behind
		 * nobody will read, and its writer must not wait for credit. */
		for (uint32_t s = r->lo; s <= r->hi; s++)
			p->subs[s].credits = 0;
		drop_data(p, r->lo, r->hi);
		unref(p);
	}
	pthread_mutex_unlock(&lock);
	host->free(r->in); /* may be NULL: free(NULL) does nothing */
}

/* ---- the descriptor the loader checks ------------------------------- */

static int
plugin_init(const struct sl_host *h)
{
	host = h;
	epoch = h->now_ns();
	last_id = 0;
	return 0;
}

static const struct sl_shuffle_master_ops master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = sizeof(struct master),
	.init = master_init,
	.fini = master_fini,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	/* worker_lost, snapshot, restore: NULL picks the core's defaults
	 * (nothing to do, an empty snapshot): the registry is process-wide
	 * and no master keeps state of its own */
};

static const struct sl_shuffle_writer_ops writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = sizeof(struct writer),
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.close = writer_close,
	.fini = writer_fini,
};

static const struct sl_shuffle_reader_ops reader_ops = {
	.struct_size = sizeof(struct sl_shuffle_reader_ops),
	.state_size = sizeof(struct reader),
	.open = reader_open,
	.next = reader_next,
	.release = reader_release,
	.close = reader_close,
	.fini = reader_fini,
};

static const struct sl_shuffle_ops shuffle_ops = {
	.struct_size = sizeof(struct sl_shuffle_ops),
	.master = &master_ops,
	.writer = &writer_ops,
	.reader = &reader_ops,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SHUFFLE,
	.name = "template",
	.version = "0.1.0",
	.caps = SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED),
	.init = plugin_init,
	.fini = NULL, /* masters released every partition before this */
	.ops = &shuffle_ops,
};

SL_PLUGIN_DEFINE(plugin)
