/*
 * The execution graph: every vertex expanded into tasks VERTEX#INDEX.
 * Tasks are numbered 0..ntasks-1, vertex by vertex in topological order,
 * so a producer's tasks always come before its consumers'. Edges stay at
 * group level: the tasks an edge joins are computed from the two
 * parallelisms on demand, never stored (a 10 000 x 10 000 all-to-all edge
 * costs nothing).
 */
#ifndef SLI_EXEC_H
#define SLI_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

struct sli_exec {
	const sl_job *job;     /* borrowed; must outlive this */
	uint32_t *topo;        /* vertex indices in topological order */
	uint32_t *par;         /* per vertex: its parallelism */
	uint32_t *base;        /* per vertex: id of its task #0 */
	uint32_t *task_vertex; /* per task: its vertex */
	uint32_t ntasks;
};

/*
 * Expand job. par_override (NULL, or one entry per vertex; 0 keeps the
 * job's value) fixes parallelisms, e.g. of "auto" vertices. A vertex left
 * "auto" fails with SL_EINVAL and a detail naming it; more than
 * SL_MAX_TASKS tasks in all with SL_ERANGE; a cycle with SL_ECYCLE naming
 * it (jobs built through the C API may not have been validated). On
 * success the caller owns *x and frees it with sli_exec_free; on failure
 * there is nothing to free.
 */
int sli_exec_build(
    const sl_job *job, const uint32_t *par_override, struct sli_exec *x);
/* A par_override for an "auto" vertex decided while the job runs
 * (DESIGN §5): expanded at its max_parallelism, the tasks above the
 * decision left vacant. */
#define SLI_PAR_AT_RUN UINT32_MAX
void sli_exec_free(struct sli_exec *x);

static inline uint32_t
sli_task_index(const struct sli_exec *x, uint32_t task)
{
	return task - x->base[x->task_vertex[task]];
}

/* "count#3" into buf; returns snprintf's result. */
int sli_task_name(
    const struct sli_exec *x, uint32_t task, char *buf, size_t len);
/* Parse "count#3" into a task id: SL_ENOTFOUND (with detail) when the
 * vertex or index does not exist, SL_EPARSE when malformed. */
int sli_task_parse(const struct sli_exec *x, const char *name, uint32_t *task);

/* Pointwise mapping (DESIGN §2), m producers and n consumers. */
/* Consumer i reads producers [*lo, *hi). */
void sli_pointwise_producers(
    uint32_t m, uint32_t n, uint32_t i, uint32_t *lo, uint32_t *hi);
/* Producer j feeds consumers [*lo, *hi). */
void sli_pointwise_consumers(
    uint32_t m, uint32_t n, uint32_t j, uint32_t *lo, uint32_t *hi);

/* Task indices (within the producing vertex) that consumer index i of edge
 * e reads: [*lo, *hi). All of them for all_to_all and broadcast. */
void sli_edge_producers(const struct sli_exec *x, uint32_t e, uint32_t i,
    uint32_t *lo, uint32_t *hi);
/* Task indices (within the consuming vertex) that producer index j of edge
 * e feeds: [*lo, *hi). */
void sli_edge_consumers(const struct sli_exec *x, uint32_t e, uint32_t j,
    uint32_t *lo, uint32_t *hi);

/*
 * Whether edge e may be chained: its consumer's operator called directly by
 * its producer's task, in its thread, instead of through a shuffle
 * (Flink's operator chaining). Pointwise, pipelined, equal parallelism on
 * both sides (so producer i feeds consumer i alone), the producer's only
 * output and the consumer's only input, and no shuffle plugin named on the
 * edge itself (naming one asks for it).
 */
bool sli_exec_chained(const struct sli_exec *x, uint32_t e);

#endif
