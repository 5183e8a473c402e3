/* Region readiness and slots for scheduler strategies. */
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "schedule.h"

/* When a partition becomes consumable. */
enum { ON_FINISH = 0, ON_START = 1 };

struct sli_sched_dep {
	uint32_t consumer; /* region */
	uint8_t on;
};

/*
 * An all_to_all or broadcast edge into other regions. Every consumer region
 * needs every producer region other than itself; at most one consumer
 * region can also hold producers (two such would depend on each other and
 * have been merged), so a consumer is satisfied when `done` reaches
 * nprod - 1 (it is that producer) or nprod (it is not). In every job tried
 * an inner region is the only producer region (the cycle merge sees to
 * it); the nprod - 1 case is kept so readiness stays right without relying
 * on that.
 */
struct sli_sched_group {
	uint8_t on;
	uint32_t nprod; /* distinct producer regions */
	uint32_t done;  /* of them, started or finished as `on` asks */
	uint32_t
	    inner; /* consumer region that holds producers, or UINT32_MAX */
	uint32_t *consumers; /* distinct consumer regions, without inner */
	uint32_t nconsumers;
};

static uint8_t
on_of(int type)
{
	return type == SL_PARTITION_BLOCKING ? ON_FINISH : ON_START;
}

static int
ready_add(struct sli_sched *s, uint32_t region)
{
	uint64_t r = region;

	for (uint32_t l = 0; l < s->nrlev; l++) {
		uint64_t *w = &s->rlev[l][r >> 6], was = *w;

		*w |= 1ULL << (r & 63);
		if (was != 0)
			break;
		r >>= 6;
	}
	s->nready++;
	return 0;
}

static void
ready_remove(struct sli_sched *s, uint32_t region)
{
	uint64_t r = region;

	if (!(s->rlev[0][r >> 6] >> (r & 63) & 1))
		return;
	for (uint32_t l = 0; l < s->nrlev; l++) {
		uint64_t *w = &s->rlev[l][r >> 6];

		*w &= ~(1ULL << (r & 63));
		if (*w != 0)
			break;
		r >>= 6;
	}
	s->nready--;
}

/* The smallest ready region >= from, or UINT32_MAX. */
static uint32_t
ready_next(const struct sli_sched *s, uint64_t from)
{
	uint32_t l = 0;
	uint64_t pos = from;

	for (;;) {
		uint64_t w = pos >> 6, m;

		if (w >= s->rnw[l])
			return UINT32_MAX;
		m = s->rlev[l][w] & (~0ULL << (pos & 63));
		if (m != 0) {
			pos = (w << 6) | (uint64_t)__builtin_ctzll(m);
			break;
		}
		if (++l == s->nrlev)
			return UINT32_MAX;
		pos = w + 1;
	}
	while (l-- > 0)
		pos = (pos << 6) | (uint64_t)__builtin_ctzll(s->rlev[l][pos]);
	return (uint32_t)pos;
}

static int
ready_alloc(struct sli_sched *s, uint32_t n)
{
	uint64_t bits = n;

	do {
		uint32_t nw = (uint32_t)((bits + 63) / 64);

		if (nw == 0)
			nw = 1;
		if ((s->rlev[s->nrlev] = calloc(nw, sizeof(uint64_t))) == NULL)
			return SL_ENOMEM;
		s->rnw[s->nrlev++] = nw;
		bits = nw;
	} while (bits > 1);
	return 0;
}

static void
satisfy(struct sli_sched *s, uint32_t region)
{
	if (--s->pending[region] == 0 && s->state[region] == SL_REGION_CREATED)
		ready_add(s, region);
}

/* Count pointwise dependencies (pass 0) or store them (pass 1). */
static void
pointwise_deps(struct sli_sched *s, int pass, uint32_t *fill)
{
	const struct sli_exec *x = s->x;
	const sl_job *job = x->job;

	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];

		if (ed->distribution != SL_DIST_POINTWISE ||
		    ed->type == SL_PARTITION_PIPELINED)
			continue;
		for (uint32_t j = 0; j < x->par[ed->from]; j++) {
			uint32_t p = s->r->of_task[x->base[ed->from] + j], lo,
			         hi;

			sli_edge_consumers(x, e, j, &lo, &hi);
			for (uint32_t i = lo; i < hi; i++) {
				uint32_t c = s->r->of_task[x->base[ed->to] + i];
				if (c == p)
					continue;
				if (pass == 0) {
					s->dep_start[p + 1]++;
					s->pending[c]++;
				} else {
					struct sli_sched_dep *d =
					    &s->dep[fill[p]++];
					d->consumer = c;
					d->on = on_of(ed->type);
				}
			}
		}
	}
}

