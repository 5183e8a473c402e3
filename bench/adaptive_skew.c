/*
 * Adaptive batch parallelism on skewed words (DESIGN §5): WordCount with
 * no combiner (examples/jobs/wordcount-skew.json: text_source -> tokenize
 * -> a blocking all_to_all localdisk shuffle -> hash_aggregate count ->
 * file_sink) over Zipf-distributed text, by `sluice run` (the binary beside
 * this one, on its local cluster), in eight configurations of the count
 * vertex (and write, which follows it one for one):
 *
 *  - auto: "parallelism": "auto", its bytes_per_task a sixteenth of the
 *    bytes the shuffle carries (measured by a first, untimed run), so that
 *    the decision lands near 16 tasks, and skew_factor 2: a range above
 *    twice that is split among helper tasks and merged;
 *  - auto, skew_factor 0: the same decision, nothing split;
 *  - fixed parallelism 1, 2, 4, 8, 16, 32.
 *
 * read and words stay "auto" in all of them (the job's bytes_per_task: 32
 * tasks, its max_parallelism, for any input above 32 MiB). The text comes
 * from `sluice gen-words`; each configuration runs --runs times, the
 * configurations in turn, starting one further each round so that a change
 * in the load of a shared machine falls on all of them. Between runs,
 * untimed, the output is removed and dirty pages written back (sync). Every
 * run's output, its part files' lines sorted, must equal the first run's,
 * whose counts must add up to the words generated. From each run's report:
 * the count vertex's parallelism, the tasks listed beyond it (the helpers
 * that read slices of a split range), and the spread of bytes_in over the
 * count tasks that ran (max / mean). For scale, single-thread memcpy and a
 * sequential read of the text from the page cache. For bench/run
 * (bench_util.h): auto's wall time against the best and the worst fixed
 * parallelism, and its spread against auto without splitting.
 *
 *   adaptive_bench [--words N] [--runs R] [--dir DIR] [--zipf S]
 *                  [--vocabulary V]
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_util.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define TARGET_TASKS 16 /* what auto's bytes_per_task aims at */
#define NFIXED 6

static const unsigned fixed_par[NFIXED] = { 1, 2, 4, 8, 16, 32 };

/* The space the runs need in dir: the text, the shuffle's files (about four
 * times the text: every word becomes a record with an 8-byte count) and
 * two outputs, and a tenth for luck. */
static void
check_space(const char *dir, uint64_t text_bytes)
{
	bench_check_space(dir, text_bytes * 5 + text_bytes / 2,
	    "(the text, the shuffle's files, the outputs); use --dir on a "
	    "roomier file system");
}

/* The example job with count (and write) set for one configuration:
 * par 0 is "auto" with its own bytes_per_task and skew_factor. */
