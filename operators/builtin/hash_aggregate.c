/*
 * hash_aggregate: per-key count or sum, keyed by the record key.
 *
 * mode "final" keeps every key and emits (key, u64 LE total) once all
 * inputs ended: after an all_to_all edge partitioned by key, each key
 * reaches one task, so its total is complete.
 *
 * mode "partial" is the combiner in front of that shuffle: it emits its
 * table and starts over whenever it holds max_entries keys, and once more
 * at finish. A key may so leave a task several times; the final stage
 * (function "sum") adds the pieces up. Memory stays bounded by max_entries
 * keys whatever the input, and a skewed input (most words are few) still
 * shrinks by orders of magnitude before the shuffle.
 *
 * The table's slots are mostly cache misses once it outgrows the cache,
 * so a short key's lookup is started (hashed, its slot prefetched) when
 * its record comes and finished IN_FLIGHT records later; finish completes
 * the ones still in flight. Totals do not depend on the order.
 */
#include "agg_table.h"
#include "builtin.h"

enum { FN_COUNT, FN_SUM };
enum { MODE_PARTIAL, MODE_FINAL };

/* A partial table of 32768 keys is 64 Ki slots of 32 bytes, 2 MiB: one
 * core's L2 on the development machines. WordCount on 200 MB of text ran
 * at 1.0-1.5 s with it, 1.3-1.6 s with 65536, 2.2 s with a million (its
 * slots miss the cache on nearly every word), 1.3 s with 4096 (more
 * flushes, more records shuffled). */
#define DEFAULT_MAX_ENTRIES 32768u
/* Lookups of short keys started (slot prefetched) but not yet done: enough
 * to cover a miss to memory with the work on the others. */
#define IN_FLIGHT 16u

struct hash_aggregate {
	const struct sl_host *host;
	int function;
	int mode;
	size_t max_entries; /* partial only; SIZE_MAX in final mode */
	struct agg_table table;
	struct agg_probe inflight[IN_FLIGHT]; /* a ring from head */
	unsigned head;
	unsigned n_inflight;
};

static const char *const known_keys[] = { "function", "mode", "max_entries",
	NULL };
static const char *const functions[] = { "count", "sum", NULL };
static const char *const modes[] = { "partial", "final", NULL };

static int
agg_open(void *state, const struct sl_task_ctx *ctx)
{
	struct hash_aggregate *a = state;
	struct bi_config cfg;
	uint64_t max = DEFAULT_MAX_ENTRIES;
	int rv;

	a->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "hash_aggregate", known_keys)) != 0)
		return rv;
	if ((rv = bi_config_choice(
	         &cfg, "function", true, functions, &a->function)) != 0 ||
	    (rv = bi_config_choice(&cfg, "mode", true, modes, &a->mode)) != 0)
		goto out;
	if (a->mode == MODE_FINAL) {
		if (bi_config_has(&cfg, "max_entries")) {
			ctx->host->set_error("hash_aggregate: config: "
			                     "'max_entries' applies to mode "
			                     "\"partial\" only");
			rv = SL_EINVAL;
			goto out;
		}
		max = SIZE_MAX;
	} else if ((rv = bi_config_u64(&cfg, "max_entries", false, 1,
	                UINT32_MAX - 1, &max)) != 0) {
		goto out;
	}
	a->max_entries = (size_t)max;
	/* Small at first, grown as keys come: a task may see few, and a
	 * partial table is emptied often when max_entries is small. */
	rv = agg_table_init(
	    &a->table, ctx->host, a->max_entries < 512 ? a->max_entries : 512);
	if (rv != 0)
		ctx->host->set_error("hash_aggregate: out of memory");
out:
	bi_config_close(&cfg);
	return rv;
}

/* Emit every (key, total) and forget them. */
static int
flush(struct hash_aggregate *a, const struct sl_task_ctx *ctx)
{
	const struct agg_table *t = &a->table;
	unsigned char value[8];
	struct sl_record rec = { .value = value, .value_len = sizeof(value) };

	for (size_t i = 0; i <= t->mask; i++) {
		const struct agg_slot *s = &t->slots[i];
		int rv;

		if (s->tag == 0)
			continue;
		rec.key = agg_slot_key(t, s);
		rec.key_len = s->len;
		bi_store_le64(value, s->total);
		if ((rv = bi_emit(ctx, &rec)) != 0)
			return rv;
	}
	agg_table_clear(&a->table);
	return 0;
}

