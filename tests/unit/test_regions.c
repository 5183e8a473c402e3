/* Pipelined regions (core/plan/regions.c): exact regions for hand-made
 * graphs, a randomized cross-check against a naive reference that expands
 * every edge into task pairs, and the 10 000 x 10 000 scale. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_fixture.h"
#include "plan/regions.h"
#include "sl_test.h"

/* The structure every result must have: regions partition the tasks,
 * nonempty, tasks ascending within each, of_task agreeing with tasks. */
static int
check_shape(const struct sli_exec *x, const struct sli_regions *r)
{
	if (r->start[0] != 0 || r->start[r->n] != x->ntasks)
		return 0;
	for (uint32_t g = 0; g < r->n; g++) {
		if (r->start[g] >= r->start[g + 1])
			return 0;
		for (uint32_t k = r->start[g]; k < r->start[g + 1]; k++) {
			if (r->tasks[k] >= x->ntasks ||
			    r->of_task[r->tasks[k]] != g)
				return 0;
			if (k > r->start[g] && r->tasks[k - 1] >= r->tasks[k])
				return 0;
		}
	}
	return 1;
}

/* "a#0 b#0 | a#1 b#1": the regions in their order, tasks in theirs. */
static char *
render(const struct sli_exec *x, const struct sli_regions *r)
{
	size_t cap = 64 + (size_t)x->ntasks * 32, len = 0;
	char *s = malloc(cap);

	s[0] = '\0';
	for (uint32_t g = 0; g < r->n; g++) {
		if (g > 0)
			len += snprintf(s + len, cap - len, " |");
		for (uint32_t k = r->start[g]; k < r->start[g + 1]; k++) {
			char name[160];

			sli_task_name(x, r->tasks[k], name, sizeof(name));
			len += snprintf(s + len, cap - len, "%s%s",
			    len > 0 ? " " : "", name);
		}
	}
	return s;
}

static void
expect_regions_at(
    int line, const struct tv *v, const struct te *e, const char *want)
{
	struct plan f;
	char *got;

	if (plan_build(&f, make_job(v, e)) != 0) {
		fprintf(stderr, "\nline %d: building failed: %s\n", line,
		    sl_errdetail());
		CU_FAIL("building the fixture failed");
		return;
	}
	CU_ASSERT(check_shape(&f.x, &f.r));
	got = render(&f.x, &f.r);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\nline %d:\n  want: %s\n  got:  %s\n", line,
		    want, got);
		CU_FAIL("regions differ");
	}
	free(got);
	plan_free(&f);
}

#define expect_regions(v, e, want) expect_regions_at(__LINE__, v, e, want)

static void
test_single_vertex(void)
{
	expect_regions(V({ "a", 1 }), NO_EDGES, "a#0");
	expect_regions(V({ "a", 3 }), NO_EDGES, "a#0 | a#1 | a#2");
}

static void
test_empty_job(void)
{
	struct plan f;
	sl_job *job;

	CU_ASSERT_FATAL(sl_job_new("empty", &job) == 0);
	CU_ASSERT_FATAL(plan_build(&f, job) == 0);
	CU_ASSERT(f.r.n == 0);
	CU_ASSERT(f.r.start[0] == 0);
	plan_free(&f);
}

static void
test_chain_pipelined(void)
{
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "b", "c", PW, PIPE }),
	    "a#0 b#0 c#0 | a#1 b#1 c#1");
	expect_regions(V({ "a", 2 }, { "b", 3 }, { "c", 1 }),
	    E({ "a", "b", A2A, PIPE }, { "b", "c", A2A, PIPE }),
	    "a#0 a#1 b#0 b#1 b#2 c#0");
}

static void
test_chain_blocking(void)
{
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, BLK }, { "b", "c", PW, BLK }),
	    "a#0 | a#1 | b#0 | b#1 | c#0 | c#1");
	expect_regions(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", A2A, BLK }),
	    "a#0 | a#1 | b#0 | b#1 | b#2");
}