static int
build_groups(struct sli_sched *s)
{
	const struct sli_exec *x = s->x;
	const sl_job *job = x->job;
	uint32_t nreg = s->r->n, npg = 0;
	uint32_t *stamp = calloc(nreg + 1, sizeof(*stamp));
	uint32_t *fill = NULL;

	if (stamp == NULL)
		return SL_ENOMEM;
	s->group = calloc(job->ne + 1, sizeof(*s->group));
	s->pg_start = calloc(nreg + 2, sizeof(*s->pg_start));
	if (s->group == NULL || s->pg_start == NULL)
		goto out_nomem;

	/* Per edge, stamp[r]: 1 producer region, 2 consumer region, 3 both;
	 * reset afterwards by walking the same tasks, so each edge costs its
	 * two parallelisms, not the number of regions. */
	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		struct sli_sched_group *g;
		uint32_t m = x->par[ed->from], n = x->par[ed->to];

		if (ed->distribution == SL_DIST_POINTWISE ||
		    ed->type == SL_PARTITION_PIPELINED)
			continue;
		g = &s->group[s->ngroup];
		g->on = on_of(ed->type);
		g->inner = UINT32_MAX;
		if ((g->consumers = malloc((n + 1) * sizeof(*g->consumers))) ==
		    NULL)
			goto out_nomem;
		for (uint32_t j = 0; j < m; j++) {
			uint32_t p = s->r->of_task[x->base[ed->from] + j];
			if (stamp[p] == 0) {
				stamp[p] = 1;
				g->nprod++;
				s->pg_start[p + 1]++;
				npg++;
			}
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t c = s->r->of_task[x->base[ed->to] + i];
			if (stamp[c] == 1) {
				g->inner = c;
				stamp[c] = 3;
			} else if (stamp[c] == 0) {
				stamp[c] = 2;
				g->consumers[g->nconsumers++] = c;
			}
		}
		/* Each consumer waits for this group once, unless its only
		 * producer region is itself. */
		for (uint32_t k = 0; k < g->nconsumers; k++)
			s->pending[g->consumers[k]]++;
		for (uint32_t j = 0; j < m; j++)
			stamp[s->r->of_task[x->base[ed->from] + j]] = 0;
		for (uint32_t i = 0; i < n; i++)
			stamp[s->r->of_task[x->base[ed->to] + i]] = 0;
		if (g->inner != UINT32_MAX && g->nprod > 1)
			s->pending[g->inner]++;
		s->ngroup++;
	}

	for (uint32_t r = 0; r < nreg; r++)
		s->pg_start[r + 1] += s->pg_start[r];
	s->pg = malloc((npg + 1) * sizeof(*s->pg));
	fill = malloc((nreg + 1) * sizeof(*fill));
	if (s->pg == NULL || fill == NULL)
		goto out_nomem;
	memcpy(fill, s->pg_start, nreg * sizeof(*fill));
	for (uint32_t g = 0, e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];

		if (ed->distribution == SL_DIST_POINTWISE ||
		    ed->type == SL_PARTITION_PIPELINED)
			continue;
		for (uint32_t j = 0; j < x->par[ed->from]; j++) {
			uint32_t p = s->r->of_task[x->base[ed->from] + j];
			if (!stamp[p]) {
				stamp[p] = 1;
				s->pg[fill[p]++] = g;
			}
		}
		for (uint32_t j = 0; j < x->par[ed->from]; j++)
			stamp[s->r->of_task[x->base[ed->from] + j]] = 0;
		g++;
	}
	free(fill);
	free(stamp);
	return 0;

out_nomem:
	free(fill);
	free(stamp);
	return SL_ENOMEM;
}

