/* The execution graph: task numbering, task names, "auto" parallelism, and
 * the pointwise mapping of DESIGN §2 against its definition. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/graph.h>

#include "graph/exec.h"
#include "graph/job.h"
#include "sl_test.h"

static void
add_vertex(sl_job *job, const char *id, int32_t par)
{
	CU_ASSERT_EQUAL_FATAL(sl_job_add_vertex(job, id, "noop", par, NULL), 0);
}

static void
add_edge(sl_job *job, const char *from, const char *to, int dist)
{
	struct sl_edge_spec s = {
		.from = from,
		.to = to,
		.distribution = dist,
		.type = SL_PARTITION_PIPELINED,
	};

	CU_ASSERT_EQUAL_FATAL(sl_job_add_edge(job, &s), 0);
}

/* Added backwards, so that numbering must follow the topology, not the
 * order of addition: sink(2) <- mid(3) <- src(4). */
static sl_job *
backwards_job(void)
{
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("backwards", &job), 0);
	add_vertex(job, "sink", 2);
	add_vertex(job, "mid", 3);
	add_vertex(job, "src", 4);
	add_edge(job, "src", "mid", SL_DIST_POINTWISE);
	add_edge(job, "mid", "sink", SL_DIST_ALL_TO_ALL);
	return job;
}

static void
test_numbering(void)
{
	sl_job *job = backwards_job();
	struct sli_exec x;

	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	CU_ASSERT_EQUAL(x.ntasks, 9);
	CU_ASSERT_EQUAL(x.topo[0], 2);
	CU_ASSERT_EQUAL(x.topo[1], 1);
	CU_ASSERT_EQUAL(x.topo[2], 0);
	CU_ASSERT_EQUAL(x.base[2], 0); /* src#0..3 */
	CU_ASSERT_EQUAL(x.base[1], 4); /* mid#0..2 */
	CU_ASSERT_EQUAL(x.base[0], 7); /* sink#0..1 */
	CU_ASSERT_EQUAL(x.par[2], 4);
	CU_ASSERT_EQUAL(x.par[1], 3);
	CU_ASSERT_EQUAL(x.par[0], 2);
	for (uint32_t t = 0; t < x.ntasks; t++) {
		uint32_t v = x.task_vertex[t];

		CU_ASSERT_EQUAL(v, t < 4 ? 2u : t < 7 ? 1u : 0u);
		CU_ASSERT_EQUAL(sli_task_index(&x, t), t - x.base[v]);
	}
	/* Every producer task comes before every consumer task. */
	for (uint32_t e = 0; e < job->ne; e++)
		CU_ASSERT(x.base[job->e[e].from] + x.par[job->e[e].from] <=
		    x.base[job->e[e].to]);
	sli_exec_free(&x);
	sl_job_free(job);
}

static void
test_numbering_ties(void)
{
	/* a -> b, a -> c with c added before b: ties go by addition order. */
	sl_job *job;
	struct sli_exec x;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("ties", &job), 0);
	add_vertex(job, "a", 1);
	add_vertex(job, "c", 2);
	add_vertex(job, "b", 3);
	add_edge(job, "a", "b", SL_DIST_POINTWISE);
	add_edge(job, "a", "c", SL_DIST_POINTWISE);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	CU_ASSERT_EQUAL(x.topo[0], 0);
	CU_ASSERT_EQUAL(x.topo[1], 1);
	CU_ASSERT_EQUAL(x.topo[2], 2);
	CU_ASSERT_EQUAL(x.base[1], 1);
	CU_ASSERT_EQUAL(x.base[2], 3);
	CU_ASSERT_EQUAL(x.ntasks, 6);
	sli_exec_free(&x);
	sl_job_free(job);
}

