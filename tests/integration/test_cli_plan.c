/*
 * `sluice plan` and `sluice plugins` as a user runs them: the real binary,
 * its JSON on stdout, its errors on stderr and its exit codes.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_cmd.h"
#include "sl_test.h"
#include "sl_testutil.h"

/* Assert the command succeeded and printed exactly the JSON `expected`. */
static void
expect_json(struct run_result *res, const char *expected)
{
	json_error_t jerr;
	json_t *want = json_loads(expected, 0, &jerr);
	json_t *got = json_loads(res->out, 0, &jerr);

	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (res->status != 0 || got == NULL || !json_equal(want, got)) {
		fprintf(stderr,
		    "\nexit %d\nexpected: %s\ngot:      %s\nstderr:   %s\n",
		    res->status, expected, res->out, res->err);
		CU_FAIL("output differs");
	}
	json_decref(want);
	json_decref(got);
	run_result_free(res);
}

/* Assert the command failed with `status` and said `needle` on stderr. */
static void
expect_error(struct run_result *res, int status, const char *needle)
{
	if (res->status != status || strstr(res->err, needle) == NULL) {
		fprintf(stderr,
		    "\nwanted exit %d and '%s'; got exit %d, stderr: %s\n",
		    status, needle, res->status, res->err);
		CU_FAIL("wrong failure");
	}
	CU_ASSERT_STRING_EQUAL(res->out, "");
	run_result_free(res);
}

#define WC "examples/jobs/wordcount-shape.json"

static void
test_regions_wordcount(void)
{
	struct run_result r =
	    sl_run_sluice("plan", "regions", source_path(WC), NULL);
	expect_json(&r,
	    "{\"regions\": "
	    "[[\"source#0\",\"tokenize#0\"],[\"source#1\",\"tokenize#1\"],"
	    "[\"source#2\",\"tokenize#2\"],[\"source#3\",\"tokenize#3\"],"
	    "[\"count#0\",\"sink#0\"],[\"count#1\",\"sink#1\"],"
	    "[\"count#2\",\"sink#2\"],[\"count#3\",\"sink#3\"]]}");
}

static void
test_regions_parallelism_override(void)
{
	struct run_result r = sl_run_sluice("plan", "regions", source_path(WC),
	    "--parallelism", "count=1", "--parallelism", "sink=1",
	    "--parallelism", "source=2", "--parallelism", "tokenize=2", NULL);
	expect_json(&r,
	    "{\"regions\": "
	    "[[\"source#0\",\"tokenize#0\"],[\"source#1\",\"tokenize#1\"],"
	    "[\"count#0\",\"sink#0\"]]}");
}

static void
test_regions_blocking_cycle(void)
{
	/* A->B pipelined, A->C and C->B blocking: every region depends on
	 * the other through the blocking edges, so they merge. */
	struct run_result r = sl_run_sluice("plan", "regions",
	    source_path("examples/jobs/blocking-cycle.json"), NULL);
	json_t *doc = json_loads(r.out, 0, NULL);
	size_t total = 0, i;
	json_t *reg;

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	json_array_foreach (json_object_get(doc, "regions"), i, reg) {
		bool has_a = false, has_c = false;
		size_t k;
		json_t *t;
		json_array_foreach (reg, k, t) {
			has_a |= json_string_value(t)[0] == 'A';
			has_c |= json_string_value(t)[0] == 'C';
			total++;
		}
		/* No region holds A tasks without the C tasks they cycle with.
		 */
		CU_ASSERT(has_a == has_c);
	}
	CU_ASSERT(total > 0);
	json_decref(doc);
	run_result_free(&r);
}

/* --pretty prints the same JSON, one region a line. */
static void
test_pretty_same_json(void)
{
	struct run_result a =
	    sl_run_sluice("plan", "schedule", source_path(WC), NULL);
	struct run_result b = sl_run_sluice(
	    "plan", "schedule", source_path(WC), "--pretty", NULL);
	json_t *ja = json_loads(a.out, 0, NULL),
	       *jb = json_loads(b.out, 0, NULL);

	CU_ASSERT_EQUAL(a.status, 0);
	CU_ASSERT_EQUAL(b.status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ja);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jb);
	CU_ASSERT_TRUE(json_equal(ja, jb));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.out,
	    "\n    {\"deploy\":0,\"tasks\":[\"source#0\",\"tokenize#0\"],"
	    "\"slots\":1},\n"));
	json_decref(ja);
	json_decref(jb);
	run_result_free(&a);
	run_result_free(&b);
}

