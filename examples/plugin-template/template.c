/*
 * sluice-shuffle-template: a small, complete shuffle plugin to copy from.
 *
 * It moves buffers between tasks of one process: the master registers a
 * partition in a process-wide table and hands out a descriptor naming it;
 * the writer appends buffers to a list per subpartition; readers take them
 * off those lists. One mutex guards everything. It is deliberately simple:
 *
 *  - Lists are unbounded, so write() never blocks and credits are ignored.
 *    A real pipelined shuffle bounds memory by making write() wait for
 *    credit (and close() must then wake it with SL_ECLOSED).
 *  - Descriptors only mean something inside the process that made them.
 *
 * Build it with nothing but the installed headers (see README.md). The
 * plugin must not call any function of the core: it reaches the core only
 * through the struct sl_host it is given.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sluice/plugin.h>
#include <sluice/shuffle.h>

/* ---- state shared by all roles ------------------------------------- */

struct node { /* one buffer waiting in a subpartition */
	struct node *next;
	void *data;
	size_t len;
	uint32_t kind;
};

struct queue {
	struct node *head, *tail;
};

enum { P_WRITING, P_FINISHED, P_FAILED, P_RELEASED };

struct reader;

struct input { /* one descriptor of a reader */
	struct partition *p; /* NULL: the descriptor names no live partition */
	struct reader *r;
	struct input *next_tap; /* in p->taps, so writes can notify r */
};

struct partition {
	struct partition *next; /* in the registry, until released */
	uint64_t id;
	uint32_t nsub;
	int state;
	int refs; /* the master's registration + each writer and input */
	bool has_writer;
	void *owner; /* the master state that registered it */
	struct queue *subs;
	struct input *taps;
};

static const struct sl_host *host; /* from init(), valid until fini() */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct partition *registry;
static uint64_t epoch;   /* tells this load's descriptors from others */
static uint64_t last_id;

/* ---- the descriptor ------------------------------------------------- */

/*
 * Descriptors must be msgpack. Ours is a fixarray of four unsigned ints,
 * [format, epoch, partition id, num_subpartitions], each written as a
 * msgpack uint 64 (0xcf and 8 bytes big-endian). That is valid msgpack of
 * a fixed size, written without a library.
 */
#define DESC_FORMAT 1
#define DESC_FIELDS 4
#define DESC_LEN (1 + DESC_FIELDS * 9)

static void
desc_encode(uint8_t *out, const uint64_t f[DESC_FIELDS])
{
	*out++ = 0x90 | DESC_FIELDS; /* fixarray of DESC_FIELDS */
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

	if (desc == NULL || len != DESC_LEN || *p++ != (0x90 | DESC_FIELDS))
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

/* ---- partitions (call with the lock held) ---------------------------- */

static struct partition *
find(const uint64_t f[DESC_FIELDS])
{
	if (f[1] != epoch)
		return NULL;
	for (struct partition *p = registry; p != NULL; p = p->next)
		if (p->id == f[2])
			return p;
	return NULL;
}

static void
drop_data(struct partition *p)
{
	for (uint32_t s = 0; s < p->nsub; s++) {
		struct node *n = p->subs[s].head;
		while (n != NULL) {
			struct node *next = n->next;
			host->free(n->data);
			host->free(n);
			n = next;
		}
		p->subs[s].head = p->subs[s].tail = NULL;
	}
}

/* Tell readers waiting on p that next() may have something new. The
 * contract lets us call notify with our lock held: it must not call back
 * into the reader. */
static void
wake_readers(struct partition *p)
{
	for (struct input *in = p->taps; in != NULL; in = in->next_tap) {
		struct reader *r = in->r;
		extern void template_wake(struct reader *);
		template_wake(r);
	}
}

static void
unref(struct partition *p)
{
	if (--p->refs > 0)
		return;
	drop_data(p);
	host->free(p->subs);
	host->free(p);
}

static void
release_locked(struct partition *p)
{
	struct partition **pp = &registry;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next; /* no longer found by descriptors */
	p->state = P_RELEASED;
	drop_data(p);
	wake_readers(p);
	unref(p); /* the master's reference */
}
