/*
 * WordCount in one process against the Unix pipeline, on the same file in
 * the same run:
 *
 *  - sluice: examples/wordcount.json run by sli_local_run (every task
 *    a thread of this process, the memory shuffle), -D input=FILE -D
 *    output=a temporary directory; the time is that of sli_local_run alone
 *    (plugins and job are loaded once, before);
 *  - the pipeline: tr -cs 'A-Za-z0-9' '\n' < FILE | tr 'A-Z' 'a-z' | sort |
 *    uniq -c, through /bin/sh with LC_ALL=C for every stage;
 *  - single-thread memcpy, as the physical reference for scale.
 *
 * Both word counts must agree (total, distinct words, the most frequent
 * word, and a digest of every word with its count) or the program fails.
 * Each figure is the median of --runs runs. The file is read once first, so
 * that both start from the page cache.
 *
 *   wordcount_local [--parallelism P] [--runs N] [--job PATH] FILE
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sluice/errors.h>
#include <sluice/graph.h>

#include "exec/task.h"
#include "graph/exec.h"
#include "plugin/loader.h"

#include "bench_util.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

/* LC_ALL=C for all four stages, not only the first: sort's speed and order
 * depend on the locale. "$1" is the file. */
static const char pipeline[] = "export LC_ALL=C; tr -cs 'A-Za-z0-9' '\\n' "
                               "< \"$1\" | tr 'A-Z' 'a-z' | sort | uniq -c";

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return bench_cpu_s(&ru);
}

/* What a word count came to. The digest is order-independent: the sum of
 * a hash of each (word, count), so two counts that differ in any word or
 * count differ in it (but for a 2^-64 chance). */
struct tally {
	uint64_t total;    /* sum of the counts */
	uint64_t distinct; /* number of words */
	uint64_t digest;
	uint64_t top_count; /* the most frequent word; ties: the smallest */
	char top[64];
};

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
tally_add(struct tally *t, const char *w, size_t len, uint64_t count)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)w[i]) * 0x100000001b3ULL;
	t->total += count;
	t->distinct++;
	t->digest += mix(h ^ mix(count));
	if (count >= t->top_count) {
		char cut[sizeof(t->top)];

		snprintf(cut, sizeof(cut), "%.*s", (int)len, w);
		if (count > t->top_count || strcmp(cut, t->top) < 0) {
			t->top_count = count;
			memcpy(t->top, cut, sizeof(cut));
		}
	}
}

/* The part-* files of sluice's output directory: "word\tcount\n". */
static int
tally_sluice(const char *dir, struct tally *t)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096], *line = NULL;
	size_t cap = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (d == NULL) {
		fprintf(
		    stderr, "wordcount_local: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		FILE *f;
		ssize_t n;

		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL) {
			fprintf(stderr, "wordcount_local: %s: %s\n", path,
			    strerror(errno));
			rc = -1;
			break;
		}
		while ((n = getline(&line, &cap, f)) > 0) {
			char *tab = memchr(line, '\t', n), *end;
			uint64_t c;

			if (tab == NULL || line[n - 1] != '\n') {
				fprintf(stderr,
				    "wordcount_local: %s: a line that is not "
				    "word<TAB>count\n",
				    path);
				rc = -1;
				break;
			}
			c = strtoull(tab + 1, &end, 10);
			if (end == tab + 1 || *end != '\n') {
				fprintf(stderr,
				    "wordcount_local: %s: a count that is not "
				    "a number\n",
				    path);
				rc = -1;
				break;
			}
			tally_add(t, line, tab - line, c);
		}
		fclose(f);
	}
	free(line);
	closedir(d);
	return rc;
}

/* uniq -c output: "%7d %s\n". tr -cs turns a separator at the very start
 * of the file into an empty first line, which uniq counts as an empty word
 * (once: tr squeezes every other run of separators); it is skipped. */
static int
tally_uniq(const char *path, struct tally *t, uint64_t *empty)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	*empty = 0;
	if (f == NULL) {
		fprintf(
		    stderr, "wordcount_local: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		char *p = line, *end;
		uint64_t c;

		while (*p == ' ')
			p++;
		c = strtoull(p, &end, 10);
		if (end == p || *end != ' ' || line[n - 1] != '\n') {
			fprintf(stderr,
			    "wordcount_local: %s: a line that is not uniq -c's "
			    "\"count word\"\n",
			    path);
			rc = -1;
			break;
		}
		end++;
		if (end == line + n - 1)
			*empty += c;
		else
			tally_add(t, end, line + n - 1 - end, c);
	}
	free(line);
	fclose(f);
	return rc;
}

