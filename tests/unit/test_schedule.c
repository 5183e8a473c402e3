/* Region readiness and slots (core/plan/schedule.c): hand-made schedules
 * checked after every step, the ctx a strategy sees, a randomized
 * cross-check against a naive reference over explicit task pairs, and the
 * 10 000 x 10 000 scale. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_fixture.h"
#include "plan/failover.h"
#include "plan/regions.h"
#include "plan/schedule.h"
#include "sl_test.h"

#define CREATED SL_REGION_CREATED
#define DEPLOYED SL_REGION_DEPLOYED
#define FINISHED SL_REGION_FINISHED

struct fixture {
	struct plan p;
	struct sli_sched s;
	struct sl_sched_ctx ctx;
};

/* Job, tasks and regions; no scheduler state yet. */
static int
fixture_plan(struct fixture *f, sl_job *job)
{
	memset(f, 0, sizeof(*f));
	if (plan_build(&f->p, job) == 0)
		return 0;
	if (job != NULL)
		fprintf(stderr, "fixture: %s\n", sl_errdetail());
	return -1;
}

/* Scheduler state with `slots` slots over a planned fixture, and its ctx. */
static int
fixture_sched(struct fixture *f, uint32_t slots)
{
	if (sli_sched_init(&f->s, &f->p.x, &f->p.r, slots) != 0) {
		fprintf(stderr, "fixture: %s\n", sl_errdetail());
		plan_free(&f->p);
		return -1;
	}
	sli_sched_ctx_init(&f->ctx, &f->s);
	return 0;
}

static int
fixture_from_job(struct fixture *f, sl_job *job, uint32_t slots)
{
	if (fixture_plan(f, job) != 0)
		return -1;
	return fixture_sched(f, slots);
}

static void
fixture_free(struct fixture *f)
{
	if (f->p.job == NULL)
		return;
	sli_sched_fini(&f->s);
	plan_free(&f->p);
}

#define FIXTURE(f, v, e, slots) \
	CU_ASSERT_FATAL(fixture_from_job(f, make_job(v, e), slots) == 0)

/* The region holding task "a#1" (UINT32_MAX, which every op refuses, when
 * there is no such task). */
static uint32_t
region_of(const struct fixture *f, const char *task)
{
	uint32_t t;

	if (sli_task_parse(&f->p.x, task, &t) != 0) {
		fprintf(stderr, "\nbad task '%s': %s\n", task, sl_errdetail());
		CU_FAIL("bad task name in the test");
		return UINT32_MAX;
	}
	return f->p.r.of_task[t];
}

static int
deploy(struct fixture *f, const char *task)
{
	return f->ctx.deploy(&f->ctx, region_of(f, task));
}

static int
finish(struct fixture *f, const char *task)
{
	return sli_sched_finish(&f->s, region_of(f, task));
}

static int
state_of(struct fixture *f, const char *task)
{
	return f->ctx.region_state(&f->ctx, region_of(f, task));
}

/* "a#0+b#0 a#1+b#1": regions by their tasks, in region order. */
static char *
render_regions(const struct fixture *f, const uint32_t *regs, uint32_t n)
{
	size_t cap = 64, len = 0;
	char *s;

	for (uint32_t k = 0; k < n; k++)
		cap += (size_t)(f->p.r.start[regs[k] + 1] -
		           f->p.r.start[regs[k]]) *
		    140;
	s = malloc(cap);
	s[0] = '\0';
	for (uint32_t k = 0; k < n; k++) {
		uint32_t g = regs[k];

		for (uint32_t i = f->p.r.start[g]; i < f->p.r.start[g + 1];
		     i++) {
			char name[140];

			sli_task_name(
			    &f->p.x, f->p.r.tasks[i], name, sizeof(name));
			len += snprintf(s + len, cap - len, "%s%s",
			    i > f->p.r.start[g] ? "+" : (k > 0 ? " " : ""),
			    name);
		}
	}
	return s;
}

/* --- The naive reference. --- */

/* The rule straight from the region states: a region is ready when it is
 * CREATED and, for every pair that enters it from another region, the
 * producer's region is FINISHED (blocking) or started (hybrid). Returns -1
 * when a pipelined pair crosses regions, which the rule assumes never. */
static int
naive_ready(const struct fixture *f, const struct pair *pairs, uint32_t np,
    const uint8_t *state, uint8_t *ready)
{
	for (uint32_t g = 0; g < f->p.r.n; g++)
		ready[g] = state[g] == CREATED;
	for (uint32_t k = 0; k < np; k++) {
		uint32_t rp = f->p.r.of_task[pairs[k].p];
		uint32_t rc = f->p.r.of_task[pairs[k].c];
		int type = f->p.job->e[pairs[k].e].type;

		if (rp == rc)
			continue;
		if (type == PIPE)
			return -1;
		if (type == BLK ? state[rp] != FINISHED : state[rp] == CREATED)
			ready[rc] = 0;
	}
	return 0;
}

/* ctx->ready against the naive rule, with the states the ctx reports.
 * Also checks that the list is strictly ascending. Returns 1 when equal. */
static int
ready_matches_naive(const struct fixture *f)
{
	const struct sl_sched_ctx *ctx = &f->ctx;
	uint32_t n = f->p.r.n, np, cnt, *got;
	uint8_t *state, *want;
	struct pair *pairs;
	int same = 1;

	np = expand_pairs(&f->p.x, &pairs);
	state = calloc(n + 1, 1);
	want = malloc(n + 1);
	got = malloc((n + 1) * sizeof(*got));
	for (uint32_t g = 0; g < n; g++)
		state[g] = (uint8_t)ctx->region_state(ctx, g);
	if (naive_ready(f, pairs, np, state, want) != 0)
		same = 0;
	cnt = ctx->ready(ctx, got, n);
	if (cnt > n)
		same = 0;
	for (uint32_t k = 0; k < cnt && same; k++)
		same = got[k] < n && want[got[k]] &&
		    (k == 0 || got[k - 1] < got[k]);
	for (uint32_t g = 0; g < n; g++)
		cnt -= want[g];
	same = same && cnt == 0;
	free(got);
	free(want);
	free(state);
	free(pairs);
	return same;
}

/* The ready set must render as `want` and agree with the naive rule. */
static void
expect_ready_at(int line, const struct fixture *f, const char *want)
{
	const struct sl_sched_ctx *ctx = &f->ctx;
	uint32_t n = ctx->ready(ctx, NULL, 0);
	uint32_t *regs = malloc((n + 1) * sizeof(*regs));
	char *got;

	CU_ASSERT(ctx->ready(ctx, regs, n) == n);
	got = render_regions(f, regs, n);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\nline %d: ready\n  want: %s\n  got:  %s\n",
		    line, want, got);
		CU_FAIL("ready set differs");
	}
	if (!ready_matches_naive(f)) {
		fprintf(stderr,
		    "\nline %d: ready set %s disagrees with the "
		    "naive rule\n",
		    line, got);
		CU_FAIL("ready set differs from the naive rule");
	}
	free(got);
	free(regs);
}