static void
test_chain_mixed(void)
{
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }, { "d", 2 }),
	    E({ "a", "b", PW, PIPE }, { "b", "c", PW, BLK },
	        { "c", "d", PW, PIPE }),
	    "a#0 b#0 | a#1 b#1 | c#0 d#0 | c#1 d#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 3 }),
	    E({ "a", "b", A2A, BLK }, { "b", "c", A2A, PIPE }),
	    "a#0 | a#1 | b#0 b#1 c#0 c#1 c#2");
}

static void
test_diamond(void)
{
	const struct tv *v = V({ "a", 1 }, { "b", 2 }, { "c", 2 }, { "d", 1 });

	expect_regions(v,
	    E({ "a", "b", A2A, PIPE }, { "a", "c", A2A, PIPE },
	        { "b", "d", A2A, PIPE }, { "c", "d", A2A, PIPE }),
	    "a#0 b#0 b#1 c#0 c#1 d#0");
	expect_regions(v,
	    E({ "a", "b", A2A, BLK }, { "a", "c", A2A, BLK },
	        { "b", "d", A2A, BLK }, { "c", "d", A2A, BLK }),
	    "a#0 | b#0 | b#1 | c#0 | c#1 | d#0");
	/* Two regions, the second after the first through both paths. */
	expect_regions(v,
	    E({ "a", "b", A2A, PIPE }, { "a", "c", A2A, BLK },
	        { "b", "d", A2A, BLK }, { "c", "d", A2A, PIPE }),
	    "a#0 b#0 b#1 | c#0 c#1 d#0");
	/* One pipelined side joins a, b and d; c sits between them, which
	 * closes a cycle: one region. */
	expect_regions(v,
	    E({ "a", "b", A2A, PIPE }, { "a", "c", A2A, BLK },
	        { "b", "d", A2A, PIPE }, { "c", "d", A2A, BLK }),
	    "a#0 b#0 b#1 c#0 c#1 d#0");
}

