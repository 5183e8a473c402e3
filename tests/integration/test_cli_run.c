/*
 * `sluice run --in-process` as a user runs it: the real binary runs
 * WordCount on generated text; the part files are compared with a count
 * made here, the --report with the numbers the text implies.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_cmd.h"
#include "sl_test.h"
#include "sl_testutil.h"

#define MAXARGS 24
#define WC "examples/wordcount.json"

extern char **environ;

static char tmp_root[256];

static void
tmp_path(char *buf, size_t n, const char *name)
{
	if (tmp_root[0] == '\0') {
		snprintf(tmp_root, sizeof(tmp_root), "/tmp/sl-cli-run-XXXXXX");
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmp_root));
	}
	snprintf(buf, n, "%s/%s", tmp_root, name);
}

static void
expect_error(struct run_result *res, int status, const char *needle)
{
	if (res->status != status || strstr(res->err, needle) == NULL) {
		fprintf(stderr,
		    "\nwanted exit %d and '%s'; got exit %d, stderr: %s\n",
		    status, needle, res->status, res->err);
		CU_FAIL("wrong failure");
	}
	run_result_free(res);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static void
write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Sum of key over the tasks of vertex id in the report. */
static int64_t
report_sum(json_t *rep, const char *id, const char *key)
{
	size_t i, k;
	json_t *v, *t;
	int64_t sum = -1;

	json_array_foreach (json_object_get(rep, "vertices"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "id")), id) !=
		    0)
			continue;
		sum = 0;
		json_array_foreach (json_object_get(v, "tasks"), k, t)
			sum += json_integer_value(json_object_get(t, key));
	}
	return sum;
}

static void
test_wordcount(void)
{
	char input[512], outdir[512], report[512], dvin[600], dvout[600],
	    path[700];
	char **want, **got = NULL;
	size_t len, nlines, nwords, nwant, ngot = 0, gotcap = 0;
	char *text = sl_gen_text(300000, &len, &nlines, &nwords);
	struct run_result r;
	json_error_t jerr;
	json_t *rep, *v0, *t0;

	tmp_path(input, sizeof(input), "wc.txt");
	tmp_path(outdir, sizeof(outdir), "wc-out");
	tmp_path(report, sizeof(report), "wc-report.json");
	write_text(input, text, len);
	snprintf(dvin, sizeof(dvin), "input=%s", input);
	snprintf(dvout, sizeof(dvout), "output=%s", outdir);
	r = sl_run_sluice("run", "--in-process", source_path(WC), "-D", dvin,
	    "-D", dvout, "--report", report, NULL);
	if (r.status != 0)
		fprintf(stderr, "\nexit %d, stderr: %s\n", r.status, r.err);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	/* the summary names every vertex */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "finished"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "combine"));
	run_result_free(&r);

	CU_ASSERT_EQUAL(sl_count_entries(outdir), 2);
	for (int j = 0; j < 2; j++) {
		char *data, *save = NULL;

		snprintf(path, sizeof(path), "%s/part-%05d", outdir, j);
		data = read_file(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		for (char *l = strtok_r(data, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save)) {
			if (ngot == gotcap) {
				gotcap = gotcap ? gotcap * 2 : 256;
				got = realloc(got, gotcap * sizeof(*got));
			}
			got[ngot++] = strdup(l);
		}
		free(data);
	}
	qsort(got, ngot, sizeof(*got), sl_cmp_str);
	nwant = sl_ref_wordcount(text, len, &want, NULL);
	CU_ASSERT(nwant > 100);
	CU_ASSERT_EQUAL(ngot, nwant);
	{
		int bad = 0;

		for (size_t i = 0; i < ngot && i < nwant; i++)
			if (strcmp(got[i], want[i]) != 0 && bad++ < 5)
				fprintf(stderr, "got '%s', want '%s'\n", got[i],
				    want[i]);
		CU_ASSERT_EQUAL(bad, 0);
	}

	rep = json_load_file(report, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(rep, "status")), "FINISHED");
	CU_ASSERT(json_is_number(json_object_get(rep, "wall_seconds")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(rep, "vertices")), 5);
	v0 = json_array_get(json_object_get(rep, "vertices"), 0);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(v0, "id")), "read");
	CU_ASSERT_EQUAL(
	    json_integer_value(json_object_get(v0, "parallelism")), 4);
	t0 = json_array_get(json_object_get(v0, "tasks"), 1);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(t0, "id")), "read#1");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(t0, "attempts")), 1);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(t0, "worker")), "in-process");
	/* what left each stage, as the text says */
	CU_ASSERT_EQUAL(
	    report_sum(rep, "read", "records_out"), (int64_t)nlines);
	CU_ASSERT_EQUAL(
	    report_sum(rep, "words", "records_in"), (int64_t)nlines);
	CU_ASSERT_EQUAL(
	    report_sum(rep, "words", "records_out"), (int64_t)nwords);
	CU_ASSERT_EQUAL(
	    report_sum(rep, "combine", "records_in"), (int64_t)nwords);
	CU_ASSERT_EQUAL(
	    report_sum(rep, "count", "records_out"), (int64_t)nwant);
	CU_ASSERT_EQUAL(report_sum(rep, "write", "records_in"), (int64_t)nwant);
	CU_ASSERT_EQUAL(report_sum(rep, "write", "records_out"), 0);
	CU_ASSERT_EQUAL(report_sum(rep, "count", "bytes_out"),
	    report_sum(rep, "write", "bytes_in"));
	json_decref(rep);

	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	free(got);
	for (size_t i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(text);
}