/* Per region, its distinct task indices: the slot-sharing groups. */
static int
count_slots(struct sli_sched *s)
{
	const struct sli_exec *x = s->x;
	uint32_t maxpar = 1, *seen;

	for (uint32_t v = 0; v < x->job->nv; v++)
		if (x->par[v] > maxpar)
			maxpar = x->par[v];
	if ((seen = calloc(maxpar, sizeof(*seen))) == NULL)
		return SL_ENOMEM;
	for (uint32_t g = 0; g < s->r->n; g++)
		for (uint32_t k = s->r->start[g]; k < s->r->start[g + 1]; k++) {
			uint32_t idx = sli_task_index(x, s->r->tasks[k]);

			if (seen[idx] != g + 1) {
				seen[idx] = g + 1;
				s->slots[g]++;
			}
		}
	free(seen);
	return 0;
}

int
sli_sched_init(struct sli_sched *s, const struct sli_exec *x,
    const struct sli_regions *r, uint32_t slots)
{
	uint32_t *fill = NULL;
	int rv = SL_ENOMEM;

	memset(s, 0, sizeof(*s));
	s->x = x;
	s->r = r;
	s->total_slots = slots;
	s->state = calloc(r->n + 1, 1);
	s->pending = calloc(r->n + 1, sizeof(*s->pending));
	s->holds = calloc(r->n + 1, sizeof(*s->holds));
	s->input_bytes = calloc(r->n + 1, sizeof(*s->input_bytes));
	s->slots = calloc(r->n + 1, sizeof(*s->slots));
	s->dep_start = calloc(r->n + 2, sizeof(*s->dep_start));
	if (!s->state || !s->pending || !s->holds || !s->input_bytes ||
	    !s->slots || !s->dep_start || ready_alloc(s, r->n) != 0 ||
	    count_slots(s) != 0)
		goto out_fail;

	pointwise_deps(s, 0, NULL);
	for (uint32_t k = 0; k < r->n; k++)
		s->dep_start[k + 1] += s->dep_start[k];
	s->dep = malloc((s->dep_start[r->n] + 1) * sizeof(*s->dep));
	fill = malloc((r->n + 1) * sizeof(*fill));
	if (s->dep == NULL || fill == NULL)
		goto out_fail;
	memcpy(fill, s->dep_start, r->n * sizeof(*fill));
	pointwise_deps(s, 1, fill);
	free(fill);
	fill = NULL;
	if ((rv = build_groups(s)) != 0)
		goto out_fail;

	for (uint32_t k = 0; k < r->n; k++)
		if (s->pending[k] == 0)
			ready_add(s, k);
	return 0;

out_fail:
	free(fill);
	sli_sched_fini(s);
	return sli_err(rv, "scheduler state: %s", sl_strerror(rv));
}

void
sli_sched_fini(struct sli_sched *s)
{
	for (uint32_t g = 0; s->group != NULL && g < s->ngroup; g++)
		free(s->group[g].consumers);
	free(s->group);
	free(s->pg_start);
	free(s->pg);
	free(s->dep);
	free(s->dep_start);
	for (uint32_t l = 0; l < s->nrlev; l++)
		free(s->rlev[l]);
	free(s->input_bytes);
	free(s->slots);
	free(s->pending);
	free(s->holds);
	free(s->state);
	memset(s, 0, sizeof(*s));
}

/* Partitions of region p became consumable for consumers waiting on `on`. */
static void
fire(struct sli_sched *s, uint32_t p, uint8_t on)
{
	for (uint32_t k = s->dep_start[p]; k < s->dep_start[p + 1]; k++)
		if (s->dep[k].on == on)
			satisfy(s, s->dep[k].consumer);
	for (uint32_t k = s->pg_start[p]; k < s->pg_start[p + 1]; k++) {
		struct sli_sched_group *g = &s->group[s->pg[k]];

		if (g->on != on)
			continue;
		g->done++;
		/* Only the inner region can still be waiting: it is the one
		 * producer left. */
		if (g->done == g->nprod - 1 && g->inner != UINT32_MAX &&
		    s->state[g->inner] == SL_REGION_CREATED && g->nprod > 1)
			satisfy(s, g->inner);
		if (g->done == g->nprod)
			for (uint32_t c = 0; c < g->nconsumers; c++)
				satisfy(s, g->consumers[c]);
	}
}