static void
test_failover_consumer(void)
{
	/* A blocking consumer fails: only its region restarts. */
	struct run_result r = sl_run_sluice(
	    "plan", "failover", source_path(WC), "--failed", "count#1", NULL);
	expect_json(&r, "{\"restart\": [\"count#1\",\"sink#1\"]}");
}

static void
test_failover_producer(void)
{
	/* A producer fails: its region and every consumer of its output. */
	struct run_result r = sl_run_sluice("plan", "failover", source_path(WC),
	    "--failed", "tokenize#0", NULL);
	expect_json(&r,
	    "{\"restart\": "
	    "[\"source#0\",\"tokenize#0\",\"count#0\",\"count#1\","
	    "\"count#2\",\"count#3\",\"sink#0\",\"sink#1\",\"sink#2\",\"sink#"
	    "3\"]}");
}

static void
test_failover_lost(void)
{
	/* count#1 fails and tokenize#2's partitions are lost: tokenize#2
	 * reruns, and so does everything reading it (rule 3). */
	struct run_result r = sl_run_sluice("plan", "failover", source_path(WC),
	    "--failed", "count#1", "--lost", "tokenize#2", NULL);
	expect_json(&r,
	    "{\"restart\": "
	    "[\"source#2\",\"tokenize#2\",\"count#0\",\"count#1\","
	    "\"count#2\",\"count#3\",\"sink#0\",\"sink#1\",\"sink#2\",\"sink#"
	    "3\"]}");
}

static void
test_parallelism_example(void)
{
	/* L = 100: 50+50 | 50+50 | 30+30+30 | 60+40 | 100 */
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "10", "--bytes-per-task", "100", "--input",
	    "50,50,50,50,30,30,30,60,40,100", NULL);
	expect_json(&r,
	    "{\"parallelism\": 5, \"ranges\": "
	    "[[0,1],[2,3],[4,6],[7,8],[9,9]]}");
}

static void
test_parallelism_inputs_summed(void)
{
	/* Two inputs summed per subpartition give the same decision. */
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "10", "--bytes-per-task", "100", "--input",
	    "25,25,25,25,15,15,15,30,20,50", "--input",
	    "25,25,25,25,15,15,15,30,20,50", NULL);
	expect_json(&r,
	    "{\"parallelism\": 5, \"ranges\": "
	    "[[0,1],[2,3],[4,6],[7,8],[9,9]]}");
}

static void
test_parallelism_fixed(void)
{
	/* Fixed parallelism 2 over equal sizes: 2 even ranges. */
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "10", "--bytes-per-task", "1k", "--parallelism", "2",
	    "--input", "10,10,10,10", NULL);
	expect_json(&r, "{\"parallelism\": 2, \"ranges\": [[0,1],[2,3]]}");
}

/* With --skew-factor every --input is a producer's: the hot range (500
 * bytes, above 2 x 100) is split among slices of the producers that have
 * bytes in it, the same function the coordinator calls. */
static void
test_parallelism_skew(void)
{
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "8", "--bytes-per-task", "100", "--skew-factor", "2",
	    "--input", "10,10,100,10,0,0,0,0", "--input",
	    "10,10,300,10,0,0,0,0", "--input", "10,10,0,10,0,0,0,0", "--input",
	    "10,10,100,10,0,0,0,0", NULL);
	expect_json(&r,
	    "{\"parallelism\": 3, \"ranges\": [[0,1],[2,2],[3,7]], "
	    "\"splits\": [{\"range\": 1, \"producers\": "
	    "[[0,0],[1,2],[3,3]]}]}");
	/* 0: never */
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "8",
	    "--bytes-per-task", "100", "--skew-factor", "0", "--input",
	    "10,10,500,10,0,0,0,0", NULL);
	expect_json(&r,
	    "{\"parallelism\": 3, \"ranges\": [[0,1],[2,2],[3,7]], "
	    "\"splits\": []}");
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "8",
	    "--bytes-per-task", "100", "--skew-factor", "-1", "--input", "1",
	    NULL);
	expect_error(&r, 2, "--skew-factor: expected 0..999999");
}

