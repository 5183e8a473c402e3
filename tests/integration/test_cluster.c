/*
 * sluice on real processes: `sluice run` with its local cluster, and a
 * standalone coordinator with workers over tcp://, `sluice submit` and
 * `sluice status`. Every process is the real binary; failures are real
 * signals (SIGINT, SIGKILL, SIGSTOP).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_util.h"
#include "run_cmd.h"
#include "sl_test.h"
#include "sl_testutil.h"

#define WC "examples/wordcount.json"
#define GREP "examples/operators/grep-wordcount.json"

const char cluster_tmp_prefix[] = "sl-cluster";

/* The worker ids the report's tasks ran on, as a bit set of worker-N. */
static unsigned
report_workers(const char *path, const char **status)
{
	static char st[32];
	json_error_t jerr;
	json_t *rep = json_load_file(path, 0, &jerr), *v, *t;
	unsigned set = 0;
	size_t i, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	snprintf(st, sizeof(st), "%s",
	    json_string_value(json_object_get(rep, "status")));
	*status = st;
	/* Every vertex of the jobs here has at most one output edge: the edge
	 * carried what its producers wrote. */
	json_array_foreach (json_object_get(rep, "edges"), i, v) {
		const char *from =
		    json_string_value(json_object_get(v, "from"));
		json_int_t out = 0;
		size_t a;
		json_t *u;

		json_array_foreach (json_object_get(rep, "vertices"), a, u)
			if (strcmp(json_string_value(json_object_get(u, "id")),
			        from) == 0)
				json_array_foreach (
				    json_object_get(u, "tasks"), k, t)
					out += json_integer_value(
					    json_object_get(t, "bytes_out"));
		if (strcmp(st, "FINISHED") == 0) {
			CU_ASSERT(out > 0);
			CU_ASSERT_EQUAL(
			    json_integer_value(json_object_get(v, "bytes")),
			    out);
		}
	}
	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			const char *w =
			    json_string_value(json_object_get(t, "worker"));
			unsigned n;

			if (w != NULL && sscanf(w, "worker-%u", &n) == 1 &&
			    n < 32)
				set |= 1u << n;
		}
	json_decref(rep);
	return set;
}

/* WordCount on worker processes equals the reference, and its tasks ran on
 * every worker, so records crossed processes. */
static void
test_run_wordcount(void)
{
	size_t len;
	char *text = make_text(tmp("wc.txt"), 3u << 20, &len);
	const char *status;
	struct run_result r;

	r = sl_run_sluice("run", source_path(WC), "-D",
	    def("input", tmp("wc.txt")), "-D", def("output", tmp("wc-out")),
	    "--report", tmp("wc.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "job 'wordcount' finished"));
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("wc-out"), text, len));
	CU_ASSERT_EQUAL(report_workers(tmp("wc.json"), &status), 0x6u);
	CU_ASSERT_STRING_EQUAL(status, "FINISHED");

	/* three one-slot workers */
	r = sl_run_sluice("run", source_path(WC), "-D",
	    def("input", tmp("wc.txt")), "-D", def("output", tmp("wc-out3")),
	    "--workers", "3", "--slots", "1", "--report", tmp("wc3.json"),
	    NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("wc-out3"), text, len));
	CU_ASSERT_EQUAL(report_workers(tmp("wc3.json"), &status), 0xeu);
	free(text);
}

/* The parallelism in a report's vertex id, and whether it says "auto". */
static int
report_parallelism(const char *path, const char *id, bool *is_auto)
{
	json_t *rep = json_load_file(path, 0, NULL), *v;
	size_t i;
	int p = -1;

	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) ==
		    0) {
			p = (int)json_integer_value(
			    json_object_get(v, "parallelism"));
			*is_auto = json_is_true(json_object_get(v, "auto"));
		}
	json_decref(rep);
	return p;
}

/*
 * examples/jobs/wordcount-auto.json: the source's parallelism comes from
 * its file's size and bytes_per_task (1 MiB), and the vertices it feeds
 * pointwise follow; a small and a large input get different parallelisms and
 * both the right counts. A source that cannot say its input size is refused.
 */
static void
test_auto_source(void)
{
	size_t small_len, large_len;
	char *small = make_text(tmp("auto-s.txt"), 300u << 10, &small_len);
	char *large = make_text(tmp("auto-l.txt"), 3u << 20, &large_len);
	struct run_result r;
	bool is_auto = false;

	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-auto.json"), "-D",
	    def("input", tmp("auto-s.txt")), "-D",
	    def("output", tmp("auto-s-out")), "--report", tmp("auto-s.json"),
	    NULL);
	expect(&r, 0, "vertex 'read': parallelism 1 for");
	CU_ASSERT_TRUE(
	    output_is_wordcount(tmp("auto-s-out"), small, small_len));
	CU_ASSERT_EQUAL(
	    report_parallelism(tmp("auto-s.json"), "read", &is_auto), 1);
	CU_ASSERT_TRUE(is_auto);

	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-auto.json"), "-D",
	    def("input", tmp("auto-l.txt")), "-D",
	    def("output", tmp("auto-l-out")), "--report", tmp("auto-l.json"),
	    NULL);
	/* 3 MiB and a little more: four tasks of at most 1 MiB */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.err, "vertex 'combine': parallelism 4, as the vertices"));
	expect(&r, 0, "vertex 'read': parallelism 4 for");
	CU_ASSERT_TRUE(
	    output_is_wordcount(tmp("auto-l-out"), large, large_len));
	CU_ASSERT_EQUAL(
	    report_parallelism(tmp("auto-l.json"), "words", &is_auto), 4);
	CU_ASSERT_TRUE(is_auto);
	CU_ASSERT_EQUAL(
	    report_parallelism(tmp("auto-l.json"), "count", &is_auto), 2);
	CU_ASSERT_FALSE(is_auto);

	/* generate has no input size */
	put(tmp("auto-gen.json"),
	    "{\"name\":\"g\",\"vertices\":[{\"id\":\"g\",\"parallelism\":"
	    "\"auto\",\"operator\":\"generate\",\"config\":{\"count\":1}},"
	    "{\"id\":\"s\",\"parallelism\":1,\"operator\":\"file_sink\","
	    "\"config\":{\"path\":\"/tmp\"}}],\"edges\":[{\"from\":\"g\","
	    "\"to\":\"s\",\"distribution\":\"all_to_all\",\"type\":"
	    "\"pipelined\"}]}");
	r = sl_run_sluice("run", tmp("auto-gen.json"), NULL);
	expect(&r, 1,
	    "vertex 'g': parallelism \"auto\" needs the size of the "
	    "input, and operator 'generate' cannot say it");
	free(small);
	free(large);
}

/*
 * examples/jobs/wordcount-adaptive.json: count's parallelism is decided
 * when the combiners finished, by the adaptive-batch strategy (chosen for
 * the job), from the bytes they wrote per subpartition (1 MiB a task, at
 * most 32), and write follows it; the tasks above the
 * decision never run and write no part file. A small and a large input
 * get different parallelisms and both the right counts.
 */
static char *
distinct_words(const char *path, size_t want, size_t *len)
{
	char *text = malloc(want + 32);
	uint64_t seed = 42;

	*len = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	while (*len < want)
		*len += (size_t)sprintf(text + *len, "w%u%c",
		    sl_rng_below(&seed, 400000), *len % 80 < 72 ? ' ' : '\n');
	sl_write_file(path, text, *len);
	return text;
}

