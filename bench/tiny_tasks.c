/*
 * Scheduling overhead per task (issue 9), on a job of many tiny tasks: gen
 * (generate, one record a task) x N -> a pointwise pipelined edge -> sink
 * (file_sink, tsv) x N, by `sluice run` (the binary beside this one, on its
 * local cluster of --workers processes with --slots slots each). The edge is
 * chained (docs/runtime-tasks.md), so gen#i and sink#i are one task: one
 * region, one DEPLOY, one thread on a worker, one part file written, fsynced
 * and renamed. The work in a task is next to nothing; what a task costs is
 * the coordinator deciding it, the round trip to a worker, its thread, the
 * operators' open and close, the part file, the report.
 *
 * The same job with one task measures the fixed cost of a run (starting and
 * stopping the cluster, submitting, the report); the overhead per task is
 * (median wall of N tasks - median wall of 1) / (N - 1), CPU the same way
 * (the process and its workers). --runs rounds, the two jobs in turn, each
 * round starting with the other. After each run, untimed: the report must
 * say FINISHED with 2N tasks of one attempt each, N records out of gen and
 * into sink; the output must hold N part files of one line each, equal to
 * the first run's.
 *
 * Beside it, in each round: the same number of processes, fork + exec +
 * wait of /bin/true, workers x slots at a time (what running each task as a
 * process of its own costs at the job's concurrency), and of threads,
 * pthread_create + pthread_join of an empty function one at a time (the
 * floor of starting anything); per process or thread, medians.
 *
 *   tiny_tasks [--tasks N] [--runs R] [--workers W] [--slots S] [--dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_util.h"

#define MAX_TASKS 100000

/* The job of n chained tasks, "restart": none so that a failure stops the
 * benchmark instead of hiding in its time. The tsv sink wants u64 values;
 * printable keys hold no tab or newline. */
static void
write_job(const char *path, unsigned n, const char *out)
{
	char name[64];
	json_t *j;

	snprintf(name, sizeof(name), "tiny-tasks-%u", n);
	j = json_pack("{s:s,s:{s:s},s:[{s:s,s:s,s:i,s:{s:i,s:i,s:i,s:b}},"
	              "{s:s,s:s,s:i,s:{s:s,s:s}}],s:[{s:s,s:s,s:s,s:s}]}",
	    "name", name, "restart", "strategy", "none", "vertices", "id",
	    "gen", "operator", "generate", "parallelism", (int)n, "config",
	    "count", (int)n, "key_bytes", 8, "value_bytes", 8, "ascii", 1, "id",
	    "sink", "operator", "file_sink", "parallelism", (int)n, "config",
	    "path", out, "format", "tsv", "edges", "from", "gen", "to", "sink",
	    "distribution", "pointwise", "type", "pipelined");
	if (j == NULL)
		bench_die("out of memory");
	if (json_dump_file(j, path, JSON_INDENT(2)) != 0)
		bench_die("%s: cannot write it", path);
	json_decref(j);
}

/* The report of a run of n tasks must say every task finished once and
 * moved its record: the number of regions it lists. */
