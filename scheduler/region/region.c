/*
 * The default scheduling strategy: deploy every ready pipelined region, in
 * region order (a topological order of the region graph), as long as the
 * slots last. Regions are ready once their blocking inputs finished and
 * their hybrid inputs started, so a job larger than the cluster runs stage
 * by stage. This is Flink's pipelined-region strategy minus its
 * optimisations for speculative deployment.
 *
 * Built a second time with SL_ADAPTIVE_BATCH as the "adaptive-batch"
 * strategy (Flink's adaptive batch scheduler): the same deployment, and
 * parallelisms decided while the job runs by the rule of DESIGN §5, which
 * the core offers as ctx->decide_parallelism. A strategy with a rule of
 * its own calls ctx->set_parallelism instead (docs/writing-a-scheduler.md).
 */
#include <sluice/scheduler.h>

struct region_state {
	uint32_t buf[256];
};

/* Deploy ready regions in order until one does not fit. Stopping at the
 * first that does not fit (rather than skipping to smaller ones) keeps the
 * order topological, so a large region is not starved by small ones. */
static int
deploy_ready(void *state, const struct sl_sched_ctx *ctx)
{
	struct region_state *st = state;
	uint32_t n;

	do {
		n = ctx->ready(ctx, st->buf, 256);
		for (uint32_t k = 0; k < n && k < 256; k++) {
			int rv = ctx->deploy(ctx, st->buf[k]);
			if (rv == SL_EBUSY)
				return 0;
			if (rv != 0)
				return rv;
		}
		/* Deploying may make more regions ready (hybrid consumers). */
	} while (n > 0);
	return 0;
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

#ifdef SL_ADAPTIVE_BATCH
static int
on_parallelism_needed(void *state, const struct sl_sched_ctx *ctx, uint32_t v)
{
	(void)state;
	return ctx->decide_parallelism(ctx, v);
}
#define STRATEGY "adaptive-batch"
#else
#define STRATEGY "region"
#endif

static const struct sl_scheduler_ops ops = {
	.struct_size = sizeof(struct sl_scheduler_ops),
	.state_size = sizeof(struct region_state),
	.on_start = on_start,
	.on_region_finished = on_region_finished,
#ifdef SL_ADAPTIVE_BATCH
	.on_parallelism_needed = on_parallelism_needed,
#endif
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SCHEDULER,
	.name = STRATEGY,
	.version = "0.1.0",
	.ops = &ops,
};

SL_PLUGIN_DEFINE(plugin)
