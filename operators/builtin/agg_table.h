/*
 * The hash table behind hash_aggregate: byte-string keys to u64 totals.
 *
 * Open addressing with linear probing over one array of 32-byte slots,
 * kept at most half full. A slot holds 32 bits of the key's hash (0: the
 * slot is free), the key's length, its total and the key itself when it
 * is at most 16 bytes long (zero-padded), else the key's offset in an
 * arena that holds the long keys. Most words fit, so a lookup loads the
 * key into two u64s once, hashes them with three multiplications, and
 * compares them with the slot's: one cache line, no pointer to chase, no
 * memcmp call. Longer keys are hashed with XXH3 and compared with memcmp
 * after the tag.
 *
 * Iteration walks the slot array; clearing zeroes it and empties the
 * arena. Nothing is freed until agg_table_fini.
 */
#ifndef SL_AGG_TABLE_H
#define SL_AGG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sluice/plugin.h>

#define AGG_INLINE_KEY 16

struct agg_slot {
	uint32_t tag; /* hash bits, never 0 in a used slot */
	uint32_t len;
	uint64_t total;
	union {
		uint64_t w[2]; /* the key, zero-padded, when len <= 16 */
		uint64_t off;  /* else its offset in the arena */
	} key;
};

struct agg_table {
	const struct sl_host *host;
	struct agg_slot *slots;
	size_t mask;     /* slots - 1; the slot count is a power of two */
	unsigned shift;  /* 64 - log2(slots): the hash's top bits index */
	size_t max_keys; /* before the slots must grow */
	size_t n;        /* keys held */
	char *arena;     /* keys longer than AGG_INLINE_KEY */
	size_t arena_len;
	size_t arena_cap;
};

/* An empty table with room for `expect` keys before it grows. On failure
 * nothing is left allocated. Returns 0 or SL_ENOMEM. */
int agg_table_init(
    struct agg_table *t, const struct sl_host *host, size_t expect);
/* Free everything; safe on a zeroed table and after a failed init. */
void agg_table_fini(struct agg_table *t);
/* Forget every key; keeps the memory for the next ones. */
void agg_table_clear(struct agg_table *t);

/* The bytes of the key a used slot holds. */
static inline const void *
agg_slot_key(const struct agg_table *t, const struct agg_slot *s)
{
	return s->len <= AGG_INLINE_KEY ? (const void *)s->key.w
	                                : (const void *)(t->arena + s->key.off);
}

/* The slow paths of agg_table_get (agg_table.c). */
uint64_t *agg_table_insert_short(struct agg_table *t, const uint64_t w[2],
    uint32_t len, uint64_t h, int *err);
uint64_t *agg_table_get_long(
    struct agg_table *t, const void *key, uint32_t len, int *err);

static inline uint64_t
agg_load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t
agg_load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* key[0..len), len <= 16, zero-padded to 16 bytes as a memcpy into w
 * would leave it, with loads that stay inside the key. */
static inline void
agg_load_short(const void *key, uint32_t len, uint64_t w[2])
{
	const unsigned char *p = key;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Overlapping loads, shifted so that each byte lands where memcpy
	 * would put it. */
	if (len > 8) {
		w[0] = agg_load64(p);
		w[1] = agg_load64(p + len - 8) >> (8 * (16 - len));
	} else if (len >= 4) {
		w[0] = agg_load32(p) |
		    (agg_load32(p + len - 4) >> (8 * (8 - len)) << 32);
		w[1] = 0;
	} else {
		w[0] = len == 0
		    ? 0
		    : (uint64_t)p[0] | (len > 1 ? (uint64_t)p[1] << 8 : 0) |
		        (len > 2 ? (uint64_t)p[2] << 16 : 0);
		w[1] = 0;
	}
#else
	w[0] = w[1] = 0;
	if (len > 0)
		memcpy(w, p, len);
#endif
}

/* Multiplicative hashing: the top bits of the last product depend on
 * every bit of the key, and they are the ones that pick the slot. */
static inline uint64_t
agg_hash_short(const uint64_t w[2], uint32_t len)
{
	uint64_t x = w[0] * UINT64_C(0x9e3779b97f4a7c15) ^
	    (w[1] + len) * UINT64_C(0xc2b2ae3d27d4eb4f);

	return (x ^ (x >> 29)) * UINT64_C(0xd6e8feb86659fd93);
}

static inline uint32_t
agg_tag(uint64_t h)
{
	return (uint32_t)h | 1u;
}

/*
 * A short key on its way into the table: loaded, hashed, and its slot
 * prefetched, so that a caller which starts several lookups before it
 * finishes them (hash_aggregate keeps a few in flight) waits for memory
 * once for all of them rather than once each.
 */
struct agg_probe {
	uint64_t w[2];
	uint64_t h;
	uint64_t add; /* the caller's: what to add to the total */
	uint32_t len;
};

static inline void
agg_probe_start(const struct agg_table *t, struct agg_probe *p, const void *key,
    uint32_t len)
{
	agg_load_short(key, len, p->w);
	p->len = len;
	p->h = agg_hash_short(p->w, len);
#if defined(__GNUC__)
	__builtin_prefetch(&t->slots[p->h >> t->shift], 1);
#endif
}

/*
 * The total of a probe's key (len <= AGG_INLINE_KEY), inserted as 0 when
 * absent. The pointer is valid until the next lookup or clear. NULL when
 * out of memory (*err is SL_ENOMEM). Inline: the hit is the hot path of
 * WordCount.
 */
static inline uint64_t *
agg_table_get_probe(struct agg_table *t, const struct agg_probe *p, int *err)
{
	for (size_t pos = p->h >> t->shift;; pos = (pos + 1) & t->mask) {
		struct agg_slot *s = &t->slots[pos];

		if (s->tag == 0)
			return agg_table_insert_short(
			    t, p->w, p->len, p->h, err);
		if (s->key.w[0] == p->w[0] && s->key.w[1] == p->w[1] &&
		    s->len == p->len)
			return &s->total;
	}
}

/* The same for any key, in one go. */
static inline uint64_t *
agg_table_get(struct agg_table *t, const void *key, uint32_t len, int *err)
{
	struct agg_probe p;

	if (len > AGG_INLINE_KEY)
		return agg_table_get_long(t, key, len, err);
	agg_probe_start(t, &p, key, len);
	return agg_table_get_probe(t, &p, err);
}

#endif