static void
test_auto_from_bytes(void)
{
	size_t small_len, large_len;
	char *small = make_text(tmp("ad-s.txt"), 100u << 10, &small_len);
	/* many distinct words: the partial counts stay large */
	char *large = distinct_words(tmp("ad-l.txt"), 6u << 20, &large_len);
	struct run_result r;
	bool is_auto = false;
	int ps, pl;

	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-adaptive"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-adaptive"), 0755), 0);
	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-adaptive.json"), "-D",
	    def("input", tmp("ad-s.txt")), "-D", def("output", tmp("ad-s-out")),
	    "--report", tmp("ad-s.json"), NULL);
	expect(&r, 0, "vertex 'count': parallelism decided when its producers");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("ad-s-out"), small, small_len));
	ps = report_parallelism(tmp("ad-s.json"), "count", &is_auto);
	CU_ASSERT_TRUE(is_auto);
	CU_ASSERT_EQUAL(ps, 1);
	CU_ASSERT_EQUAL(
	    report_parallelism(tmp("ad-s.json"), "write", &is_auto), ps);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ad-s-out")), ps);

	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-adaptive.json"), "-D",
	    def("input", tmp("ad-l.txt")), "-D", def("output", tmp("ad-l-out")),
	    "--report", tmp("ad-l.json"), NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("ad-l-out"), large, large_len));
	pl = report_parallelism(tmp("ad-l.json"), "count", &is_auto);
	CU_ASSERT(pl > ps && pl <= 32);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ad-l-out")), pl);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-adaptive")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");

	/* a strategy that cannot decide is refused, saying which can */
	{
		char job[1024];

		snprintf(job, sizeof(job),
		    "{\"name\":\"r\",\"scheduler\":\"region\",\"vertices\":["
		    "{\"id\":\"read\",\"operator\":\"text_source\","
		    "\"parallelism\":1,\"config\":{\"path\":\"%s\"}},"
		    "{\"id\":\"words\",\"operator\":\"tokenize\","
		    "\"parallelism\":\"auto\"}],\"edges\":[{\"from\":\"read\","
		    "\"to\":\"words\",\"distribution\":\"all_to_all\","
		    "\"type\":\"blocking\",\"shuffle\":\"localdisk\"}]}",
		    tmp("ad-s.txt"));
		put(tmp("ad-region.json"), job);
		r = sl_run_sluice("run", tmp("ad-region.json"), NULL);
		expect(&r, 1,
		    "vertex 'words': its parallelism is decided "
		    "while the job runs, which scheduler 'region' "
		    "cannot do");
	}

	/* in one process nothing runs while the job is planned */
	r = sl_run_sluice("run", "--in-process",
	    source_path("examples/jobs/wordcount-adaptive.json"), "-D",
	    def("input", tmp("ad-s.txt")), "-D", def("output", tmp("ad-x")),
	    NULL);
	expect(&r, 1,
	    "vertex 'count': a parallelism decided from the "
	    "producers' bytes needs the cluster");
	free(small);
	free(large);
}

/* The largest bytes_in of a vertex's tasks in a report, their sum, and how
 * many tasks it lists. */
static uint64_t
report_task_bytes(const char *path, const char *id, uint64_t *sum, int *n)
{
	json_t *rep = json_load_file(path, 0, NULL), *v, *t;
	uint64_t max = 0;
	size_t i, k;

	*sum = 0;
	*n = 0;
	json_array_foreach (json_object_get(rep, "vertices"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "id")), id) !=
		    0)
			continue;
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			uint64_t b = (uint64_t)json_integer_value(
			    json_object_get(t, "bytes_in"));

			*sum += b;
			(*n)++;
			if (b > max)
				max = b;
		}
	}
	json_decref(rep);
	return max;
}

/*
 * examples/jobs/wordcount-skew.json (no combiner: every occurrence of a
 * word crosses the shuffle) on a text where one word is 60% of all: the
 * range holding it is far above skew_factor (2) x bytes_per_task (1 MiB),
 * so it is split among more tasks, each reading a slice of the producers,
 * and merged by its own task; the counts are right (the hot word's too),
 * no task reads a fifth of the input, and the partial results' partitions
 * are gone at the end. With skew_factor 0 nothing is split: one task reads
 * all of the hot word, and the output is the same.
 */
static void
test_auto_skew(void)
{
	size_t want = 5u << 20, len = 0, jlen;
	char *text = malloc(want + 32), *job;
	uint64_t seed = 7, sum, max;
	struct run_result r;
	bool is_auto = false;
	int p, n;
	char *at;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	while (len < want)
		len += (size_t)(sl_rng_below(&seed, 10) < 6
		        ? sprintf(
		              text + len, "hot%c", len % 80 < 72 ? ' ' : '\n')
		        : sprintf(text + len, "w%u%c",
		              sl_rng_below(&seed, 100000),
		              len % 80 < 72 ? ' ' : '\n'));
	sl_write_file(tmp("skew.txt"), text, len);
	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-skew"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-skew"), 0755), 0);

	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-skew.json"), "-D",
	    def("input", tmp("skew.txt")), "-D", def("output", tmp("skew-out")),
	    "--report", tmp("skew.json"), NULL);
	expect(&r, 0, "more tasks that split its hot ranges");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("skew-out"), text, len));
	p = report_parallelism(tmp("skew.json"), "count", &is_auto);
	CU_ASSERT_TRUE(is_auto);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("skew-out")), p);
	max = report_task_bytes(tmp("skew.json"), "count", &sum, &n);
	CU_ASSERT(n > p); /* the helpers ran, and are in the report */
	CU_ASSERT(max > 0 && max < sum / 5);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-skew")), 0);

	/* never split */
	job = sl_read_file(
	    source_path("examples/jobs/wordcount-skew.json"), &jlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	at = strstr(job, "\"skew_factor\": 2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	at[strlen("\"skew_factor\": ")] = '0';
	put(tmp("skew-never.json"), job);
	r = sl_run_sluice("run", tmp("skew-never.json"), "-D",
	    def("input", tmp("skew.txt")), "-D",
	    def("output", tmp("skew-never-out")), "--report",
	    tmp("skew-never.json.report"), NULL);
	CU_ASSERT_PTR_NULL(strstr(r.err, "split"));
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("skew-never-out"), text, len));
	max =
	    report_task_bytes(tmp("skew-never.json.report"), "count", &sum, &n);
	CU_ASSERT_EQUAL(n,
	    report_parallelism(
	        tmp("skew-never.json.report"), "count", &is_auto));
	CU_ASSERT(max > sum / 4); /* the hot word alone is half the bytes */
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-skew")), 0);

	/* a split vertex feeding a fixed one all_to_all: its consumers read
	 * the decided tasks' partitions only, none of the helpers' */
	put(tmp("skew-down.json"),
	    "{\"name\":\"d\",\"bytes_per_task\":\"1m\",\"skew_factor\":2,"
	    "\"max_parallelism\":32,\"vertices\":["
	    "{\"id\":\"read\",\"operator\":\"text_source\",\"parallelism\":"
	    "\"auto\",\"config\":{\"path\":\"${input}\"}},"
	    "{\"id\":\"words\",\"operator\":\"tokenize\",\"parallelism\":"
	    "\"auto\"},{\"id\":\"count\",\"operator\":\"hash_aggregate\","
	    "\"parallelism\":\"auto\",\"config\":{\"function\":\"count\","
	    "\"mode\":\"final\"}},{\"id\":\"write\",\"operator\":"
	    "\"file_sink\",\"parallelism\":2,\"config\":{\"path\":"
	    "\"${output}\",\"format\":\"tsv\"}}],\"edges\":["
	    "{\"from\":\"read\",\"to\":\"words\",\"distribution\":"
	    "\"pointwise\",\"type\":\"pipelined\"},{\"from\":\"words\","
	    "\"to\":\"count\",\"distribution\":\"all_to_all\",\"type\":"
	    "\"blocking\",\"shuffle\":\"localdisk\"},{\"from\":\"count\","
	    "\"to\":\"write\",\"distribution\":\"all_to_all\",\"type\":"
	    "\"blocking\",\"shuffle\":\"localdisk\"}]}");
	r = sl_run_sluice("run", tmp("skew-down.json"), "-D",
	    def("input", tmp("skew.txt")), "-D",
	    def("output", tmp("skew-down-out")), NULL);
	expect(&r, 0, "more tasks that split its hot ranges");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("skew-down-out"), text, len));
	CU_ASSERT_EQUAL(sl_count_entries(tmp("skew-down-out")), 2);
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-skew")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(job);
	free(text);
}

/* Three stages joined by blocking edges over the localdisk shuffle, on
 * fewer slots than tasks: regions run as their inputs finish, the counts
 * equal the reference, and the partitions' files are gone at the end. */