static void
test_task_names(void)
{
	sl_job *job = backwards_job();
	struct sli_exec x;
	char buf[64];
	uint32_t t;

	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	sli_task_name(&x, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "src#0");
	sli_task_name(&x, 6, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "mid#2");
	CU_ASSERT_EQUAL(sli_task_name(&x, 8, buf, sizeof(buf)), 6);
	CU_ASSERT_STRING_EQUAL(buf, "sink#1");
	/* Truncates like snprintf and says how long it would be. */
	CU_ASSERT_EQUAL(sli_task_name(&x, 8, buf, 3), 6);
	CU_ASSERT_STRING_EQUAL(buf, "si");

	/* Leading zeros, even many, are still the number. */
	CU_ASSERT_EQUAL(
	    sli_task_parse(&x, "src#000000000000000000000000003", &t), 0);
	CU_ASSERT_EQUAL(t, 3);

	/* Every name parses back to its task. */
	for (uint32_t i = 0; i < x.ntasks; i++) {
		sli_task_name(&x, i, buf, sizeof(buf));
		t = UINT32_MAX;
		CU_ASSERT_EQUAL(sli_task_parse(&x, buf, &t), 0);
		CU_ASSERT_EQUAL(t, i);
	}
	sli_exec_free(&x);
	sl_job_free(job);
}

static void
test_task_parse_bad(void)
{
	static const struct {
		const char *name;
		int rv;
		const char *detail;
	} cases[] = {
		{ "src", SL_EPARSE, "expected VERTEX#INDEX" },
		{ "src#", SL_EPARSE, "expected VERTEX#INDEX" },
		{ "#0", SL_EPARSE, "expected VERTEX#INDEX" },
		{ "", SL_EPARSE, "expected VERTEX#INDEX" },
		{ "src#x", SL_EPARSE, "index is not a number" },
		{ "src#1x", SL_EPARSE, "index is not a number" },
		{ "src#-1", SL_EPARSE, "index is not a number" },
		{ "src#+1", SL_EPARSE, "index is not a number" },
		{ "src# 1", SL_EPARSE, "index is not a number" },
		/* Well formed but too big for any task: out of range. */
		{ "src#99999999999999999999999", SL_ENOTFOUND,
		    "task 'src#99999999999999999999999': index out of range: "
		    "vertex 'src' has tasks #0 to #3" },
		{ "mid#18446744073709551616", SL_ENOTFOUND,
		    "index out of range: vertex 'mid' has tasks #0 to #2" },
		{ "zz#0", SL_ENOTFOUND, "no vertex 'zz'" },
		{ "src#99", SL_ENOTFOUND, "vertex 'src' has tasks #0 to #3" },
		{ "src#4", SL_ENOTFOUND, "#0 to #3" },
		{ "sink#2", SL_ENOTFOUND, "#0 to #1" },
		/* Past 32 bits must not wrap onto a real task. */
		{ "src#4294967296", SL_ENOTFOUND, "#0 to #3" },
	};
	sl_job *job = backwards_job();
	struct sli_exec x;

	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t t = 12345;
		int rv = sli_task_parse(&x, cases[k].name, &t);
		bool ok = rv == cases[k].rv &&
		    strstr(sl_errdetail(), cases[k].detail) != NULL &&
		    t == 12345;

		if (!ok)
			fprintf(stderr, "\n  '%s': got %s \"%s\"\n",
			    cases[k].name, sl_errname(rv), sl_errdetail());
		CU_ASSERT(ok);
	}
	sli_exec_free(&x);
	sl_job_free(job);
}

static void
test_auto_parallelism(void)
{
	sl_job *job;
	struct sli_exec x;
	uint32_t over[3] = { 0, 0, 0 };

	CU_ASSERT_EQUAL_FATAL(sl_job_new("auto", &job), 0);
	add_vertex(job, "src", 4);
	add_vertex(job, "count", SL_PARALLELISM_AUTO);
	add_vertex(job, "sink", 2);
	add_edge(job, "src", "count", SL_DIST_ALL_TO_ALL);
	add_edge(job, "count", "sink", SL_DIST_POINTWISE);

	CU_ASSERT_EQUAL(sli_exec_build(job, NULL, &x), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "'count'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "auto"));
	/* A failed build leaves nothing to free. */
	CU_ASSERT_PTR_NULL(x.topo);
	CU_ASSERT_PTR_NULL(x.par);
	CU_ASSERT_PTR_NULL(x.task_vertex);

	/* An override of another vertex does not help. */
	over[0] = 3;
	CU_ASSERT_EQUAL(sli_exec_build(job, over, &x), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "'count'"));

	over[1] = 5;
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, over, &x), 0);
	CU_ASSERT_EQUAL(x.par[0], 3); /* overrides fixed values too */
	CU_ASSERT_EQUAL(x.par[1], 5);
	CU_ASSERT_EQUAL(x.par[2], 2);
	CU_ASSERT_EQUAL(x.ntasks, 10);
	CU_ASSERT_EQUAL(x.base[2], 8);
	sli_exec_free(&x);

	over[0] = 0;
	over[1] = SL_MAX_PARALLELISM + 1;
	CU_ASSERT_EQUAL(sli_exec_build(job, over, &x), SL_ERANGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "'count'"));
	sl_job_free(job);
}

