/*
 * What the plan tests (test_regions.c, test_failover.c, test_schedule.c)
 * share: jobs written inline, a job built with its tasks and regions, every
 * edge expanded naively into task pairs for the reference implementations,
 * and the random jobs they are cross-checked on.
 *
 * Header-only, every function static inline: each test program includes it
 * once and uses what it needs (an unused static inline draws no warning).
 */
#ifndef PLAN_FIXTURE_H
#define PLAN_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/exec.h"
#include "graph/job.h"
#include "plan/regions.h"

#define PIPE SL_PARTITION_PIPELINED
#define BLK SL_PARTITION_BLOCKING
#define HFULL SL_PARTITION_HYBRID_FULL
#define HSEL SL_PARTITION_HYBRID_SELECTIVE
#define PW SL_DIST_POINTWISE
#define A2A SL_DIST_ALL_TO_ALL
#define BC SL_DIST_BROADCAST

/* --- Jobs written inline: V({ "a", 2 }, { "b", 3 }), E({ "a", "b", PW,
 * BLK }). --- */

struct tv {
	const char *id;
	int32_t par;
};

struct te {
	const char *from, *to;
	int dist, type;
};

#define V(...) ((const struct tv[]) { __VA_ARGS__, { NULL, 0 } })
#define E(...) ((const struct te[]) { __VA_ARGS__, { NULL, NULL, 0, 0 } })
#define NO_EDGES ((const struct te[]) { { NULL, NULL, 0, 0 } })

static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int
add_edge(sl_job *job, const char *from, const char *to, int dist, int type)
{
	struct sl_edge_spec s = {
		.from = from, .to = to, .distribution = dist, .type = type
	};

	return sl_job_add_edge(job, &s);
}

/* The job, or NULL (the reason on stderr). The caller frees it. */
static inline sl_job *
make_job(const struct tv *v, const struct te *e)
{
	sl_job *job = NULL;

	if (sl_job_new("t", &job) != 0)
		return NULL;
	for (; v->id != NULL; v++)
		if (sl_job_add_vertex(job, v->id, "op", v->par, NULL) != 0)
			goto out_free_job;
	for (; e->from != NULL; e++)
		if (add_edge(job, e->from, e->to, e->dist, e->type) != 0)
			goto out_free_job;
	return job;

out_free_job:
	fprintf(stderr, "make_job: %s\n", sl_errdetail());
	sl_job_free(job);
	return NULL;
}

/* --- A job with its tasks and regions. --- */

struct plan {
	sl_job *job; /* NULL when building failed or after plan_free */
	struct sli_exec x;
	struct sli_regions r;
};

/* Takes job (NULL allowed: fails) whatever the outcome. 0, or -1 with
 * p->job NULL and nothing left to free; sl_errdetail() says why. */
static inline int
plan_build(struct plan *p, sl_job *job)
{
	memset(p, 0, sizeof(*p));
	p->job = job;
	if (job == NULL)
		return -1;
	if (sli_exec_build(job, NULL, &p->x) != 0)
		goto out_free_job;
	if (sli_regions_build(&p->x, &p->r) != 0)
		goto out_free_exec;
	return 0;

out_free_exec:
	sli_exec_free(&p->x);
out_free_job:
	sl_job_free(job);
	p->job = NULL;
	return -1;
}

/* Safe after a failed plan_build and twice. */
static inline void
plan_free(struct plan *p)
{
	if (p->job == NULL)
		return;
	sli_regions_free(&p->r);
	sli_exec_free(&p->x);
	sl_job_free(p->job);
	p->job = NULL;
}

/* --- The naive references' view: every edge expanded into task pairs. --- */

struct pair {
	uint32_t p, c, e; /* producer task, consumer task, edge */
};

/* DESIGN §2 written out again, independently of exec.c. Returns the pair
 * count; *out from malloc (NULL, with 0 pairs, when out of memory), owned
 * by the caller. */
static inline uint32_t
expand_pairs(const struct sli_exec *x, struct pair **out)
{
	const sl_job *job = x->job;
	uint64_t cap = 1;
	uint32_t np = 0;

	for (uint32_t e = 0; e < job->ne; e++)
		cap += (uint64_t)x->par[job->e[e].from] * x->par[job->e[e].to];
	*out = malloc(cap * sizeof(**out));
	if (*out == NULL)
		return 0;
	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		uint32_t m = x->par[ed->from], n = x->par[ed->to];
		uint32_t pb = x->base[ed->from], cb = x->base[ed->to];

		for (uint32_t j = 0; j < m; j++)
			for (uint32_t i = 0; i < n; i++) {
				int joined;

				if (ed->distribution != PW)
					joined = 1;
				else if (m >= n)
					joined = j >= i * m / n &&
					    j < (i + 1) * m / n;
				else
					joined = i >= j * n / m &&
					    i < (j + 1) * n / m;
				if (joined)
					(*out)[np++] =
					    (struct pair) { pb + j, cb + i, e };
			}
	}
	return np;
}

/* --- Random jobs. --- */

static uint64_t rng_state;

/* splitmix64: the same sequence on every libc. */
static inline uint32_t
rnd(uint32_t n)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint32_t)(z % n);
}

/* SL_TEST_SEED, or a fixed default so that runs repeat. */
static inline uint64_t
test_seed(void)
{
	const char *s = getenv("SL_TEST_SEED");

	return s != NULL ? strtoull(s, NULL, 0) : 20240611;
}

/* Up to 6 vertices, added in a shuffled order, parallelism 1..5, each pair
 * joined with probability 1/2 (sometimes twice, never by the same edge
 * twice) in topological direction, by any distribution and type. At most
 * 30 tasks. NULL when building failed. */
static inline sl_job *
random_job(void)
{
	uint32_t nv = 1 + rnd(6), perm[6];
	sl_job *job;
	char id[16], from[16], to[16];

	if (sl_job_new("random", &job) != 0)
		return NULL;
	for (uint32_t i = 0; i < nv; i++) {
		snprintf(id, sizeof(id), "v%u", i);
		if (sl_job_add_vertex(
		        job, id, "op", 1 + (int32_t)rnd(5), NULL) != 0)
			goto out_free_job;
		perm[i] = i;
	}
	for (uint32_t i = nv - 1; i > 0; i--) {
		uint32_t j = rnd(i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t i = 0; i < nv; i++)
		for (uint32_t j = i + 1; j < nv; j++) {
			uint32_t copies = rnd(2) ? 1 + (rnd(6) == 0) : 0;
			int prev_dist = -1, prev_type = -1;

			snprintf(from, sizeof(from), "v%u", perm[i]);
			snprintf(to, sizeof(to), "v%u", perm[j]);
			for (uint32_t c = 0; c < copies; c++) {
				/* Sequenced: argument order is unspecified. */
				int dist = (int)rnd(3), type = (int)rnd(4);

				/* The job refuses the same edge twice. The
				 * values are drawn all the same, so the other
				 * jobs of a seed stay what they were. */
				if (dist == prev_dist && type == prev_type)
					continue;
				prev_dist = dist;
				prev_type = type;
				if (add_edge(job, from, to, dist, type) != 0)
					goto out_free_job;
			}
		}
	return job;

out_free_job:
	sl_job_free(job);
	return NULL;
}

#endif