static void
test_run_blocking(void)
{
	size_t len;
	char *text = make_text(tmp("wcb.txt"), 1u << 20, &len);
	struct run_result r;

	setenv("SLUICE_LOCALDISK_DIR", tmp("localdisk"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("localdisk"), 0755), 0);
	r = sl_run_sluice("run",
	    source_path("examples/jobs/wordcount-blocking.json"), "-D",
	    def("input", tmp("wcb.txt")), "-D", def("output", tmp("wcb-out")),
	    "--workers", "2", "--slots", "1", "--report", tmp("wcb.json"),
	    NULL);
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("wcb-out"), text, len));
	/* The report's regions: every one ran, and the aggregation's started
	 * only after every combiner's had ended (a blocking edge). */
	{
		json_error_t jerr;
		json_t *rep = json_load_file(tmp("wcb.json"), 0, &jerr), *g;
		double combined = -1, first_count = 1e9;
		size_t i, n = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
		json_array_foreach (json_object_get(rep, "regions"), i, g) {
			const char *t0 = json_string_value(
			    json_array_get(json_object_get(g, "tasks"), 0));
			json_t *st = json_object_get(g, "started_s");
			json_t *en = json_object_get(g, "ended_s");

			n++;
			CU_ASSERT_TRUE_FATAL(
			    json_is_real(st) && json_is_real(en));
			CU_ASSERT(json_real_value(st) <= json_real_value(en));
			if (strncmp(t0, "read#", 5) == 0 &&
			    json_real_value(en) > combined)
				combined = json_real_value(en);
			if (strncmp(t0, "count#", 6) == 0 &&
			    json_real_value(st) < first_count)
				first_count = json_real_value(st);
		}
		/* 4 read-words-combine, 3 count, 3 write: both blocking */
		CU_ASSERT_EQUAL(n, 10);
		CU_ASSERT(combined > 0 && first_count >= combined);
		json_decref(rep);
	}
	CU_ASSERT_EQUAL(sl_count_entries(tmp("localdisk")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

/* TeraSort (examples/terasort.json): records sampled, range-partitioned
 * over a blocking localdisk edge, sorted per partition; the parts in name
 * order are sorted and a permutation of the input (validate-sorted). */
static void
test_terasort(void)
{
	struct run_result r;

	setenv("SLUICE_LOCALDISK_DIR", tmp("localdisk"), 1);
	mkdir(tmp("localdisk"), 0755);
	r = sl_run_sluice(
	    "gen-records", "--count", "60000", "--output", tmp("ts.bin"), NULL);
	expect(&r, 0, NULL);
	r = sl_run_sluice("run", source_path("examples/terasort.json"), "-D",
	    def("input", tmp("ts.bin")), "-D", def("output", tmp("ts-out")),
	    NULL);
	expect(&r, 0, "job 'terasort' finished");
	r = sl_run_sluice(
	    "validate-sorted", tmp("ts-out"), "--input", tmp("ts.bin"), NULL);
	expect(&r, 0, "a permutation of");
	/* every range got a fair share: no part below half of a quarter */
	for (int i = 0; i < 4; i++) {
		char p[700];
		struct stat st;

		snprintf(p, sizeof(p), "%s/part-%05d", tmp("ts-out"), i);
		CU_ASSERT_EQUAL_FATAL(stat(p, &st), 0);
		CU_ASSERT(st.st_size > 60000 * 100 / 8);
	}
	CU_ASSERT_EQUAL(sl_count_entries(tmp("localdisk")), 0);

	/* Two runs of the same job at once, each its own coordinator: both
	 * call it terasort-1, and their files must not meet. */
	{
		char *a[] = { (char *)sluice_path(), "run",
			(char *)source_path("examples/terasort.json"), "-D",
			(char *)def("input", tmp("ts.bin")), "-D",
			(char *)def("output", tmp("ts-out2")), NULL };
		pid_t other = spawn(a, NULL, tmp("ts2.err"));
		int st;

		r = sl_run_sluice("run", source_path("examples/terasort.json"),
		    "-D", def("input", tmp("ts.bin")), "-D",
		    def("output", tmp("ts-out3")), NULL);
		expect(&r, 0, "job 'terasort' finished");
		st = wait_for(other, 60);
		CU_ASSERT_TRUE(
		    st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		r = sl_run_sluice("validate-sorted", tmp("ts-out2"), "--input",
		    tmp("ts.bin"), NULL);
		expect(&r, 0, "a permutation of");
	}
	CU_ASSERT_EQUAL(sl_count_entries(tmp("localdisk")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
}

/* The data file of the first finished localdisk partition under dir
 * (BASE/JOB.TOKEN/e*.p*.a*.index): into path; false until there is one. */
static bool
find_partition(const char *dir, char *path, size_t cap)
{
	DIR *d = opendir(dir), *j;
	struct dirent *e, *f;
	bool found = false;

	while (d != NULL && !found && (e = readdir(d)) != NULL) {
		char sub[700];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if ((j = opendir(sub)) == NULL)
			continue;
		while (!found && (f = readdir(j)) != NULL) {
			size_t n = strlen(f->d_name);

			if (n > 6 && strcmp(f->d_name + n - 6, ".index") == 0) {
				snprintf(path, cap, "%s/%.*s.data", sub,
				    (int)(n - 6), f->d_name);
				found = true;
			}
		}
		closedir(j);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/*
 * A byte flipped in a finished partition's data file while its consumer,
 * throttled, is still at the start: the consumer finds the block that
 * fails its checksum. With restarts (`recover`) that partition counts as
 * lost (DESIGN §4 rule 2): its producer runs again, then its consumer, and
 * the job finishes with every record once; the report names the failover.
 * Without ("none") the job fails saying so. Either way the bad bytes never
 * reach the output as data and the partitions' files go.
 */
static void
flipped_byte(bool recover)
{
	char lib[600], job[2048], data[800], jpath[600], rpath[600];
	char *argv[] = { (char *)sluice_path(), "run", jpath, "--report", rpath,
		NULL };
	int n, st;
	pid_t pid;
	bool found = false;

	/* tmp()'s buffers are reused: argv keeps copies */
	snprintf(jpath, sizeof(jpath), "%s", tmp("flip.json"));
	snprintf(rpath, sizeof(rpath), "%s", tmp("flip-report.json"));
	snprintf(lib, sizeof(lib), "%s/examples/example-ops.so",
	    getenv("SL_BINARY_DIR") ? getenv("SL_BINARY_DIR") : "build");
	/* 2.2 MB through a 1 MB/s throttle: two seconds of reading */
	n = snprintf(job, sizeof(job),
	    "{\"name\": \"flip\", \"libraries\": [\"%s\"],\n"
	    " \"restart\": %s,\n"
	    " \"vertices\": [\n"
	    "  {\"id\": \"gen\", \"operator\": \"generate\", "
	    "\"parallelism\": 1, \"config\": {\"count\": 20000, "
	    "\"value_bytes\": 100}},\n"
	    "  {\"id\": \"slow\", \"operator\": \"throttle\", "
	    "\"parallelism\": 1, \"config\": {\"bytes_per_second\": "
	    "1000000}},\n"
	    "  {\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 1, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"records\"}}],\n"
	    " \"edges\": [\n"
	    "  {\"from\": \"gen\", \"to\": \"slow\", \"distribution\": "
	    "\"pointwise\", \"type\": \"blocking\", \"shuffle\": "
	    "\"localdisk\"},\n"
	    "  {\"from\": \"slow\", \"to\": \"sink\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}\n",
	    lib,
	    recover ? "{\"strategy\": \"fixed-delay\", \"delay\": \"10ms\"}"
	            : "{\"strategy\": \"none\"}",
	    tmp("flip-out"));
	sl_write_file(tmp("flip.json"), job, (size_t)n);
	sl_rm_rf(tmp("ld-flip"));
	sl_rm_rf(tmp("flip-out"));
	CU_ASSERT_EQUAL(mkdir(tmp("ld-flip"), 0755), 0);
	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-flip"), 1);
	pid = spawn(argv, NULL, tmp("flip.err"));
	unsetenv("SLUICE_LOCALDISK_DIR");
	for (int i = 0; i < 1000 && !found; i++) {
		found = find_partition(tmp("ld-flip"), data, sizeof(data));
		if (!found)
			sleep_ms(10);
	}
	CU_ASSERT_TRUE(found);
	if (found) {
		struct stat sb;
		unsigned char c;
		int fd = open(data, O_RDWR);

		/* in the payload of the last block, which is read last */
		CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &sb) == 0);
		CU_ASSERT_EQUAL(pread(fd, &c, 1, sb.st_size - 10), 1);
		c ^= 0x20;
		CU_ASSERT_EQUAL(pwrite(fd, &c, 1, sb.st_size - 10), 1);
		close(fd);
	}
	st = wait_for(pid, 60);
	if (st == -1)
		kill(pid, SIGKILL), waitpid(pid, &st, 0);
	CU_ASSERT_TRUE(file_has(tmp("flip.err"), "partition unreadable", 1));
	CU_ASSERT_TRUE(file_has(tmp("flip.err"), "fails its checksum", 1));
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-flip")), 0);
	if (!recover) {
		CU_ASSERT_TRUE(
		    st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
		CU_ASSERT_TRUE(
		    file_has(tmp("flip.err"), "none: no restarts", 1));
		/* nothing of the failed attempt is visible */
		CU_ASSERT_EQUAL(sl_count_entries(tmp("flip-out")), 0);
		return;
	}
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		static const char *const err[] = { "flip.err", NULL };

		print_tails(err);
		CU_FAIL("the job did not finish");
	}
	{
		size_t len = 0;
		char *out = sl_read_file(tmp("flip-out/part-00000"), &len);
		json_t *rep = json_load_file(tmp("flip-report.json"), 0, NULL);
		json_t *ev =
		    json_array_get(json_object_get(rep, "failovers"), 0);
		json_t *rs = json_object_get(ev, "restarted");

		size_t at = 0, nrec = 0;

		/* every record once: u32 length, then that many bytes */
		while (out != NULL && at + 4 <= len) {
			uint32_t rl;

			memcpy(&rl, out + at, 4);
			at += 4 + (size_t)rl;
			nrec++;
		}
		CU_ASSERT_EQUAL(at, len);
		CU_ASSERT_EQUAL(nrec, 20000);
		if (json_array_size(json_object_get(rep, "failovers")) != 1) {
			static const char *const err[] = { "flip.err", NULL };
			char *f = json_dumps(
			    json_object_get(rep, "failovers"), JSON_COMPACT);

			fprintf(stderr, "\nfailovers: %s\n", f ? f : "(none)");
			free(f);
			print_tails(err);
			CU_FAIL("not one failover");
		}
		CU_ASSERT_STRING_EQUAL(
		    json_string_value(json_object_get(ev, "task")), "slow#0");
		/* rule 2: the producer of the bad partition, then its region */
		CU_ASSERT_EQUAL(json_array_size(rs), 3);
		CU_ASSERT_STRING_EQUAL(
		    json_string_value(json_array_get(rs, 0)), "gen#0");
		free(out);
		json_decref(rep);
	}
}

static void
test_flipped_byte(void)
{
	flipped_byte(false);
}

static void
test_flipped_byte_recovered(void)
{
	flipped_byte(true);
}

/* The restarted tasks of failover event i, space-separated. */
static void
report_restarted(const char *path, size_t i, char *buf, size_t cap)
{
	json_t *rep = json_load_file(path, 0, NULL), *t;
	json_t *ev = json_array_get(json_object_get(rep, "failovers"), i);
	size_t k, n = 0;

	buf[0] = '\0';
	json_array_foreach (json_object_get(ev, "restarted"), k, t)
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s",
		    k ? " " : "", json_string_value(t));
	json_decref(rep);
}

/*
 * A task that fails (an injected fault) in a three-region job: only its
 * region restarts (the consumers of count#1 had not started: blocking), it
 * runs a second attempt, and the output equals the reference; the report
 * says which task failed, why, and what restarted.
 */
static void
test_failover_task(void)
{
	size_t len;
	char *text = make_text(tmp("fo.txt"), 1u << 20, &len), set[512];
	struct run_result r;
	const char *const but[] = { "count#1", NULL };

	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-fo"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-fo"), 0755), 0);
	put_blocking_wc(tmp("fo.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"attempts\": 3, "
	    "\"delay\": \"20ms\"}, \"faults\": [{\"task\": \"count#1\", "
	    "\"after_records\": 100, \"action\": \"fail\"}]");
	r = sl_run_sluice("run", tmp("fo.json"), "-D",
	    def("input", tmp("fo.txt")), "-D", def("output", tmp("fo-out")),
	    "--report", tmp("fo-rep.json"), "--state-dir", tmp("fo-state"),
	    NULL);
	expect(&r, 0,
	    "task count#1 failed (attempt 0): task count#1: injected "
	    "fault after 100 records");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("fo-out"), text, len));
	CU_ASSERT_EQUAL(report_attempts(tmp("fo-rep.json"), "count#1"), 2);
	CU_ASSERT_TRUE(report_attempts_all(tmp("fo-rep.json"), 1, but));
	report_restarted(tmp("fo-rep.json"), 0, set, sizeof(set));
	CU_ASSERT_STRING_EQUAL(set, "count#1");
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-fo")), 0);
	/* the operation log: submitted first, the failover (count#1 now in
	 * attempt 1), a finish for each of the 18 tasks, ended last */
	r = sl_run_sluice("log", "dump", tmp("fo-state"), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    r.out, "{\"job\":\"wcb-1\",\"offset\":0,\"t\":\"submitted\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"restarted\":[[3,1,1]]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"state\":\"FINISHED\""));
	{
		int fin = 0;

		for (const char *q = r.out;
		     (q = strstr(q, "\"t\":\"finished\"")) != NULL; q++)
			fin++;
		CU_ASSERT_EQUAL(fin, 18);
	}
	expect(&r, 0, NULL);
	/* cut in its last record: the good ones, and why not the rest */
	{
		char log[700];
		struct stat sb;

		snprintf(log, sizeof(log), "%s/wcb-1.log", tmp("fo-state"));
		CU_ASSERT_EQUAL_FATAL(stat(log, &sb), 0);
		CU_ASSERT_EQUAL(truncate(log, sb.st_size - 5), 0);
		r = sl_run_sluice("log", "dump", tmp("fo-state"), NULL);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(r.out, "\"restarted\":[[3,1,1]]"));
		CU_ASSERT_PTR_NULL(strstr(r.out, "\"t\":\"ended\""));
		expect(&r, 1, "ends in a torn record");
	}
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

