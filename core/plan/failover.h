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
	 * edge `edge` is produced and still held by its shuffle plugin, or
	 * will be by a producer attempt still running (answering false for
	 * that would restart the producer for nothing). The partition type's
	 * re-readability is checked by the rule itself. NULL: every
	 * partition is held. */
	bool (*held)(void *arg, uint32_t task, uint32_t edge);
	void *arg;
	/* Per task, nonzero when deployed (it is running or has run); NULL:
	 * every task is deployed. A task not deployed applies neither rule 2
	 * nor rule 3 and is never part of the restart set. */
	const uint8_t *deployed;
};

/*
 * Mark in restart[] (one byte per region) every region that must restart
 * when the tasks failed[0..nfailed) fail:
 *  1. the failed tasks' regions;
 *  2. for each deployed task of a restarting region, the producer region of
 *     every partition it consumes from outside its region that is not
 *     available (not held, or not re-readable: pipelined, hybrid_selective);
 *  3. for each deployed task of a restarting region, every region consuming
 *     a partition it writes;
 * until nothing changes. A task not deployed (view->deployed) never ran: it
 * read no partition, so none need be re-readable for it, and wrote none, so
 * no consumer read anything of it. Its region is still marked when rule 1
 * or 3 reaches it, but through that task neither rule reaches further: a
 * region with no deployed task restarts nothing else. The view is taken as
 * it is: a failed task it calls not deployed marks its region only.
 *
 * Regions already marked when called count as restarting too, so a second
 * failure can be added to a restart set in progress; start from zeros
 * otherwise. Linear in tasks + edges, all-to-all and broadcast edges
 * included. Returns 0, SL_EINVAL or SL_ENOMEM (restart[] then unchanged).
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