static void
test_pointwise_equal(void)
{
	expect_regions(V({ "a", 3 }, { "b", 3 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 | a#1 b#1 | a#2 b#2");
	expect_regions(V({ "a", 3 }, { "b", 3 }), E({ "a", "b", PW, BLK }),
	    "a#0 | a#1 | a#2 | b#0 | b#1 | b#2");
}

static void
test_pointwise_fan_in(void)
{
	expect_regions(V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, PIPE }),
	    "a#0 a#1 a#2 b#0 | a#3 a#4 a#5 b#1");
	expect_regions(V({ "a", 3 }, { "b", 2 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 | a#1 a#2 b#1");
	expect_regions(V({ "a", 5 }, { "b", 3 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 | a#1 a#2 b#1 | a#3 a#4 b#2");
	expect_regions(V({ "a", 6 }, { "b", 2 }), E({ "a", "b", PW, BLK }),
	    "a#0 | a#1 | a#2 | a#3 | a#4 | a#5 | b#0 | b#1");
	expect_regions(V({ "a", 4 }, { "b", 1 }), E({ "a", "b", PW, PIPE }),
	    "a#0 a#1 a#2 a#3 b#0");
}

static void
test_pointwise_fan_out(void)
{
	expect_regions(V({ "a", 2 }, { "b", 6 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 b#1 b#2 | a#1 b#3 b#4 b#5");
	expect_regions(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 | a#1 b#1 b#2");
	expect_regions(V({ "a", 3 }, { "b", 5 }), E({ "a", "b", PW, PIPE }),
	    "a#0 b#0 | a#1 b#1 b#2 | a#2 b#3 b#4");
	expect_regions(V({ "a", 2 }, { "b", 6 }), E({ "a", "b", PW, HFULL }),
	    "a#0 | a#1 | b#0 | b#1 | b#2 | b#3 | b#4 | b#5");
}

static void
test_pointwise_chains(void)
{
	/* 4 -> 2 -> 4: fan in then out keeps two regions. */
	expect_regions(V({ "a", 4 }, { "b", 2 }, { "c", 4 }),
	    E({ "a", "b", PW, PIPE }, { "b", "c", PW, PIPE }),
	    "a#0 a#1 b#0 c#0 c#1 | a#2 a#3 b#1 c#2 c#3");
	/* 2 -> 3 and 3 -> 2: the middle task ties both halves together. */
	expect_regions(V({ "a", 2 }, { "b", 3 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "b", "c", PW, PIPE }),
	    "a#0 b#0 c#0 | a#1 b#1 b#2 c#1");
	/* Both a tasks feed m#0 pipelined, which joins the two halves of
	 * a -> c; the blocking m -> c then stays inside the region. */
	expect_regions(V({ "a", 2 }, { "m", 1 }, { "c", 4 }),
	    E({ "a", "c", PW, PIPE }, { "a", "m", PW, PIPE },
	        { "m", "c", PW, BLK }),
	    "a#0 a#1 m#0 c#0 c#1 c#2 c#3");
}

static void
test_all_to_all_pipelined(void)
{
	expect_regions(V({ "a", 3 }, { "b", 4 }), E({ "a", "b", A2A, PIPE }),
	    "a#0 a#1 a#2 b#0 b#1 b#2 b#3");
	expect_regions(
	    V({ "a", 1 }, { "b", 1 }), E({ "a", "b", A2A, PIPE }), "a#0 b#0");
}

static void
test_broadcast(void)
{
	expect_regions(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", BC, PIPE }),
	    "a#0 a#1 b#0 b#1 b#2");
	expect_regions(V({ "a", 2 }, { "b", 3 }), E({ "a", "b", BC, BLK }),
	    "a#0 | a#1 | b#0 | b#1 | b#2");
	/* A broadcast side input into a pipelined pointwise pair. */
	expect_regions(V({ "a", 2 }, { "s", 1 }, { "b", 2 }),
	    E({ "a", "b", PW, PIPE }, { "s", "b", BC, BLK }),
	    "s#0 | a#0 b#0 | a#1 b#1");
}

static void
test_hybrid(void)
{
	expect_regions(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", PW, HFULL }),
	    "a#0 | a#1 | b#0 | b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", PW, HSEL }),
	    "a#0 | a#1 | b#0 | b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", A2A, HFULL }),
	    "a#0 | a#1 | b#0 | b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }), E({ "a", "b", BC, HSEL }),
	    "a#0 | a#1 | b#0 | b#1");
}

static void
test_classic_cycle(void)
{
	/* Tasks are numbered in topological order: a, c, b. */
	expect_regions(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 c#0 b#0");
	/* Pointwise, one group per index. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 c#0 b#0 | a#1 c#1 b#1");
	/* An all-to-all leg connects the groups: one region. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", A2A, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 a#1 c#0 c#1 b#0 b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", A2A, BLK }),
	    "a#0 a#1 c#0 c#1 b#0 b#1");
	/* Hybrid edges close cycles as blocking ones do. */
	expect_regions(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, HSEL },
	        { "c", "b", BC, HFULL }),
	    "a#0 c#0 b#0");
	/* A cycle group beside an unrelated chain. */
	expect_regions(
	    V({ "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 }, { "e", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }, { "d", "e", PW, BLK }),
	    "a#0 c#0 b#0 | d#0 | e#0");
}

static void
test_task_level_cycles(void)
{
	/* a#i and b#i are pipelined; c#0 reads both a tasks and feeds both b
	 * tasks: a cycle through each pair, one region. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 a#1 c#0 b#0 b#1");
	/* 2 -> 4 shapes: cycles stay within each half. */
	expect_regions(V({ "a", 2 }, { "b", 4 }, { "c", 4 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 c#0 c#1 b#0 b#1 | a#1 c#2 c#3 b#2 b#3");
	/* The blocking detour goes through a 4 -> 2 -> 4 pinch which is
	 * pointwise as well: halves still apart. */
	expect_regions(V({ "a", 4 }, { "b", 4 }, { "c", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, BLK },
	        { "c", "b", PW, BLK }),
	    "a#0 a#1 c#0 b#0 b#1 | a#2 a#3 c#1 b#2 b#3");
	/* No way back from c#0: the groups stay apart, c#0 after both. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 1 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", PW, HFULL }),
	    "a#0 b#0 | a#1 b#1 | c#0");
}

static void
test_parallel_edges(void)
{
	/* A blocking edge inside a pipelined region is no cycle. */
	expect_regions(V({ "a", 2 }, { "b", 2 }),
	    E({ "a", "b", PW, PIPE }, { "a", "b", PW, BLK }),
	    "a#0 b#0 | a#1 b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }),
	    E({ "a", "b", PW, BLK }, { "a", "b", A2A, PIPE }),
	    "a#0 a#1 b#0 b#1");
	expect_regions(V({ "a", 2 }, { "b", 2 }),
	    E({ "a", "b", A2A, BLK }, { "a", "b", BC, HSEL }),
	    "a#0 | a#1 | b#0 | b#1");
}

static void
test_topological_numbering(void)
{
	/* {a, c} has the smaller task but consumes from {b}. */
	expect_regions(V({ "a", 1 }, { "b", 1 }, { "c", 1 }),
	    E({ "a", "c", PW, PIPE }, { "b", "c", PW, BLK }), "b#0 | a#0 c#0");
	/* Both b tasks feed both pipelined groups through one hub. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "c", PW, PIPE }, { "b", "c", A2A, BLK }),
	    "b#0 | b#1 | a#0 c#0 | a#1 c#1");
	/* Only b#1 feeds the second group; b#0 only the first. */
	expect_regions(V({ "a", 2 }, { "b", 2 }, { "c", 2 }),
	    E({ "a", "c", PW, PIPE }, { "b", "c", PW, BLK }),
	    "b#0 | a#0 c#0 | b#1 | a#1 c#1");
	/* Ties among ready regions go to the smallest task. */
	expect_regions(V({ "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 }),
	    E({ "a", "b", PW, BLK }, { "c", "d", PW, BLK }),
	    "a#0 | b#0 | c#0 | d#0");
	/* Vertices added out of order: tasks follow the topological order
	 * (z, y, x); regions follow it too. */
	expect_regions(V({ "x", 1 }, { "y", 2 }, { "z", 1 }),
	    E({ "z", "y", A2A, BLK }, { "y", "x", A2A, HFULL }),
	    "z#0 | y#0 | y#1 | x#0");
}

/* A cycle as long as the graph: a blocking chain of n vertices closed by a
 * pipelined edge from the first to the last. Recursion would overflow. */
static void
test_deep_cycle(void)
{
	enum { N = 2000 };
	struct plan f;
	sl_job *job;
	char a[16], b[16];
	int ok = 1;

	CU_ASSERT_FATAL(sl_job_new("deep", &job) == 0);
	for (int i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "v%d", i);
		ok &= sl_job_add_vertex(job, a, "op", 1, NULL) == 0;
		if (i > 0) {
			snprintf(b, sizeof(b), "v%d", i - 1);
			ok &= add_edge(job, b, a, PW, BLK) == 0;
		}
	}
	ok &= add_edge(job, "v0", "v1999", PW, PIPE) == 0;
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_FATAL(plan_build(&f, job) == 0);
	CU_ASSERT(f.r.n == 1);
	CU_ASSERT(check_shape(&f.x, &f.r));
	plan_free(&f);

	/* Without the closing edge: a chain of N regions, in order. */
	CU_ASSERT_FATAL(sl_job_new("deep", &job) == 0);
	for (int i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "v%d", i);
		ok &= sl_job_add_vertex(job, a, "op", 1, NULL) == 0;
		if (i > 0) {
			snprintf(b, sizeof(b), "v%d", i - 1);
			ok &= add_edge(job, b, a, PW, HFULL) == 0;
		}
	}
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_FATAL(plan_build(&f, job) == 0);
	CU_ASSERT(f.r.n == N);
	for (uint32_t t = 0; t < f.x.ntasks; t++)
		CU_ASSERT(f.r.of_task[t] == t);
	plan_free(&f);
}

static void
test_bad_arguments(void)
{
	struct sli_regions r;

	CU_ASSERT(sli_regions_build(NULL, &r) == SL_EINVAL);
}

/* --- The naive reference. --- */

enum { MAXT = 64 };

/* Regions by definition: tasks are mutually reachable when a pipelined
 * pair joins them (both ways) or a path of pairs runs both ways; the
 * region's key is its smallest task; numbering picks, among regions whose
 * producers are all numbered, the smallest key. */
static void
naive_regions(const struct sli_exec *x, uint32_t *of_task, uint32_t *nreg)
{
	static uint8_t reach[MAXT][MAXT];
	struct pair *pairs;
	uint32_t n = x->ntasks, np = expand_pairs(x, &pairs);
	uint32_t key[MAXT], number[MAXT], next = 0;

	memset(reach, 0, sizeof(reach));
	for (uint32_t t = 0; t < n; t++)
		reach[t][t] = 1;
	for (uint32_t k = 0; k < np; k++) {
		reach[pairs[k].p][pairs[k].c] = 1;
		if (x->job->e[pairs[k].e].type == PIPE)
			reach[pairs[k].c][pairs[k].p] = 1;
	}
	free(pairs);
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = 0; j < n; j++)
				if (reach[i][k] && reach[k][j])
					reach[i][j] = 1;
	for (uint32_t t = 0; t < n; t++) {
		key[t] = t;
		for (uint32_t u = 0; u < t; u++)
			if (reach[t][u] && reach[u][t]) {
				key[t] = u;
				break;
			}
		number[t] = UINT32_MAX;
	}
	for (;;) {
		uint32_t best = UINT32_MAX;

		/* A region is ready when every task that reaches it is in a
		 * numbered region or in itself. */
		for (uint32_t t = 0; t < n && best == UINT32_MAX; t++) {
			int ready = key[t] == t && number[t] == UINT32_MAX;

			for (uint32_t u = 0; u < n && ready; u++)
				if (reach[u][t] && key[u] != t &&
				    number[key[u]] == UINT32_MAX)
					ready = 0;
			if (ready)
				best = t;
		}
		if (best == UINT32_MAX)
			break;
		number[best] = next++;
	}
	for (uint32_t t = 0; t < n; t++)
		of_task[t] = number[key[t]];
	*nreg = next;
}

static void
test_random_against_naive(void)
{
	uint64_t seed = test_seed();
	uint32_t of_task[MAXT], nreg, bad = 0, total_regions = 0;

	printf("\n    seed %llu (set SL_TEST_SEED to repeat) ",
	    (unsigned long long)seed);
	rng_state = seed;
	for (int round = 0; round < 300; round++) {
		struct plan f;

		if (plan_build(&f, random_job()) != 0) {
			CU_FAIL("random job failed to build");
			continue;
		}
		CU_ASSERT(check_shape(&f.x, &f.r));
		naive_regions(&f.x, of_task, &nreg);
		total_regions += nreg;
		int same = nreg == f.r.n;
		for (uint32_t t = 0; t < f.x.ntasks && same; t++)
			same = of_task[t] == f.r.of_task[t];
		if (!same && bad++ < 3) {
			char *got = render(&f.x, &f.r);

			fprintf(
			    stderr, "\nround %d: got %s\n  naive:", round, got);
			for (uint32_t t = 0; t < f.x.ntasks; t++)
				fprintf(stderr, " %u", of_task[t]);
			fprintf(stderr, "\n");
			free(got);
		}
		CU_ASSERT(same);
		plan_free(&f);
	}
	/* The generator must produce interesting graphs, not all-singletons. */
	CU_ASSERT(total_regions > 300);
}

/* --- Scale: never m x n. --- */

static sl_job *
two_vertex_job(int32_t m, int32_t n, int dist, int type)
{
	return make_job(V({ "a", m }, { "b", n }), E({ "a", "b", dist, type }));
}

static void
test_scale_all_to_all(void)
{
	struct plan f;
	double t0, t1;

	t0 = now();
	CU_ASSERT_FATAL(
	    plan_build(&f, two_vertex_job(10000, 10000, A2A, BLK)) == 0);
	t1 = now();
	printf("\n    10000 x 10000 all_to_all blocking: %.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(f.r.n == 20000);
	for (uint32_t t = 0; t < f.x.ntasks; t++)
		if (f.r.of_task[t] != t) {
			CU_FAIL("blocking all_to_all: region k must be task k");
			break;
		}
	plan_free(&f);

	t0 = now();
	CU_ASSERT_FATAL(
	    plan_build(&f, two_vertex_job(10000, 10000, A2A, PIPE)) == 0);
	t1 = now();
	printf("\n    10000 x 10000 all_to_all pipelined: %.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(f.r.n == 1);
	CU_ASSERT(f.r.start[1] == 20000);
	plan_free(&f);

	CU_ASSERT_FATAL(
	    plan_build(&f, two_vertex_job(10000, 10000, BC, HSEL)) == 0);
	CU_ASSERT(f.r.n == 20000);
	plan_free(&f);
}

/* A cycle through two 10 000-wide all-to-all blocking edges: everything
 * merges, through the hubs. */
static void
test_scale_cycle_through_hubs(void)
{
	struct plan f;
	sl_job *job;
	double t0, t1;

	t0 = now();
	job = make_job(V({ "a", 10000 }, { "b", 10000 }, { "c", 10000 }),
	    E({ "a", "b", PW, PIPE }, { "a", "c", A2A, BLK },
	        { "c", "b", A2A, BLK }));
	CU_ASSERT_FATAL(plan_build(&f, job) == 0);
	t1 = now();
	printf("\n    3 x 10000 tasks, cycle through hubs: %.1f ms ",
	    (t1 - t0) * 1e3);
	CU_ASSERT(t1 - t0 < 1.0);
	CU_ASSERT(f.r.n == 1);
	CU_ASSERT(check_shape(&f.x, &f.r));
	plan_free(&f);
}

static const struct sl_test tests[] = {
	{ "single vertex", test_single_vertex },
	{ "empty job", test_empty_job },
	{ "chain, pipelined", test_chain_pipelined },
	{ "chain, blocking", test_chain_blocking },
	{ "chain, mixed", test_chain_mixed },
	{ "diamond", test_diamond },
	{ "pointwise m = n", test_pointwise_equal },
	{ "pointwise m > n", test_pointwise_fan_in },
	{ "pointwise m < n", test_pointwise_fan_out },
	{ "pointwise chains", test_pointwise_chains },
	{ "all_to_all pipelined", test_all_to_all_pipelined },
	{ "broadcast", test_broadcast },
	{ "hybrid edges do not join", test_hybrid },
	{ "cycle through blocking edges", test_classic_cycle },
	{ "cycles at task level", test_task_level_cycles },
	{ "parallel edges", test_parallel_edges },
	{ "topological numbering", test_topological_numbering },
	{ "deep cycle, no recursion", test_deep_cycle },
	{ "bad arguments", test_bad_arguments },
	{ "random graphs against the naive reference",
	    test_random_against_naive },
	{ "scale: 10000 x 10000 all_to_all", test_scale_all_to_all },
	{ "scale: cycle through hubs", test_scale_cycle_through_hubs },
	{ NULL, NULL },
};

SL_TEST_MAIN("regions", tests)
