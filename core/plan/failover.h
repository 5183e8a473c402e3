/*
 * The failover restart set (DESIGN §4): which regions restart when tasks
 * fail.
 */
#ifndef SLI_FAILOVER_H
#define SLI_FAILOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "regions.h"

struct sli_failover_view {
	/* Whether the result partition that producer task `task` wrote for
	 * edge `edge` is produced and still held by its shuffle plugin. The
	 * partition type's re-readability is checked by the rule itself.
	 * NULL: every partition is held. */
	bool (*held)(void *arg, uint32_t task, uint32_t edge);
	void *arg;
	/* Per task, nonzero when deployed; NULL: every task is deployed.
	 * Tasks not deployed are never part of the restart set. */
	const uint8_t *deployed;
};

/*
 * Mark in restart[] (one byte per region, zeroed by the caller) every
 * region that must restart when the tasks failed[0..nfailed) fail:
 *  1. the failed tasks' regions;
 *  2. for a restarting region, the producer region of every partition it
 *     consumes from outside itself that is not available (not held, or not
 *     re-readable: pipelined, hybrid_selective);
 *  3. every region consuming a partition of a restarting region;
 * until nothing changes. Linear in tasks + edges. Returns 0 or SL_EINVAL.
 */
int sli_failover_regions(const struct sli_exec *x, const struct sli_regions *r,
    const uint32_t *failed, uint32_t nfailed,
    const struct sli_failover_view *view, uint8_t *restart);

/* The deployed tasks of the marked regions, ascending, into *tasks (malloc,
 * owned by the caller) and their count into *n. */
int sli_failover_tasks(const struct sli_exec *x, const struct sli_regions *r,
    const uint8_t *restart, const struct sli_failover_view *view,
    uint32_t **tasks, uint32_t *n);

#endif
