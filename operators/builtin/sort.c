/*
 * sort: every record it is given, sorted by key (unsigned bytes, a shorter
 * key first when one is a prefix of the other; equal keys keep their
 * order), emitted once all inputs ended. A radix sort on the keys' first 8
 * bytes, then the rest of the key where those are equal. TeraSort's
 * per-partition sort after a range partitioning. The records are held in
 * memory, in an arena of their bytes and an array of offsets; spilling sorted
 * runs to disk is still to come, so a task's share must fit in memory.
 */
#include <stdlib.h>

#include "builtin.h"

struct entry {
	uint64_t off; /* of the key in the arena; the value follows */
	uint32_t klen, vlen;
	uint64_t prefix; /* the key's first 8 bytes, big-endian, 0-padded */
	uint64_t seq;    /* arrival, for a stable order */
};

struct sorter {
	const struct sl_host *host;
	unsigned char *arena;
	uint64_t len, cap;
	struct entry *v;
	uint64_t n, capn;
};

static const char *const known_keys[] = { NULL };

static int
sort_open(void *state, const struct sl_task_ctx *ctx)
{
	struct sorter *s = state;
	struct bi_config cfg;
	int rv;

	s->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "sort", known_keys)) != 0)
		return rv;
	bi_config_close(&cfg);
	return 0;
}

static int
grow(struct sorter *s, void **p, uint64_t *cap, uint64_t need, size_t unit)
{
	uint64_t c = *cap ? *cap : 4096;
	void *q;

	while (c < need)
		c *= 2;
	if ((q = s->host->realloc(*p, (size_t)(c * unit))) == NULL) {
		s->host->set_error("sort: out of memory after %llu records "
		                   "(%llu bytes)",
		    (unsigned long long)s->n, (unsigned long long)s->len);
		return SL_ENOMEM;
	}
	*p = q;
	*cap = c;
	return 0;
}

static int
sort_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct sorter *s = state;
	uint64_t size = (uint64_t)rec->key_len + rec->value_len;
	int rv;

	(void)ctx;
	(void)in;
	if (s->len + size > s->cap &&
	    (rv = grow(s, (void **)&s->arena, &s->cap, s->len + size, 1)) != 0)
		return rv;
	if (s->n == s->capn &&
	    (rv = grow(s, (void **)&s->v, &s->capn, s->n + 1, sizeof(*s->v))) !=
	        0)
		return rv;
	if (rec->key_len > 0)
		memcpy(s->arena + s->len, rec->key, rec->key_len);
	if (rec->value_len > 0)
		memcpy(s->arena + s->len + rec->key_len, rec->value,
		    rec->value_len);
	s->v[s->n] = (struct entry) { .off = s->len,
		.klen = rec->key_len,
		.vlen = rec->value_len,
		.seq = s->n };
	for (uint32_t i = 0; i < 8; i++)
		s->v[s->n].prefix = s->v[s->n].prefix << 8 |
		    (i < rec->key_len ? ((const unsigned char *)rec->key)[i]
		                      : 0u);
	s->n++;
	s->len += size;
	return 0;
}

/* qsort's comparator has no context: the arena of the sort in progress.
 * One sort per thread at a time. */
static _Thread_local const unsigned char *cmp_arena;

static int
cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	uint32_t k = x->klen < y->klen ? x->klen : y->klen;
	int c = k ? memcmp(cmp_arena + x->off, cmp_arena + y->off, k) : 0;

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Sort by the 8-byte prefix with a stable LSD radix sort (a byte a pass,
 * passes where every entry has the same byte skipped), then order each run
 * of equal prefixes by the whole key (and arrival). qsort alone when the
 * scratch array cannot be had.
 */
static void
sort_entries(struct sorter *s)
{
	struct entry *tmp, *a = s->v;
	uint64_t n = s->n;

	cmp_arena = s->arena;
	if (n < 2)
		return;
	if ((tmp = s->host->alloc((size_t)n * sizeof(*tmp))) == NULL) {
		qsort(s->v, (size_t)n, sizeof(*s->v), cmp);
		return;
	}
	for (unsigned shift = 0; shift < 64; shift += 8) {
		uint64_t count[256] = { 0 }, pos = 0;
		bool same = false;

		for (uint64_t i = 0; i < n; i++)
			count[(a[i].prefix >> shift) & 0xff]++;
		for (int d = 0; d < 256 && !same; d++)
			same = count[d] == n;
		if (same)
			continue;
		for (int d = 0; d < 256; d++) {
			uint64_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (uint64_t i = 0; i < n; i++)
			tmp[count[(a[i].prefix >> shift) & 0xff]++] = a[i];
		memcpy(a, tmp, (size_t)n * sizeof(*a));
	}
	s->host->free(tmp);
	for (uint64_t i = 0; i < n;) {
		uint64_t j = i + 1;

		while (j < n && a[j].prefix == a[i].prefix)
			j++;
		if (j - i > 1)
			qsort(a + i, (size_t)(j - i), sizeof(*a), cmp);
		i = j;
	}
}

static int
sort_finish(void *state, const struct sl_task_ctx *ctx)
{
	struct sorter *s = state;
	int rv;

	sort_entries(s);
	for (uint64_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->v[i];
		struct sl_record out = { .key = s->arena + e->off,
			.key_len = e->klen,
			.value = s->arena + e->off + e->klen,
			.value_len = e->vlen };

		if ((rv = bi_emit(ctx, &out)) != 0)
			return rv;
		if ((i & 4095) == 4095 && ctx->cancelled(ctx))
			return SL_ECLOSED;
	}
	return 0;
}

static void
sort_close(void *state)
{
	struct sorter *s = state;

	if (s->host == NULL)
		return;
	s->host->free(s->arena);
	s->host->free(s->v);
}

const struct sl_operator_ops bi_sort_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "sort",
	.state_size = sizeof(struct sorter),
	.open = sort_open,
	.process = sort_process,
	.finish = sort_finish,
	.close = sort_close,
};