static void
test_too_many_tasks(void)
{
	sl_job *job;
	struct sli_exec x;
	char id[16];
	uint32_t *over;

	/* 3000 x 10^6 tasks: the message gives the whole count. */
	CU_ASSERT_EQUAL_FATAL(sl_job_new("huge", &job), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof(id), "v%d", i);
		add_vertex(job, id, SL_MAX_PARALLELISM);
	}
	CU_ASSERT_EQUAL(sli_exec_build(job, NULL, &x), SL_ERANGE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "3000 vertices with 3000000000 tasks in all; at most 16777216 "
	    "(SL_MAX_TASKS)");
	CU_ASSERT_PTR_NULL(x.topo);
	CU_ASSERT_PTR_NULL(x.task_vertex);

	/* Overrides count: exactly SL_MAX_TASKS builds, one more does not.
	 * 16 x 10^6 + 774 233 + 2983 x 1 = 16 777 216 = 2^24. */
	over = calloc(3000, sizeof(*over));
	CU_ASSERT_PTR_NOT_NULL_FATAL(over);
	for (int i = 0; i < 3000; i++)
		over[i] = i < 16 ? SL_MAX_PARALLELISM : 1;
	over[16] = 777216 - 2983;
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, over, &x), 0);
	CU_ASSERT_EQUAL(x.ntasks, SL_MAX_TASKS);
	CU_ASSERT_EQUAL(x.ntasks, 16777216);
	CU_ASSERT_EQUAL(x.task_vertex[SL_MAX_TASKS - 1], 2999);
	sli_exec_free(&x);
	over[2999] = 2;
	CU_ASSERT_EQUAL(sli_exec_build(job, over, &x), SL_ERANGE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "3000 vertices with 16777217 tasks in all; at most 16777216 "
	    "(SL_MAX_TASKS)");
	free(over);
	sl_job_free(job);
}

/* The C API accepts an edge that closes a cycle; expanding the job finds
 * it, names it, and leaves nothing to free. */
static void
test_cycle(void)
{
	sl_job *job;
	struct sli_exec x;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("cycle", &job), 0);
	add_vertex(job, "src", 1);
	add_vertex(job, "a", 2);
	add_vertex(job, "b", 2);
	add_edge(job, "src", "a", SL_DIST_POINTWISE);
	add_edge(job, "a", "b", SL_DIST_ALL_TO_ALL);
	add_edge(job, "b", "a", SL_DIST_ALL_TO_ALL);
	CU_ASSERT_EQUAL(sli_exec_build(job, NULL, &x), SL_ECYCLE);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "edges form a cycle: a -> b -> a");
	CU_ASSERT_PTR_NULL(x.topo);
	CU_ASSERT_PTR_NULL(x.par);
	sl_job_free(job);
}

/* The heap gives the order the old quadratic selection gave: at each
 * step the smallest-indexed vertex whose producers are all placed. */