static void
test_parallelism_errors(void)
{
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "10", "--bytes-per-task", "100", "--input", "1,2,3",
	    "--input", "1,2", NULL);
	expect_error(&r, 2, "same number of subpartitions");
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "10",
	    "--input", "1,2", NULL);
	expect_error(&r, 2, "--bytes-per-task");
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "10",
	    "--bytes-per-task", "100", "--input", "1,x", NULL);
	expect_error(&r, 2, "'x' is not a byte count");
	r = sl_run_sluice("plan", "parallelism", "--min", "5", "--max", "2",
	    "--bytes-per-task", "100", "--input", "1,2", NULL);
	expect_error(&r, 1, "min");
}

static void
test_parallelism_input_file(void)
{
	char path[] = "/tmp/sluice-input-XXXXXX", arg[64];
	int fd = mkstemp(path);
	static const char body[] = "50 50\n50\t50\n30 30 30\n60 40 100\n";
	struct run_result r;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, body, sizeof(body) - 1) == sizeof(body) - 1);
	close(fd);
	snprintf(arg, sizeof(arg), "@%s", path);
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "10",
	    "--bytes-per-task", "100", "--input", arg, NULL);
	expect_json(&r,
	    "{\"parallelism\": 5, \"ranges\": "
	    "[[0,1],[2,3],[4,6],[7,8],[9,9]]}");
	unlink(path);
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "10",
	    "--bytes-per-task", "100", "--input", arg, NULL);
	expect_error(&r, 1, path);
}

static void
test_parallelism_strict_input(void)
{
	/* An empty field would shift every subpartition after it. */
	struct run_result r = sl_run_sluice("plan", "parallelism", "--min", "1",
	    "--max", "10", "--bytes-per-task", "100", "--input", "1,,2", NULL);
	expect_error(&r, 2, "empty byte count at subpartition 1");
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--max", "10",
	    "--bytes-per-task", "100", "--input", "1,2,", NULL);
	expect_error(&r, 2, "empty byte count at subpartition 2");
	r = sl_run_sluice("plan", "parallelism", "--min", "1", "--min", "2",
	    "--max", "10", "--bytes-per-task", "100", "--input", "1,2", NULL);
	expect_error(&r, 2, "--min given twice");
}

static void
test_options_that_do_not_apply(void)
{
	struct run_result r = sl_run_sluice(
	    "plan", "regions", source_path(WC), "--slots", "3", NULL);
	expect_error(&r, 2, "--slots does not apply");
	r = sl_run_sluice(
	    "plan", "graph", source_path(WC), "--failed", "count#0", NULL);
	expect_error(&r, 2, "--failed does not apply");
	r = sl_run_sluice(
	    "plugins", "--check", "x.so", "--plugin-dir", "/tmp", NULL);
	expect_error(&r, 2, "--plugin-dir does not apply");
}

/* Output that cannot be written is a failure, whatever the command. */
static void
test_write_errors_fail(void)
{
	static const char *const cmds[][4] = {
		{ "version", NULL },
		{ "--help", NULL },
		{ "plugins", NULL },
		{ "plan", "regions", NULL, NULL },
	};

	if (access("/dev/full", W_OK) != 0) {
		CU_FAIL("/dev/full is needed for this test");
		return;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *argv[6] = { (char *)sluice_path() };
		int n = 1, status;
		pid_t pid;

		for (int k = 0; k < 4 && cmds[i][k] != NULL; k++)
			argv[n++] = (char *)cmds[i][k];
		if (i == 3)
			argv[n++] = (char *)source_path(WC);
		argv[n] = NULL;
		if ((pid = fork()) == 0) {
			int fd = open("/dev/full", O_WRONLY);
			int nul = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(nul, 2);
			execv(argv[0], argv);
			_exit(127);
		}
		CU_ASSERT_FATAL(pid > 0);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
			fprintf(stderr, "\n'%s' to /dev/full: status %d\n",
			    cmds[i][0], status);
			CU_FAIL("a write error was not reported");
		}
	}
}