/*
 * Failures that come back: every attempt of count#0 fails, so the
 * strategy (two restarts) gives up and the job fails saying which task
 * failed how often and why; no partition is left. With "none" the first
 * failure ends the job.
 */
static void
test_failover_exhausted(void)
{
	size_t len;
	char *text = make_text(tmp("fx.txt"), 1u << 19, &len);
	struct run_result r;

	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-fx"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-fx"), 0755), 0);
	put_blocking_wc(tmp("fx.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"attempts\": 2, "
	    "\"delay\": \"10ms\"}, \"faults\": ["
	    "{\"task\": \"count#0\", \"attempt\": 0, \"action\": \"fail\"},"
	    "{\"task\": \"count#0\", \"attempt\": 1, \"action\": \"fail\"},"
	    "{\"task\": \"count#0\", \"attempt\": 2, \"action\": \"fail\"}]");
	r = sl_run_sluice("run", tmp("fx.json"), "-D",
	    def("input", tmp("fx.txt")), "-D", def("output", tmp("fx-out")),
	    "--report", tmp("fx-rep.json"), NULL);
	expect(&r, 1,
	    "task count#0 failed (attempt 2): task count#0: injected "
	    "fault after 0 records");
	CU_ASSERT_EQUAL(report_attempts(tmp("fx-rep.json"), "count#0"), 3);
	{
		json_t *rep = json_load_file(tmp("fx-rep.json"), 0, NULL);
		json_t *fo = json_object_get(rep, "failovers");

		/* two restarts, and the failure that ended the job */
		CU_ASSERT_EQUAL(json_array_size(fo), 3);
		CU_ASSERT_TRUE(json_is_false(
		    json_object_get(json_array_get(fo, 1), "gave_up")));
		CU_ASSERT_TRUE(json_is_true(
		    json_object_get(json_array_get(fo, 2), "gave_up")));
		json_decref(rep);
	}
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-fx")), 0);

	put_blocking_wc(tmp("fn.json"),
	    "\"restart\": {\"strategy\": \"none\"}, \"faults\": ["
	    "{\"task\": \"write#2\", \"action\": \"fail\"}]");
	r = sl_run_sluice("run", tmp("fn.json"), "-D",
	    def("input", tmp("fx.txt")), "-D", def("output", tmp("fn-out")),
	    NULL);
	expect(&r, 1, "task write#2 failed (attempt 0)");
	r = sl_run_sluice("run", "--in-process", tmp("fn.json"), "-D",
	    def("input", tmp("fx.txt")), "-D", def("output", tmp("fn-out")),
	    NULL);
	expect(&r, 1, "\"faults\" need the cluster");
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-fx")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

/*
 * A worker killed (SIGKILL, by an injected fault) while count runs behind a
 * blocking shuffle: its tasks fail, the partitions it held are gone, so the
 * finished combiners that wrote them run again (rule 2), and the job
 * finishes on the other worker with the reference output. And one killed
 * in a pipelined stage (read -> words -> combine), with --respawn: the
 * worker comes back and the job finishes too.
 */
static void
test_failover_worker(void)
{
	size_t len;
	char *text = make_text(tmp("fw.txt"), 1u << 20, &len);
	struct run_result r;

	setenv("SLUICE_LOCALDISK_DIR", tmp("ld-fw"), 1);
	CU_ASSERT_EQUAL(mkdir(tmp("ld-fw"), 0755), 0);
	put_blocking_wc(tmp("fw.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"20ms\"}, \"faults\": [{\"task\": \"count#0\", "
	    "\"after_records\": 50, \"action\": \"crash_worker\"}]");
	r = sl_run_sluice("run", tmp("fw.json"), "-D",
	    def("input", tmp("fw.txt")), "-D", def("output", tmp("fw-out")),
	    "--report", tmp("fw-rep.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "killing this process"));
	expect(&r, 0, " lost: ");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("fw-out"), text, len));
	CU_ASSERT_EQUAL(report_attempts(tmp("fw-rep.json"), "count#0"), 2);
	{
		json_t *rep = json_load_file(tmp("fw-rep.json"), 0, NULL);

		CU_ASSERT(
		    json_array_size(json_object_get(rep, "failovers")) >= 1);
		json_decref(rep);
	}

	put_blocking_wc(tmp("fp.json"),
	    "\"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"20ms\"}, \"faults\": [{\"task\": \"words#1\", "
	    "\"after_records\": 1000, \"action\": \"crash_worker\"}]");
	r = sl_run_sluice("run", tmp("fp.json"), "-D",
	    def("input", tmp("fw.txt")), "-D", def("output", tmp("fp-out")),
	    "--respawn", "--report", tmp("fp-rep.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "starting it again"));
	expect(&r, 0, " lost: ");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("fp-out"), text, len));
	CU_ASSERT_EQUAL(report_attempts(tmp("fp-rep.json"), "words#1"), 2);
	/* the dead worker's partitions, half-written ones too, were
	 * released from this host: nothing is left */
	CU_ASSERT_EQUAL(sl_count_entries(tmp("ld-fw")), 0);
	unsetenv("SLUICE_LOCALDISK_DIR");
	free(text);
}

/* Records in a part file of format "records" (u32 length, then that many
 * bytes), or -1 when it does not parse to its end. */
static long
count_records(const char *path)
{
	size_t len = 0, at = 0;
	char *b = sl_read_file(path, &len);
	long n = 0;

	while (b != NULL && at + 4 <= len) {
		uint32_t rl;

		memcpy(&rl, b + at, 4);
		at += 4 + (size_t)rl;
		n++;
	}
	free(b);
	return b != NULL && at == len ? n : -1;
}

/*
 * sluice run --kill-worker-after: a worker is killed with SIGKILL while a
 * pipelined job (generate -> throttle -> sink, two one-slot regions) runs;
 * the region it ran starts again on the other worker and every record is
 * in the output once (the killed sink's part file never became visible).
 */
static void
test_kill_worker_after(void)
{
	char lib[600], job[2048];
	struct run_result r;
	int n;

	snprintf(lib, sizeof(lib), "%s/examples/example-ops.so",
	    getenv("SL_BINARY_DIR") ? getenv("SL_BINARY_DIR") : "build");
	/* 20000 records (2.4 MB) a task at 2 MB/s: a second or more */
	n = snprintf(job, sizeof(job),
	    "{\"name\": \"kw\", \"libraries\": [\"%s\"],"
	    " \"restart\": {\"strategy\": \"fixed-delay\", \"delay\": "
	    "\"10ms\"}, \"vertices\": ["
	    "{\"id\": \"gen\", \"operator\": \"generate\", "
	    "\"parallelism\": 2, \"config\": {\"count\": 40000, "
	    "\"value_bytes\": 100}},"
	    "{\"id\": \"slow\", \"operator\": \"throttle\", "
	    "\"parallelism\": 2, \"config\": {\"bytes_per_second\": "
	    "2000000}},"
	    "{\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2, \"config\": {\"path\": \"%s\", "
	    "\"format\": \"records\"}}], \"edges\": ["
	    "{\"from\": \"gen\", \"to\": \"slow\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"},"
	    "{\"from\": \"slow\", \"to\": \"sink\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}",
	    lib, tmp("kw-out"));
	sl_write_file(tmp("kw.json"), job, (size_t)n);
	r = sl_run_sluice("run", tmp("kw.json"), "--workers", "2", "--slots",
	    "1", "--kill-worker-after", "0.4", "--report", tmp("kw-rep.json"),
	    NULL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.err, "--kill-worker-after: killing worker-"));
	expect(&r, 0, " lost: ");
	CU_ASSERT_EQUAL(count_records(tmp("kw-out/part-00000")), 20000);
	CU_ASSERT_EQUAL(count_records(tmp("kw-out/part-00001")), 20000);
	CU_ASSERT_EQUAL(report_attempts(tmp("kw-rep.json"), "sink#0") +
	        report_attempts(tmp("kw-rep.json"), "sink#1"),
	    3);
	/* the killed sink's temporary file went when its task committed */
	CU_ASSERT_EQUAL(sl_count_entries(tmp("kw-out")), 2);
	{
		json_t *rep = json_load_file(tmp("kw-rep.json"), 0, NULL);

		CU_ASSERT_EQUAL(
		    json_array_size(json_object_get(rep, "failovers")), 1);
		json_decref(rep);
	}
	/* --in-process has no worker to kill */
	r = sl_run_sluice("run", "--in-process", tmp("kw.json"),
	    "--kill-worker-after", "1", NULL);
	expect(&r, 2, "need worker processes");
}