/* Run the pipeline on file, stdout to out (a path); wall and CPU seconds
 * (the shell's and the pipeline's, from wait4). */
static int
run_pipeline(const char *file, const char *out, double *secs, double *cpu)
{
	struct rusage ru;
	int status;
	double t0 = bench_now();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execl(
		    "/bin/sh", "sh", "-c", pipeline, "sh", file, (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*secs = bench_now() - t0;
	*cpu = bench_cpu_s(&ru);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr,
		    "wordcount_local: the pipeline failed (%s %d)\n",
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* `sluice run JOB -D input=FILE -D output=OUT` on the local cluster: exe,
 * the binary beside this one, starts a coordinator and worker processes. */
static int
run_cluster(const char *exe, const char *job, const char *def_in,
    const char *def_out, const char *workers, const char *slots, double *secs,
    double *cpu)
{
	struct rusage ru;
	int status;
	double t0;
	pid_t pid;

	t0 = bench_now();
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execl(exe, "sluice", "run", job, "-D", def_in, "-D", def_out,
		    "--workers", workers, "--slots", slots, (char *)NULL);
		_exit(127);
	}
	/* The child's usage includes its workers': it waits for them. */
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*secs = bench_now() - t0;
	*cpu = bench_cpu_s(&ru);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "wordcount_local: %s run failed (%s %d)\n", exe,
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* Read the whole file once, so both contestants start from the page
 * cache. */
static int
warm(const char *file)
{
	static char buf[1 << 20];
	int fd = open(file, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wordcount_local [--parallelism P] [--runs N] [--job PATH]\n"
	    "                       [--cluster [--workers N] [--slots N]] "
	    "FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *job_path = SL_SOURCE_DIR "/examples/wordcount.json";
	const char *file = NULL;
	unsigned long par = 0, runs = 3;
	const char *workers = "2", *slots = "2";
	bool cluster = false;
	char tmp[] = "/tmp/sluice-wordcount-XXXXXX";
	char out_dir[512], ref_out[512], def_in[4200], def_out[600];
	char sluice[PATH_MAX];
	const char *defs[2] = { def_in, def_out };
	struct sli_plugin_set set = { 0 };
	struct sli_exec x;
	struct tally ts, tr;
	struct stat st;
	sl_job *job = NULL;
	uint32_t *over = NULL;
	double *wall = NULL, *cpu = NULL, s_wall, s_cpu, r_wall, r_cpu, mb;
	uint64_t empty;
	int rc = 1, rv;

	bench_init("wordcount_local");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--parallelism") == 0 && i + 1 < argc) {
			par = bench_count_arg(argv[++i], SL_MAX_TASKS);
			if (par == 0)
				usage();
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if ((runs = bench_count_arg(argv[++i], 1000)) == 0)
				usage();
		} else if (strcmp(argv[i], "--job") == 0 && i + 1 < argc)
			job_path = argv[++i];
		else if (strcmp(argv[i], "--cluster") == 0)
			cluster = true;
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			workers = argv[++i];
		else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc)
			slots = argv[++i];
		else if (argv[i][0] == '-' || file != NULL)
			usage();
		else
			file = argv[i];
	}
	if (file == NULL || (cluster && par != 0))
		usage();
	if (cluster)
		bench_sluice_path(sluice, sizeof(sluice));
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || warm(file) != 0) {
		fprintf(stderr, "wordcount_local: %s: %s\n", file,
		    errno ? strerror(errno) : "not a regular file");
		return 1;
	}
	mb = st.st_size / 1e6;
	if (mkdtemp(tmp) == NULL) {
		perror("wordcount_local: mkdtemp");
		return 1;
	}
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp);
	snprintf(ref_out, sizeof(ref_out), "%s/uniq-c.txt", tmp);
	snprintf(def_in, sizeof(def_in), "input=%s", file);
	snprintf(def_out, sizeof(def_out), "output=%s", out_dir);
	wall = calloc(runs, sizeof(double));
	cpu = calloc(runs, sizeof(double));
	if (wall == NULL || cpu == NULL)
		goto out;

	if ((rv = sli_plugin_set_load_default(&set, NULL, 0)) < 0 ||
	    (rv = sl_job_load_file_vars(job_path, defs, 2, &job)) != 0) {
		fprintf(stderr, "wordcount_local: %s: %s\n", sl_errname(rv),
		    sl_errdetail());
		goto out;
	}
	if (par != 0) {
		uint32_t nv = sl_job_vertex_count(job);

		if ((over = calloc(nv, sizeof(*over))) == NULL)
			goto out;
		for (uint32_t v = 0; v < nv; v++)
			over[v] = (uint32_t)par;
	}
	if ((rv = sli_exec_build(job, over, &x)) != 0) {
		fprintf(stderr, "wordcount_local: %s: %s\n", sl_errname(rv),
		    sl_errdetail());
		goto out;
	}

	for (unsigned long i = 0; i < runs; i++) {
		double t0, c0;

		bench_remove_tree(out_dir);
		if (cluster) {
			if (run_cluster(sluice, job_path, def_in, def_out,
			        workers, slots, &wall[i], &cpu[i]) != 0)
				goto out_exec;
			continue;
		}
		c0 = cpu_self();
		t0 = bench_now();
		rv = sli_local_run(&x, &set, NULL);
		wall[i] = bench_now() - t0;
		cpu[i] = cpu_self() - c0;
		if (rv != 0) {
			fprintf(stderr, "wordcount_local: sluice run: %s: %s\n",
			    sl_errname(rv), sl_errdetail());
			goto out_exec;
		}
	}
	s_wall = bench_median(wall, runs);
	s_cpu = bench_median(cpu, runs);

	/* The check, untimed: the last sluice output against one run of the
	 * pipeline into a file. */
	if (tally_sluice(out_dir, &ts) != 0 ||
	    run_pipeline(file, ref_out, &r_wall, &r_cpu) != 0 ||
	    tally_uniq(ref_out, &tr, &empty) != 0)
		goto out_exec;
	if (ts.total != tr.total || ts.distinct != tr.distinct ||
	    ts.digest != tr.digest || ts.top_count != tr.top_count ||
	    strcmp(ts.top, tr.top) != 0) {
		fprintf(stderr,
		    "wordcount_local: MISMATCH between sluice and the "
		    "pipeline\n"
		    "  sluice:   %" PRIu64 " words, %" PRIu64
		    " distinct, top '%s' x%" PRIu64 ", digest %016" PRIx64 "\n"
		    "  pipeline: %" PRIu64 " words, %" PRIu64
		    " distinct, top '%s' x%" PRIu64 ", digest %016" PRIx64
		    " (%" PRIu64 " empty line(s) skipped)\n",
		    ts.total, ts.distinct, ts.top, ts.top_count, ts.digest,
		    tr.total, tr.distinct, tr.top, tr.top_count, tr.digest,
		    empty);
		goto out_exec;
	}

	for (unsigned long i = 0; i < runs; i++)
		if (run_pipeline(file, "/dev/null", &wall[i], &cpu[i]) != 0)
			goto out_exec;
	r_wall = bench_median(wall, runs);
	r_cpu = bench_median(cpu, runs);

	printf("wordcount of %s: %.1f MB, %" PRIu64 " words, %" PRIu64
	       " distinct, top '%s' x%" PRIu64 "\n",
	    file, mb, ts.total, ts.distinct, ts.top, ts.top_count);
	printf("outputs agree (total, distinct, top word, digest of every "
	       "word and count)\n");
	printf("each figure is the median of %lu runs, from the page cache; "
	       "%ld cores online\n",
	    runs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-44s %8s %8s %8s\n", "", "wall s", "MB/s", "cpu s");
	{
		char label[64];

		if (cluster)
			snprintf(label, sizeof(label),
			    "sluice run, %s workers x %s slots", workers,
			    slots);
		else if (par != 0)
			snprintf(label, sizeof(label),
			    "sluice, in-process, parallelism %lu", par);
		else
			snprintf(label, sizeof(label),
			    "sluice, in-process, the job's parallelism");
		printf("%-44s %8.2f %8.1f %8.2f\n", label, s_wall, mb / s_wall,
		    s_cpu);
	}
	printf("%-44s %8.2f %8.1f %8.2f\n",
	    "tr | tr | sort | uniq -c (LC_ALL=C)", r_wall, mb / r_wall, r_cpu);
	printf("speed-up, sluice over the pipeline: %.1fx\n", r_wall / s_wall);
	printf("memcpy, one thread, 64 MiB blocks: %.1f GB/s (the physical "
	       "reference, same run)\n",
	    bench_memcpy_gbs());
	rc = 0;

out_exec:
	sli_exec_free(&x);
out:
	bench_remove_tree(out_dir);
	unlink(ref_out);
	rmdir(tmp);
	sl_job_free(job);
	sli_plugin_set_clear(&set);
	free(over);
	free(wall);
	free(cpu);
	return rc;
}
