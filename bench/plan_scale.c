/*
 * Planning cost against job size, as separate processes of `sluice plan
 * regions` and `sluice plan failover` (wall time, and peak RSS from wait4),
 * so that growth is visible:
 *
 *  - tasks: two vertices joined all_to_all with N tasks per side, blocking
 *    and pipelined; linear growth keeps us/task flat;
 *  - vertices and edges: a chain of N vertices of parallelism 1 joined by
 *    blocking pointwise edges, and a wide job of N vertices, one source
 *    feeding N-1 others over all_to_all blocking edges, parallelism 2;
 *    linear growth keeps us/vertex flat.
 *
 * For bench/run (bench_util.h), at the largest N of --sizes: plan regions'
 * time and peak RSS, blocking and pipelined, each against issue 2's budget
 * for 10 000 x 10 000 (2 s, 256 MiB: the ratio budget / figure, its goal
 * 1); and the curves of the time and the peak RSS of both commands against
 * N.
 *
 *   plan_scale [--sluice PATH] [--sizes 1000,5000,10000,20000]
 *              [--vertices 1000,5000,10000]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define RUNS 5
#define BUDGET_S 2.0     /* issue 2: 10 000 x 10 000 planned in < 2 s */
#define BUDGET_MIB 256.0 /* ... and < 256 MiB peak */

/* Run argv with stdout to /dev/null; wall seconds and peak RSS in MiB. */
static int
measure_once(char *const argv[], double *secs, double *rss_mib)
{
	struct rusage ru;
	int status;
	double t0 = bench_now();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*secs = bench_now() - t0;
	*rss_mib = ru.ru_maxrss / 1024.0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The median of RUNS runs, so one slow run (another process on the core)
 * does not move the figure. */
static int
measure(char *const argv[], double *secs, double *rss_mib)
{
	double t[RUNS], m[RUNS];

	for (int i = 0; i < RUNS; i++)
		if (measure_once(argv, &t[i], &m[i]) != 0)
			return -1;
	*secs = bench_median(t, RUNS);
	*rss_mib = bench_median(m, RUNS);
	return 0;
}

static int
write_job(const char *path, unsigned n, const char *type)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f,
	    "{\"name\": \"scale\", \"vertices\": ["
	    "{\"id\": \"a\", \"operator\": \"noop\", \"parallelism\": %u},"
	    "{\"id\": \"b\", \"operator\": \"noop\", \"parallelism\": %u}],"
	    "\"edges\": [{\"from\": \"a\", \"to\": \"b\", \"distribution\": "
	    "\"all_to_all\", \"type\": \"%s\"}]}\n",
	    n, n, type);
	return fclose(f);
}

/* A chain v0 -> v1 -> ... of n vertices, blocking pointwise edges. */
static int
write_chain(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs("{\"name\": \"chain\", \"vertices\": [", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
		    "%s{\"id\": \"v%u\", \"operator\": \"noop\", "
		    "\"parallelism\": 1}",
		    i ? ",\n" : "", i);
	fputs("],\n\"edges\": [", f);
	for (unsigned i = 1; i < n; i++)
		fprintf(f,
		    "%s{\"from\": \"v%u\", \"to\": \"v%u\", \"distribution\": "
		    "\"pointwise\", \"type\": \"blocking\"}",
		    i > 1 ? ",\n" : "", i - 1, i);
	fputs("]}\n", f);
	return fclose(f);
}

/* One source v0 feeding v1 .. v(n-1), all_to_all blocking, parallelism 2
 * everywhere. */
static int
write_wide(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs("{\"name\": \"wide\", \"vertices\": [", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
		    "%s{\"id\": \"v%u\", \"operator\": \"noop\", "
		    "\"parallelism\": 2}",
		    i ? ",\n" : "", i);
	fputs("],\n\"edges\": [", f);
	for (unsigned i = 1; i < n; i++)
		fprintf(f,
		    "%s{\"from\": \"v0\", \"to\": \"v%u\", \"distribution\": "
		    "\"all_to_all\", \"type\": \"blocking\"}",
		    i > 1 ? ",\n" : "", i);
	fputs("]}\n", f);
	return fclose(f);
}

/* Plan regions and failover (of failed) on the job at path; 0 or -1. */
static int
plan_both(const char *sluice, const char *job, const char *failed, double *rs,
    double *rm, double *fs, double *fm)
{
	char *reg[] = { (char *)sluice, "plan", "regions", (char *)job, NULL };
	char *fo[] = { (char *)sluice, "plan", "failover", (char *)job,
		"--failed", (char *)failed, NULL };

	return measure(reg, rs, rm) != 0 || measure(fo, fs, fm) != 0 ? -1 : 0;
}

/* The curves of time and peak RSS against N, for bench/run. */
static void
points(const char *type, unsigned n, double rs, double rm, double fs, double fm)
{
	static const char xl[] = "tasks per side (N x N, all_to_all)";
	char series[64];

	snprintf(series, sizeof(series), "plan regions, %s", type);
	bench_point(
	    "planning_time", xl, "ms (median of 5)", series, n, rs * 1e3);
	bench_point("planning_memory", xl, "peak RSS, MiB (median of 5)",
	    series, n, rm);
	snprintf(series, sizeof(series), "plan failover, %s", type);
	bench_point(
	    "planning_time", xl, "ms (median of 5)", series, n, fs * 1e3);
	bench_point("planning_memory", xl, "peak RSS, MiB (median of 5)",
	    series, n, fm);
}