/* A scheduling strategy from outside the core (examples/
 * scheduler-largest-input), named by the job and found with --plugin-dir;
 * without it the job is refused with the name it asked for. */
static void
test_scheduler_strategy(void)
{
	char dir[600];
	size_t len;
	char *text = make_text(tmp("li.txt"), 1u << 19, &len);
	json_error_t jerr;
	json_t *job = json_load_file(
	    source_path("examples/jobs/wordcount-blocking.json"), 0, &jerr);
	struct run_result r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	json_object_set_new(job, "scheduler", json_string("largest-input"));
	CU_ASSERT_EQUAL_FATAL(json_dump_file(job, tmp("li.json"), 0), 0);
	json_decref(job);
	snprintf(dir, sizeof(dir), "%s/examples",
	    getenv("SL_BINARY_DIR") ? getenv("SL_BINARY_DIR") : "build");
	setenv("SLUICE_LOG", "info", 1);
	r = sl_run_sluice("run", tmp("li.json"), "-D",
	    def("input", tmp("li.txt")), "-D", def("output", tmp("li-out")),
	    "--workers", "2", "--slots", "1", "--plugin-dir", dir, NULL);
	unsetenv("SLUICE_LOG");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "scheduler 'largest-input'"));
	expect(&r, 0, NULL);
	CU_ASSERT_TRUE(output_is_wordcount(tmp("li-out"), text, len));

	r = sl_run_sluice("run", tmp("li.json"), "-D",
	    def("input", tmp("li.txt")), "-D", def("output", tmp("li-out2")),
	    NULL);
	expect(&r, 1, "no scheduler plugin named 'largest-input' is loaded");
	free(text);
}

