/*
 * Region readiness and slots: the state a scheduler strategy sees through
 * struct sl_sched_ctx (api/sluice/scheduler.h).
 *
 * A region is ready when it is CREATED and every partition it consumes from
 * outside itself is consumable (DESIGN §3): blocking inputs once their
 * producer finished, hybrid inputs once their producer started. Readiness is
 * kept incrementally, in time linear in tasks + edges over a whole job: an
 * all_to_all or broadcast edge counts its distinct producer regions instead
 * of joining every producer to every consumer.
 */
#ifndef SLI_SCHEDULE_H
#define SLI_SCHEDULE_H

#include <sluice/scheduler.h>

#include "regions.h"

struct sli_sched_dep; /* a consumer region waiting on a producer region */
struct sli_sched_group;

struct sli_sched {
	const struct sli_exec *x;    /* borrowed */
	const struct sli_regions *r; /* borrowed */
	uint8_t *state;              /* per region: enum sl_region_state */
	uint32_t *pending;           /* per region: inputs not yet consumable */
	uint32_t *holds;       /* per region: sli_sched_hold not released */
	uint64_t *input_bytes; /* per region; set by the runtime, 0 unknown */
	/* per region: the slots it needs, one per slot-sharing group (its
	 * tasks of one index share a slot, as the coordinator places them) */
	uint32_t *slots;

	/* pointwise inputs, by producer region (CSR) */
	uint32_t *dep_start;
	struct sli_sched_dep *dep;
	/* all_to_all and broadcast inputs */
	struct sli_sched_group *group;
	uint32_t ngroup;
	uint32_t *pg_start; /* per producer region: its groups (CSR) */
	uint32_t *pg;

	/* ready regions: a bitmap with summary levels (bit i of level l+1
	 * set when word i of level l is nonzero) */
	uint64_t *rlev[6];
	uint32_t rnw[6];
	uint32_t nrlev;
	uint32_t nready;

	uint32_t total_slots;
	uint64_t used_slots;
	uint32_t running; /* regions DEPLOYED */
};

/* On success the caller frees with sli_sched_fini. */
int sli_sched_init(struct sli_sched *s, const struct sli_exec *x,
    const struct sli_regions *r, uint32_t slots);
void sli_sched_fini(struct sli_sched *s);

/* CREATED and ready -> DEPLOYED. SL_ESTATE if not ready; SL_EBUSY if it
 * needs more free slots than there are while another region runs. */
int sli_sched_deploy(struct sli_sched *s, uint32_t region);
/* DEPLOYED -> FINISHED; frees its slots and makes consumers ready. */
int sli_sched_finish(struct sli_sched *s, uint32_t region);

/*
 * Adaptive parallelism (DESIGN §5): a region with tasks of a vertex whose
 * parallelism is decided while the job runs is held (never ready) until
 * the decision; then it is released, with the slots its remaining tasks
 * need, or skipped when the decision left none of its tasks (FINISHED
 * without running, so its consumers may become ready).
 */
void sli_sched_hold(struct sli_sched *s, uint32_t region);
void sli_sched_release(struct sli_sched *s, uint32_t region, uint32_t slots);
int sli_sched_skip(struct sli_sched *s, uint32_t region);

/*
 * Failover (DESIGN §4): the regions marked in restart[] (one byte each)
 * are CREATED again, the running ones' slots freed; readiness is then
 * counted afresh from every region's state, so a consumer of a restarted
 * region waits for it again. Linear in regions + dependencies.
 */
void sli_sched_restart(struct sli_sched *s, const uint8_t *restart);

/* A ctx whose ops read and act on s. */
void sli_sched_ctx_init(struct sl_sched_ctx *ctx, struct sli_sched *s);

#endif