static unsigned
check_report(const char *path, unsigned n)
{
	json_error_t err;
	json_t *rep = json_load_file(path, 0, &err), *v, *t;
	const char *status;
	unsigned regions;
	size_t i, k;

	if (rep == NULL)
		bench_die("%s: line %d: %s", path, err.line, err.text);
	status = json_string_value(json_object_get(rep, "status"));
	if (status == NULL || strcmp(status, "FINISHED") != 0)
		bench_die("%s: status %s, expected FINISHED", path,
		    status != NULL ? status : "missing");
	if (json_array_size(json_object_get(rep, "vertices")) != 2)
		bench_die("%s: expected two vertices", path);
	json_array_foreach (json_object_get(rep, "vertices"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		bool gen = id != NULL && strcmp(id, "gen") == 0;
		json_int_t records = 0;

		if (json_array_size(json_object_get(v, "tasks")) != n)
			bench_die("%s: vertex %s lists %zu tasks, expected %u",
			    path, id != NULL ? id : "?",
			    json_array_size(json_object_get(v, "tasks")), n);
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			if (json_integer_value(
			        json_object_get(t, "attempts")) != 1)
				bench_die("%s: task %s ran %lld times, "
				          "expected once",
				    path,
				    json_string_value(json_object_get(t, "id")),
				    (long long)json_integer_value(
				        json_object_get(t, "attempts")));
			records += json_integer_value(json_object_get(
			    t, gen ? "records_out" : "records_in"));
		}
		if (records != (json_int_t)n)
			bench_die("%s: %s: %lld records %s, expected %u", path,
			    id != NULL ? id : "?", (long long)records,
			    gen ? "out" : "in", n);
	}
	regions = (unsigned)json_array_size(json_object_get(rep, "regions"));
	json_decref(rep);
	return regions;
}

