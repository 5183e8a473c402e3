/*
 * Scheduler strategy ABI: which pipelined regions to deploy, and when.
 *
 * The core owns the execution graph, cuts it into pipelined regions
 * (numbered 0..n-1 in a topological order of the region graph), tracks
 * which regions are schedulable (every partition they consume from outside
 * is consumable) and counts slots. The strategy is told about events and
 * answers by calling ctx->deploy for the regions it wants to run now.
 *
 * All ops run on the coordinator's control thread, one at a time, and must
 * not block. The ctx is valid only during the call it is passed to.
 */
#ifndef SLUICE_SCHEDULER_H
#define SLUICE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sl_region_state {
	SL_REGION_CREATED = 0,  /* not deployed (or reset by a failover) */
	SL_REGION_DEPLOYED = 1, /* its tasks hold slots */
	SL_REGION_FINISHED = 2, /* every task finished */
};

/* The core's view of the job, handed to every op. */
struct sl_sched_ctx {
	uint32_t struct_size;
	void *core; /* the core's; do not touch */

	uint32_t (*region_count)(const struct sl_sched_ctx *ctx);
	/* Tasks in the region (region_slots says what it occupies). */
	uint32_t (*region_tasks)(const struct sl_sched_ctx *ctx, uint32_t r);
	int (*region_state)(const struct sl_sched_ctx *ctx, uint32_t r);
	/* Bytes the region reads from finished producers outside itself
	 * (0 while unknown). */
	uint64_t (*region_input_bytes)(
	    const struct sl_sched_ctx *ctx, uint32_t r);
	uint32_t (*free_slots)(const struct sl_sched_ctx *ctx);

	/* Fills out[] with up to cap regions that are CREATED and schedulable,
	 * in region order, and returns how many there are in all. */
	uint32_t (*ready)(
	    const struct sl_sched_ctx *ctx, uint32_t *out, uint32_t cap);

	/* Deploy region r: 0, SL_EBUSY when fewer free slots than it needs
	 * (unless nothing runs at all: a region larger than the cluster is
	 * then deployed alone), SL_ESTATE when it is not ready. */
	int (*deploy)(const struct sl_sched_ctx *ctx, uint32_t r);

	/* 1.2: the slots region r needs, which deploy compares with
	 * free_slots: one per slot-sharing group, its tasks of one index
	 * (a pipeline of n-way vertices needs n, however long). */
	uint32_t (*region_slots)(const struct sl_sched_ctx *ctx, uint32_t r);

	/* 1.2: deciding a parallelism while the job runs (DESIGN §5), from
	 * on_parallelism_needed only. The bytes per subpartition the
	 * producers of vertex v wrote (as many as its max_parallelism: the
	 * return value; up to cap copied into out). */
	uint32_t (*vertex_input_bytes)(const struct sl_sched_ctx *ctx,
	    uint32_t v, uint64_t *out, uint32_t cap);
	/* The rule of DESIGN §5 with v's min_parallelism, max_parallelism
	 * and bytes_per_task: what `sluice plan parallelism` computes. */
	int (*decide_parallelism)(const struct sl_sched_ctx *ctx, uint32_t v);
	/* A rule of the strategy's own: p tasks, task k reading the
	 * subpartitions from starts[k] to starts[k+1] - 1 (the last to the
	 * end); starts[0] is 0 and they increase. SL_EINVAL otherwise. */
	int (*set_parallelism)(const struct sl_sched_ctx *ctx, uint32_t v,
	    uint32_t p, const uint32_t *starts);
	/* The vertex's id, for messages and logs. */
	const char *(*vertex_name)(const struct sl_sched_ctx *ctx, uint32_t v);
};

struct sl_scheduler_ops {
	uint32_t struct_size;
	/* The core allocates this many bytes, zeroed, per job and frees them
	 * after fini. */
	size_t state_size;

	/* Optional (default: nothing). Once per job, before on_start. When
	 * it fails, the core calls fini and nothing else (the rule of
	 * plugin.h: a role's failed init is followed by its fini), and the
	 * job fails. */
	int (*init)(void *state, const struct sl_host *host,
	    const struct sl_sched_ctx *ctx);
	/* Optional (default: nothing). Once per job: after its last event,
	 * or after a failed init, so it must cope with a half-made state. */
	void (*fini)(void *state);

	/* The job starts. Required. */
	int (*on_start)(void *state, const struct sl_sched_ctx *ctx);

	/* Region r finished: its slots are free and the partitions it
	 * produced may have made other regions ready. Required. */
	int (*on_region_finished)(
	    void *state, const struct sl_sched_ctx *ctx, uint32_t r);

	/* Optional (when NULL the core calls on_start instead). These regions
	 * were reset to CREATED by a failover and must run again. */
	int (*on_regions_reset)(void *state, const struct sl_sched_ctx *ctx,
	    const uint32_t *regions, uint32_t n);

	/* 1.2. Optional: a strategy without it cannot run a job whose
	 * parallelism is decided while it runs. Vertex v's parallelism is
	 * "auto" and every producer it reads finished: decide it before
	 * returning, with ctx->decide_parallelism or ctx->set_parallelism.
	 * Its regions become ready afterwards (on_region_finished follows). */
	int (*on_parallelism_needed)(
	    void *state, const struct sl_sched_ctx *ctx, uint32_t v);
};

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_SCHEDULER_H */