static uint32_t
region_size(const struct sli_sched *s, uint32_t r)
{
	return s->r->start[r + 1] - s->r->start[r];
}

static uint32_t
region_slots(const struct sli_sched *s, uint32_t r)
{
	return s->slots[r];
}

int
sli_sched_deploy(struct sli_sched *s, uint32_t r)
{
	uint32_t need;

	if (r >= s->r->n)
		return sli_err(SL_EINVAL, "no region %u", r);
	if (s->state[r] != SL_REGION_CREATED || s->pending[r] != 0)
		return sli_err(SL_ESTATE, "region %u is not ready", r);
	need = region_slots(s, r);
	/* A region larger than the cluster runs alone rather than never. */
	if (s->used_slots + need > s->total_slots && s->running > 0)
		return SL_EBUSY;
	s->used_slots += need;
	s->running++;
	s->state[r] = SL_REGION_DEPLOYED;
	ready_remove(s, r);
	fire(s, r, ON_START);
	return 0;
}

int
sli_sched_finish(struct sli_sched *s, uint32_t r)
{
	if (r >= s->r->n || s->state[r] != SL_REGION_DEPLOYED)
		return sli_err(SL_ESTATE, "region %u is not running", r);
	s->used_slots -= region_slots(s, r);
	s->running--;
	s->state[r] = SL_REGION_FINISHED;
	fire(s, r, ON_FINISH);
	return 0;
}

void
sli_sched_hold(struct sli_sched *s, uint32_t r)
{
	s->holds[r]++;
	if (s->pending[r]++ == 0)
		ready_remove(s, r);
}

void
sli_sched_release(struct sli_sched *s, uint32_t r, uint32_t slots)
{
	s->slots[r] = slots;
	s->holds[r]--;
	satisfy(s, r);
}

/* Whether region p's partitions are consumable for `on`. */
static bool
fired(const struct sli_sched *s, uint32_t p, uint8_t on)
{
	return s->state[p] == SL_REGION_FINISHED ||
	    (on == ON_START && s->state[p] == SL_REGION_DEPLOYED);
}

void
sli_sched_restart(struct sli_sched *s, const uint8_t *restart)
{
	uint32_t n = s->r->n;

	for (uint32_t r = 0; r < n; r++) {
		if (!restart[r] || s->state[r] == SL_REGION_CREATED)
			continue;
		if (s->state[r] == SL_REGION_DEPLOYED) {
			s->used_slots -= region_slots(s, r);
			s->running--;
		}
		s->state[r] = SL_REGION_CREATED;
	}
	/* count again what init and fire counted as things happened */
	for (uint32_t r = 0; r < n; r++)
		s->pending[r] = s->holds[r];
	for (uint32_t g = 0; g < s->ngroup; g++)
		s->group[g].done = 0;
	for (uint32_t p = 0; p < n; p++) {
		for (uint32_t k = s->dep_start[p]; k < s->dep_start[p + 1]; k++)
			if (!fired(s, p, s->dep[k].on))
				s->pending[s->dep[k].consumer]++;
		for (uint32_t k = s->pg_start[p]; k < s->pg_start[p + 1]; k++) {
			struct sli_sched_group *g = &s->group[s->pg[k]];

			if (fired(s, p, g->on))
				g->done++;
		}
	}
	for (uint32_t i = 0; i < s->ngroup; i++) {
		struct sli_sched_group *g = &s->group[i];

		if (g->done < g->nprod)
			for (uint32_t c = 0; c < g->nconsumers; c++)
				s->pending[g->consumers[c]]++;
		/* the inner region waits for the producers other than itself
		 * (it is one of them, and not fired while it restarts) */
		if (g->inner != UINT32_MAX && g->nprod > 1 &&
		    g->done < g->nprod - 1)
			s->pending[g->inner]++;
	}
	for (uint32_t r = 0; r < n; r++) {
		ready_remove(s, r);
		if (s->state[r] == SL_REGION_CREATED && s->pending[r] == 0)
			ready_add(s, r);
	}
}