/* Add to the total behind *total; refuses to wrap. */
static int
add_to(struct hash_aggregate *a, uint64_t *total, uint64_t add, uint32_t len,
    int err)
{
	if (total == NULL) {
		a->host->set_error(
		    "hash_aggregate: out of memory after %zu keys", a->table.n);
		return err;
	}
	if (*total > UINT64_MAX - add) {
		a->host->set_error("hash_aggregate: sum: the total of a key "
		                   "of %u bytes overflows a u64",
		    len);
		return SL_ERANGE;
	}
	*total += add;
	return 0;
}

/* Finish the oldest probe in flight; flush when the table is full. */
static int
apply_oldest(struct hash_aggregate *a, const struct sl_task_ctx *ctx)
{
	const struct agg_probe *p = &a->inflight[a->head];
	int err = 0;
	uint64_t *total = agg_table_get_probe(&a->table, p, &err);
	int rv = add_to(a, total, p->add, p->len, err);

	a->head = (a->head + 1) % IN_FLIGHT;
	a->n_inflight--;
	if (rv == 0 && a->table.n >= a->max_entries)
		rv = flush(a, ctx);
	return rv;
}

static int
agg_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct hash_aggregate *a = state;
	uint64_t add = 1;
	struct agg_probe *p;
	int rv;

	(void)in;
	if (a->function == FN_SUM) {
		if (rec->value_len != 8) {
			a->host->set_error("hash_aggregate: sum: a value of "
			                   "%u bytes, not a u64 LE (8 bytes)",
			    rec->value_len);
			return SL_EINVAL;
		}
		add = bi_load_le64(rec->value);
	}
	if (rec->key_len > AGG_INLINE_KEY) {
		int err = 0;
		uint64_t *total =
		    agg_table_get_long(&a->table, rec->key, rec->key_len, &err);

		if ((rv = add_to(a, total, add, rec->key_len, err)) != 0)
			return rv;
		if (a->table.n >= a->max_entries)
			return flush(a, ctx);
		return 0;
	}
	/* A short key joins the probes in flight (its slot is being
	 * fetched); the oldest one leaves to make room. */
	if (a->n_inflight == IN_FLIGHT && (rv = apply_oldest(a, ctx)) != 0)
		return rv;
	p = &a->inflight[(a->head + a->n_inflight) % IN_FLIGHT];
	agg_probe_start(&a->table, p, rec->key, rec->key_len);
	p->add = add;
	a->n_inflight++;
	return 0;
}

static int
agg_finish(void *state, const struct sl_task_ctx *ctx)
{
	struct hash_aggregate *a = state;

	while (a->n_inflight > 0) {
		int rv = apply_oldest(a, ctx);
		if (rv != 0)
			return rv;
	}
	return flush(a, ctx);
}

static void
agg_close(void *state)
{
	struct hash_aggregate *a = state;

	agg_table_fini(&a->table);
}

/*
 * A final total of a key over part of its records plus the totals over
 * the other parts is its total over all: a final sum merges them, whatever
 * the function (a count's pieces are counts to add up). A partial stage
 * needs no merge: its output is a final stage's input anyway.
 */
static int
agg_merge_config(
    const struct sl_host *host, const char *config_json, char *buf, size_t cap)
{
	static const char merge[] =
	    "{\"function\": \"sum\", \"mode\": \"final\"}";
	struct bi_config cfg;
	int mode, rv;

	if ((rv = bi_config_parse(
	         &cfg, host, config_json, "hash_aggregate", known_keys)) != 0)
		return rv;
	rv = bi_config_choice(&cfg, "mode", true, modes, &mode);
	bi_config_close(&cfg);
	if (rv != 0)
		return rv;
	if (mode != MODE_FINAL) {
		host->set_error(
		    "hash_aggregate: mode \"partial\" has nothing to "
		    "merge");
		return SL_ENOTSUP;
	}
	if (cap < sizeof(merge)) {
		host->set_error("hash_aggregate: no room for the merge config");
		return SL_ERANGE;
	}
	memcpy(buf, merge, sizeof(merge));
	return 0;
}

const struct sl_operator_ops bi_hash_aggregate_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "hash_aggregate",
	.state_size = sizeof(struct hash_aggregate),
	.open = agg_open,
	.process = agg_process,
	.finish = agg_finish,
	.close = agg_close,
	.merge_config = agg_merge_config,
};
