/*
 * Parallelism decided while a job runs (DESIGN §5): a vertex whose inputs
 * are all blocking all_to_all edges was expanded at its max_parallelism and
 * its regions held; when its last producer finished, the job's strategy
 * (on_parallelism_needed) decides from the bytes per subpartition, the
 * tasks above the decision become vacant, its pointwise followers follow,
 * and the regions are released.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "coord_impl.h"

/* Whether v waits for its producers' bytes (not a follower). */
bool
sli_coord_adaptive_leader(const struct cjob *j, uint32_t v)
{
	const struct sli_vertex *vx = &j->job->v[v];

	return j->decided[v] == SLI_PAR_AT_RUN && vx->nin > 0 &&
	    j->job->e[vx->in[0]].distribution == SL_DIST_ALL_TO_ALL;
}

/* Per edge into a leader, its bytes per subpartition; per region, the
 * vertices decided at run time with tasks in it. */
int
sli_coord_adaptive_init(struct cjob *j)
{
	const sl_job *job = j->job;
	uint32_t *seen;

	j->dec = calloc(job->nv + 1, sizeof(*j->dec));
	j->sub_bytes = calloc(job->ne + 1, sizeof(*j->sub_bytes));
	j->held = calloc(j->r.n + 1, sizeof(*j->held));
	seen = calloc(j->r.n + 1, sizeof(*seen));
	if (j->dec == NULL || j->sub_bytes == NULL || j->held == NULL ||
	    seen == NULL) {
		free(seen);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	for (uint32_t e = 0; e < job->ne; e++)
		if (sli_coord_adaptive_leader(j, job->e[e].to) &&
		    (j->sub_bytes[e] = calloc(
		         j->x.par[job->e[e].to], sizeof(uint64_t))) == NULL) {
			free(seen);
			return sli_err(SL_ENOMEM, "out of memory");
		}
	for (uint32_t v = 0; v < job->nv; v++) {
		if (j->decided[v] != SLI_PAR_AT_RUN)
			continue;
		for (uint32_t k = 0; k < j->x.par[v]; k++) {
			uint32_t r = j->r.of_task[j->x.base[v] + k];

			if (seen[r] != v + 1) {
				seen[r] = v + 1;
				j->held[r]++;
			}
		}
	}
	free(seen);
	return 0;
}

/* Every producer of every input of v finished (or was left vacant). */
static bool
adaptive_inputs_done(const struct cjob *j, uint32_t v)
{
	const struct sli_vertex *vx = &j->job->v[v];

	for (uint32_t i = 0; i < vx->nin; i++) {
		uint32_t from = j->job->e[vx->in[i]].from;

		for (uint32_t k = 0; k < j->x.par[from]; k++) {
			uint8_t st = j->tasks[j->x.base[from] + k].state;

			if (st != T_FINISHED && st != T_VACANT)
				return false;
		}
	}
	return true;
}

/* Apply parallelism p to v: its tasks from p up are vacant; its regions
 * are released once no decision holds them, or skipped when nothing of
 * them is left to run. Then v's followers take p. */
static int
adaptive_apply(struct cjob *j, uint32_t v, uint32_t p)
{
	const sl_job *job = j->job;
	uint32_t max = j->x.par[v], *seen;
	int rv = 0;

	if ((seen = calloc(j->r.n + 1, sizeof(*seen))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < max; k++) {
		uint32_t t = j->x.base[v] + k, r = j->r.of_task[t];

		seen[r] = 1;
		if (k >= p) {
			j->tasks[t].state = T_VACANT;
			j->done++;
			j->left[r]--;
		}
	}
	for (uint32_t r = 0; r < j->r.n && rv == 0; r++) {
		uint32_t slots = 0;

		if (!seen[r] || --j->held[r] > 0)
			continue;
		if (j->left[r] == 0) {
			rv = sli_sched_skip(&j->s, r);
			continue;
		}
		/* one slot per task index among those left */
		for (uint32_t a = j->r.start[r]; a < j->r.start[r + 1]; a++) {
			uint32_t ta = j->r.tasks[a], b;

			if (j->tasks[ta].state == T_VACANT)
				continue;
			for (b = j->r.start[r]; b < a; b++)
				if (j->tasks[j->r.tasks[b]].state != T_VACANT &&
				    sli_task_index(&j->x, j->r.tasks[b]) ==
				        sli_task_index(&j->x, ta))
					break;
			slots += b == a;
		}
		sli_sched_release(&j->s, r, slots);
	}
	free(seen);
	for (uint32_t f = 0; f < job->nv && rv == 0; f++) {
		const struct sli_vertex *fx = &job->v[f];

		if (j->decided[f] == SLI_PAR_AT_RUN &&
		    !sli_coord_adaptive_leader(j, f) &&
		    j->dec[f].parallelism == 0 && fx->nin > 0 &&
		    job->e[fx->in[0]].from == v) {
			j->dec[f].parallelism = p;
			sli_info(
			    "coordinator: job %s: vertex '%s': parallelism "
			    "%u, as '%s'",
			    j->id, fx->id, p, job->v[v].id);
			rv = adaptive_apply(j, f, p);
		}
	}
	return rv;
}

/* The bytes per subpartition v's producers wrote, summed over its
 * inputs: n = its max_parallelism entries, malloc'd. */
static uint64_t *
adaptive_bytes(const struct cjob *j, uint32_t v, uint64_t *total)
{
	const struct sli_vertex *vx = &j->job->v[v];
	uint32_t n = j->x.par[v];
	uint64_t *bytes = calloc(n + 1, sizeof(*bytes));

	*total = 0;
	for (uint32_t i = 0; bytes != NULL && i < vx->nin; i++)
		for (uint32_t s = 0; s < n; s++)
			bytes[s] += j->sub_bytes[vx->in[i]][s];
	for (uint32_t s = 0; bytes != NULL && s < n; s++)
		*total += bytes[s];
	return bytes;
}

/* v may be decided now: a leader, undecided, its producers finished. */
static bool
adaptive_due(const struct cjob *j, uint32_t v)
{
	return v < j->job->nv && sli_coord_adaptive_leader(j, v) &&
	    j->dec[v].parallelism == 0 && adaptive_inputs_done(j, v);
}

/* Take decision d for v (owned on success), say it, apply it. */
static int
adaptive_take(struct cjob *j, uint32_t v, struct sli_adaptive_decision *d)
{
	struct sl_adaptive_spec a;
	uint64_t total = 0;

	free(adaptive_bytes(j, v, &total));
	sli_job_adaptive(j->job, v, &a);
	j->dec[v] = *d;
	sli_info("coordinator: job %s: vertex '%s': parallelism %u for %llu "
	         "bytes in %u subpartitions (bytes_per_task %llu)",
	    j->id, j->job->v[v].id, d->parallelism, (unsigned long long)total,
	    j->x.par[v], (unsigned long long)a.bytes_per_task);
	return adaptive_apply(j, v, d->parallelism);
}

static uint32_t
sched_vertex_input_bytes(
    const struct sl_sched_ctx *ctx, uint32_t v, uint64_t *out, uint32_t cap)
{
	struct cjob *j = ctx->core;
	uint64_t total, *bytes;
	uint32_t n;

	if (!adaptive_due(j, v) ||
	    (bytes = adaptive_bytes(j, v, &total)) == NULL)
		return 0;
	n = j->x.par[v];
	for (uint32_t s = 0; out != NULL && s < n && s < cap; s++)
		out[s] = bytes[s];
	free(bytes);
	return n;
}

static int
sched_decide_parallelism(const struct sl_sched_ctx *ctx, uint32_t v)
{
	struct cjob *j = ctx->core;
	struct sl_adaptive_spec a;
	struct sli_adaptive_params p;
	struct sli_adaptive_decision d;
	uint64_t total, *bytes;
	int rv;

	if (!adaptive_due(j, v))
		return sli_err(SL_ESTATE,
		    "vertex %u is not waiting for its "
		    "parallelism",
		    v);
	if ((bytes = adaptive_bytes(j, v, &total)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	sli_job_adaptive(j->job, v, &a);
	p = (struct sli_adaptive_params) {
		.bytes_per_task = a.bytes_per_task,
		.min_parallelism = a.min_parallelism,
		.max_parallelism = a.max_parallelism,
	};
	rv = sli_adaptive_decide(bytes, j->x.par[v], &p, &d);
	free(bytes);
	if (rv != 0)
		return rv;
	if ((rv = adaptive_take(j, v, &d)) != 0)
		return rv;
	return 0;
}

static int
sched_set_parallelism(const struct sl_sched_ctx *ctx, uint32_t v, uint32_t p,
    const uint32_t *starts)
{
	struct cjob *j = ctx->core;
	struct sli_adaptive_decision d;
	uint32_t n;

	if (!adaptive_due(j, v))
		return sli_err(SL_ESTATE,
		    "vertex %u is not waiting for its "
		    "parallelism",
		    v);
	n = j->x.par[v];
	if (p < 1 || p > n || starts == NULL || starts[0] != 0)
		return sli_err(SL_EINVAL,
		    "vertex '%s': parallelism %u: needs "
		    "1..%u ranges from subpartition 0",
		    j->job->v[v].id, p, n);
	for (uint32_t k = 1; k < p; k++)
		if (starts[k] <= starts[k - 1] || starts[k] >= n)
			return sli_err(SL_EINVAL,
			    "vertex '%s': range %u starts "
			    "at %u, not after %u and below %u",
			    j->job->v[v].id, k, starts[k], starts[k - 1], n);
	d.parallelism = p;
	if ((d.start = malloc(p * sizeof(*d.start))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	memcpy(d.start, starts, p * sizeof(*d.start));
	return adaptive_take(j, v, &d);
}

/* Ask the strategy to decide every leader whose producers all finished. */
int
sli_coord_adaptive_decide_ready(struct cjob *j)
{
	for (uint32_t v = 0; v < j->job->nv; v++) {
		int rv;

		if (!adaptive_due(j, v))
			continue;
		sli_err_clear();
		rv = j->sp->ops.scheduler.on_parallelism_needed(
		    j->sstate, &j->ctx, v);
		if (rv != 0)
			return sli_err(rv,
			    "scheduler '%s': deciding the parallelism of '%s': "
			    "%s",
			    j->sp->name, j->job->v[v].id,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		if (j->dec[v].parallelism == 0)
			return sli_err(SL_ESTATE,
			    "scheduler '%s' did not decide the parallelism of "
			    "'%s'",
			    j->sp->name, j->job->v[v].id);
	}
	return 0;
}

void
sli_coord_adaptive_ctx(struct sl_sched_ctx *ctx)
{
	ctx->vertex_input_bytes = sched_vertex_input_bytes;
	ctx->decide_parallelism = sched_decide_parallelism;
	ctx->set_parallelism = sched_set_parallelism;
}
