/*
 * Pipelined regions (DESIGN §3): the unit of scheduling and of restart.
 * Tasks joined by a pipelined edge share a region; regions that depend on
 * each other in a cycle through non-pipelined edges are merged.
 */
#ifndef SLI_REGIONS_H
#define SLI_REGIONS_H

#include <stdint.h>

#include "../graph/exec.h"

struct sli_regions {
	uint32_t n;        /* number of regions */
	uint32_t *of_task; /* per task: its region */
	uint32_t *tasks;   /* task ids grouped by region, ascending in each */
	uint32_t
	    *start; /* n + 1 offsets: region r is tasks[start[r]..start[r+1]) */
};

/*
 * Compute the regions of x. Regions are numbered in a topological order of
 * the region graph (a region comes after every region it consumes from),
 * ties broken by smallest task id, so the numbering is deterministic.
 * Time and memory are linear in tasks + vertices + edges: all-to-all edges
 * are never expanded into task pairs. On success the caller frees *r with
 * sli_regions_free.
 */
int sli_regions_build(const struct sli_exec *x, struct sli_regions *r);
void sli_regions_free(struct sli_regions *r);

#endif