/* A job that brings its own operator library (examples/operators). */
static void
test_job_library(void)
{
	char lib[600];
	const char *in = "/usr/share/common-licenses/GPL-3";
	size_t len;
	char *text = sl_read_file(in, &len), *out;
	struct run_result r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(lib, sizeof(lib), "%s/examples/example-ops.so",
	    getenv("SL_BINARY_DIR") ? getenv("SL_BINARY_DIR") : "build");
	r = sl_run_sluice("run", source_path(GREP), "-D", def("ops", lib), "-D",
	    def("input", in), "-D", def("output", tmp("grep-out")), "-D",
	    "pattern=licen", NULL);
	expect(&r, 0, NULL);
	out = sl_read_file(tmp("grep-out/part-00000"), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	/* every word containing "licen", with its count */
	{
		char **ref;
		size_t nref = sl_ref_wordcount(text, strlen(text), &ref, NULL);
		size_t want = 0, got = 0;

		for (size_t i = 0; i < nref; i++) {
			if (strstr(ref[i], "licen") != NULL) {
				want++;
				CU_ASSERT_PTR_NOT_NULL(strstr(out, ref[i]));
			}
			free(ref[i]);
		}
		free(ref);
		for (char *p = out; (p = strchr(p, '\n')) != NULL; p++)
			got++;
		CU_ASSERT(want > 3);
		CU_ASSERT_EQUAL(got, want);
	}
	free(out);
	free(text);

	/* a library path that is not absolute */
	r = sl_run_sluice("run", source_path(GREP), "-D", "ops=example-ops.so",
	    "-D", def("input", in), "-D", def("output", tmp("grep-out2")), "-D",
	    "pattern=x", NULL);
	expect(&r, 1, "libraries[0]: 'example-ops.so' is not an absolute path");
}

/* What cannot run says why, names the file, and leaves no process. */
static void
test_run_failures(void)
{
	struct run_result r;

	put(tmp("bad-op.json"),
	    "{\"name\":\"b\",\"vertices\":[{\"id\":\"g\",\"parallelism\":1,"
	    "\"operator\":"
	    "\"generate\",\"config\":{\"count\":1}},{\"id\":\"s\","
	    "\"parallelism\":1,"
	    "\"operator\":\"nope\"}],\"edges\":[{\"from\":\"g\",\"to\":\"s\","
	    "\"distribution\":\"pointwise\",\"type\":\"pipelined\"}]}");
	r = sl_run_sluice("run", tmp("bad-op.json"), NULL);
	expect(&r, 1, "vertex 's': operator 'nope' is not in any loaded");

	put(tmp("bad-shuffle.json"),
	    "{\"name\":\"b\",\"shuffle\":\"nosuch\",\"vertices\":[{\"id\":"
	    "\"g\",\"parallelism\":1,\"operator\":\"generate\",\"config\":"
	    "{\"count\":1}},{\"id\":\"s\",\"parallelism\":1,\"operator\":"
	    "\"file_sink\",\"config\":{\"path\":\"/tmp\"}}],"
	    "\"edges\":[{\"from\":\"g\",\"to\":\"s\",\"distribution\":"
	    "\"pointwise\",\"type\":\"pipelined\"}]}");
	r = sl_run_sluice("run", tmp("bad-shuffle.json"), NULL);
	expect(&r, 1, "shuffle plugin 'nosuch' is not loaded");

	/* compression asked of a plugin that does not compress: refused,
	 * never silently ignored; the message is not mangled */
	put(tmp("bad-codec.json"),
	    "{\"name\":\"b\",\"vertices\":[{\"id\":"
	    "\"g\",\"parallelism\":1,\"operator\":\"generate\",\"config\":"
	    "{\"count\":1}},{\"id\":\"s\",\"parallelism\":1,\"operator\":"
	    "\"file_sink\",\"config\":{\"path\":\"/tmp\"}}],"
	    "\"edges\":[{\"from\":\"g\",\"to\":\"s\",\"distribution\":"
	    "\"pointwise\",\"type\":\"pipelined\",\"compression\":"
	    "\"zstd\"}]}");
	r = sl_run_sluice("run", tmp("bad-codec.json"), NULL);
	expect(&r, 1,
	    "shuffle 'memory': register partition of g#0: memory: "
	    "compression is not supported");

	put(tmp("bad.json"), "{\"name\": \"x\",\n \"vertices\": [}");
	r = sl_run_sluice("run", tmp("bad.json"), NULL);
	expect(&r, 1, "bad.json:2:");

	/* a task fails on a worker: exit 1, its words, FAILED in the
	 * report */
	r = sl_run_sluice("run", source_path(WC), "-D",
	    "input=/nonexistent/in.txt", "-D", def("output", tmp("f-out")),
	    "--report", tmp("f.json"), NULL);
	expect(&r, 1, "/nonexistent/in.txt: open: No such file or directory");
	{
		const char *status;

		report_workers(tmp("f.json"), &status);
		CU_ASSERT_STRING_EQUAL(status, "FAILED");
	}
	CU_ASSERT_EQUAL(sl_count_entries(tmp("f-out")), 0);

	r = sl_run_sluice("run", source_path(WC), "--workers", "0", NULL);
	expect(&r, 2, "--workers: 1 to 256");
}

/* pids of the processes whose command line has `--parent-pid PID`: the
 * workers of the sluice run with that pid. */
static int
workers_of(pid_t parent, pid_t *out, int cap)
{
	char want[32], path[300], buf[4096];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	snprintf(want, sizeof(want), "%d", (int)parent);
	while (d != NULL && (e = readdir(d)) != NULL) {
		ssize_t got;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (got <= 0)
			continue;
		buf[got] = '\0';
		for (char *p = buf; p < buf + got; p += strlen(p) + 1)
			if (strcmp(p, "--parent-pid") == 0 &&
			    p + strlen(p) + 1 < buf + got &&
			    strcmp(p + strlen(p) + 1, want) == 0 && n < cap)
				out[n++] = (pid_t)atoi(e->d_name);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* Resident set of pid in KiB, 0 when gone. */
static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static bool
all_gone(const pid_t *pids, int n, double secs)
{
	double until = now() + secs;

	for (;;) {
		int alive = 0;

		for (int i = 0; i < n; i++)
			alive += kill(pids[i], 0) == 0;
		if (alive == 0)
			return true;
		if (now() > until)
			return false;
		sleep_ms(20);
	}
}

/* A generator far faster than a throttled consumer on the other worker:
 * credit-based flow control must hold the generator back, so no worker's
 * memory grows with the data generated. Then Ctrl-C: exit 130, every
 * worker gone, no part file. */
static void
test_bounded_memory_and_interrupt(void)
{
	char lib[600], job[2048];
	char *argv[16];
	pid_t pid, w[8];
	long base = 0, peak = 0;
	int n = 0, nw = 0, st;

	snprintf(lib, sizeof(lib), "%s/examples/example-ops.so",
	    getenv("SL_BINARY_DIR") ? getenv("SL_BINARY_DIR") : "build");
	/* 2 x 200 MB generated; the throttle lets 2 x 2 MB/s through */
	n = snprintf(job, sizeof(job),
	    "{\"name\": \"slow\", \"libraries\": [\"%s\"],\n"
	    " \"vertices\": [\n"
	    "  {\"id\": \"gen\", \"operator\": \"generate\", \"parallelism\": "
	    "2,"
	    "   \"config\": {\"count\": 200000, \"value_bytes\": 1000}},\n"
	    "  {\"id\": \"slow\", \"operator\": \"throttle\", \"parallelism\": "
	    "2,"
	    "   \"config\": {\"bytes_per_second\": 2000000}},\n"
	    "  {\"id\": \"sink\", \"operator\": \"file_sink\", "
	    "\"parallelism\": 2,"
	    "   \"config\": {\"path\": \"%s\", \"format\": \"records\"}}],\n"
	    " \"edges\": [\n"
	    "  {\"from\": \"gen\", \"to\": \"slow\", \"distribution\": "
	    "\"all_to_all\", \"partitioner\": \"hash\", \"type\": "
	    "\"pipelined\"},\n"
	    "  {\"from\": \"slow\", \"to\": \"sink\", \"distribution\": "
	    "\"pointwise\", \"type\": \"pipelined\"}]}\n",
	    lib, tmp("slow-out"));
	sl_write_file(tmp("slow.json"), job, (size_t)n);
	n = 0;
	argv[n++] = (char *)sluice_path();
	argv[n++] = "run";
	argv[n++] = (char *)tmp("slow.json");
	argv[n] = NULL;
	{
		/* Under AddressSanitizer freed memory waits in a quarantine
		 * (256 MB by default) that would count as resident here. */
		const char *old = getenv("ASAN_OPTIONS");
		char opts[1024];

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=8",
		    old != NULL ? old : "", old != NULL ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	pid = spawn(argv, NULL, tmp("slow.err"));
	for (int i = 0; i < 300 && (nw = workers_of(pid, w, 8)) < 2; i++)
		sleep_ms(20);
	CU_ASSERT_EQUAL_FATAL(nw, 2);
	/* Once the sinks have their files open the job runs; then watch. */
	for (int i = 0; i < 300 && sl_count_entries(tmp("slow-out")) < 2; i++)
		sleep_ms(20);
	sleep_ms(500);
	for (int k = 0; k < nw; k++)
		base += rss_kib(w[k]);
	for (int i = 0; i < 30; i++) {
		long sum = 0;

		sleep_ms(100);
		for (int k = 0; k < nw; k++)
			sum += rss_kib(w[k]);
		if (sum > peak)
			peak = sum;
	}
	/* Unbounded queues would hold hundreds of MB by now; bounded ones
	 * hold 2 x 2 subpartitions x 8 credits x 32 KiB. */
	fprintf(stderr,
	    "\n    workers' RSS: %ld KiB after start, peak %ld KiB ", base,
	    peak);
	CU_ASSERT(peak - base < 64 * 1024);
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, WNOHANG), 0); /* still on */

	kill(pid, SIGINT);
	st = wait_for(pid, 20);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 130);
	if (st == -1)
		kill(pid, SIGKILL), waitpid(pid, &st, 0);
	CU_ASSERT_TRUE(all_gone(w, nw, 5));
	/* the sinks' temporary files are gone too: nothing half-written */
	CU_ASSERT_EQUAL(sl_count_entries(tmp("slow-out")), 0);
}

/* The --run-dir a worker process was started with, into buf. */
static bool
run_dir_of(pid_t worker, char *buf, size_t cap)
{
	char path[64], *cmd;
	size_t len = 0;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)worker);
	if ((cmd = sl_read_file(path, &len)) == NULL)
		return false;
	for (size_t at = 0; at < len && !found; at += strlen(cmd + at) + 1)
		if (strcmp(cmd + at, "--run-dir") == 0 &&
		    at + strlen(cmd + at) + 1 < len) {
			snprintf(
			    buf, cap, "%s", cmd + at + strlen(cmd + at) + 1);
			found = true;
		}
	free(cmd);
	return found;
}