static void
test_topo_matches_reference(void)
{
	uint32_t seed = 12345;

	for (int round = 0; round < 20; round++) {
		enum { N = 300 };
		uint32_t perm[N], *got, want[N], indeg[N] = { 0 }, n = 0;
		uint8_t done[N] = { 0 };
		sl_job *job;
		char a[16], b[16];

		/* Edges follow a random permutation, so every DAG shape and
		 * every addition order turns up. */
		for (uint32_t i = 0; i < N; i++)
			perm[i] = i;
		for (uint32_t i = N - 1; i > 0; i--) {
			uint32_t j, t;
			seed = seed * 1103515245u + 12345u;
			j = (seed >> 8) % (i + 1);
			t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		CU_ASSERT_EQUAL_FATAL(sl_job_new("random", &job), 0);
		for (uint32_t i = 0; i < N; i++) {
			snprintf(a, sizeof(a), "v%u", i);
			add_vertex(job, a, 1);
		}
		for (uint32_t k = 0; k < 3 * N; k++) {
			uint32_t i, j;
			seed = seed * 1103515245u + 12345u;
			i = (seed >> 8) % N;
			seed = seed * 1103515245u + 12345u;
			j = (seed >> 8) % N;
			if (i == j)
				continue;
			if (i > j) {
				uint32_t t = i;
				i = j;
				j = t;
			}
			snprintf(a, sizeof(a), "v%u", perm[i]);
			snprintf(b, sizeof(b), "v%u", perm[j]);
			struct sl_edge_spec s = { .from = a,
				.to = b,
				.distribution = SL_DIST_POINTWISE,
				.type = (int)(k % 4) };
			int rv = sl_job_add_edge(job, &s);
			CU_ASSERT(rv == 0 || rv == SL_EEXISTS);
		}
		for (uint32_t e = 0; e < job->ne; e++)
			indeg[job->e[e].to]++;
		while (n < N) {
			uint32_t u = 0;
			while (done[u] || indeg[u] != 0)
				u++;
			done[u] = 1;
			want[n++] = u;
			for (uint32_t k = 0; k < job->v[u].nout; k++)
				indeg[job->e[job->v[u].out[k]].to]--;
		}
		CU_ASSERT_EQUAL_FATAL(sli_job_topo_order(job, &got), 0);
		CU_ASSERT_EQUAL(memcmp(got, want, sizeof(want)), 0);
		free(got);
		sl_job_free(job);
	}
}

/* DESIGN §2, literally: does consumer i read producer j? */
static bool
reads(uint32_t m, uint32_t n, uint32_t i, uint32_t j)
{
	if (m >= n)
		return i * m / n <= j && j < (i + 1) * m / n;
	return j * n / m <= i && i < (j + 1) * n / m;
}

static int failures;

static void failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counts a mismatch; prints the first few, not thousands. */
static void
failed(const char *fmt, ...)
{
	va_list ap;

	if (failures++ >= 10)
		return;
	va_start(ap, fmt);
	fputs("\n  ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
test_pointwise_exhaustive(void)
{
	failures = 0;
	for (uint32_t m = 1; m <= 40; m++) {
		for (uint32_t n = 1; n <= 40; n++) {
			uint32_t plo[40], phi[40], clo[40], chi[40];

			for (uint32_t i = 0; i < n; i++) {
				sli_pointwise_producers(
				    m, n, i, &plo[i], &phi[i]);
				/* At least one producer, and exactly the
				 * definition's set. */
				bool ok = plo[i] < phi[i] && phi[i] <= m;
				for (uint32_t j = 0; ok && j < m; j++)
					ok = reads(m, n, i, j) ==
					    (plo[i] <= j && j < phi[i]);
				if (!ok)
					failed("m=%u n=%u: producers(%u) = "
					       "[%u, %u)",
					    m, n, i, plo[i], phi[i]);
			}
			for (uint32_t j = 0; j < m; j++) {
				sli_pointwise_consumers(
				    m, n, j, &clo[j], &chi[j]);
				bool ok = clo[j] < chi[j] && chi[j] <= n;
				for (uint32_t i = 0; ok && i < n; i++)
					ok = reads(m, n, i, j) ==
					    (clo[j] <= i && i < chi[j]);
				if (!ok)
					failed("m=%u n=%u: consumers(%u) = "
					       "[%u, %u)",
					    m, n, j, clo[j], chi[j]);
			}
			/* Exact inverses, checked without the definition. */
			for (uint32_t i = 0; i < n; i++)
				for (uint32_t j = 0; j < m; j++)
					if ((plo[i] <= j && j < phi[i]) !=
					    (clo[j] <= i && i < chi[j]))
						failed("m=%u n=%u: producer %u "
						       "and consumer "
						       "%u: the functions "
						       "disagree",
						    m, n, j, i);
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
}

/* Sweep every index of a large pair: ranges tile the other side in order,
 * and each step of the sweep is inverted by the other function. */
static void
check_large(uint32_t m, uint32_t n)
{
	uint32_t lo, hi, lo2, hi2, next = 0;

	if (m >= n) {
		for (uint32_t i = 0; i < n; i++) {
			sli_pointwise_producers(m, n, i, &lo, &hi);
			if (lo != next || hi <= lo || hi > m)
				failed("m=%u n=%u: producers(%u) = [%u, %u)", m,
				    n, i, lo, hi);
			next = hi;
			for (uint32_t j = lo; j < hi; j++) {
				sli_pointwise_consumers(m, n, j, &lo2, &hi2);
				if (lo2 != i || hi2 != i + 1)
					failed("m=%u n=%u: consumers(%u) = "
					       "[%u, %u)",
					    m, n, j, lo2, hi2);
			}
		}
		if (next != m)
			failed("m=%u n=%u: producers end at %u", m, n, next);
	} else {
		for (uint32_t j = 0; j < m; j++) {
			sli_pointwise_consumers(m, n, j, &lo, &hi);
			if (lo != next || hi <= lo || hi > n)
				failed("m=%u n=%u: consumers(%u) = [%u, %u)", m,
				    n, j, lo, hi);
			next = hi;
			for (uint32_t i = lo; i < hi; i++) {
				sli_pointwise_producers(m, n, i, &lo2, &hi2);
				if (lo2 != j || hi2 != j + 1)
					failed("m=%u n=%u: producers(%u) = "
					       "[%u, %u)",
					    m, n, i, lo2, hi2);
			}
		}
		if (next != n)
			failed("m=%u n=%u: consumers end at %u", m, n, next);
	}
}

static void
test_pointwise_large(void)
{
	static const uint32_t sizes[] = { 1, 3, 999983, 999999,
		SL_MAX_PARALLELISM };

	failures = 0;
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++)
			check_large(sizes[a], sizes[b]);
	CU_ASSERT_EQUAL(failures, 0);
}

static void
test_edge_ranges(void)
{
	sl_job *job;
	struct sli_exec x;
	uint32_t lo, hi;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("edges", &job), 0);
	add_vertex(job, "a", 2);
	add_vertex(job, "b", 6);
	add_vertex(job, "c", 5);
	add_vertex(job, "d", 3);
	add_edge(job, "a", "b", SL_DIST_POINTWISE);
	add_edge(job, "b", "c", SL_DIST_ALL_TO_ALL);
	add_edge(job, "c", "d", SL_DIST_BROADCAST);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);

	/* Pointwise 2 -> 6: a#1 feeds b#3..5, b#4 reads a#1. */
	sli_edge_consumers(&x, 0, 1, &lo, &hi);
	CU_ASSERT(lo == 3 && hi == 6);
	sli_edge_producers(&x, 0, 4, &lo, &hi);
	CU_ASSERT(lo == 1 && hi == 2);

	/* All-to-all and broadcast: everything on the other side. */
	for (uint32_t i = 0; i < 5; i++) {
		sli_edge_producers(&x, 1, i, &lo, &hi);
		CU_ASSERT(lo == 0 && hi == 6);
	}
	for (uint32_t j = 0; j < 6; j++) {
		sli_edge_consumers(&x, 1, j, &lo, &hi);
		CU_ASSERT(lo == 0 && hi == 5);
	}
	sli_edge_producers(&x, 2, 2, &lo, &hi);
	CU_ASSERT(lo == 0 && hi == 5);
	sli_edge_consumers(&x, 2, 4, &lo, &hi);
	CU_ASSERT(lo == 0 && hi == 3);
	sli_exec_free(&x);
	sl_job_free(job);
}

static const struct sl_test tests[] = {
	{ "tasks numbered in topological order", test_numbering },
	{ "ties keep the order of addition", test_numbering_ties },
	{ "task names round-trip", test_task_names },
	{ "malformed and unknown task names", test_task_parse_bad },
	{ "auto parallelism needs an override", test_auto_parallelism },
	{ "at most SL_MAX_TASKS tasks", test_too_many_tasks },
	{ "a cycle fails the build and is named", test_cycle },
	{ "topological order as the reference", test_topo_matches_reference },
	{ "pointwise mapping, all m,n in 1..40", test_pointwise_exhaustive },
	{ "pointwise mapping at the parallelism limit", test_pointwise_large },
	{ "edge ranges per distribution", test_edge_ranges },
	{ NULL, NULL },
};

SL_TEST_MAIN("exec", tests)
