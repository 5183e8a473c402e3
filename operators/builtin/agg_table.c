/*
 * The aggregation hash table (agg_table.h): its slow paths (inserting,
 * growing, long keys). Long keys are hashed with XXH3, inlined.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "agg_table.h"

#define MIN_SLOTS 16u

static size_t
slots_for(size_t keys)
{
	size_t n = MIN_SLOTS;

	while (n / 2 < keys)
		n *= 2;
	return n;
}

static int
alloc_slots(struct agg_table *t, size_t nslots)
{
	struct agg_slot *s = t->host->alloc(nslots * sizeof(*s));

	if (s == NULL)
		return SL_ENOMEM;
	memset(s, 0, nslots * sizeof(*s));
	t->slots = s;
	t->mask = nslots - 1;
	t->max_keys = nslots / 2;
	t->shift = 64;
	for (size_t k = nslots; k > 1; k /= 2)
		t->shift--;
	return 0;
}

int
agg_table_init(struct agg_table *t, const struct sl_host *host, size_t expect)
{
	memset(t, 0, sizeof(*t));
	t->host = host;
	t->arena_cap = 4096;
	if ((t->arena = host->alloc(t->arena_cap)) == NULL ||
	    alloc_slots(t, slots_for(expect)) != 0) {
		agg_table_fini(t);
		return SL_ENOMEM;
	}
	return 0;
}

void
agg_table_fini(struct agg_table *t)
{
	if (t->host == NULL)
		return;
	t->host->free(t->slots);
	t->host->free(t->arena);
	memset(t, 0, sizeof(*t));
}

void
agg_table_clear(struct agg_table *t)
{
	memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->n = 0;
	t->arena_len = 0;
}

static uint64_t
hash_of(const struct agg_table *t, const struct agg_slot *s)
{
	return s->len <= AGG_INLINE_KEY
	    ? agg_hash_short(s->key.w, s->len)
	    : XXH3_64bits(t->arena + s->key.off, s->len);
}

/* Double the slot array and put every key back. */
static int
grow_slots(struct agg_table *t)
{
	struct agg_slot *old = t->slots;
	size_t nold = t->mask + 1;

	if (alloc_slots(t, nold * 2) != 0)
		return SL_ENOMEM; /* the table is as it was */
	for (size_t i = 0; i < nold; i++) {
		uint64_t h;
		size_t pos;

		if (old[i].tag == 0)
			continue;
		h = hash_of(t, &old[i]);
		pos = h >> t->shift;
		while (t->slots[pos].tag != 0)
			pos = (pos + 1) & t->mask;
		t->slots[pos] = old[i];
	}
	t->host->free(old);
	return 0;
}

/* Copy a long key into the arena; its offset in *off. */
static int
arena_add(struct agg_table *t, const void *key, uint32_t len, uint64_t *off)
{
	if (t->arena_cap - t->arena_len < len) {
		size_t cap = t->arena_cap * 2;
		char *a;

		while (cap - t->arena_len < len)
			cap *= 2;
		if ((a = t->host->realloc(t->arena, cap)) == NULL)
			return SL_ENOMEM;
		t->arena = a;
		t->arena_cap = cap;
	}
	memcpy(t->arena + t->arena_len, key, len);
	*off = t->arena_len;
	t->arena_len += len;
	return 0;
}

/* A free slot for hash h, growing the table first when it would be more
 * than half full; NULL when out of memory. */
static struct agg_slot *
free_slot(struct agg_table *t, uint64_t h, int *err)
{
	size_t pos;

	if (t->n >= t->max_keys && (*err = grow_slots(t)) != 0)
		return NULL;
	pos = h >> t->shift;
	while (t->slots[pos].tag != 0)
		pos = (pos + 1) & t->mask;
	t->n++;
	return &t->slots[pos];
}

uint64_t *
agg_table_insert_short(struct agg_table *t, const uint64_t w[2], uint32_t len,
    uint64_t h, int *err)
{
	struct agg_slot *s = free_slot(t, h, err);

	if (s == NULL)
		return NULL;
	s->tag = agg_tag(h);
	s->len = len;
	s->total = 0;
	s->key.w[0] = w[0];
	s->key.w[1] = w[1];
	return &s->total;
}

uint64_t *
agg_table_get_long(struct agg_table *t, const void *key, uint32_t len, int *err)
{
	uint64_t h = XXH3_64bits(key, len);
	uint32_t tag = agg_tag(h);
	struct agg_slot *s;
	uint64_t off;

	for (size_t pos = h >> t->shift;; pos = (pos + 1) & t->mask) {
		s = &t->slots[pos];
		if (s->tag == 0)
			break;
		if (s->tag == tag && s->len == len &&
		    memcmp(t->arena + s->key.off, key, len) == 0)
			return &s->total;
	}
	if ((*err = arena_add(t, key, len, &off)) != 0)
		return NULL;
	if ((s = free_slot(t, h, err)) == NULL)
		return NULL;
	s->tag = tag;
	s->len = len;
	s->total = 0;
	s->key.off = off;
	return &s->total;
}