/* SIGKILL of sluice run: its workers die with it, and the last of them
 * removes the run directory its parent could not. */
static void
test_kill_run(void)
{
	char *argv[16], dir[600];
	pid_t pid, w[8];
	int n = 0, nw = 0, st;

	argv[n++] = (char *)sluice_path();
	argv[n++] = "run";
	argv[n++] = (char *)tmp("slow.json");
	argv[n] = NULL;
	pid = spawn(argv, NULL, NULL);
	for (int i = 0; i < 300 && (nw = workers_of(pid, w, 8)) < 2; i++)
		sleep_ms(20);
	CU_ASSERT_EQUAL_FATAL(nw, 2);
	CU_ASSERT_TRUE_FATAL(run_dir_of(w[0], dir, sizeof(dir)));
	sleep_ms(300);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_TRUE(all_gone(w, nw, 5));
	CU_ASSERT_EQUAL(access(dir, F_OK), -1);
}

/* kill -9 of a worker while the job runs: the coordinator notices (the
 * connection closes), says which worker was lost and restarts its tasks on
 * the other (failover); a Ctrl-C then ends the run with nothing left
 * behind. */
static void
test_worker_killed(void)
{
	char *argv[16];
	pid_t pid, w[8];
	int n = 0, nw = 0, st;
	size_t len;
	char *err;

	argv[n++] = (char *)sluice_path();
	argv[n++] = "run";
	argv[n++] = (char *)tmp("slow.json");
	argv[n] = NULL;
	pid = spawn(argv, NULL, tmp("killed.err"));
	for (int i = 0; i < 300 && (nw = workers_of(pid, w, 8)) < 2; i++)
		sleep_ms(20);
	CU_ASSERT_EQUAL_FATAL(nw, 2);
	for (int i = 0; i < 300 && sl_count_entries(tmp("slow-out")) < 2; i++)
		sleep_ms(20);
	kill(w[0], SIGKILL);
	CU_ASSERT_TRUE(file_has(tmp("killed.err"), "restarting", 20));
	kill(pid, SIGINT);
	st = wait_for(pid, 20);
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		CU_FAIL("sluice run did not end after a Ctrl-C");
	}
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 130);
	err = sl_read_file(tmp("killed.err"), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	if (strstr(err, " lost: ") == NULL)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "coordinator: worker worker-"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, " lost: "));
	free(err);
	CU_ASSERT_TRUE(all_gone(w, nw, 5));
	/* Nothing visible: the surviving sink removed its temporary file;
	 * the killed one's stays, hidden (.part-N.attempt-A.tmp), until an
	 * attempt of its task commits. */
	{
		char names[4096], *save = NULL;

		sl_list_dir(tmp("slow-out"), names, sizeof(names));
		for (char *nm = strtok_r(names, " ", &save); nm != NULL;
		     nm = strtok_r(NULL, " ", &save))
			CU_ASSERT(nm[0] == '.');
	}
}

/*
 * A worker that stops answering (SIGSTOP: its connection stays open) is
 * found by its missing heartbeats; its region runs again on the other
 * worker and the job finishes with every record once.
 */
static void
test_worker_silent(void)
{
	char *argv[16], jpath[600], rpath[600];
	pid_t pid, w[8];
	int n = 0, nw = 0, st;

	/* the --kill-worker-after test's throttled job */
	snprintf(jpath, sizeof(jpath), "%s", tmp("kw.json"));
	snprintf(rpath, sizeof(rpath), "%s", tmp("hb-rep.json"));
	sl_rm_rf(tmp("kw-out"));
	argv[n++] = (char *)sluice_path();
	argv[n++] = "run";
	argv[n++] = jpath;
	argv[n++] = "--workers";
	argv[n++] = "2";
	argv[n++] = "--slots";
	argv[n++] = "1";
	argv[n++] = "--report";
	argv[n++] = rpath;
	argv[n] = NULL;
	pid = spawn(argv, NULL, tmp("hb.err"));
	for (int i = 0; i < 300 && (nw = workers_of(pid, w, 8)) < 2; i++)
		sleep_ms(20);
	CU_ASSERT_EQUAL_FATAL(nw, 2);
	sleep_ms(400);
	kill(w[0], SIGSTOP);
	CU_ASSERT_TRUE(file_has(tmp("hb.err"), "no heartbeat for", 20));
	kill(w[0], SIGKILL);
	st = wait_for(pid, 30);
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		CU_FAIL("sluice run did not end");
	}
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(count_records(tmp("kw-out/part-00000")), 20000);
	CU_ASSERT_EQUAL(count_records(tmp("kw-out/part-00001")), 20000);
}

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* A standalone cluster over tcp://: submit, status, a worker that stops
 * heartbeating is declared lost, SIGTERM stops the coordinator and its
 * workers. */