static void
test_bad_job_files(void)
{
	static const struct {
		const char *file, *says;
	} cases[] = {
		{ "examples/jobs/bad/unknown-vertex.json", "unknown vertex" },
		{ "examples/jobs/bad/cycle.json", "cycle" },
		{ "examples/jobs/bad/parallelism-zero.json", "parallelism" },
		{ "examples/jobs/bad/unknown-type.json", "type" },
		{ "examples/jobs/bad/unknown-distribution.json",
		    "distribution" },
		{ "examples/jobs/bad/missing-operator.json", "operator" },
		{ "examples/jobs/bad/syntax-error.json", "syntax-error.json:" },
		{ "examples/jobs/does-not-exist.json", "No such file" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = source_path(cases[i].file);
		struct run_result r =
		    sl_run_sluice("plan", "regions", path, NULL);
		const char *base = strrchr(cases[i].file, '/') + 1;

		if (r.status != 1 || strstr(r.err, cases[i].says) == NULL ||
		    strstr(r.err, base) == NULL) {
			fprintf(stderr, "\n%s: exit %d, stderr: %s\n",
			    cases[i].file, r.status, r.err);
			CU_FAIL("bad job file not reported with its name and "
			        "problem");
		}
		run_result_free(&r);
	}
}

static void
test_usage_errors(void)
{
	struct run_result r = sl_run_sluice("plan", "regions", NULL);
	expect_error(&r, 2, "no job file");
	r = sl_run_sluice("plan", "failover", source_path(WC), NULL);
	expect_error(&r, 2, "--failed");
	r = sl_run_sluice(
	    "plan", "failover", source_path(WC), "--failed", "count#9", NULL);
	expect_error(&r, 1, "count#9");
	r = sl_run_sluice(
	    "plan", "failover", source_path(WC), "--failed", "nope#0", NULL);
	expect_error(&r, 1, "no vertex 'nope'");
	r = sl_run_sluice("plan", "whatever", NULL);
	expect_error(&r, 2, "unknown question");
	r = sl_run_sluice("frobnicate", NULL);
	expect_error(&r, 2, "unknown command");
	r = sl_run_sluice(
	    "plan", "regions", source_path(WC), "--parallelism", "zz=3", NULL);
	expect_error(&r, 1, "no vertex 'zz'");
}

static void
test_variables(void)
{
	const char *job = source_path("examples/wordcount.json");
	struct run_result r = sl_run_sluice("plan", "regions", job, NULL);

	expect_error(&r, 1, "unknown variable 'input': set it with -D input=");
	r = sl_run_sluice("plan", "regions", job, "-D", "input=/dev/null", "-D",
	    "output=/tmp/out", NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"read#0\""));
	run_result_free(&r);
	r = sl_run_sluice("plan", "regions", job, "-D", "input", NULL);
	expect_error(&r, 1, "expected NAME=VALUE");
}

static void
test_auto_needs_value(void)
{
	const char *job = source_path("examples/jobs/auto-parallelism.json");
	struct run_result r = sl_run_sluice("plan", "regions", job, NULL);

	expect_error(&r, 1, "\"auto\"");
}

static void
test_graph_dot(void)
{
	struct run_result r =
	    sl_run_sluice("plan", "graph", source_path(WC), NULL);

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "digraph"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "cluster_r7"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "cluster_r8"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.out, "\"tokenize#3\" -> \"count#0\" [style=dashed]"));
	/* Graphviz itself must accept it. */
	if (access("/usr/bin/dot", X_OK) == 0) {
		char path[] = "/tmp/sluice-dot-XXXXXX";
		int fd = mkstemp(path);
		struct run_result d;
		char *argv[] = { "/usr/bin/dot", "-Tsvg", path, NULL };

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT(
		    write(fd, r.out, strlen(r.out)) == (ssize_t)strlen(r.out));
		close(fd);
		CU_ASSERT_EQUAL(run_cmd(argv, &d), 0);
		CU_ASSERT_EQUAL(d.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.out, "<svg"));
		run_result_free(&d);
		unlink(path);
	} else {
		fprintf(stderr,
		    "(graphviz not installed: dot syntax not checked)\n");
	}
	run_result_free(&r);
}

/* The region strategy on 4 slots: each region has 2 tasks of one index,
 * which share a slot. Check the order obeys readiness and slots, whatever
 * the exact interleaving. */