#define expect_ready(f, want) expect_ready_at(__LINE__, f, want)

static void
expect_regions_at(int line, const struct fixture *f, const char *want)
{
	uint32_t *regs = malloc((f->p.r.n + 1) * sizeof(*regs));
	char *got;

	for (uint32_t g = 0; g < f->p.r.n; g++)
		regs[g] = g;
	got = render_regions(f, regs, f->p.r.n);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\nline %d: regions\n  want: %s\n  got:  %s\n",
		    line, want, got);
		CU_FAIL("regions differ from what the case assumes");
	}
	free(got);
	free(regs);
}

/* The case is written for these regions; make sure it still has them. */
#define expect_regions(f, want) expect_regions_at(__LINE__, f, want)

/* --- Hand-made schedules. --- */

static void
test_chain_blocking(void)
{
	struct fixture f;

	FIXTURE(&f, V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK }), 4);
	expect_regions(&f, "a#0 b#0 c#0");
	expect_ready(&f, "a#0");
	CU_ASSERT(deploy(&f, "b#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "b#0");
	CU_ASSERT(deploy(&f, "c#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "b#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "b#0") == 0);
	expect_ready(&f, "c#0");
	CU_ASSERT(deploy(&f, "c#0") == 0);
	CU_ASSERT(finish(&f, "c#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(state_of(&f, "a#0") == FINISHED);
	CU_ASSERT(state_of(&f, "c#0") == FINISHED);
	fixture_free(&f);

	/* Stage by stage, index by index. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK }), 8);
	expect_regions(&f, "a#0 a#1 b#0 b#1 c#0 c#1");
	expect_ready(&f, "a#0 a#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "b#1");
	CU_ASSERT(deploy(&f, "b#1") == 0);
	CU_ASSERT(finish(&f, "b#1") == 0);
	expect_ready(&f, "c#1");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "b#0 c#1");
	CU_ASSERT(deploy(&f, "b#0") == 0);
	expect_ready(&f, "c#1");
	CU_ASSERT(finish(&f, "b#0") == 0);
	expect_ready(&f, "c#0 c#1");
	fixture_free(&f);

	/* A pipelined stage between blocking ones waits as a whole. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }, { "d", 1 }),
	    E({ "a", "b", A2A, BLK }, { "b", "c", PW, PIPE },
	        { "c", "d", A2A, BLK }),
	    8);
	expect_regions(&f, "a#0 a#1 b#0+c#0 b#1+c#1 d#0");
	expect_ready(&f, "a#0 a#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "b#0+c#0 b#1+c#1");
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, region_of(&f, "c#1")) == 2);
	CU_ASSERT(deploy(&f, "c#1") == 0);
	CU_ASSERT(finish(&f, "b#1") == 0);
	expect_ready(&f, "b#0+c#0");
	CU_ASSERT(deploy(&f, "b#0") == 0);
	CU_ASSERT(finish(&f, "c#0") == 0);
	expect_ready(&f, "d#0");
	fixture_free(&f);
}

static void
test_hybrid(void)
{
	struct fixture f;

	/* Ready as soon as the producer runs, and still ready after it
	 * finished. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }), E({ "a", "b", PW, HFULL }), 8);
	expect_ready(&f, "a#0 a#1");
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "a#0 b#1");
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "a#0 b#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "b#0 b#1");
	CU_ASSERT(deploy(&f, "b#0") == 0);
	CU_ASSERT(state_of(&f, "a#0") == DEPLOYED);
	CU_ASSERT(state_of(&f, "b#0") == DEPLOYED);
	expect_ready(&f, "b#1");
	fixture_free(&f);

	/* A selective chain runs all at once, stage after stage. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, HSEL }, { "b", "c", PW, HSEL }), 3);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "b#0");
	CU_ASSERT(deploy(&f, "c#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "b#0") == 0);
	expect_ready(&f, "c#0");
	CU_ASSERT(deploy(&f, "c#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	expect_ready(&f, "");
	fixture_free(&f);

	/* all_to_all and broadcast: every producer region started. */
	FIXTURE(&f, V({ "a", 3 }, { "b", 2 }), E({ "a", "b", A2A, HFULL }), 8);
	CU_ASSERT(deploy(&f, "a#2") == 0);
	CU_ASSERT(finish(&f, "a#2") == 0);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "a#1");
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "b#0 b#1");
	fixture_free(&f);

	FIXTURE(&f, V({ "a", 2 }, { "b", 3 }), E({ "a", "b", BC, HSEL }), 8);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "a#0");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "b#0 b#1 b#2");
	fixture_free(&f);

	/* A hybrid and a blocking edge side by side: the blocking one
	 * decides. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 1 }),
	    E({ "a", "b", PW, HFULL }, { "a", "b", PW, BLK }), 2);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "b#0");
	fixture_free(&f);
}

/* Deploy every task of vertex a (one region each), then finish them in
 * `order` ("a#4 a#3 ..."), and after each finish the ready set must be the
 * next entry of `want` ("|"-separated). */
static void
finish_in_order_at(
    int line, struct fixture *f, const char *order, const char *want)
{
	char obuf[256], wbuf[512], *osave = NULL, *wsave = NULL;
	char *tok, *w;

	snprintf(obuf, sizeof(obuf), "%s", order);
	snprintf(wbuf, sizeof(wbuf), "%s", want);
	for (uint32_t i = 0; i < f->p.x.par[0]; i++) {
		char name[16];

		snprintf(name, sizeof(name), "a#%u", i);
		CU_ASSERT(deploy(f, name) == 0);
	}
	expect_ready_at(line, f, "");
	w = strtok_r(wbuf, "|", &wsave);
	for (tok = strtok_r(obuf, " ", &osave); tok != NULL;
	     tok = strtok_r(NULL, " ", &osave)) {
		CU_ASSERT(finish(f, tok) == 0);
		if (w == NULL) {
			CU_FAIL("too few expectations");
			return;
		}
		while (*w == ' ')
			w++;
		for (size_t n = strlen(w); n > 0 && w[n - 1] == ' '; n--)
			w[n - 1] = '\0';
		expect_ready_at(line, f, w);
		w = strtok_r(NULL, "|", &wsave);
	}
	CU_ASSERT(w == NULL);
}

#define finish_in_order(f, order, want) \
	finish_in_order_at(__LINE__, f, order, want)

static void
test_pointwise_fan_in(void)
{
	struct fixture f;

	/* b#0 reads a#0..2, b#1 a#3..5. */
	FIXTURE(&f, V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(
	    &f, "a#3 a#0 a#1 a#4 a#2 a#5", " | | | | b#0 | b#0 b#1");
	fixture_free(&f);

	/* 5 -> 3: b#0 reads a#0, b#1 a#1 a#2, b#2 a#3 a#4. */
	FIXTURE(&f, V({ "a", 5 }, { "b", 3 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(
	    &f, "a#4 a#3 a#1 a#0 a#2", " | b#2 | b#2 | b#0 b#2 | b#0 b#1 b#2");
	fixture_free(&f);

	/* 3 -> 2: b#0 reads a#0, b#1 a#1 a#2. */
	FIXTURE(&f, V({ "a", 3 }, { "b", 2 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(&f, "a#2 a#0 a#1", " | b#0 | b#0 b#1");
	fixture_free(&f);

	/* Hybrid: started is enough, per consumer. */
	FIXTURE(&f, V({ "a", 4 }, { "b", 2 }), E({ "a", "b", PW, HSEL }), 8);
	CU_ASSERT(deploy(&f, "a#3") == 0);
	expect_ready(&f, "a#0 a#1 a#2");
	CU_ASSERT(deploy(&f, "a#2") == 0);
	expect_ready(&f, "a#0 a#1 b#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "a#1 b#1");
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "b#0 b#1");
	fixture_free(&f);
}

static void
test_pointwise_fan_out(void)
{
	struct fixture f;

	/* a#0 feeds b#0..2, a#1 b#3..5. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 6 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(&f, "a#1 a#0", "b#3 b#4 b#5 | b#0 b#1 b#2 b#3 b#4 b#5");
	fixture_free(&f);

	/* 3 -> 5: a#0 feeds b#0, a#1 b#1 b#2, a#2 b#3 b#4. */
	FIXTURE(&f, V({ "a", 3 }, { "b", 5 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(&f, "a#1 a#2 a#0",
	    "b#1 b#2 | b#1 b#2 b#3 b#4 | b#0 b#1 b#2 b#3 b#4");
	fixture_free(&f);

	/* 2 -> 3: a#0 feeds b#0, a#1 b#1 b#2. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 3 }), E({ "a", "b", PW, BLK }), 8);
	finish_in_order(&f, "a#0 a#1", "b#0 | b#0 b#1 b#2");
	fixture_free(&f);

	/* A consumer reading one producer while a sibling waits: 4 -> 2 -> 4
	 * with blocking edges, finishing b#1 frees only c#2 c#3. */
	FIXTURE(&f, V({ "a", 4 }, { "b", 2 }, { "c", 4 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK }), 8);
	finish_in_order(&f, "a#2 a#3 a#1", " | b#1 | b#1");
	CU_ASSERT(deploy(&f, "b#1") == 0);
	CU_ASSERT(finish(&f, "b#1") == 0);
	expect_ready(&f, "c#2 c#3");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "b#0 c#2 c#3");
	fixture_free(&f);
}

static void
test_all_to_all_blocking(void)
{
	struct fixture f;

	FIXTURE(&f, V({ "a", 3 }, { "b", 2 }), E({ "a", "b", A2A, BLK }), 8);
	finish_in_order(&f, "a#0 a#2 a#1", " | | b#0 b#1");
	fixture_free(&f);

	/* Deployed is not enough. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }), E({ "a", "b", A2A, BLK }), 8);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(deploy(&f, "b#0") == SL_ESTATE);
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "b#0 b#1");
	fixture_free(&f);

	/* Two all_to_all inputs, one blocking and one hybrid. */
	FIXTURE(&f, V({ "a", 2 }, { "h", 2 }, { "c", 2 }),
	    E({ "a", "c", A2A, BLK }, { "h", "c", A2A, HFULL }), 8);
	expect_regions(&f, "a#0 a#1 h#0 h#1 c#0 c#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	CU_ASSERT(finish(&f, "a#0") == 0);
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "h#0 h#1");
	CU_ASSERT(deploy(&f, "h#0") == 0);
	expect_ready(&f, "h#1");
	CU_ASSERT(deploy(&f, "h#1") == 0);
	expect_ready(&f, "c#0 c#1");
	fixture_free(&f);

	/* Consumers are pipelined groups: each waits for every producer. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", A2A, BLK }, { "b", "c", PW, PIPE }), 8);
	finish_in_order(&f, "a#1 a#0", " | b#0+c#0 b#1+c#1");
	fixture_free(&f);
}

static void
test_broadcast(void)
{
	struct fixture f;

	FIXTURE(&f, V({ "a", 2 }, { "b", 3 }), E({ "a", "b", BC, BLK }), 8);
	finish_in_order(&f, "a#1 a#0", " | b#0 b#1 b#2");
	fixture_free(&f);

	/* A broadcast side input into pipelined pairs. */
	FIXTURE(&f, V({ "a", 2 }, { "s", 1 }, { "b", 2 }),
	    E({ "a", "b", PW, PIPE }, { "s", "b", BC, BLK }), 8);
	expect_regions(&f, "s#0 a#0+b#0 a#1+b#1");
	expect_ready(&f, "s#0");
	CU_ASSERT(deploy(&f, "a#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "s#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "s#0") == 0);
	expect_ready(&f, "a#0+b#0 a#1+b#1");
	fixture_free(&f);

	/* Broadcast from one task fans out to every consumer at once. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 4 }), E({ "a", "b", BC, HFULL }), 8);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "b#0 b#1 b#2 b#3");
	fixture_free(&f);
}

static void
test_merged_cycle(void)
{
	struct fixture f;

	/* a -> b pipelined, a -> c -> b blocking: one region, whose blocking
	 * edges are inside it and wait for nothing. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    4);
	expect_regions(&f, "a#0+c#0+b#0");
	expect_ready(&f, "a#0+c#0+b#0");
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, 0) == 3);
	/* one index: the three share a slot */
	CU_ASSERT(f.ctx.region_slots(&f.ctx, 0) == 1);
	CU_ASSERT(deploy(&f, "c#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 3);
	CU_ASSERT(finish(&f, "b#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 4);
	fixture_free(&f);

	/* The same between a blocking producer and consumer. */
	FIXTURE(&f,
	    V({ "z", 1 }, { "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 2 }),
	    E({ "z", "a", PW, BLK }, { "a", "b", PW, PIPE },
	        { "a", "c", PW, BLK }, { "c", "b", PW, BLK },
	        { "b", "d", A2A, BLK }),
	    4);
	expect_regions(&f, "z#0 a#0+c#0+b#0 d#0 d#1");
	expect_ready(&f, "z#0");
	CU_ASSERT(deploy(&f, "z#0") == 0);
	CU_ASSERT(finish(&f, "z#0") == 0);
	expect_ready(&f, "a#0+c#0+b#0");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "d#0 d#1");
	fixture_free(&f);

	/* An all_to_all leg: the consumer region of a -> c holds every
	 * producer of it. Upstream and downstream all_to_all edges wait as
	 * usual. */
	FIXTURE(&f,
	    V({ "z", 2 }, { "a", 2 }, { "b", 2 }, { "c", 2 }, { "d", 2 }),
	    E({ "z", "a", A2A, BLK }, { "a", "b", PW, PIPE },
	        { "a", "c", A2A, BLK }, { "c", "b", PW, BLK },
	        { "b", "d", A2A, HFULL }),
	    8);
	expect_regions(&f, "z#0 z#1 a#0+a#1+c#0+c#1+b#0+b#1 d#0 d#1");
	expect_ready(&f, "z#0 z#1");
	CU_ASSERT(deploy(&f, "z#0") == 0);
	CU_ASSERT(deploy(&f, "z#1") == 0);
	CU_ASSERT(finish(&f, "z#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "z#0") == 0);
	expect_ready(&f, "a#0+a#1+c#0+c#1+b#0+b#1");
	CU_ASSERT(deploy(&f, "c#1") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 6); /* indices 0 and 1 */
	expect_ready(&f, "d#0 d#1");
	fixture_free(&f);

	/* The same with the all_to_all leg hybrid and alone in the job: the
	 * region waits for nothing. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", A2A, HFULL },
	        { "c", "b", PW, BLK }),
	    2);
	expect_regions(&f, "a#0+a#1+c#0+c#1+b#0+b#1");
	expect_ready(&f, "a#0+a#1+c#0+c#1+b#0+b#1");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(finish(&f, "a#0") == 0);
	fixture_free(&f);

	/* The blocking leg second: c -> b all_to_all. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", A2A, BLK }),
	    8);
	expect_regions(&f, "a#0+a#1+c#0+c#1+b#0+b#1");
	expect_ready(&f, "a#0+a#1+c#0+c#1+b#0+b#1");
	fixture_free(&f);

	/* A blocking edge parallel to a pipelined one stays inside. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "b", PW, BLK }), 8);
	expect_regions(&f, "a#0+b#0 a#1+b#1");
	expect_ready(&f, "a#0+b#0 a#1+b#1");
	fixture_free(&f);
}

static void
test_diamond(void)
{
	struct fixture f;

	/* a -> b hybrid, a -> c blocking, b -> d blocking, c -> d hybrid. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 2 }, { "c", 2 }, { "d", 1 }),
	    E({ "a", "b", A2A, HFULL }, { "a", "c", PW, BLK },
	        { "b", "d", A2A, BLK }, { "c", "d", A2A, HSEL }),
	    8);
	expect_regions(&f, "a#0 b#0 b#1 c#0 c#1 d#0");
	expect_ready(&f, "a#0");
	CU_ASSERT(deploy(&f, "a#0") == 0);
	expect_ready(&f, "b#0 b#1");
	CU_ASSERT(deploy(&f, "b#0") == 0);
	CU_ASSERT(deploy(&f, "b#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "c#0 c#1");
	CU_ASSERT(deploy(&f, "c#0") == 0);
	CU_ASSERT(deploy(&f, "c#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "b#1") == 0);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "b#0") == 0);
	expect_ready(&f, "d#0");
	fixture_free(&f);

	/* Pipelined on one side, blocking on the other: two regions. */
	FIXTURE(&f, V({ "a", 1 }, { "b", 2 }, { "c", 2 }, { "d", 1 }),
	    E({ "a", "b", A2A, PIPE }, { "a", "c", A2A, BLK },
	        { "b", "d", A2A, BLK }, { "c", "d", A2A, PIPE }),
	    8);
	expect_regions(&f, "a#0+b#0+b#1 c#0+c#1+d#0");
	expect_ready(&f, "a#0+b#0+b#1");
	CU_ASSERT(deploy(&f, "b#1") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 6);
	expect_ready(&f, "");
	CU_ASSERT(finish(&f, "a#0") == 0);
	expect_ready(&f, "c#0+c#1+d#0");
	fixture_free(&f);

	/* Pointwise diamond: each index on its own. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 2 }, { "c", 2 }, { "d", 2 }),
	    E({ "a", "b", PW, BLK }, { "a", "c", PW, HFULL },
	        { "b", "d", PW, HSEL }, { "c", "d", PW, BLK }),
	    8);
	expect_regions(&f, "a#0 a#1 b#0 b#1 c#0 c#1 d#0 d#1");
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "a#0 c#1");
	CU_ASSERT(deploy(&f, "c#1") == 0);
	CU_ASSERT(finish(&f, "c#1") == 0);
	expect_ready(&f, "a#0");
	CU_ASSERT(finish(&f, "a#1") == 0);
	expect_ready(&f, "a#0 b#1");
	CU_ASSERT(deploy(&f, "b#1") == 0);
	expect_ready(&f, "a#0 d#1");
	fixture_free(&f);
}

static void
test_slots(void)
{
	struct fixture f;
	uint32_t pq, s, tu, vw;

	/* Regions of 4, 1, 6 and 6 tasks in 2, 1, 3 and 3 slot-sharing
	 * groups (the tasks of one index share a slot); 2 slots. */
	FIXTURE(&f,
	    V({ "p", 2 }, { "q", 2 }, { "s", 1 }, { "t", 3 }, { "u", 3 },
	        { "v", 3 }, { "w", 3 }),
	    E({ "p", "q", A2A, PIPE }, { "t", "u", A2A, PIPE },
	        { "v", "w", PW, PIPE }, { "v", "w", A2A, PIPE }),
	    2);
	pq = region_of(&f, "p#0");
	s = region_of(&f, "s#0");
	tu = region_of(&f, "t#0");
	vw = region_of(&f, "v#0");
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, pq) == 4);
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, s) == 1);
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, tu) == 6);
	CU_ASSERT(f.ctx.region_tasks(&f.ctx, vw) == 6);
	CU_ASSERT(f.ctx.region_slots(&f.ctx, pq) == 2);
	CU_ASSERT(f.ctx.region_slots(&f.ctx, s) == 1);
	CU_ASSERT(f.ctx.region_slots(&f.ctx, tu) == 3);
	CU_ASSERT(f.ctx.region_slots(&f.ctx, vw) == 3);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 2);

	/* Larger than the cluster, nothing runs: deployed alone. */
	CU_ASSERT(f.ctx.deploy(&f.ctx, tu) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(f.ctx.deploy(&f.ctx, s) == SL_EBUSY);
	CU_ASSERT(f.ctx.deploy(&f.ctx, pq) == SL_EBUSY);
	CU_ASSERT(f.ctx.deploy(&f.ctx, vw) == SL_EBUSY);
	/* Busy leaves the region ready and CREATED. */
	CU_ASSERT(f.ctx.region_state(&f.ctx, s) == CREATED);
	expect_ready(&f, "p#0+p#1+q#0+q#1 s#0 v#0+v#1+v#2+w#0+w#1+w#2");
	CU_ASSERT(sli_sched_finish(&f.s, tu) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 2);

	/* 2 fit exactly. */
	CU_ASSERT(f.ctx.deploy(&f.ctx, pq) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(f.ctx.deploy(&f.ctx, s) == SL_EBUSY);
	CU_ASSERT(sli_sched_finish(&f.s, pq) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 2);
	CU_ASSERT(f.ctx.deploy(&f.ctx, s) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 1);
	/* Oversize while a 1-slot region runs: busy, not alone. */
	CU_ASSERT(f.ctx.deploy(&f.ctx, vw) == SL_EBUSY);
	CU_ASSERT(sli_sched_finish(&f.s, s) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 2);
	CU_ASSERT(f.ctx.deploy(&f.ctx, vw) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(sli_sched_finish(&f.s, vw) == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 2);
	expect_ready(&f, "");
	fixture_free(&f);

	/* Hybrid consumers are ready while slots are short: busy, then
	 * deployable once the producer frees its slot. */
	FIXTURE(&f, V({ "a", 2 }, { "b", 1 }), E({ "a", "b", BC, HFULL }), 2);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	expect_ready(&f, "b#0");
	CU_ASSERT(deploy(&f, "b#0") == SL_EBUSY);
	CU_ASSERT(f.ctx.region_state(&f.ctx, region_of(&f, "b#0")) == CREATED);
	CU_ASSERT(finish(&f, "a#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 1);
	CU_ASSERT(deploy(&f, "b#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	fixture_free(&f);

	/* No slots at all: one region at a time. */
	FIXTURE(&f, V({ "a", 3 }), NO_EDGES, 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(deploy(&f, "a#1") == 0);
	CU_ASSERT(deploy(&f, "a#0") == SL_EBUSY);
	CU_ASSERT(finish(&f, "a#1") == 0);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	fixture_free(&f);
}

/* free_slots is always the total less what DEPLOYED regions hold. */
static void
test_free_slots_accounting(void)
{
	struct fixture f;
	uint32_t n;

	/* regions of 3 tasks: 2 slots (a#0 and b#0 share one), 3 (a#2,
	 * a#3 and b#1 have three indices) and 3; then 1 each */
	FIXTURE(&f, V({ "a", 6 }, { "b", 3 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "b", "c", A2A, BLK }), 5);
	expect_regions(&f, "a#0+a#1+b#0 a#2+a#3+b#1 a#4+a#5+b#2 c#0 c#1");
	n = f.ctx.region_count(&f.ctx);
	CU_ASSERT(n == 5);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 5);
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 3);
	CU_ASSERT(deploy(&f, "a#2") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(deploy(&f, "a#4") == SL_EBUSY);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	/* Refused ops leave the count alone. */
	CU_ASSERT(deploy(&f, "a#0") == SL_ESTATE);
	CU_ASSERT(finish(&f, "a#4") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "c#0") == SL_ESTATE);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(finish(&f, "b#1") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 3);
	CU_ASSERT(finish(&f, "b#1") == SL_ESTATE);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 3);
	CU_ASSERT(deploy(&f, "a#4") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 0);
	CU_ASSERT(finish(&f, "a#0") == 0);
	CU_ASSERT(finish(&f, "a#5") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 5);
	expect_ready(&f, "c#0 c#1");
	CU_ASSERT(deploy(&f, "c#1") == 0);
	CU_ASSERT(deploy(&f, "c#0") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 3);
	CU_ASSERT(finish(&f, "c#0") == 0);
	CU_ASSERT(finish(&f, "c#1") == 0);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 5);
	for (uint32_t g = 0; g < n; g++)
		CU_ASSERT(f.ctx.region_state(&f.ctx, g) == FINISHED);
	fixture_free(&f);
}

static void
test_ctx(void)
{
	struct fixture f;
	const struct sl_sched_ctx *ctx;
	uint32_t out[8];

	FIXTURE(&f, V({ "a", 4 }, { "b", 2 }), E({ "a", "b", PW, PIPE }), 3);
	ctx = &f.ctx;
	CU_ASSERT(ctx->struct_size == sizeof(*ctx));
	CU_ASSERT(ctx->core != NULL);
	CU_ASSERT(ctx->region_count(ctx) == 2);
	CU_ASSERT(ctx->region_tasks(ctx, 0) == 3);
	CU_ASSERT(ctx->region_tasks(ctx, 1) == 3);
	CU_ASSERT(ctx->region_tasks(ctx, 2) == 0);
	CU_ASSERT(ctx->region_state(ctx, 0) == CREATED);
	CU_ASSERT(ctx->region_state(ctx, 2) < 0);
	CU_ASSERT(ctx->region_input_bytes(ctx, 0) == 0);
	CU_ASSERT(ctx->region_input_bytes(ctx, 7) == 0);
	CU_ASSERT(ctx->free_slots(ctx) == 3);
	CU_ASSERT(ctx->deploy(ctx, 2) < 0);
	CU_ASSERT(ctx->deploy(ctx, UINT32_MAX) < 0);
	CU_ASSERT(sli_sched_finish(&f.s, 2) < 0);
	CU_ASSERT(sli_sched_finish(&f.s, UINT32_MAX) < 0);
	CU_ASSERT(ctx->free_slots(ctx) == 3);
	CU_ASSERT(ctx->ready(ctx, out, 8) == 2);
	CU_ASSERT(out[0] == 0 && out[1] == 1);
	fixture_free(&f);

	/* An empty job: nothing to run. */
	{
		sl_job *job;

		CU_ASSERT_FATAL(sl_job_new("empty", &job) == 0);
		CU_ASSERT_FATAL(fixture_from_job(&f, job, 4) == 0);
		ctx = &f.ctx;
		CU_ASSERT(ctx->region_count(ctx) == 0);
		CU_ASSERT(ctx->ready(ctx, out, 8) == 0);
		CU_ASSERT(ctx->free_slots(ctx) == 4);
		CU_ASSERT(ctx->deploy(ctx, 0) < 0);
		fixture_free(&f);
	}
}

/* ready() is ascending whatever order regions became ready in; it fills at
 * most cap entries and returns the full count. */
static void
test_ready_order_and_cap(void)
{
	struct fixture f;
	const struct sl_sched_ctx *ctx;
	uint32_t out[8];

	FIXTURE(&f, V({ "a", 5 }, { "b", 5 }), E({ "a", "b", PW, BLK }), 8);
	ctx = &f.ctx;
	for (uint32_t k = 0; k < 8; k++)
		out[k] = 0xdeadbeef;
	CU_ASSERT(ctx->ready(ctx, NULL, 0) == 5);
	CU_ASSERT(ctx->ready(ctx, out, 0) == 5);
	CU_ASSERT(out[0] == 0xdeadbeef);
	CU_ASSERT(ctx->ready(ctx, out, 3) == 5);
	CU_ASSERT(out[0] == 0 && out[1] == 1 && out[2] == 2);
	CU_ASSERT(out[3] == 0xdeadbeef);
	finish_in_order(&f, "a#3 a#1 a#4 a#0 a#2",
	    "b#3 | b#1 b#3 | b#1 b#3 b#4 | b#0 b#1 b#3 b#4 | "
	    "b#0 b#1 b#2 b#3 b#4");
	for (uint32_t k = 0; k < 8; k++)
		out[k] = 0xdeadbeef;
	CU_ASSERT(ctx->ready(ctx, out, 8) == 5);
	for (uint32_t k = 0; k < 5; k++)
		CU_ASSERT(out[k] == region_of(&f, "b#0") + k);
	CU_ASSERT(out[5] == 0xdeadbeef);
	/* Deploying from the middle keeps the rest in order. */
	CU_ASSERT(deploy(&f, "b#2") == 0);
	CU_ASSERT(deploy(&f, "b#4") == 0);
	out[2] = 0xdeadbeef;
	CU_ASSERT(ctx->ready(ctx, out, 2) == 3);
	CU_ASSERT(out[2] == 0xdeadbeef);
	CU_ASSERT(ctx->ready(ctx, out, 3) == 3);
	CU_ASSERT(out[0] == region_of(&f, "b#0"));
	CU_ASSERT(out[1] == region_of(&f, "b#1"));
	CU_ASSERT(out[2] == region_of(&f, "b#3"));
	expect_ready(&f, "b#0 b#1 b#3");
	fixture_free(&f);
}

static void
test_bad_states(void)
{
	struct fixture f;

	FIXTURE(&f, V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, BLK }, { "a", "c", PW, HFULL }), 1);
	/* Not ready wins over busy. */
	CU_ASSERT(deploy(&f, "a#0") == 0);
	CU_ASSERT(deploy(&f, "b#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "c#0") == SL_EBUSY);
	/* Already running. */
	CU_ASSERT(deploy(&f, "a#0") == SL_ESTATE);
	CU_ASSERT(state_of(&f, "a#0") == DEPLOYED);
	/* Not running: CREATED (ready or not). */
	CU_ASSERT(finish(&f, "b#0") == SL_ESTATE);
	CU_ASSERT(finish(&f, "c#0") == SL_ESTATE);
	CU_ASSERT(state_of(&f, "b#0") == CREATED);
	CU_ASSERT(state_of(&f, "c#0") == CREATED);
	expect_ready(&f, "c#0");
	CU_ASSERT(finish(&f, "a#0") == 0);
	/* Not running: FINISHED; and a finished region is not redeployed. */
	CU_ASSERT(finish(&f, "a#0") == SL_ESTATE);
	CU_ASSERT(deploy(&f, "a#0") == SL_ESTATE);
	CU_ASSERT(state_of(&f, "a#0") == FINISHED);
	CU_ASSERT(f.ctx.free_slots(&f.ctx) == 1);
	/* A second finish must not make consumers ready twice. */
	expect_ready(&f, "b#0 c#0");
	CU_ASSERT(deploy(&f, "b#0") == 0);
	CU_ASSERT(finish(&f, "b#0") == 0);
	CU_ASSERT(finish(&f, "b#0") == SL_ESTATE);
	expect_ready(&f, "c#0");
	fixture_free(&f);
}

/* --- Random graphs and schedules against the naive reference. --- */

struct run_stats {
	uint64_t steps, deploys, finishes, busy, refused, early, restarts;
};

enum { MAXT = 32 };

/* One random valid schedule on f to the end, checking after every step:
 * the ready set against the naive rule from the model's states, the states
 * and free slots against the model, and every answer of deploy and finish
 * against what the rules say. Returns what went wrong first, or NULL. */
/* The slots region r needs by the placement rule: its distinct task
 * indices, counted pairwise. */
static uint32_t
naive_slots(const struct fixture *f, uint32_t r)
{
	uint32_t lo = f->p.r.start[r], hi = f->p.r.start[r + 1], n = 0;

	for (uint32_t a = lo; a < hi; a++) {
		uint32_t ia = sli_task_index(&f->p.x, f->p.r.tasks[a]), b;

		for (b = lo; b < a; b++)
			if (sli_task_index(&f->p.x, f->p.r.tasks[b]) == ia)
				break;
		n += b == a;
	}
	return n;
}

static const char *
random_schedule(struct fixture *f, uint32_t slots, const struct pair *pairs,
    uint32_t np, struct run_stats *st)
{
	const struct sl_sched_ctx *ctx = &f->ctx;
	uint32_t n = f->p.r.n, cnt, got[MAXT], running[MAXT], nrun = 0;
	uint64_t used = 0;
	uint8_t state[MAXT] = { 0 }, want[MAXT];
	uint32_t left = n, restarts = 0;

	for (uint32_t step = 0; step < (8 + 8 * restarts) * n + 16; step++) {
		uint32_t free_want, r;
		int rv;

		st->steps++;
		if (naive_ready(f, pairs, np, state, want) != 0)
			return "a pipelined pair crosses regions";
		cnt = ctx->ready(ctx, got, MAXT);
		if (cnt > n)
			return "ready count exceeds the regions";
		for (uint32_t k = 0; k < cnt; k++)
			if (got[k] >= n || !want[got[k]] ||
			    (k > 0 && got[k - 1] >= got[k]))
				return "ready list differs from the naive rule";
		for (uint32_t g = 0; g < n; g++) {
			cnt -= want[g];
			if (ctx->region_state(ctx, g) != state[g])
				return "region state differs from the model";
		}
		if (cnt != 0)
			return "ready count differs from the naive rule";
		free_want = used >= slots ? 0 : (uint32_t)(slots - used);
		if (ctx->free_slots(ctx) != free_want)
			return "free slots differ from the model";
		cnt = ctx->ready(ctx, got, MAXT);
		if (left == 0)
			return cnt == 0 ? NULL : "ready regions after the end";

		/* Now and then a failover: a region that ran or runs fails,
		 * and the regions DESIGN §4 gives restart. */
		if (restarts < 3 && rnd(10) == 0) {
			uint8_t restart[MAXT] = { 0 };
			uint32_t t;

			r = rnd(n);
			if (state[r] == CREATED)
				continue;
			t = f->p.r.tasks[f->p.r.start[r]];
			if (sli_failover_regions(
			        &f->p.x, &f->p.r, &t, 1, NULL, restart) != 0)
				return "failover set failed";
			sli_sched_restart(&f->s, restart);
			for (uint32_t g = 0; g < n; g++) {
				if (!restart[g] || state[g] == CREATED)
					continue;
				if (state[g] == DEPLOYED) {
					for (uint32_t k = 0; k < nrun; k++)
						if (running[k] == g)
							running[k] =
							    running[--nrun];
					used -= naive_slots(f, g);
				} else {
					left++;
				}
				state[g] = CREATED;
			}
			restarts++;
			st->restarts++;
			continue;
		}
		/* Now and then an op that must be refused. */
		if (rnd(8) == 0) {
			r = rnd(n);
			if (state[r] != CREATED || !want[r]) {
				if (ctx->deploy(ctx, r) != SL_ESTATE)
					return "deploy of a region not ready";
				st->refused++;
			}
			if (state[r] != DEPLOYED) {
				if (sli_sched_finish(&f->s, r) != SL_ESTATE)
					return "finish of a region not running";
				st->refused++;
			}
			continue;
		}
		if (cnt > 0 && (nrun == 0 || rnd(2))) {
			uint32_t need;

			r = got[rnd(cnt)];
			need = naive_slots(f, r);
			rv = ctx->deploy(ctx, r);
			if (need > free_want && nrun > 0) {
				if (rv != SL_EBUSY)
					return "deploy should be busy";
				st->busy++;
				continue;
			}
			if (rv != 0)
				return "deploy of a ready region failed";
			/* A region whose producer still runs. */
			for (uint32_t k = 0; k < np; k++) {
				uint32_t rp = f->p.r.of_task[pairs[k].p];

				if (f->p.r.of_task[pairs[k].c] == r &&
				    state[rp] == DEPLOYED) {
					st->early++;
					break;
				}
			}
			state[r] = DEPLOYED;
			used += need;
			running[nrun++] = r;
			st->deploys++;
		} else if (nrun > 0) {
			uint32_t k = rnd(nrun);

			r = running[k];
			running[k] = running[--nrun];
			if (sli_sched_finish(&f->s, r) != 0)
				return "finish of a running region failed";
			state[r] = FINISHED;
			used -= naive_slots(f, r);
			left--;
			st->finishes++;
		} else {
			return "stuck: nothing ready, nothing running";
		}
	}
	return "schedule did not end";
}

static void
test_random_against_naive(void)
{
	uint64_t seed = test_seed();
	struct run_stats st = { 0 };
	uint32_t bad = 0, rounds = 0;

	printf("\n    seed %llu (set SL_TEST_SEED to repeat) ",
	    (unsigned long long)seed);
	rng_state = seed;
	for (int round = 0; round < 400; round++) {
		struct fixture f;
		struct pair *pairs;
		uint32_t np, slots = rnd(9);
		const char *why;

		if (fixture_from_job(&f, random_job(), slots) != 0) {
			CU_FAIL("random job failed to build");
			continue;
		}
		if (f.p.x.ntasks > MAXT) {
			CU_FAIL("random job too large");
			fixture_free(&f);
			continue;
		}
		np = expand_pairs(&f.p.x, &pairs);
		/* A few schedules of the same job, each from a fresh state. */
		for (int k = 0; k < 3; k++) {
			if (k > 0) {
				sli_sched_fini(&f.s);
				CU_ASSERT_FATAL(sli_sched_init(&f.s, &f.p.x,
				                    &f.p.r, slots) == 0);
				sli_sched_ctx_init(&f.ctx, &f.s);
			}
			why = random_schedule(&f, slots, pairs, np, &st);
			rounds++;
			if (why != NULL && bad++ < 3) {
				uint32_t *all =
				    malloc((f.p.r.n + 1) * sizeof(*all));
				char *regs;

				for (uint32_t g = 0; g < f.p.r.n; g++)
					all[g] = g;
				regs = render_regions(&f, all, f.p.r.n);
				fprintf(stderr,
				    "\nround %d, schedule %d (%u slots): %s\n"
				    "  regions: %s\n",
				    round, k, slots, why, regs);
				free(regs);
				free(all);
			}
			CU_ASSERT(why == NULL);
		}
		free(pairs);
		fixture_free(&f);
	}
	printf("\n    %u schedules, %llu steps: %llu deploys, %llu finishes, "
	       "%llu busy, %llu refused, %llu beside a running producer, %llu "
	       "failovers ",
	    rounds, (unsigned long long)st.steps,
	    (unsigned long long)st.deploys, (unsigned long long)st.finishes,
	    (unsigned long long)st.busy, (unsigned long long)st.refused,
	    (unsigned long long)st.early, (unsigned long long)st.restarts);
	/* The schedules must exercise every rule, not only the easy ones. */
	CU_ASSERT(st.deploys > 2000);
	CU_ASSERT(st.busy > 100);
	CU_ASSERT(st.refused > 100);
	CU_ASSERT(st.early > 100);
	CU_ASSERT(st.restarts > 300);
}

/* --- Scale: never m x n. --- */

static void
test_scale_all_to_all(void)
{
	enum { N = 10000 };
	struct fixture f;
	const struct sl_sched_ctx *ctx;
	uint32_t *out;
	double t0, t1, t2;
	int ok = 1;

	CU_ASSERT_FATAL(fixture_plan(&f,
	                    make_job(V({ "a", N }, { "b", N }),
	                        E({ "a", "b", A2A, BLK }))) == 0);
	CU_ASSERT_FATAL(f.p.r.n == 2 * N);
	ctx = &f.ctx;
	t0 = now();
	CU_ASSERT_FATAL(fixture_sched(&f, 4) == 0);
	t1 = now();
	ok &= ctx->ready(ctx, NULL, 0) == N;
	for (uint32_t g = 0; g < N && ok; g++) {
		ok &= ctx->deploy(ctx, g) == 0;
		ok &= ctx->free_slots(ctx) == 3;
		ok &= sli_sched_finish(&f.s, g) == 0;
		ok &= ctx->free_slots(ctx) == 4;
		/* No consumer before the last producer. */
		ok &= ctx->ready(ctx, NULL, 0) == (g + 1 < N ? N - g - 1 : N);
	}
	t2 = now();
	printf("\n    10000 x 10000 all_to_all blocking: init %.1f ms, "
	       "10000 deploy+finish %.1f ms ",
	    (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	CU_ASSERT(ok);
	CU_ASSERT(t2 - t0 < 1.0);
	out = malloc(N * sizeof(*out));
	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT(ctx->ready(ctx, out, N) == N);
	for (uint32_t k = 0; k < N; k++)
		if (out[k] != N + k) {
			CU_FAIL("every consumer must be ready, in order");
			break;
		}
	free(out);
	fixture_free(&f);
}

/* The same through a hybrid broadcast edge: consumers ready once the last
 * producer starts. */
static void
test_scale_broadcast_hybrid(void)
{
	enum { N = 10000 };
	struct fixture f;
	const struct sl_sched_ctx *ctx;
	double t0, t1;
	int ok = 1;

	t0 = now();
	CU_ASSERT_FATAL(
	    fixture_from_job(&f,
	        make_job(V({ "a", N }, { "b", N }), E({ "a", "b", BC, HSEL })),
	        2 * N) == 0);
	ctx = &f.ctx;
	for (uint32_t g = N; g-- > 0 && ok;) {
		ok &= ctx->ready(ctx, NULL, 0) == g + 1;
		ok &= ctx->deploy(ctx, g) == 0;
	}
	ok &= ctx->ready(ctx, NULL, 0) == N;
	ok &= ctx->free_slots(ctx) == N;
	t1 = now();
	printf("\n    10000 x 10000 broadcast hybrid_selective: %.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(ok);
	CU_ASSERT(t1 - t0 < 1.0);
	fixture_free(&f);
}

/*
 * Readiness is documented as linear in tasks + edges over a whole job. A
 * strategy deploys and finishes 100 000 single-task regions one at a time,
 * in three orders; each run gets five seconds (a linear implementation
 * needs well under one even under ASan; a quadratic one, minutes; the
 * margin is for a loaded machine) and gives up once they are spent.
 */
static int
one_by_one(struct fixture *f, uint32_t n, int descending, const char *what)
{
	const struct sl_sched_ctx *ctx = &f->ctx;
	double t0 = now(), t;
	uint32_t done = 0;
	int ok = 1;

	for (; done < n && ok; done++) {
		uint32_t g = descending ? n - 1 - done : done, first;

		if (!descending) {
			/* FIFO: the first ready region. */
			ok &= ctx->ready(ctx, &first, 1) >= 1 && first == g;
		}
		ok &= ctx->deploy(ctx, g) == 0;
		ok &= sli_sched_finish(&f->s, g) == 0;
		if ((done & 1023) == 1023 && now() - t0 > 5.0)
			break;
	}
	t = now() - t0;
	if (done < n)
		printf("\n    %s: gave up after %u of %u regions, %.0f ms ",
		    what, done + 1, n, t * 1e3);
	else
		printf("\n    %s: %u regions, %.1f ms ", what, n, t * 1e3);
	CU_ASSERT(ok);
	return ok && done == n && t < 5.0;
}

static void
test_scale_many_ready(void)
{
	enum { N = 100000 };
	struct fixture f;

	/* 100 000 sources ready at once, feeding one consumer. */
	CU_ASSERT_FATAL(
	    fixture_from_job(&f,
	        make_job(V({ "a", N }, { "b", 1 }), E({ "a", "b", A2A, BLK })),
	        4) == 0);
	CU_ASSERT(one_by_one(&f, N, 0, "100000 sources, first ready first"));
	fixture_free(&f);

	CU_ASSERT_FATAL(
	    fixture_from_job(&f,
	        make_job(V({ "a", N }, { "b", 1 }), E({ "a", "b", A2A, BLK })),
	        4) == 0);
	CU_ASSERT(one_by_one(&f, N, 1, "100000 sources, last ready first"));
	fixture_free(&f);

	/* Consumers become ready in descending order: each lands in front
	 * of those ready before it. */
	CU_ASSERT_FATAL(
	    fixture_from_job(&f,
	        make_job(V({ "a", N }, { "b", N }), E({ "a", "b", PW, BLK })),
	        4) == 0);
	CU_ASSERT(one_by_one(
	    &f, N, 1, "100000 -> 100000 pointwise, producers last first"));
	fixture_free(&f);
}

/* Many all_to_all edges between many regions: init must not cost regions
 * times edges. A chain of 3000 vertices of parallelism 100 (300 000
 * regions, 2999 all_to_all blocking edges). */
static void
test_scale_many_edges(void)
{
	enum { NV = 3000, PAR = 100 };
	struct fixture f;
	sl_job *job;
	char a[16], b[16];
	double t0, t1;
	int ok = 1;

	CU_ASSERT_FATAL(sl_job_new("chain", &job) == 0);
	for (int i = 0; i < NV; i++) {
		snprintf(a, sizeof(a), "v%d", i);
		ok &= sl_job_add_vertex(job, a, "op", PAR, NULL) == 0;
		if (i > 0) {
			snprintf(b, sizeof(b), "v%d", i - 1);
			ok &= add_edge(job, b, a, A2A, BLK) == 0;
		}
	}
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_FATAL(fixture_plan(&f, job) == 0);
	CU_ASSERT_FATAL(f.p.r.n == NV * PAR);
	t0 = now();
	CU_ASSERT_FATAL(fixture_sched(&f, 4) == 0);
	t1 = now();
	printf("\n    %d x %d all_to_all chain: init %.1f ms ", NV, PAR,
	    (t1 - t0) * 1e3);
	/* linear: about 0.5 s under ASan; quadratic would be hours. The
	 * bound leaves room for a loaded machine, not for a worse order. */
	CU_ASSERT(t1 - t0 < 10.0);
	CU_ASSERT(f.ctx.ready(&f.ctx, NULL, 0) == PAR);
	/* The first stage, then the second is ready. */
	for (uint32_t g = 0; g < PAR; g++) {
		ok &= f.ctx.deploy(&f.ctx, g) == 0;
		ok &= sli_sched_finish(&f.s, g) == 0;
	}
	CU_ASSERT(ok);
	CU_ASSERT(f.ctx.ready(&f.ctx, NULL, 0) == PAR);
	fixture_free(&f);
}

static const struct sl_test tests[] = {
	{ "chain of blocking edges", test_chain_blocking },
	{ "hybrid edges", test_hybrid },
	{ "pointwise blocking m > n", test_pointwise_fan_in },
	{ "pointwise blocking m < n", test_pointwise_fan_out },
	{ "all_to_all blocking", test_all_to_all_blocking },
	{ "broadcast", test_broadcast },
	{ "merged cycle", test_merged_cycle },
	{ "diamonds of mixed types", test_diamond },
	{ "slots: busy and oversize regions", test_slots },
	{ "free slots accounting", test_free_slots_accounting },
	{ "ctx ops", test_ctx },
	{ "ready order and cap", test_ready_order_and_cap },
	{ "deploy and finish in the wrong state", test_bad_states },
	{ "random schedules against the naive reference",
	    test_random_against_naive },
	{ "scale: 10000 x 10000 all_to_all", test_scale_all_to_all },
	{ "scale: 10000 x 10000 broadcast hybrid",
	    test_scale_broadcast_hybrid },
	{ "scale: 100000 ready regions one by one", test_scale_many_ready },
	{ "scale: many all_to_all edges", test_scale_many_edges },
	{ NULL, NULL },
};

SL_TEST_MAIN("schedule", tests)