static void
test_standalone_tcp(void)
{
	char url[64];
	pid_t coord, w1, w2;
	size_t len;
	char *text = make_text(tmp("tcp.txt"), 1u << 20, &len);
	struct run_result r;
	int st;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	{
		char *a[] = { (char *)sluice_path(), "coordinator", "--listen",
			url, "--heartbeat-ms", "100", NULL };

		coord = spawn(a, tmp("coord.out"), tmp("coord.err"));
	}
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("coord.out"), "coordinator listening at", 10));
	{
		char *a[] = { (char *)sluice_path(), "worker", "--coordinator",
			url, "--id", "w1", "--host", "127.0.0.1", NULL };
		char *b[] = { (char *)sluice_path(), "worker", "--coordinator",
			url, "--id", "w2", "--host", "127.0.0.1", NULL };

		w1 = spawn(a, NULL, tmp("w1.err"));
		w2 = spawn(b, NULL, tmp("w2.err"));
	}
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("coord.err"), "worker w2 registered", 10));
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("coord.err"), "worker w1 registered", 10));

	r = sl_run_sluice("submit", "--coordinator", url, source_path(WC), "-D",
	    def("input", tmp("tcp.txt")), "-D", def("output", tmp("tcp-out")),
	    "--wait", NULL);
	expect(&r, 0, "FINISHED");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("tcp-out"), text, len));
	/* the data crossed processes: both workers ran tasks */
	CU_ASSERT_TRUE(file_has(tmp("coord.err"), "FINISHED", 1));

	/* decisions of "auto" parallelism are in the job's status */
	r = sl_run_sluice("submit", "--coordinator", url,
	    source_path("examples/jobs/wordcount-auto.json"), "-D",
	    def("input", tmp("tcp.txt")), "-D", def("output", tmp("tcp-auto")),
	    "--wait", NULL);
	expect(&r, 0, "FINISHED: parallelism read=2 words=2 combine=2");

	r = sl_run_sluice("submit", "--coordinator", url, source_path(WC), "-D",
	    "input=/nonexistent", "-D", def("output", tmp("tcp-fail")),
	    "--wait", NULL);
	/* read and words are chained: either may report the chain's failure
	 * first, and the cause names read */
	expect(&r, 1, "task read#");

	r = sl_run_sluice(
	    "submit", "--coordinator", url, source_path(WC), NULL);
	expect(&r, 1, "unknown variable 'input'");

	r = sl_run_sluice("status", "--coordinator", url, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "wordcount-1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FINISHED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out,
	    "wordcount-auto-2                 FINISHED   parallelism read=2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "wordcount-3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FAILED"));
	expect(&r, 0, NULL);

	/* A stopped worker misses its heartbeats: lost in 6 x 100 ms. */
	kill(w2, SIGSTOP);
	CU_ASSERT_TRUE(file_has(tmp("coord.err"), "worker w2 (pid", 5));
	CU_ASSERT_TRUE(file_has(tmp("coord.err"), "lost: no heartbeat for", 5));
	kill(w2, SIGCONT);
	/* It registers again when it hears it is unknown (so it is told to
	 * shut down below). */
	CU_ASSERT_TRUE(file_has(tmp("w2.err"), "registering again", 5));
	CU_ASSERT_TRUE(
	    file_count(tmp("coord.err"), "worker w2 registered", 2, 5));

	kill(coord, SIGTERM);
	st = wait_for(coord, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = wait_for(w1, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = wait_for(w2, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st));
	{
		pid_t all[] = { coord, w1, w2 };

		for (int i = 0; i < 3; i++)
			if (kill(all[i], 0) == 0) {
				kill(all[i], SIGKILL);
				waitpid(all[i], &st, 0);
			}
	}

	r = sl_run_sluice("status", "--coordinator", url, NULL);
	expect(&r, 1, "cannot reach a coordinator");
	free(text);
}

/* Wait until dir holds no entry; false after secs. */
static bool
empty_soon(const char *dir, double secs)
{
	double until = now() + secs;

	while (sl_count_entries(dir) != 0) {
		if (now() > until)
			return false;
		sleep_ms(20);
	}
	return true;
}

/*
 * Two workers that do not share their localdisk directories, as on two
 * hosts: every partition read by a task on the other worker is fetched
 * through its producer's server. Blocking WordCount and TeraSort give
 * the right output; releasing at the end of each job reaches both
 * workers, whose directories end up empty.
 */
static void
test_localdisk_across_hosts(void)
{
	char url[64];
	pid_t coord, w[2];
	size_t len;
	char *text = make_text(tmp("xh.txt"), 1u << 20, &len);
	struct run_result r;
	int st;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	{
		char *a[] = { (char *)sluice_path(), "coordinator", "--listen",
			url, NULL };

		coord = spawn(a, tmp("xh-coord.out"), tmp("xh-coord.err"));
	}
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("xh-coord.out"), "coordinator listening at", 10));
	for (int i = 0; i < 2; i++) {
		char id[8], dir[32];
		char *a[] = { (char *)sluice_path(), "worker", "--coordinator",
			url, "--id", id, "--host", "127.0.0.1", "--slots", "1",
			NULL };

		snprintf(id, sizeof(id), "x%d", i);
		snprintf(dir, sizeof(dir), "xh-disk%d", i);
		CU_ASSERT_EQUAL(mkdir(tmp(dir), 0755), 0);
		setenv("SLUICE_LOCALDISK_DIR", tmp(dir), 1);
		setenv("SLUICE_LOG", "debug", 1); /* what the servers served */
		w[i] = spawn(a, NULL, tmp(i ? "xh-w1.err" : "xh-w0.err"));
	}
	unsetenv("SLUICE_LOCALDISK_DIR");
	unsetenv("SLUICE_LOG");
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("xh-coord.err"), "worker x0 registered", 10));
	CU_ASSERT_TRUE_FATAL(
	    file_has(tmp("xh-coord.err"), "worker x1 registered", 10));

	r = sl_run_sluice("submit", "--coordinator", url,
	    source_path("examples/jobs/wordcount-blocking.json"), "-D",
	    def("input", tmp("xh.txt")), "-D", def("output", tmp("xh-wc")),
	    "--wait", NULL);
	expect(&r, 0, "FINISHED");
	CU_ASSERT_TRUE(output_is_wordcount(tmp("xh-wc"), text, len));
	CU_ASSERT_TRUE(empty_soon(tmp("xh-disk0"), 5));
	CU_ASSERT_TRUE(empty_soon(tmp("xh-disk1"), 5));

	r = sl_run_sluice(
	    "gen-records", "--count", "50000", "--output", tmp("xh.bin"), NULL);
	expect(&r, 0, NULL);
	r = sl_run_sluice("submit", "--coordinator", url,
	    source_path("examples/terasort.json"), "-D",
	    def("input", tmp("xh.bin")), "-D", def("output", tmp("xh-ts")),
	    "--wait", NULL);
	expect(&r, 0, "FINISHED");
	r = sl_run_sluice(
	    "validate-sorted", tmp("xh-ts"), "--input", tmp("xh.bin"), NULL);
	expect(&r, 0, "a permutation of");
	CU_ASSERT_TRUE(empty_soon(tmp("xh-disk0"), 5));
	CU_ASSERT_TRUE(empty_soon(tmp("xh-disk1"), 5));

	kill(coord, SIGTERM);
	st = wait_for(coord, 10);
	CU_ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < 2; i++) {
		st = wait_for(w[i], 20);
		CU_ASSERT_TRUE(st != -1 && WIFEXITED(st));
		if (st == -1) {
			kill(w[i], SIGKILL);
			waitpid(w[i], &st, 0);
		}
	}
	/* the partitions did travel through the servers */
	CU_ASSERT_TRUE(
	    file_has(tmp("xh-w0.err"), "localdisk: debug: served", 1));
	CU_ASSERT_TRUE(
	    file_has(tmp("xh-w1.err"), "localdisk: debug: served", 1));
	CU_ASSERT_FALSE(file_has(tmp("xh-w0.err"), "served 0 fetches", 0) &&
	    file_has(tmp("xh-w1.err"), "served 0 fetches", 0));
	free(text);
}

static const struct sl_test tests[] = {
	{ "run: WordCount on worker processes", test_run_wordcount },
	{ "run: a source of parallelism auto", test_auto_source },
	{ "run: parallelism decided from the producers' bytes",
	    test_auto_from_bytes },
	{ "a hot subpartition split among tasks, counts right",
	    test_auto_skew },
	{ "run: blocking edges on fewer slots than tasks", test_run_blocking },
	{ "run: a scheduling strategy of a job's choice",
	    test_scheduler_strategy },
	{ "run: TeraSort, validated", test_terasort },
	{ "failover: a failed task restarts its region only",
	    test_failover_task },
	{ "failover: the strategy gives up", test_failover_exhausted },
	{ "failover: a worker killed", test_failover_worker },
	{ "failover: sluice run --kill-worker-after", test_kill_worker_after },
	{ "run: a flipped byte in a partition: restarted producer, right "
	  "output",
	    test_flipped_byte_recovered },
	{ "run: a flipped byte in a partition fails the job",
	    test_flipped_byte },
	{ "run: a job brings its operator library", test_job_library },
	{ "run: failures say why", test_run_failures },
	{ "run: bounded memory, Ctrl-C leaves nothing",
	    test_bounded_memory_and_interrupt },
	{ "run: SIGKILL takes the workers along", test_kill_run },
	{ "run: a worker killed is noticed, its tasks restarted",
	    test_worker_killed },
	{ "failover: a silent worker is found by its heartbeats",
	    test_worker_silent },
	{ "standalone cluster over tcp", test_standalone_tcp },
	{ "localdisk read through the producer's server",
	    test_localdisk_across_hosts },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("cluster", tests)
