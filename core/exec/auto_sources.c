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

/* Auto vertices fed only pointwise, by vertices of one known parallelism,
 * take it; in topological order, so chains follow. What stays auto needs
 * the producers' bytes, decided at run time. */
static int
follow_pointwise(const sl_job *job, uint32_t *par)
{
	uint32_t *order;
	int rv;

	if ((rv = sli_job_topo_order(job, &order)) != 0)
		return rv;
	for (uint32_t k = 0; k < job->nv; k++) {
		uint32_t v = order[k], p = 0;
		const struct sli_vertex *vx = &job->v[v];

		if (vx->parallelism != SL_PARALLELISM_AUTO || par[v] != 0)
			continue;
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
		if (p == 0) {
			rv = sli_err(SL_ENOTSUP,
			    "vertex '%s': parallelism \"auto\" from the bytes "
			    "its producers write is not decided by this build "
			    "yet (only sources, and vertices fed pointwise by "
			    "vertices of one parallelism); give a number",
			    vx->id);
			break;
		}
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
