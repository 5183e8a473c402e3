/*
 * The memory shuffle plugin: pipelined partitions handed from writers to
 * readers inside one process, zero copy, with credit-based back pressure.
 * This file holds the plugin descriptor and the process-wide table where
 * writers and readers of a partition meet; memory.h describes the design.
 */
#include <string.h>

#include "memory.h"

/* Fixed buckets: a process holds at most a few thousand live partitions,
 * and a fixed array keeps the table free of resizing under the lock. */
#define TABLE_BUCKETS 4096

static pthread_mutex_t table_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct part *table[TABLE_BUCKETS];
static size_t table_count;

static const struct sl_host *plugin_host;

void
node_free_list(const struct sl_host *host, struct node *n)
{
	while (n != NULL) {
		struct node *next = n->next;

		host->free(n->data);
		host->free(n);
		n = next;
	}
}

struct node *
sub_drain_locked(struct sub *s)
{
	struct node *list = s->head;

	for (struct node *n = list; n != NULL; n = n->next)
		s->outstanding--;
	s->head = s->tail = NULL;
	return list;
}

static void
part_destroy(struct part *p)
{
	const struct sl_host *host = p->host;

	if (p->subs != NULL) {
		for (uint32_t i = 0; i < p->desc.num_subpartitions; i++)
			node_free_list(host, sub_drain_locked(&p->subs[i]));
		host->free(p->subs);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	mem_desc_clear(host, &p->desc);
	host->free(p);
}

char *
mem_strdup(const struct sl_host *host, const char *s)
{
	size_t n = strlen(s) + 1;
	char *c = host->alloc(n);

	if (c != NULL)
		memcpy(c, s, n);
	return c;
}

static struct part *
part_new(const struct sl_host *host, const struct mem_desc *d)
{
	struct part *p;
	uint32_t nsub = d->num_subpartitions;

	if ((p = host->alloc(sizeof(*p))) == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->hash = mem_desc_hash(d);
	p->refs = 1;
	p->desc = *d;
	p->desc.job_id = NULL;
	p->desc.location = NULL;
	if (pthread_mutex_init(&p->mtx, NULL) != 0) {
		host->free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mtx);
		host->free(p);
		return NULL;
	}
	if ((p->desc.job_id = mem_strdup(host, d->job_id)) == NULL ||
	    (d->location != NULL &&
	        (p->desc.location = mem_strdup(host, d->location)) == NULL) ||
	    (p->subs = host->alloc(sizeof(*p->subs) * nsub)) == NULL) {
		part_destroy(p);
		return NULL;
	}
	memset(p->subs, 0, sizeof(*p->subs) * nsub);
	for (uint32_t i = 0; i < nsub; i++)
		p->subs[i].credits = MEM_DEFAULT_CREDITS;
	return p;
}

/* table_mtx held. */
static struct part *
table_lookup(const struct mem_desc *d, uint64_t hash)
{
	struct part *p = table[hash % TABLE_BUCKETS];

	while (
	    p != NULL && (p->hash != hash || !mem_desc_same_key(&p->desc, d)))
		p = p->tnext;
	return p;
}

static int
check_shape(const struct part *p, const struct mem_desc *d)
{
	if (p->desc.num_subpartitions == d->num_subpartitions)
		return 0;
	p->host->set_error("memory: partition %s/%u/%u/%u has %u "
	                   "subpartitions, descriptor says %u",
	    d->job_id, d->edge, d->producer, d->attempt,
	    p->desc.num_subpartitions, d->num_subpartitions);
	return SL_EINVAL;
}

int
part_get(
    const struct sl_host *host, const struct mem_desc *d, struct part **out)
{
	uint64_t hash = mem_desc_hash(d);
	struct part *p, *fresh = NULL;
	int rv = 0;

	pthread_mutex_lock(&table_mtx);
	p = table_lookup(d, hash);
	if (p == NULL) {
		/* Allocate outside the lock, then look again: another
		 * thread may have created the part meanwhile. */
		pthread_mutex_unlock(&table_mtx);
		if ((fresh = part_new(host, d)) == NULL) {
			host->set_error("memory: out of memory");
			return SL_ENOMEM;
		}
		pthread_mutex_lock(&table_mtx);
		p = table_lookup(d, hash);
	}
	if (p != NULL) {
		if ((rv = check_shape(p, d)) == 0)
			p->refs++;
	} else {
		p = fresh;
		fresh = NULL;
		p->tnext = table[hash % TABLE_BUCKETS];
		table[hash % TABLE_BUCKETS] = p;
		table_count++;
	}
	pthread_mutex_unlock(&table_mtx);
	if (fresh != NULL)
		part_destroy(fresh);
	if (rv == 0)
		*out = p;
	return rv;
}

struct part *
part_find(const struct mem_desc *d)
{
	struct part *p;

	pthread_mutex_lock(&table_mtx);
	if ((p = table_lookup(d, mem_desc_hash(d))) != NULL)
		p->refs++;
	pthread_mutex_unlock(&table_mtx);
	return p;
}

void
part_put(struct part *p)
{
	bool last;

	if (p == NULL)
		return;
	pthread_mutex_lock(&table_mtx);
	if ((last = --p->refs == 0)) {
		struct part **pp = &table[p->hash % TABLE_BUCKETS];

		while (*pp != p)
			pp = &(*pp)->tnext;
		*pp = p->tnext;
		table_count--;
	}
	pthread_mutex_unlock(&table_mtx);
	if (last)
		part_destroy(p);
}

void
part_wake_readers(struct part *p)
{
	uint32_t i = 0;

	/* One pass over the subpartitions, dropping the lock for each
	 * notify: a notify may not run under our locks, and the subs array
	 * never moves, so the pass resumes where it stopped. */
	for (;;) {
		struct mreader *r = NULL;

		pthread_mutex_lock(&p->mtx);
		for (; r == NULL && i < p->desc.num_subpartitions; i++) {
			struct slot *s = p->subs[i].reader;

			if (s != NULL && slot_ready_locked(s))
				r = slot_reader(s);
		}
		pthread_mutex_unlock(&p->mtx);
		if (r == NULL)
			break;
		reader_notify(r);
	}
}

bool
sub_drained_locked(struct part *p, uint32_t i)
{
	if (p->subs[i].drained)
		return false;
	p->subs[i].drained = true;
	if (++p->ndrained < p->desc.num_subpartitions || !p->linger)
		return false;
	p->linger = false;
	return true;
}

void
part_discard(struct part *p, bool release)
{
	struct node *drop = NULL;
	bool unlinger;

	pthread_mutex_lock(&p->mtx);
	for (uint32_t i = 0; i < p->desc.num_subpartitions; i++) {
		struct sub *s = &p->subs[i];
		struct node *list;

		/* A release after a subpartition was read to its end takes
		 * nothing from its reader; otherwise the reader lost data. */
		if (s->head != NULL || p->state == PART_OPEN)
			s->lost = true;
		list = sub_drain_locked(s);

		/* Prepend the whole list: order does not matter here. */
		if (list != NULL) {
			struct node *last = list;

			while (last->next != NULL)
				last = last->next;
			last->next = drop;
			drop = list;
		}
	}
	if (release)
		p->released = true;
	else
		p->state = PART_FAILED;
	if (p->writer_waiting)
		pthread_cond_broadcast(&p->cv);
	/* Nothing is left to keep for a late reader. */
	unlinger = p->linger;
	p->linger = false;
	pthread_mutex_unlock(&p->mtx);
	node_free_list(p->host, drop);
	part_wake_readers(p);
	if (unlinger)
		part_put(p);
}

/* Called by the loader once, before any other op. */
static int
plugin_init(const struct sl_host *host)
{
	plugin_host = host;
	return 0;
}

/* Called once before unloading, after every object was released: the
 * table must be empty, or something leaked a reference. */
static void
plugin_fini(void)
{
	size_t left;

	pthread_mutex_lock(&table_mtx);
	left = table_count;
	pthread_mutex_unlock(&table_mtx);
	if (left != 0 && plugin_host != NULL)
		plugin_host->log(plugin_host, SL_LOG_WARN,
		    "unloaded with %zu partitions still referenced", left);
	if (plugin_host != NULL)
		mem_net_fini(plugin_host);
	plugin_host = NULL;
}

static const struct sl_shuffle_ops memory_ops = {
	.struct_size = sizeof(struct sl_shuffle_ops),
	.master = &mem_master_ops,
	.writer = &mem_writer_ops,
	.reader = &mem_reader_ops,
	.server = &mem_server_ops,
};

static const struct sl_plugin memory_plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SHUFFLE,
	.name = "memory",
	.version = "0.1.0",
	.caps = SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED),
	.init = plugin_init,
	.fini = plugin_fini,
	.ops = &memory_ops,
};

SL_PLUGIN_DEFINE(memory_plugin)
