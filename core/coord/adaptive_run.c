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

/* Per edge into a leader, its bytes per producer and subpartition; per
 * region, the vertices decided at run time with tasks in it. */
int
sli_coord_adaptive_init(struct cjob *j)
{
	const sl_job *job = j->job;
	uint32_t *seen;

	j->dec = calloc(job->nv + 1, sizeof(*j->dec));
	j->sub_bytes = calloc(job->ne + 1, sizeof(*j->sub_bytes));
	j->held = calloc(j->r.n + 1, sizeof(*j->held));
	j->skew = calloc(job->nv + 1, sizeof(*j->skew));
	j->scanned = calloc(job->ne + 1, sizeof(*j->scanned));
	seen = calloc(j->r.n + 1, sizeof(*seen));
	if (j->dec == NULL || j->sub_bytes == NULL || j->held == NULL ||
	    j->skew == NULL || j->scanned == NULL || seen == NULL) {
		free(seen);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	for (uint32_t e = 0; e < job->ne; e++)
		if (sli_coord_adaptive_leader(j, job->e[e].to) &&
		    (j->sub_bytes[e] = calloc((size_t)j->x.par[job->e[e].from] *
		             j->x.par[job->e[e].to],
		         sizeof(uint64_t))) == NULL) {
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

/*
 * Every producer of every input of v finished (or was left vacant). Asked
 * after every region that finishes, so each edge keeps how far its
 * producers are known to be done: the scans add up to one pass over them.
 * (Failover, which can undo a finish, will have to move it back.)
 */
static bool
adaptive_inputs_done(struct cjob *j, uint32_t v)
{
	const struct sli_vertex *vx = &j->job->v[v];

	for (uint32_t i = 0; i < vx->nin; i++) {
		uint32_t e = vx->in[i], from = j->job->e[e].from;

		for (; j->scanned[e] < j->x.par[from]; j->scanned[e]++) {
			uint8_t st =
			    j->tasks[j->x.base[from] + j->scanned[e]].state;

			if (st != T_FINISHED && st != T_VACANT)
				return false;
		}
	}
	return true;
}

uint32_t
sli_coord_region_slots(const struct cjob *j, uint32_t r)
{
	uint32_t slots = 0;

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
	return slots;
}

/* Apply parallelism p to v: its tasks from keep (p, or above it the
 * helpers of split ranges) up are vacant; its regions are released once no
 * decision holds them, or skipped when nothing of them is left to run.
 * Then v's followers take p. */
static int
adaptive_apply(struct cjob *j, uint32_t v, uint32_t p, uint32_t keep)
{
	const sl_job *job = j->job;
	uint32_t max = j->x.par[v], *seen;
	int rv = 0;

	if ((seen = calloc(j->r.n + 1, sizeof(*seen))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < max; k++) {
		uint32_t t = j->x.base[v] + k, r = j->r.of_task[t];

		seen[r] = 1;
		if (k >= keep) {
			j->tasks[t].state = T_VACANT;
			j->done++;
			j->left[r]--;
		}
	}
	for (uint32_t r = 0; r < j->r.n && rv == 0; r++) {
		if (!seen[r] || --j->held[r] > 0)
			continue;
		if (j->left[r] == 0) {
			rv = sli_sched_skip(&j->s, r);
			continue;
		}
		sli_sched_release(&j->s, r, sli_coord_region_slots(j, r));
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
			rv = adaptive_apply(j, f, p, p);
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
	for (uint32_t i = 0; bytes != NULL && i < vx->nin; i++) {
		const uint64_t *row = j->sub_bytes[vx->in[i]];
		uint32_t m = j->x.par[j->job->e[vx->in[i]].from];

		for (uint32_t q = 0; q < m; q++, row += n)
			for (uint32_t s = 0; s < n; s++)
				bytes[s] += row[s];
	}
	for (uint32_t s = 0; bytes != NULL && s < n; s++)
		*total += bytes[s];
	return bytes;
}

/* v may be decided now: a leader, undecided, its producers finished. */
static bool
adaptive_due(struct cjob *j, uint32_t v)
{
	return v < j->job->nv && sli_coord_adaptive_leader(j, v) &&
	    j->dec[v].parallelism == 0 && adaptive_inputs_done(j, v);
}

/* ---- skew: a hot range split among helpers, merged by its task ---- */

/*
 * Whether v's ranges may be split: one input and one output edge, each of
 * its tasks in a region of its own (a merger waits for its helpers, so
 * they must not share its region), and an operator that can merge its
 * partial results: then its merge configuration goes into buf.
 */
static bool
skew_allowed(const struct cjob *j, uint32_t v, char *buf, size_t cap)
{
	const struct sli_vertex *vx = &j->job->v[v];
	const struct sl_operator_ops *op;
	struct sli_plugin *lib;

	if (vx->nin != 1 || vx->nout != 1 || j->x.par[v] < 2)
		return false;
	for (uint32_t k = 1; k < j->x.par[v]; k++)
		if (j->r.of_task[j->x.base[v] + k] ==
		    j->r.of_task[j->x.base[v]])
			return false;
	op = sli_operator_find(j->set, vx->op, &lib);
	if (op == NULL || op->merge_config == NULL)
		return false;
	sli_err_clear();
	if (op->merge_config(&lib->host,
	        vx->config_json ? vx->config_json : "{}", buf, cap) != 0) {
		sli_debug("coordinator: vertex '%s' is not split: %s", vx->id,
		    sl_errdetail());
		return false;
	}
	buf[cap - 1] = '\0';
	return true;
}

static void
skew_free_one(struct cskew *k)
{
	if (k == NULL)
		return;
	free(k->owner);
	free(k->desc);
	free(k);
}

/*
 * Split v's hot ranges (decision d, taken) among helpers at the task
 * indices from d->parallelism up; hold each merger's region until its
 * helpers finished. Returns the helpers (0: nothing split), or -1.
 */
static int64_t
skew_plan(struct cjob *j, uint32_t v)
{
	const struct sli_adaptive_decision *d = &j->dec[v];
	uint32_t e = j->job->v[v].in[0], n = j->x.par[v],
	         m = j->x.par[j->job->e[e].from], next = d->parallelism,
	         nsplit = 0;
	struct sli_adaptive_split *split = NULL;
	struct sli_adaptive_params p;
	struct sl_adaptive_spec a;
	struct cskew *k;
	char config[sizeof(k->config)];

	if (!skew_allowed(j, v, config, sizeof(config)))
		return 0;
	sli_job_adaptive(j->job, v, &a);
	p = (struct sli_adaptive_params) {
		.bytes_per_task = a.bytes_per_task,
		.min_parallelism = 1,
		.max_parallelism = n,
	};
	if (sli_adaptive_skew(j->sub_bytes[e], m, n, d, &p, a.skew_factor,
	        n - d->parallelism, &split, &nsplit) != 0)
		return -1;
	if (nsplit == 0)
		return 0;
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->owner = calloc((size_t)n * 4, sizeof(uint32_t))) == NULL ||
	    (k->desc = calloc(n, sizeof(*k->desc))) == NULL) {
		skew_free_one(k);
		sli_adaptive_splits_free(split, nsplit);
		sli_err(SL_ENOMEM, "out of memory");
		return -1;
	}
	memcpy(k->config, config, sizeof(config));
	k->first = k->owner + n;
	k->count = k->first + n;
	k->left = k->count + n;
	k->master = j->master_of[e];
	for (uint32_t i = 0; i < n; i++)
		k->owner[i] = UINT32_MAX;
	for (uint32_t i = 0; i < nsplit; i++) {
		const struct sli_adaptive_split *s = &split[i];
		uint32_t o = s->range;

		k->first[o] = next;
		k->count[o] = k->left[o] = s->nslices;
		for (uint32_t q = 0; q < s->nslices; q++, next++) {
			k->owner[next] = o;
			k->first[next] = s->first[q];
			k->count[next] =
			    (q + 1 < s->nslices ? s->first[q + 1] : m) -
			    s->first[q];
		}
		sli_sched_hold(&j->s, j->r.of_task[j->x.base[v] + o]);
		sli_info("coordinator: job %s: vertex '%s': range %u split "
		         "among %u tasks (%s#%u..%u), merged by %s#%u",
		    j->id, j->job->v[v].id, o, s->nslices, j->job->v[v].id,
		    next - s->nslices, next - 1, j->job->v[v].id, o);
	}
	k->helpers = next - d->parallelism;
	j->skew[v] = k;
	sli_adaptive_splits_free(split, nsplit);
	return k->helpers;
}

int
sli_coord_skew_role(const struct cjob *j, uint32_t t, uint32_t *merger)
{
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	const struct cskew *k = j->skew != NULL ? j->skew[v] : NULL;

	if (k == NULL)
		return 0;
	if (k->owner[idx] != UINT32_MAX) {
		if (merger != NULL)
			*merger = k->owner[idx];
		return 1;
	}
	return k->count[idx] > 0 ? 2 : 0;
}

int
sli_coord_skew_finished(struct cjob *j, uint32_t t)
{
	uint32_t v = j->x.task_vertex[t], o, r;
	struct cskew *k;

	if (sli_coord_skew_role(j, t, &o) != 1)
		return 0;
	k = j->skew[v];
	if (--k->left[o] > 0)
		return 0;
	r = j->r.of_task[j->x.base[v] + o];
	sli_sched_release(&j->s, r, sli_coord_region_slots(j, r));
	return 0;
}

void
sli_coord_skew_reset(struct cjob *j, uint32_t t)
{
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t), o;
	struct cskew *k;
	struct cmaster *m;

	if (sli_coord_skew_role(j, t, &o) != 1)
		return;
	k = j->skew[v];
	m = &j->masters[k->master];
	if (k->desc[idx].data != NULL) {
		if (m->state != NULL)
			m->p->ops.shuffle.master.release_partition(
			    m->state, k->desc[idx].data, k->desc[idx].len);
		m->p->host.free(k->desc[idx].data);
		k->desc[idx].data = NULL;
	}
	/* only a finished helper was counted off its merger; a merger that
	 * no longer waits waits again */
	if (j->tasks[t].state == T_FINISHED && k->left[o]++ == 0)
		sli_sched_hold(&j->s, j->r.of_task[j->x.base[v] + o]);
}

void
sli_coord_skew_release(struct cjob *j)
{
	for (uint32_t v = 0; j->skew != NULL && v < j->job->nv; v++) {
		struct cskew *k = j->skew[v];
		struct cmaster *m;

		if (k == NULL)
			continue;
		m = &j->masters[k->master];
		for (uint32_t i = 0; i < j->x.par[v]; i++) {
			if (k->desc[i].data == NULL)
				continue;
			if (m->state != NULL)
				m->p->ops.shuffle.master.release_partition(
				    m->state, k->desc[i].data, k->desc[i].len);
			m->p->host.free(k->desc[i].data);
			k->desc[i].data = NULL;
		}
	}
}

void
sli_coord_skew_free(struct cjob *j)
{
	sli_coord_skew_release(j);
	for (uint32_t v = 0; j->skew != NULL && v < j->job->nv; v++)
		skew_free_one(j->skew[v]);
	free(j->skew);
	j->skew = NULL;
}

/* Take decision d for v (owned on success), say it, split its hot ranges,
 * apply it. */
static int
adaptive_take(struct cjob *j, uint32_t v, struct sli_adaptive_decision *d)
{
	struct sl_adaptive_spec a;
	uint64_t total = 0;
	int64_t helpers;

	free(adaptive_bytes(j, v, &total));
	sli_job_adaptive(j->job, v, &a);
	j->dec[v] = *d;
	sli_info("coordinator: job %s: vertex '%s': parallelism %u for %llu "
	         "bytes in %u subpartitions (bytes_per_task %llu)",
	    j->id, j->job->v[v].id, d->parallelism, (unsigned long long)total,
	    j->x.par[v], (unsigned long long)a.bytes_per_task);
	sli_coord_log_decided(j, v);
	if ((helpers = skew_plan(j, v)) < 0)
		return SL_ENOMEM;
	return adaptive_apply(
	    j, v, d->parallelism, d->parallelism + (uint32_t)helpers);
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

int
sli_coord_adaptive_replay(
    struct cjob *j, uint32_t v, uint32_t p, const uint32_t *starts)
{
	struct sli_adaptive_decision d;
	uint32_t n;

	if (v >= j->job->nv || !sli_coord_adaptive_leader(j, v) ||
	    j->dec[v].parallelism != 0)
		return sli_err(SL_EINVAL,
		    "vertex %u: a logged decision it cannot take", v);
	n = j->x.par[v];
	if (p < 1 || p > n || starts == NULL || starts[0] != 0)
		return sli_err(SL_EINVAL,
		    "vertex '%s': a logged parallelism %u out of 1..%u",
		    j->job->v[v].id, p, n);
	for (uint32_t k = 1; k < p; k++)
		if (starts[k] <= starts[k - 1] || starts[k] >= n)
			return sli_err(SL_EINVAL,
			    "vertex '%s': logged ranges out of order",
			    j->job->v[v].id);
	d.parallelism = p;
	if ((d.start = malloc(p * sizeof(*d.start))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	memcpy(d.start, starts, p * sizeof(*d.start));
	return adaptive_take(j, v, &d);
}