static void
write_job(const json_t *example, const char *path, unsigned par,
    uint64_t bytes_per_task, unsigned skew)
{
	json_t *job = json_deep_copy(example), *v;
	size_t i;
	bool found = false;

	if (job == NULL)
		bench_die("out of memory");
	json_array_foreach (json_object_get(job, "vertices"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		int rv = 0;

		if (id == NULL ||
		    (strcmp(id, "count") != 0 &&
		        (par == 0 || strcmp(id, "write") != 0)))
			continue;
		if (par != 0)
			rv = json_object_set_new(
			    v, "parallelism", json_integer(par));
		else if (strcmp(id, "count") == 0)
			rv = json_object_set_new(v, "bytes_per_task",
			         json_integer((json_int_t)bytes_per_task)) |
			    json_object_set_new(
			        v, "skew_factor", json_integer(skew));
		if (rv != 0)
			bench_die("out of memory");
		found |= strcmp(id, "count") == 0;
	}
	if (!found)
		bench_die("%s: no vertex 'count'",
		    SL_SOURCE_DIR "/examples/jobs/wordcount-skew.json");
	if (json_dump_file(job, path, JSON_INDENT(2)) != 0)
		bench_die("%s: cannot write it", path);
	json_decref(job);
}

/* From a report: the count vertex's parallelism, the tasks it lists, and
 * the largest and the mean bytes_in among them; the words vertex's
 * parallelism, and the bytes the shuffle from words to count carried. */
struct count_report {
	unsigned par, tasks, words_par;
	double max, mean;
	uint64_t shuffle_bytes;
};

static void
read_report(const char *path, struct count_report *c)
{
	json_error_t err;
	json_t *rep = json_load_file(path, 0, &err), *v, *t, *e;
	size_t i, k;
	bool found = false;

	memset(c, 0, sizeof(*c));
	if (rep == NULL)
		bench_die("%s: line %d: %s", path, err.line, err.text);
	json_array_foreach (json_object_get(rep, "vertices"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		double sum = 0;

		if (id != NULL && strcmp(id, "words") == 0)
			c->words_par = (unsigned)json_integer_value(
			    json_object_get(v, "parallelism"));
		if (id == NULL || strcmp(id, "count") != 0)
			continue;
		c->par = (unsigned)json_integer_value(
		    json_object_get(v, "parallelism"));
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			double b = (double)json_integer_value(
			    json_object_get(t, "bytes_in"));

			sum += b;
			c->tasks++;
			if (b > c->max)
				c->max = b;
		}
		c->mean = c->tasks ? sum / c->tasks : 0;
		found = true;
	}
	json_array_foreach (json_object_get(rep, "edges"), i, e) {
		const char *from =
		    json_string_value(json_object_get(e, "from"));
		const char *to = json_string_value(json_object_get(e, "to"));

		if (from != NULL && to != NULL && strcmp(from, "words") == 0 &&
		    strcmp(to, "count") == 0)
			c->shuffle_bytes = (uint64_t)json_integer_value(
			    json_object_get(e, "bytes"));
	}
	json_decref(rep);
	if (!found || c->par == 0 || c->tasks < c->par)
		bench_die("%s: no count vertex with its tasks", path);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: adaptive_bench [--words N] [--runs R] [--dir DIR] "
	    "[--zipf S]\n"
	    "                      [--vocabulary V]\n"
	    "\n"
	    "Generates N words (default 32000000, about 190 MB) of Zipf text, "
	    "exponent S\n"
	    "(default 1.1) over V words (default 1000000), with sluice "
	    "gen-words in a\n"
	    "temporary directory under DIR (default $TMPDIR or /tmp), removed "
	    "at the end,\n"
	    "and runs examples/jobs/wordcount-skew.json on it R times (default "
	    "3) in each\n"
	    "of 8 configurations of its count vertex.\n");
	exit(2);
}

struct config {
	char name[32];
	unsigned par;  /* 0: auto */
	unsigned skew; /* for auto */
	char job[PATH_MAX];
	double *wall, *cpu, *spread;
	struct count_report first;
	bool varied; /* the parallelism or the helpers moved between runs */
};

/* For bench/run: auto (skew_factor 2, cf[0]) against the best and the
 * worst fixed parallelism, and its spread of bytes per count task against
 * the same decision without splitting (cf[1]): lower is better. Issue 5
 * sets no figure to reach. */
static void
results(const struct config *cf, const double *med, const double *spread,
    int best, int worst)
{
	char ref[64];

	snprintf(ref, sizeof(ref), "best fixed parallelism (%u)", cf[best].par);
	bench_result("adaptive: skewed WordCount wall time, auto vs best fixed",
	    med[0], "s", ref, med[best], med[best] / med[0], 0);
	snprintf(
	    ref, sizeof(ref), "worst fixed parallelism (%u)", cf[worst].par);
	bench_result(
	    "adaptive: skewed WordCount wall time, auto vs worst fixed", med[0],
	    "s", ref, med[worst], med[worst] / med[0], 0);
	bench_result("adaptive: bytes per count task, max / mean, auto",
	    spread[0], "max/mean", "auto without splitting (skew_factor 0)",
	    spread[1], spread[1] / spread[0], 0);
}

