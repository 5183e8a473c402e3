/*
 * Sources with "parallelism": "auto" (DESIGN §5): each asks its operator
 * how many bytes it will read (the operator ABI's input_bytes) and gets
 * one task per bytes_per_task, within the vertex's bounds. An auto vertex
 * whose inputs are all pointwise from vertices of one parallelism takes
 * that parallelism (Flink's rule for forward edges), so a source's chain
 * follows it. Decided before anything runs, by whoever expands the job
 * (the coordinator, sluice run, the local runner), with the same answer
 * while the input stays the same.
 */
#include <stdlib.h>

#include "common/error.h"
#include "exec/task.h"
#include "plan/adaptive.h"
#include "plugin/loader.h"

/* The parallelism of vertex u: decided, or the job's; 0 when still auto. */
static uint32_t
par_of(const sl_job *job, const uint32_t *par, uint32_t u)
{
	if (par[u] != 0)
		return par[u];
	return job->v[u].parallelism == SL_PARALLELISM_AUTO
	    ? 0
	    : (uint32_t)job->v[u].parallelism;
}

/* Whether every input of vx is a blocking all_to_all edge: what the
 * producers' bytes can decide once they finished. */
static bool
decided_from_bytes(const sl_job *job, const struct sli_vertex *vx)
{
	for (uint32_t i = 0; i < vx->nin; i++) {
		const struct sli_edge *e = &job->e[vx->in[i]];

		if (e->distribution != SL_DIST_ALL_TO_ALL ||
		    e->type != SL_PARTITION_BLOCKING)
			return false;
	}
	return vx->nin > 0;
}

/*
 * The other auto vertices, in topological order so that chains follow:
 * fed only pointwise by vertices of one known parallelism, they take it;
 * fed only by blocking all_to_all edges, they are decided from the bytes
 * when their producers finished (SLI_PAR_AT_RUN); fed only pointwise by
 * one such vertex of the same max_parallelism, they follow it then.
 */
static int
follow_pointwise(const sl_job *job, uint32_t *par)
{
	uint32_t *order;
	int rv;

	if ((rv = sli_job_topo_order(job, &order)) != 0)
		return rv;
	for (uint32_t k = 0; k < job->nv && rv == 0; k++) {
		uint32_t v = order[k], p = 0;
		const struct sli_vertex *vx = &job->v[v];
		struct sl_adaptive_spec a, b;

		if (vx->parallelism != SL_PARALLELISM_AUTO || par[v] != 0)
			continue;
		if (decided_from_bytes(job, vx)) {
			par[v] = SLI_PAR_AT_RUN;
			continue;
		}
		for (uint32_t i = 0; i < vx->nin; i++) {
			const struct sli_edge *e = &job->e[vx->in[i]];
			uint32_t q = par_of(job, par, e->from);

			if (e->distribution != SL_DIST_POINTWISE || q == 0 ||
			    (p != 0 && q != p)) {
				p = 0;
				break;
			}
			p = q;
		}
		if (p == SLI_PAR_AT_RUN) {
			/* one leader: the same tasks, one for one */
			sli_job_adaptive(job, v, &a);
			sli_job_adaptive(job, job->e[vx->in[0]].from, &b);
			if (a.max_parallelism != b.max_parallelism)
				rv = sli_err(SL_EINVAL,
				    "vertex '%s': follows '%s' pointwise, so "
				    "its max_parallelism must be the same (%u, "
				    "not %u)",
				    vx->id, job->v[job->e[vx->in[0]].from].id,
				    b.max_parallelism, a.max_parallelism);
		}
		if (p == 0)
			rv = sli_err(SL_ENOTSUP,
			    "vertex '%s': parallelism \"auto\" is decided for "
			    "sources, for vertices whose inputs are all "
			    "blocking all_to_all edges, and for vertices fed "
			    "pointwise by vertices of one parallelism; this "
			    "one "
			    "is none of them: give a number",
			    vx->id);
		par[v] = p;
	}
	free(order);
	return rv;
}

int
sli_auto_sources(const sl_job *job, const struct sli_plugin_set *set,
    uint32_t *par, uint64_t *bytes)
{
	for (uint32_t v = 0; v < job->nv; v++) {
		const struct sli_vertex *vx = &job->v[v];
		const struct sl_operator_ops *op;
		struct sli_plugin *lib;
		struct sl_adaptive_spec a;
		struct sli_adaptive_params p;
		uint64_t b = 0;
		int rv;

		if (vx->parallelism != SL_PARALLELISM_AUTO || vx->nin != 0)
			continue;
		if ((op = sli_operator_find(set, vx->op, &lib)) == NULL)
			return sli_err(SL_ENOTFOUND,
			    "vertex '%s': operator '%s' is not in any loaded "
			    "operator library",
			    vx->id, vx->op);
		if (op->input_bytes == NULL)
			return sli_err(SL_ENOTSUP,
			    "vertex '%s': parallelism \"auto\" needs the size "
			    "of the input, and operator '%s' cannot say it "
			    "(no input_bytes); give a number",
			    vx->id, vx->op);
		sli_err_clear();
		if ((rv = op->input_bytes(&lib->host, vx->config_json, &b)) !=
		    0)
			return sli_err(rv, "vertex '%s': input size: %s",
			    vx->id,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		sli_job_adaptive(job, v, &a);
		p = (struct sli_adaptive_params) {
			.bytes_per_task = a.bytes_per_task,
			.min_parallelism = a.min_parallelism,
			.max_parallelism = a.max_parallelism,
		};
		par[v] = sli_adaptive_source(b, &p);
		if (bytes != NULL)
			bytes[v] = b;
	}
	return follow_pointwise(job, par);
}