static void
test_failures(void)
{
	char report[512], dvin[600];
	json_error_t jerr;
	json_t *rep;
	struct run_result r;

	/* ${output} not defined */
	r = sl_run_sluice(
	    "run", "--in-process", source_path(WC), "-D", "input=/x", NULL);
	expect_error(&r, 1, "unknown variable");

	r = sl_run_sluice("run", "--in-process", NULL);
	expect_error(&r, 2, "no job file");

	/* a task fails: exit 1 with its detail, FAILED in the report */
	tmp_path(report, sizeof(report), "fail-report.json");
	snprintf(dvin, sizeof(dvin), "output=%s/fail-out", tmp_root);
	r = sl_run_sluice("run", "--in-process", source_path(WC), "-D",
	    "input=/nonexistent/in.txt", "-D", dvin, "--report", report, NULL);
	expect_error(&r, 1, "/nonexistent/in.txt");
	rep = json_load_file(report, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(rep, "status")), "FAILED");
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    json_string_value(json_object_get(rep, "reason")), "in.txt"));
	json_decref(rep);
}

/* Ctrl-C while the job runs: exit 130 and no part files. */
static void
test_interrupt(void)
{
	char input[512], outdir[512], dvin[600], dvout[600];
	char *argv[MAXARGS];
	size_t len, nl, nw;
	char *text = sl_gen_text(8u << 20, &len, &nl, &nw);
	posix_spawn_file_actions_t fa;
	struct timespec ts = { 0, 50 * 1000000L };
	pid_t pid;
	int st, n = 0;

	tmp_path(input, sizeof(input), "big.txt");
	tmp_path(outdir, sizeof(outdir), "big-out");
	/* 8 MB written 8 times: enough to be still running when the
	 * signal comes */
	{
		FILE *f = fopen(input, "wb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		for (int i = 0; i < 8; i++)
			fwrite(text, 1, len, f);
		fclose(f);
	}
	free(text);
	snprintf(dvin, sizeof(dvin), "input=%s", input);
	snprintf(dvout, sizeof(dvout), "output=%s", outdir);
	argv[n++] = (char *)sluice_path();
	argv[n++] = "run";
	argv[n++] = "--in-process";
	argv[n++] = (char *)source_path(WC);
	argv[n++] = "-D";
	argv[n++] = dvin;
	argv[n++] = "-D";
	argv[n++] = dvout;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
	    &fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(
	    &fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	CU_ASSERT_EQUAL_FATAL(
	    posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	/* Interrupt once the sinks have their temporary files open: the run
	 * is under way then, signal handlers installed. */
	for (int i = 0; i < 200 && sl_count_entries(outdir) == 0; i++)
		nanosleep(&ts, NULL);
	kill(pid, SIGINT);
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
	/* A run that ended first would prove nothing: the input is sized so
	 * that it cannot. */
	CU_ASSERT_FALSE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_TRUE(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 130);
	CU_ASSERT_EQUAL(sl_count_entries(outdir), 0);
}

static const struct sl_test tests[] = {
	{ "run --in-process WordCount", test_wordcount },
	{ "run failures and usage", test_failures },
	{ "Ctrl-C cancels the run", test_interrupt },
	{ NULL, NULL },
};

SL_TEST_MAIN("cli-run", tests)