int
main(int argc, char **argv)
{
	const char *example_path =
	    SL_SOURCE_DIR "/examples/jobs/wordcount-skew.json";
	const char *base = NULL, *zipf = "1.1", *tmp_dir;
	unsigned long long words = 32000000, runs = 3, vocabulary = 1000000;
	char sluice[PATH_MAX], text[PATH_MAX], out_dir[PATH_MAX];
	char log[PATH_MAX], report[PATH_MAX];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8], top[64];
	char nwords[32], nvocab[32];
	struct config cf[2 + NFIXED];
	int ncf = 0, best = -1, worst = -1;
	double med[2 + NFIXED], spread[2 + NFIXED];
	struct bench_output ref, o;
	struct count_report cal;
	json_error_t jerr;
	json_t *example;
	uint64_t bytes, count_bpt;
	double wall, cpu, gen_wall, top_share, *scratch, mb;
	struct stat st;

	bench_init("adaptive_bench");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--words") == 0 && i + 1 < argc) {
			words = bench_count_arg(argv[++i], 10000000000ULL);
			if (words == 0)
				usage();
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = bench_count_arg(argv[++i], 1000);
			if (runs == 0)
				usage();
		} else if (strcmp(argv[i], "--vocabulary") == 0 &&
		    i + 1 < argc) {
			vocabulary = bench_count_arg(argv[++i], 100000000);
			if (vocabulary == 0)
				usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--zipf") == 0 && i + 1 < argc)
			zipf = argv[++i]; /* gen-words checks it */
		else
			usage();
	}

	bench_catch_signals();

	/* sluice beside this binary, the job in the source tree. */
	bench_sluice_path(sluice, sizeof(sluice));
	if ((example = json_load_file(example_path, 0, &jerr)) == NULL)
		bench_die(
		    "%s: line %d: %s", example_path, jerr.line, jerr.text);

	tmp_dir = bench_scratch_dir(base, "sluice-adaptive");
	snprintf(text, sizeof(text), "%s/words.txt", tmp_dir);
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp_dir);
	snprintf(log, sizeof(log), "%s/log.txt", tmp_dir);
	snprintf(report, sizeof(report), "%s/report.json", tmp_dir);
	check_space(tmp_dir, (uint64_t)words * 6);

	snprintf(nwords, sizeof(nwords), "%llu", words);
	snprintf(nvocab, sizeof(nvocab), "%llu", vocabulary);
	fprintf(stderr, "generating %llu words in %s ...\n", words, text);
	{
		char *av[] = { sluice, "gen-words", "--words", nwords, "--zipf",
			(char *)zipf, "--vocabulary", nvocab, "--output", text,
			NULL };

		bench_run_or_die(
		    "sluice gen-words", av, NULL, log, &gen_wall, &cpu);
	}
	if (stat(text, &st) != 0)
		bench_die("%s: %s", text, strerror(errno));
	bytes = (uint64_t)st.st_size;
	mb = (double)bytes / 1e6;
	fprintf(stderr, "generated %.1f MB in %.1f s (%.0f MB/s)\n", mb,
	    gen_wall, mb / gen_wall);
	snprintf(def_in, sizeof(def_in), "input=%s", text);
	snprintf(def_out, sizeof(def_out), "output=%s", out_dir);

	/* The first run, untimed: it reads the text into the page cache,
	 * measures what the shuffle carries, and its output is the one all
	 * others must equal. */
	{
		char job[PATH_MAX];
		char *av[] = { sluice, "run", job, "-D", def_in, "-D", def_out,
			"--report", report, NULL };

		snprintf(job, sizeof(job), "%s/job-first.json", tmp_dir);
		write_job(example, job, 4, 0, 0);
		fprintf(stderr, "a first run, untimed (count at 4) ...\n");
		bench_run_or_die("sluice run", av, NULL, log, &wall, &cpu);
		read_report(report, &cal);
		bench_output_read(out_dir, &ref);
		if (ref.n > vocabulary)
			bench_die("the first output has %zu distinct words, "
			          "more than the vocabulary of %llu",
			    ref.n, vocabulary);
		top_share = bench_output_check(&ref, words, top, sizeof(top));
		bench_remove_tree(out_dir);
		if (cal.shuffle_bytes == 0)
			bench_die("%s: no bytes from words to count", report);
	}
	count_bpt = (cal.shuffle_bytes + TARGET_TASKS - 1) / TARGET_TASKS;

	snprintf(cf[ncf].name, sizeof(cf[ncf].name), "auto, skew_factor 2");
	cf[ncf].par = 0;
	cf[ncf++].skew = 2;
	snprintf(cf[ncf].name, sizeof(cf[ncf].name), "auto, skew_factor 0");
	cf[ncf].par = 0;
	cf[ncf++].skew = 0;
	for (int i = 0; i < NFIXED; i++, ncf++) {
		snprintf(cf[ncf].name, sizeof(cf[ncf].name), "fixed %u",
		    fixed_par[i]);
		cf[ncf].par = fixed_par[i];
		cf[ncf].skew = 0;
	}
	for (int c = 0; c < ncf; c++) {
		snprintf(
		    cf[c].job, sizeof(cf[c].job), "%s/job-%d.json", tmp_dir, c);
		write_job(example, cf[c].job, cf[c].par, count_bpt, cf[c].skew);
		cf[c].wall = bench_doubles(runs);
		cf[c].cpu = bench_doubles(runs);
		cf[c].spread = bench_doubles(runs);
		cf[c].varied = false;
	}
	json_decref(example);

	sync();
	for (unsigned long long i = 0; i < runs; i++) {
		for (int k = 0; k < ncf; k++) {
			struct config *c = &cf[(k + i) % ncf];
			char *av[] = { sluice, "run", c->job, "-D", def_in,
				"-D", def_out, "--report", report, NULL };
			struct count_report rep;
			char what[64];

			snprintf(
			    what, sizeof(what), "sluice run (%s)", c->name);
			bench_run_or_die(
			    what, av, NULL, log, &c->wall[i], &c->cpu[i]);
			read_report(report, &rep);
			c->spread[i] = rep.max / rep.mean;
			if (i == 0)
				c->first = rep;
			else if (rep.par != c->first.par ||
			    rep.tasks != c->first.tasks)
				c->varied = true;
			fprintf(stderr,
			    "run %llu/%llu: %-20s count %2u+%u tasks "
			    "%7.2f s wall %7.2f s cpu\n",
			    i + 1, runs, c->name, rep.par, rep.tasks - rep.par,
			    c->wall[i], c->cpu[i]);
			bench_output_read(out_dir, &o);
			bench_output_compare(&ref, &o, "the first run's",
			    "first run", c->name, (unsigned long)i + 1);
			bench_output_free(&o);
			bench_remove_tree(out_dir);
			sync();
		}
	}
	bench_output_free(&ref);

	printf("WordCount without a combiner (examples/jobs/wordcount-skew.json"
	       ") on `sluice gen-words\n--words %llu --zipf %s --vocabulary "
	       "%llu`: %.1f MB, the most frequent word ('%s')\n%.1f%% of the "
	       "words; %ld cores online\n",
	    words, zipf, vocabulary, mb, top, 100 * top_share,
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("the shuffle from words to count carries %.1f MB; read and "
	       "words are auto (%u tasks);\nauto's count has bytes_per_task "
	       "%" PRIu64 " (a %dth of the shuffle)\n",
	    (double)cal.shuffle_bytes / 1e6, cal.words_par, count_bpt,
	    TARGET_TASKS);
	printf("every output equals the first run's (lines sorted), whose "
	       "counts add up to the words\n");
	printf("each figure is the median of %llu runs, the configurations in "
	       "turn\n",
	    runs);
	printf("%-22s %11s %7s %8s %8s %13s\n", "count vertex", "parallelism",
	    "+split", "wall s", "cpu s", "max/mean B_in");
	for (int c = 0; c < ncf; c++) {
		med[c] = bench_median(cf[c].wall, runs);
		spread[c] = bench_median(cf[c].spread, runs);
		printf("%-22s %11u %7u %8.2f %8.2f %13.2f%s\n", cf[c].name,
		    cf[c].first.par, cf[c].first.tasks - cf[c].first.par,
		    med[c], bench_median(cf[c].cpu, runs), spread[c],
		    cf[c].varied ? "  (the decision varied)" : "");
		if (cf[c].par == 0)
			continue;
		if (best < 0 || med[c] < med[best])
			best = c;
		if (worst < 0 || med[c] > med[worst])
			worst = c;
	}
	printf("auto vs best fixed (P=%u): %.2fx\n", cf[best].par,
	    med[best] / med[0]);
	printf("auto vs worst fixed (P=%u): %.2fx\n", cf[worst].par,
	    med[worst] / med[0]);
	printf("(the ratio of wall times: above 1, auto is faster)\n");
	results(cf, med, spread, best, worst);
	scratch = bench_doubles(runs);
	printf("physical limits, same run: memcpy %.1f GB/s (one thread, 64 "
	       "MiB blocks), reading\nthe text from the page cache %.1f GB/s "
	       "(one thread, 1 MiB reads)\n",
	    bench_memcpy_gbs(), bench_read_gbs(text, bytes, scratch, runs));
	free(scratch);
	for (int c = 0; c < ncf; c++) {
		free(cf[c].wall);
		free(cf[c].cpu);
		free(cf[c].spread);
	}
	return 0;
}
