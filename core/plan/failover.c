/*
 * The failover restart set (DESIGN §4). A worklist of regions: each region
 * is marked once and, when taken from the list, applies rules 2 and 3 to
 * its deployed tasks; a task never deployed read nothing and wrote nothing,
 * so it applies neither. Pointwise edges cost their task pairs, which are
 * linear in the two parallelisms. An all-to-all or broadcast edge is
 * settled for good the first time either rule reaches it from a deployed
 * task (every consumer marked, every producer checked), so a 10 000 x
 * 10 000 edge costs 20 000 steps, not 10^8.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "failover.h"

struct walk {
	const struct sli_exec *x;
	const struct sli_regions *r;
	const struct sli_failover_view *view;
	uint8_t *restart;
	uint32_t *queue; /* marked regions, each once */
	uint32_t head, tail;
	/* Per edge: an all-to-all or broadcast edge settled by rule 2 (all
	 * producers checked) or rule 3 (all consumers marked). Set only by a
	 * deployed task: one skipped settles nothing. */
	uint8_t *producers_checked;
	uint8_t *consumers_marked;
};

static void
mark(struct walk *w, uint32_t region)
{
	if (w->restart[region])
		return;
	w->restart[region] = 1;
	w->queue[w->tail++] = region;
}

/* Produced, still held, and re-readable by a new consumer attempt. The
 * type is checked first: held() may be a costly question. */
static bool
available(const struct walk *w, uint32_t task, uint32_t edge)
{
	int type = w->x->job->e[edge].type;

	if (type != SL_PARTITION_BLOCKING && type != SL_PARTITION_HYBRID_FULL)
		return false;
	return w->view == NULL || w->view->held == NULL ||
	    w->view->held(w->view->arg, task, edge);
}

/* Rule 2 for restarting deployed task t's input edge e. A producer in t's
 * own region is restarting already, so marking it again changes nothing:
 * the outcome depends on the producer alone, not on which deployed consumer
 * asks, which is what makes a group edge safe to check only once. */
static void
check_inputs(struct walk *w, uint32_t t, uint32_t e)
{
	const struct sli_exec *x = w->x;
	const struct sli_edge *ed = &x->job->e[e];
	uint32_t lo, hi;

	if (ed->distribution != SL_DIST_POINTWISE) {
		if (w->producers_checked[e])
			return;
		w->producers_checked[e] = 1;
	}
	sli_edge_producers(x, e, sli_task_index(x, t), &lo, &hi);
	for (uint32_t j = lo; j < hi; j++) {
		uint32_t p = x->base[ed->from] + j;
		uint32_t rp = w->r->of_task[p];

		if (!w->restart[rp] && !available(w, p, e))
			mark(w, rp);
	}
}

/* Rule 3 for restarting deployed task t's output edge e. Every consumer of
 * a group edge reads every producer, so one producer settles it. */
static void
mark_consumers(struct walk *w, uint32_t t, uint32_t e)
{
	const struct sli_exec *x = w->x;
	const struct sli_edge *ed = &x->job->e[e];
	uint32_t lo, hi;

	if (ed->distribution != SL_DIST_POINTWISE) {
		if (w->consumers_marked[e])
			return;
		w->consumers_marked[e] = 1;
	}
	sli_edge_consumers(x, e, sli_task_index(x, t), &lo, &hi);
	for (uint32_t i = lo; i < hi; i++)
		mark(w, w->r->of_task[x->base[ed->to] + i]);
}

int
sli_failover_regions(const struct sli_exec *x, const struct sli_regions *r,
    const uint32_t *failed, uint32_t nfailed,
    const struct sli_failover_view *view, uint8_t *restart)
{
	const sl_job *job;
	const uint8_t *deployed;
	struct walk w;
	int rv = 0;

	if (x == NULL || r == NULL || restart == NULL ||
	    (failed == NULL && nfailed > 0))
		return sli_err(
		    SL_EINVAL, "sli_failover_regions: missing argument");
	job = x->job;
	deployed = view != NULL ? view->deployed : NULL;
	for (uint32_t k = 0; k < nfailed; k++)
		if (failed[k] >= x->ntasks)
			return sli_err(SL_EINVAL,
			    "failed task %u: the job has %u tasks", failed[k],
			    x->ntasks);
	memset(&w, 0, sizeof(w));
	w.x = x;
	w.r = r;
	w.view = view;
	w.restart = restart;
	w.queue = malloc(((size_t)r->n + 1) * sizeof(*w.queue));
	w.producers_checked = calloc((size_t)job->ne + 1, 1);
	w.consumers_marked = calloc((size_t)job->ne + 1, 1);
	if (w.queue == NULL || w.producers_checked == NULL ||
	    w.consumers_marked == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_free_walk;
	}
	/* Regions the caller marked already count as restarting, but they
	 * were never walked: walk them too. */
	for (uint32_t g = 0; g < r->n; g++)
		if (restart[g])
			w.queue[w.tail++] = g;
	for (uint32_t k = 0; k < nfailed; k++)
		mark(&w, r->of_task[failed[k]]);
	while (w.head < w.tail) {
		uint32_t g = w.queue[w.head++];

		for (uint32_t k = r->start[g]; k < r->start[g + 1]; k++) {
			uint32_t t = r->tasks[k];
			const struct sli_vertex *v = &job->v[x->task_vertex[t]];

			/* Never ran: no input of it needs re-reading, and
			 * no consumer read anything of it. Its region stays
			 * marked, but the task leads to no other region. */
			if (deployed != NULL && !deployed[t])
				continue;
			for (uint32_t i = 0; i < v->nin; i++)
				check_inputs(&w, t, v->in[i]);
			for (uint32_t i = 0; i < v->nout; i++)
				mark_consumers(&w, t, v->out[i]);
		}
	}

out_free_walk:
	free(w.queue);
	free(w.producers_checked);
	free(w.consumers_marked);
	return rv;
}

int
sli_failover_tasks(const struct sli_exec *x, const struct sli_regions *r,
    const uint8_t *restart, const struct sli_failover_view *view,
    uint32_t **tasks, uint32_t *n)
{
	const uint8_t *deployed = view != NULL ? view->deployed : NULL;
	uint32_t count = 0, *out;

	if (x == NULL || r == NULL || restart == NULL || tasks == NULL ||
	    n == NULL)
		return sli_err(
		    SL_EINVAL, "sli_failover_tasks: missing argument");
	/* Walking tasks rather than regions gives ascending order for free. */
	for (uint32_t t = 0; t < x->ntasks; t++)
		if (restart[r->of_task[t]] && (deployed == NULL || deployed[t]))
			count++;
	if ((out = malloc(((size_t)count + 1) * sizeof(*out))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	count = 0;
	for (uint32_t t = 0; t < x->ntasks; t++)
		if (restart[r->of_task[t]] && (deployed == NULL || deployed[t]))
			out[count++] = t;
	*tasks = out;
	*n = count;
	return 0;
}