static void
test_schedule_region(void)
{
	struct run_result r = sl_run_sluice(
	    "plan", "schedule", source_path(WC), "--slots", "4", NULL);
	json_t *doc = json_loads(r.out, 0, NULL), *ev;
	int deployed[8] = { 0 }, finished[8] = { 0 }, used = 0, maxused = 0;
	int held[8] = { 0 };
	int sources_finished = 0, ndeploy = 0;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(doc, "scheduler")), "region");
	json_array_foreach (json_object_get(doc, "events"), i, ev) {
		json_t *d = json_object_get(ev, "deploy");
		json_t *f = json_object_get(ev, "finish");
		if (d != NULL) {
			int reg = (int)json_integer_value(d);
			CU_ASSERT(reg >= 0 && reg < 8 && !deployed[reg]);
			deployed[reg] = 1;
			ndeploy++;
			CU_ASSERT_EQUAL(
			    json_array_size(json_object_get(ev, "tasks")), 2);
			held[reg] = (int)json_integer_value(
			    json_object_get(ev, "slots"));
			CU_ASSERT_EQUAL(held[reg], 1);
			used += held[reg];
			maxused = used > maxused ? used : maxused;
			/* count regions (4..7) read a blocking all_to_all edge
			 * from every source region. */
			if (reg >= 4)
				CU_ASSERT_EQUAL(sources_finished, 4);
		} else {
			int reg = (int)json_integer_value(f);
			CU_ASSERT(deployed[reg] && !finished[reg]);
			finished[reg] = 1;
			used -= held[reg];
			if (reg < 4)
				sources_finished++;
		}
	}
	CU_ASSERT_EQUAL(ndeploy, 8);
	CU_ASSERT_EQUAL(maxused, 4);
	json_decref(doc);
	run_result_free(&r);
}

static void
test_schedule_unknown_scheduler(void)
{
	struct run_result r = sl_run_sluice(
	    "plan", "schedule", source_path(WC), "--scheduler", "nope", NULL);
	expect_error(&r, 1, "no scheduler plugin named 'nope'");
}

static void
test_plugins_list(void)
{
	struct run_result r = sl_run_sluice("plugins", NULL);

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "memory"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "shuffle"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "region"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "scheduler"));
	run_result_free(&r);
}

static void
test_plugins_check(void)
{
	char path[4096];
	struct run_result r;

	snprintf(path, sizeof(path), "%s", sluice_path());
	*strrchr(path, '/') = '\0';
	strcat(path, "/../lib/sluice/plugins.d/shuffle-memory.so");
	r = sl_run_sluice("plugins", "--check", path, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "ok:"));
	run_result_free(&r);

	/* Not a plugin at all: refused with the file named. */
	r = sl_run_sluice("plugins", "--check", source_path(WC), NULL);
	expect_error(&r, 1, "wordcount-shape.json");
	r = sl_run_sluice("plugins", "--plugin-dir", "/nonexistent/dir", NULL);
	expect_error(&r, 1, "/nonexistent/dir");
}

static const struct sl_test tests[] = {
	{ "plan regions of the wordcount shape", test_regions_wordcount },
	{ "plan regions with --parallelism",
	    test_regions_parallelism_override },
	{ "plan regions merges a blocking cycle", test_regions_blocking_cycle },
	{ "--pretty prints the same JSON", test_pretty_same_json },
	{ "plan failover of a blocking consumer", test_failover_consumer },
	{ "plan failover of a producer", test_failover_producer },
	{ "plan failover with --lost", test_failover_lost },
	{ "plan parallelism: the DESIGN example", test_parallelism_example },
	{ "plan parallelism sums inputs", test_parallelism_inputs_summed },
	{ "plan parallelism with a fixed parallelism", test_parallelism_fixed },
	{ "plan parallelism: a hot range split by producers",
	    test_parallelism_skew },
	{ "plan parallelism rejects bad input", test_parallelism_errors },
	{ "plan parallelism reads --input @FILE", test_parallelism_input_file },
	{ "plan parallelism refuses empty fields and repeats",
	    test_parallelism_strict_input },
	{ "options that do not apply are refused",
	    test_options_that_do_not_apply },
	{ "write errors fail the command", test_write_errors_fail },
	{ "bad job files name the file and the problem", test_bad_job_files },
	{ "usage errors", test_usage_errors },
	{ "-D sets ${variables}", test_variables },
	{ "auto parallelism needs a value to plan", test_auto_needs_value },
	{ "plan graph is valid Graphviz", test_graph_dot },
	{ "plan schedule with the region strategy", test_schedule_region },
	{ "plan schedule with an unknown scheduler",
	    test_schedule_unknown_scheduler },
	{ "plugins lists the bundled plugins", test_plugins_list },
	{ "plugins --check", test_plugins_check },
	{ NULL, NULL },
};

SL_TEST_MAIN("cli", tests)
