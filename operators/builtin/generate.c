/*
 * generate: synthetic records for benchmarks and tests (sort, shuffle).
 *
 * Record r (0 <= r < count) depends on (seed, r) only: its bytes come from
 * a splitmix64 stream started at a hash of both. Task i of p makes records
 * [floor(i*count/p), floor((i+1)*count/p)), so the set of records, and
 * their order when the tasks are concatenated, is the same for every p.
 */
#include "builtin.h"

#define MAX_FIELD (UINT64_C(1) << 30)
#define CANCEL_EVERY 1024u

struct generate {
	const struct sl_host *host;
	uint64_t count;
	uint64_t seed;
	uint32_t key_bytes;
	uint32_t value_bytes;
	bool ascii;
	unsigned char *buf; /* key then value */
};

static const char *const known_keys[] = { "count", "key_bytes", "value_bytes",
	"seed", "ascii", NULL };

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int
gen_open(void *state, const struct sl_task_ctx *ctx)
{
	struct generate *g = state;
	struct bi_config cfg;
	uint64_t kb = 10;
	uint64_t vb = 90;
	int rv;

	g->host = ctx->host;
	if ((rv = bi_config_open(&cfg, ctx, "generate", known_keys)) != 0)
		return rv;
	if ((rv = bi_config_u64(
	         &cfg, "count", true, 0, UINT64_MAX, &g->count)) != 0 ||
	    (rv = bi_config_u64(&cfg, "key_bytes", false, 0, MAX_FIELD, &kb)) !=
	        0 ||
	    (rv = bi_config_u64(
	         &cfg, "value_bytes", false, 0, MAX_FIELD, &vb)) != 0 ||
	    (rv = bi_config_u64(
	         &cfg, "seed", false, 0, UINT64_MAX, &g->seed)) != 0 ||
	    (rv = bi_config_bool(&cfg, "ascii", &g->ascii)) != 0) {
		bi_config_close(&cfg);
		return rv;
	}
	bi_config_close(&cfg);
	g->key_bytes = (uint32_t)kb;
	g->value_bytes = (uint32_t)vb;
	/* +8: fill writes whole u64s */
	if ((g->buf = g->host->alloc(kb + vb + 8)) == NULL) {
		g->host->set_error("generate: out of memory for records of "
		                   "%llu bytes",
		    (unsigned long long)(kb + vb));
		return SL_ENOMEM;
	}
	return 0;
}

/* The bytes of record r. */
static void
fill(struct generate *g, uint64_t r)
{
	uint64_t x = mix64(g->seed ^ mix64(r + UINT64_C(0x9e3779b97f4a7c15)));
	size_t n = (size_t)g->key_bytes + g->value_bytes;

	for (size_t i = 0; i < n; i += 8) {
		x += UINT64_C(0x9e3779b97f4a7c15);
		bi_store_le64(g->buf + i, mix64(x));
	}
	if (g->ascii) {
		/* '!'..'~': printable, no space, so that keys survive
		 * whitespace-separated tools */
		for (size_t i = 0; i < n; i++)
			g->buf[i] =
			    (unsigned char)('!' + (g->buf[i] * 94u >> 8));
	}
}

static int
gen_run(void *state, const struct sl_task_ctx *ctx)
{
	struct generate *g = state;
	uint64_t lo = bi_share(g->count, ctx->index, ctx->parallelism);
	uint64_t hi = bi_share(g->count, ctx->index + 1, ctx->parallelism);
	struct sl_record rec = {
		.key = g->buf,
		.key_len = g->key_bytes,
		.value = g->buf + g->key_bytes,
		.value_len = g->value_bytes,
	};

	for (uint64_t r = lo; r < hi; r++) {
		int rv;

		if ((r - lo) % CANCEL_EVERY == 0 && ctx->cancelled(ctx))
			return SL_ECLOSED;
		fill(g, r);
		if ((rv = bi_emit(ctx, &rec)) != 0)
			return rv;
	}
	return 0;
}

static void
gen_close(void *state)
{
	struct generate *g = state;

	if (g->host != NULL)
		g->host->free(g->buf);
}

const struct sl_operator_ops bi_generate_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "generate",
	.state_size = sizeof(struct generate),
	.caps = SL_OPERATOR_SOURCE,
	.open = gen_open,
	.run = gen_run,
	.close = gen_close,
};
