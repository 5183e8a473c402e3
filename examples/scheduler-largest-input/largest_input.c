/*
 * A scheduling strategy for researchers to start from, outside the core:
 * deploy the ready regions with the most input first (the bytes their
 * finished producers wrote for them), while slots last. The core tracks
 * readiness and slots; a strategy only picks (docs/writing-a-scheduler.md).
 *
 * Build: the CMakeLists.txt beside this file, with the installed
 * sluice-plugin.pc (the sluice build also builds it, into build/examples/).
 * Use: "scheduler": "largest-input" in a job file, and
 * `sluice run --plugin-dir DIR` with the directory of the .so.
 */
#include <sluice/scheduler.h>

#define MAX_READY 4096

struct largest {
	uint32_t ready[MAX_READY];
};

/* Deploy ready regions, largest input first, until one does not fit. */
static int
deploy_ready(void *state, const struct sl_sched_ctx *ctx)
{
	struct largest *st = state;

	for (;;) {
		uint32_t n = ctx->ready(ctx, st->ready, MAX_READY),
		         deployed = 0;

		if (n > MAX_READY)
			n = MAX_READY; /* the rest come next time */
		/* insertion sort by input bytes, largest first; ties keep
		 * region order */
		for (uint32_t i = 1; i < n; i++) {
			uint32_t r = st->ready[i], k = i;
			uint64_t b = ctx->region_input_bytes(ctx, r);

			while (k > 0 &&
			    ctx->region_input_bytes(ctx, st->ready[k - 1]) <
			        b) {
				st->ready[k] = st->ready[k - 1];
				k--;
			}
			st->ready[k] = r;
		}
		for (uint32_t i = 0; i < n; i++) {
			int rv = ctx->deploy(ctx, st->ready[i]);

			if (rv == SL_EBUSY)
				return 0; /* on_region_finished brings us back
				           */
			if (rv != 0)
				return rv;
			deployed++;
		}
		/* Deploying may make more regions ready (hybrid inputs). */
		if (deployed == 0)
			return 0;
	}
}

static int
on_start(void *state, const struct sl_sched_ctx *ctx)
{
	return deploy_ready(state, ctx);
}

static int
on_region_finished(void *state, const struct sl_sched_ctx *ctx, uint32_t r)
{
	(void)r;
	return deploy_ready(state, ctx);
}

static const struct sl_scheduler_ops ops = {
	.struct_size = sizeof(struct sl_scheduler_ops),
	.state_size = sizeof(struct largest),
	.on_start = on_start,
	.on_region_finished = on_region_finished,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SCHEDULER,
	.name = "largest-input",
	.version = "1.0.0",
	.ops = &ops,
};

SL_PLUGIN_DEFINE(plugin)