/* plan regions at the largest N against issue 2's budget for 10k x 10k:
 * larger N is a stricter test of the same budget. */
static void
results(const char *type, unsigned n, double secs, double rss_mib)
{
	char name[128];

	snprintf(name, sizeof(name), "plan regions %ux%u %s: time", n, n, type);
	bench_result(name, secs * 1e3, "ms", "issue 2 budget (10k x 10k)",
	    BUDGET_S * 1e3, BUDGET_S / secs, 1.0);
	snprintf(name, sizeof(name), "plan regions %ux%u %s: peak memory", n, n,
	    type);
	bench_result(name, rss_mib, "MiB", "issue 2 budget (10k x 10k)",
	    BUDGET_MIB, BUDGET_MIB / rss_mib, 1.0);
}

int
main(int argc, char **argv)
{
	const char *sluice = "build-release/bin/sluice";
	char sizes_arg[256] = "1000,5000,10000,20000";
	char vertices_arg[256] = "1000,5000,10000";
	char job[] = "/tmp/sluice-plan-scale-XXXXXX";
	static const char *const types[] = { "blocking", "pipelined" };
	static const char *const shapes[] = { "chain", "wide" };
	double base_s, base_rss;
	double big_s[2] = { 0 }, big_rss[2] = { 0 };
	unsigned big_n[2] = { 0 };
	int fd;

	bench_init("plan_scale");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--sluice") == 0)
			sluice = argv[i + 1];
		else if (strcmp(argv[i], "--sizes") == 0)
			snprintf(
			    sizes_arg, sizeof(sizes_arg), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--vertices") == 0)
			snprintf(vertices_arg, sizeof(vertices_arg), "%s",
			    argv[i + 1]);
	}
	if (access(sluice, X_OK) != 0) {
		fprintf(stderr, "plan_scale: %s: %s (give --sluice PATH)\n",
		    sluice, strerror(errno));
		return 1;
	}
	if ((fd = mkstemp(job)) < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	{
		char *argv0[] = { (char *)sluice, "version", NULL };
		if (measure(argv0, &base_s, &base_rss) != 0) {
			fprintf(
			    stderr, "plan_scale: %s does not run\n", sluice);
			unlink(job);
			return 1;
		}
	}
	printf("planning scale: each figure is the median of %d processes\n",
	    RUNS);
	printf("process baseline (sluice version): %.1f ms, %.1f MiB peak\n",
	    base_s * 1e3, base_rss);

	printf("\ntasks: two vertices joined all_to_all, N tasks each\n");
	printf("%-10s %8s %9s %12s %11s %9s %12s %11s\n", "edge", "N/side",
	    "tasks", "regions ms", "peak MiB", "us/task", "failover ms",
	    "peak MiB");
	for (int t = 0; t < 2; t++) {
		char *save = NULL, *copy = strdup(sizes_arg);
		for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned n = (unsigned)strtoul(tok, NULL, 10);
			double rs, rm, fs, fm;

			if (n == 0 || write_job(job, n, types[t]) != 0 ||
			    plan_both(sluice, job, "a#0", &rs, &rm, &fs, &fm) !=
			        0) {
				fprintf(stderr, "plan_scale: N=%s %s failed\n",
				    tok, types[t]);
				free(copy);
				unlink(job);
				return 1;
			}
			printf(
			    "%-10s %8u %9u %12.1f %11.1f %9.2f %12.1f %11.1f\n",
			    types[t], n, 2 * n, rs * 1e3, rm,
			    rs * 1e6 / (2.0 * n), fs * 1e3, fm);
			points(types[t], n, rs, rm, fs, fm);
			if (n >= big_n[t]) {
				big_n[t] = n;
				big_s[t] = rs;
				big_rss[t] = rm;
			}
		}
		free(copy);
	}
	for (int t = 0; t < 2; t++)
		results(types[t], big_n[t], big_s[t], big_rss[t]);

	printf("\nvertices and edges: chain (parallelism 1, blocking "
	       "pointwise) and wide (one source to N-1, parallelism 2, "
	       "all_to_all blocking)\n");
	printf("%-10s %8s %8s %9s %12s %11s %9s %12s %11s\n", "shape",
	    "vertices", "edges", "tasks", "regions ms", "peak MiB", "us/vertex",
	    "failover ms", "peak MiB");
	for (int sh = 0; sh < 2; sh++) {
		char *save = NULL, *copy = strdup(vertices_arg);
		for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned n = (unsigned)strtoul(tok, NULL, 10);
			double rs, rm, fs, fm;
			int wrote = n < 2 ? -1
			    : sh == 0     ? write_chain(job, n)
			                  : write_wide(job, n);

			if (wrote != 0 ||
			    plan_both(
			        sluice, job, "v0#0", &rs, &rm, &fs, &fm) != 0) {
				fprintf(stderr, "plan_scale: %s of %s failed\n",
				    shapes[sh], tok);
				free(copy);
				unlink(job);
				return 1;
			}
			printf("%-10s %8u %8u %9u %12.1f %11.1f %9.2f %12.1f "
			       "%11.1f\n",
			    shapes[sh], n, n - 1, sh == 0 ? n : 2 * n, rs * 1e3,
			    rm, rs * 1e6 / n, fs * 1e3, fm);
		}
		free(copy);
	}
	unlink(job);
	return 0;
}