int
sli_sched_skip(struct sli_sched *s, uint32_t r)
{
	if (r >= s->r->n || s->state[r] != SL_REGION_CREATED)
		return sli_err(SL_ESTATE, "region %u cannot be skipped", r);
	ready_remove(s, r);
	s->state[r] = SL_REGION_FINISHED;
	fire(s, r, ON_FINISH);
	return 0;
}

static struct sli_sched *
core_of(const struct sl_sched_ctx *ctx)
{
	return ctx->core;
}

static uint32_t
ctx_region_count(const struct sl_sched_ctx *ctx)
{
	return core_of(ctx)->r->n;
}

static uint32_t
ctx_region_tasks(const struct sl_sched_ctx *ctx, uint32_t r)
{
	return r < core_of(ctx)->r->n ? region_size(core_of(ctx), r) : 0;
}

static uint32_t
ctx_region_slots(const struct sl_sched_ctx *ctx, uint32_t r)
{
	return r < core_of(ctx)->r->n ? region_slots(core_of(ctx), r) : 0;
}

static int
ctx_region_state(const struct sl_sched_ctx *ctx, uint32_t r)
{
	return r < core_of(ctx)->r->n ? core_of(ctx)->state[r] : SL_EINVAL;
}

static uint64_t
ctx_region_input_bytes(const struct sl_sched_ctx *ctx, uint32_t r)
{
	return r < core_of(ctx)->r->n ? core_of(ctx)->input_bytes[r] : 0;
}

static uint32_t
ctx_free_slots(const struct sl_sched_ctx *ctx)
{
	const struct sli_sched *s = core_of(ctx);

	return s->used_slots >= s->total_slots
	    ? 0
	    : (uint32_t)(s->total_slots - s->used_slots);
}

static uint32_t
ctx_ready(const struct sl_sched_ctx *ctx, uint32_t *out, uint32_t cap)
{
	const struct sli_sched *s = core_of(ctx);

	uint32_t r = 0;

	for (uint32_t k = 0; k < cap && k < s->nready; k++, r++)
		out[k] = r = ready_next(s, r);
	return s->nready;
}

static int
ctx_deploy(const struct sl_sched_ctx *ctx, uint32_t r)
{
	return sli_sched_deploy(core_of(ctx), r);
}

static uint32_t
ctx_no_input_bytes(
    const struct sl_sched_ctx *ctx, uint32_t v, uint64_t *out, uint32_t cap)
{
	(void)ctx;
	(void)v;
	(void)out;
	(void)cap;
	return 0;
}

static int
ctx_no_decide(const struct sl_sched_ctx *ctx, uint32_t v)
{
	(void)ctx;
	(void)v;
	return sli_err(SL_ENOTSUP, "no parallelism is decided here");
}

static int
ctx_no_set(const struct sl_sched_ctx *ctx, uint32_t v, uint32_t p,
    const uint32_t *starts)
{
	(void)p;
	(void)starts;
	return ctx_no_decide(ctx, v);
}

static const char *
ctx_vertex_name(const struct sl_sched_ctx *ctx, uint32_t v)
{
	const sl_job *job = core_of(ctx)->x->job;

	return v < job->nv ? job->v[v].id : "?";
}

void
sli_sched_ctx_init(struct sl_sched_ctx *ctx, struct sli_sched *s)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->struct_size = sizeof(*ctx);
	ctx->core = s;
	ctx->region_count = ctx_region_count;
	ctx->region_tasks = ctx_region_tasks;
	ctx->region_state = ctx_region_state;
	ctx->region_input_bytes = ctx_region_input_bytes;
	ctx->free_slots = ctx_free_slots;
	ctx->ready = ctx_ready;
	ctx->deploy = ctx_deploy;
	ctx->region_slots = ctx_region_slots;
	/* the runtime that decides parallelisms puts its own */
	ctx->vertex_input_bytes = ctx_no_input_bytes;
	ctx->decide_parallelism = ctx_no_decide;
	ctx->set_parallelism = ctx_no_set;
	ctx->vertex_name = ctx_vertex_name;
}