/* The output of a run of n tasks: n part files of one line each. */
static void
check_parts(const char *dir, unsigned n)
{
	char path[PATH_MAX + 32], buf[256];

	for (unsigned i = 0; i < n; i++) {
		size_t len;
		int fd;

		snprintf(path, sizeof(path), "%s/part-%05u", dir, i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			bench_die("%s: %s", path, strerror(errno));
		len = bench_read_full(fd, buf, sizeof(buf), path);
		close(fd);
		if (len == 0 || len == sizeof(buf) || buf[len - 1] != '\n' ||
		    memchr(buf, '\n', len - 1) != NULL)
			bench_die("%s: expected one line of a record", path);
	}
}

/* n processes of /bin/true, fork + exec + wait, par at a time: seconds per
 * process. */
static double
process_time(unsigned long long n, unsigned par)
{
	char *av[] = { "/bin/true", NULL };
	unsigned long long started = 0, done = 0;
	unsigned running = 0;
	double t0 = bench_now();

	while (done < n) {
		int status;
		pid_t pid;

		while (running < par && started < n) {
			if ((pid = fork()) < 0)
				bench_die("fork: %s", strerror(errno));
			if (pid == 0) {
				execv(av[0], av);
				_exit(127);
			}
			running++;
			started++;
		}
		/* this benchmark has no other children */
		if ((pid = wait(&status)) < 0) {
			if (errno != EINTR)
				bench_die("wait: %s", strerror(errno));
			bench_check_stop();
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bench_die("%s did not exit 0", av[0]);
		running--;
		done++;
	}
	return (bench_now() - t0) / (double)n;
}

static void *
nothing(void *arg)
{
	return arg;
}

/* n threads created and joined one at a time: seconds per thread. */
static double
thread_time(unsigned long long n)
{
	double t0 = bench_now();

	for (unsigned long long i = 0; i < n; i++) {
		pthread_t th;
		int rv = pthread_create(&th, NULL, nothing, NULL);

		if (rv != 0)
			bench_die("pthread_create: %s", strerror(rv));
		pthread_join(th, NULL);
	}
	return (bench_now() - t0) / (double)n;
}

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: tiny_tasks [--tasks N] [--runs R] [--workers W] [--slots "
	    "S] [--dir DIR]\n"
	    "\n"
	    "Runs a job of N tiny tasks (default 2000: generate, one record, "
	    "chained to a\n"
	    "file_sink) and the same job of one task by sluice run on W "
	    "workers (default 2)\n"
	    "of S slots (default 2), R times each (default 5), in a "
	    "temporary directory\n"
	    "under DIR (default $TMPDIR or /tmp): the wall time per task "
	    "beyond a run's\n"
	    "fixed cost, beside N fork + exec + wait of /bin/true (W x S at a "
	    "time) and\n"
	    "N thread create + join.\n");
	exit(2);
}

enum { J_MANY, J_ONE, NJOBS };

int
main(int argc, char **argv)
{
	unsigned long long tasks = 2000, runs = 5, workers = 2, slots = 2;
	const char *base = NULL, *tmp;
	char sluice[PATH_MAX], job[NJOBS][PATH_MAX], out[PATH_MAX];
	char log[PATH_MAX], report[PATH_MAX], nw[32], ns[32];
	unsigned n[NJOBS], regions = 0;
	double *wall[NJOBS], *cpu[NJOBS], *proc, *thr, *diff;
	double m_wall[NJOBS], m_cpu[NJOBS], per, per_cpu, m_proc, m_thr;
	struct bench_output ref = { 0 }, o;

	bench_init("tiny_tasks");
	for (int i = 1; i < argc; i++) {
		unsigned long long *v = NULL, max = 0;

		if (strcmp(argv[i], "--tasks") == 0)
			v = &tasks, max = MAX_TASKS;
		else if (strcmp(argv[i], "--runs") == 0)
			v = &runs, max = 1000;
		else if (strcmp(argv[i], "--workers") == 0)
			v = &workers, max = 64;
		else if (strcmp(argv[i], "--slots") == 0)
			v = &slots, max = 256;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else
			usage();
		if (v != NULL &&
		    (i + 1 >= argc ||
		        (*v = bench_count_arg(argv[++i], max)) == 0))
			usage();
	}
	if (tasks < 2)
		usage();

	bench_catch_signals();
	bench_sluice_path(sluice, sizeof(sluice));
	tmp = bench_scratch_dir(base, "sluice-tiny");
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(log, sizeof(log), "%s/log.txt", tmp);
	snprintf(report, sizeof(report), "%s/report.json", tmp);
	snprintf(nw, sizeof(nw), "%llu", workers);
	snprintf(ns, sizeof(ns), "%llu", slots);
	n[J_MANY] = (unsigned)tasks;
	n[J_ONE] = 1;
	for (int j = 0; j < NJOBS; j++) {
		snprintf(job[j], sizeof(job[j]), "%s/job-%u.json", tmp, n[j]);
		write_job(job[j], n[j], out);
		wall[j] = bench_doubles(runs);
		cpu[j] = bench_doubles(runs);
	}
	proc = bench_doubles(runs);
	thr = bench_doubles(runs);
	diff = bench_doubles(runs);

	/* untimed: the binary and the plugins into the page cache */
	{
		char *av[] = { sluice, "run", job[J_ONE], "--workers", nw,
			"--slots", ns, NULL };
		double w;

		fprintf(stderr, "a first run of one task, untimed ...\n");
		bench_run_or_die(
		    "sluice run (1 task)", av, NULL, log, &w, NULL);
		bench_remove_tree(out);
	}
	for (unsigned long long i = 0; i < runs; i++) {
		for (int k = 0; k < NJOBS; k++) {
			int j = (int)((i + (unsigned long long)k) % NJOBS);
			char *av[] = { sluice, "run", job[j], "--workers", nw,
				"--slots", ns, "--report", report, NULL };
			char what[64];

			snprintf(what, sizeof(what), "sluice run (%u task%s)",
			    n[j], n[j] == 1 ? "" : "s");
			remove(report);
			bench_run_or_die(
			    what, av, NULL, log, &wall[j][i], &cpu[j][i]);
			if (j == J_MANY)
				regions = check_report(report, n[j]);
			else
				check_report(report, n[j]);
			check_parts(out, n[j]);
			if (j == J_MANY) {
				bench_output_read(out, &o);
				if (i == 0)
					ref = o;
				else {
					bench_output_compare(&ref, &o,
					    "the first run's", "first run",
					    "tasks", (unsigned long)i + 1);
					bench_output_free(&o);
				}
			}
			bench_remove_tree(out);
			fprintf(stderr, "run %llu/%llu: %5u task%s %7.2f s\n",
			    i + 1, runs, n[j], n[j] == 1 ? " " : "s",
			    wall[j][i]);
		}
		diff[i] = (wall[J_MANY][i] - wall[J_ONE][i]) / (tasks - 1);
		proc[i] = process_time(tasks, (unsigned)(workers * slots));
		thr[i] = thread_time(tasks);
	}
	bench_output_free(&ref);

	for (int j = 0; j < NJOBS; j++) {
		m_wall[j] = bench_median(wall[j], runs);
		m_cpu[j] = bench_median(cpu[j], runs);
	}
	per = (m_wall[J_MANY] - m_wall[J_ONE]) / (double)(tasks - 1);
	per_cpu = (m_cpu[J_MANY] - m_cpu[J_ONE]) / (double)(tasks - 1);
	if (per <= 0)
		bench_die("the job of %llu tasks took no longer than the job "
		          "of one (%.3f s, %.3f s): use more --tasks",
		    tasks, m_wall[J_MANY], m_wall[J_ONE]);
	m_proc = bench_median(proc, runs);
	m_thr = bench_median(thr, runs);

	printf("tiny tasks: gen (generate, one record of 8 + 8 bytes) x N -> "
	       "sink (file_sink, tsv)\nx N, chained: gen#i and sink#i are "
	       "one task (one region, one DEPLOY, one\nthread, one part "
	       "file fsynced); the report lists %u regions for N = %llu.\n"
	       "By sluice run (%llu workers x %llu slots); %ld cores online; "
	       "medians of %llu runs,\nthe two jobs in turn\n",
	    regions, tasks, workers, slots, sysconf(_SC_NPROCESSORS_ONLN),
	    runs);
	printf("%-30s %9s %9s\n", "", "wall s", "cpu s");
	printf("%-30s %9.3f %9.3f\n", "job of N tasks", m_wall[J_MANY],
	    m_cpu[J_MANY]);
	printf("%-30s %9.3f %9.3f\n", "job of 1 task (fixed cost)",
	    m_wall[J_ONE], m_cpu[J_ONE]);
	printf("per task beyond the fixed cost: %.3f ms wall (%.0f tasks/s), "
	       "%.3f ms CPU\n(the process and its workers); the same from "
	       "each round's pair: %.3f ms (median)\n",
	    per * 1e3, 1 / per, per_cpu * 1e3, bench_median(diff, runs) * 1e3);
	printf("every run finished with every task once, N part files of a "
	       "line each, equal\nto the first run's\n");
	printf("references, same run (per process or thread, medians):\n");
	printf("  fork + exec + wait of /bin/true, %llu at a time: %.3f ms; "
	       "ratio %.2f (it / sluice)\n",
	    workers * slots, m_proc * 1e3, m_proc / per);
	printf("  pthread_create + pthread_join, one at a time: %.1f us; "
	       "ratio %.4f\n",
	    m_thr * 1e6, m_thr / per);

	{
		char ref_proc[96], name[96];

		snprintf(name, sizeof(name),
		    "tiny tasks: scheduling overhead per task (%llu tasks)",
		    tasks);
		snprintf(ref_proc, sizeof(ref_proc),
		    "fork+exec+wait /bin/true, %llu at a time",
		    workers * slots);
		bench_result(name, per * 1e3, "ms", ref_proc, m_proc * 1e3,
		    m_proc / per, 0);
		snprintf(name, sizeof(name),
		    "tiny tasks: scheduling overhead per task (%llu tasks) vs "
		    "a thread",
		    tasks);
		bench_result(name, per * 1e3, "ms", "pthread create+join",
		    m_thr * 1e3, m_thr / per, 0);
	}
	for (int j = 0; j < NJOBS; j++) {
		free(wall[j]);
		free(cpu[j]);
	}
	free(proc);
	free(thr);
	free(diff);
	return 0;
}
