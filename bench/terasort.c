/*
 * TeraSort beside GNU sort (issue 4), on the same file in the same run:
 *
 *  - sluice: `sluice run examples/terasort.json -D input=FILE -D
 *    output=DIR` on its local cluster (the binary beside this one: a
 *    coordinator and worker processes), a fresh DIR every run;
 *  - GNU sort: `sort -S 4G --parallel=2 -o OUT FILE` with LC_ALL=C, which
 *    orders --ascii records (100-byte lines, the key first) by key;
 *  - for scale, the physical limits: single-thread memcpy and a sequential
 *    read of FILE from the page cache.
 *
 * Without FILE, `sluice gen-records --count N --ascii` makes one in a
 * temporary directory. FILE is read once first, so that both start from the
 * page cache. The runs alternate, sluice then sort, so that a change in the
 * load of a shared machine falls on both; between runs, untimed, the outputs
 * are removed and dirty pages written back (sync), so that no run pays for
 * the writeback of the one before. Times are wall clock and the CPU of the
 * process and the children it waited for (wait4: sluice's workers too).
 * The last outputs are checked: `sluice validate-sorted` on sluice's, and
 * sluice's part-* files in name order must be byte-identical to sort's
 * output. Each figure is the median of --runs runs; sluice's wall time
 * against sort's goes to bench/run as well (bench_result, the goal 1.0).
 *
 *   terasort_bench [--records N] [--runs R] [--workers W] [--slots S]
 *                  [--keep] [FILE]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define REC 100
#define KEY 10
#define CHUNK (REC * 10486) /* about 1 MiB of whole records */

extern char **environ;

/* The first line of path, or "". */
static void
first_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)cap, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* environ with LC_ALL=C in place of any LC_ALL: sort's order and speed
 * depend on the locale. The strings stay environ's. */
static char **
env_c_locale(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0)
			env[k++] = environ[i];
	env[k++] = "LC_ALL=C";
	env[k] = NULL;
	return env;
}

/* The space the runs need in dir: the input when it is generated there,
 * then at the most two more copies (sluice's shuffle files and output, or
 * the two outputs being checked), and a tenth for luck. */
static void
check_space(const char *dir, uint64_t bytes, bool generate)
{
	bench_check_space(dir, (generate ? 3 : 2) * bytes + bytes / 10,
	    "(the input, sluice's shuffle files and two sorted outputs); set "
	    "TMPDIR to a roomier file system");
}

/* Read file once, into the page cache, checking that it is --ascii
 * records: lines of 100 bytes. */
static void
warm(const char *file)
{
	char *buf = malloc(CHUNK);
	uint64_t r = 0;
	size_t got;
	int fd;

	if (buf == NULL)
		bench_die("out of memory");
	if ((fd = open(file, O_RDONLY)) < 0)
		bench_die("%s: %s", file, strerror(errno));
	while ((got = bench_read_full(fd, buf, CHUNK, file)) > 0) {
		if (got % REC != 0)
			bench_die("%s: changed while being read", file);
		for (size_t off = 0; off < got; off += REC, r++)
			if (buf[off + REC - 1] != '\n' ||
			    memchr(buf + off, '\n', REC - 1) != NULL)
				bench_die(
				    "%s: record %" PRIu64 " is not a line of "
				    "%d bytes, as sluice gen-records --ascii "
				    "makes them (GNU sort sorts lines)",
				    file, r, REC);
		bench_check_stop();
	}
	close(fd);
	free(buf);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir's part-* files in name order, as validate-sorted reads them. */
static char **
part_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (d == NULL)
		bench_die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				bench_die("out of memory");
		}
		if ((v[(*n)++] = strdup(e->d_name)) == NULL)
			bench_die("out of memory");
	}
	closedir(d);
	if (*n == 0)
		bench_die("%s: no part-* files", dir);
	qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

/* One record of each side where they part, for the message. */
static _Noreturn void
differ(uint64_t at, const char *part, const char *a, size_t na, const char *b,
    size_t nb)
{
	size_t i = 0, rs;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	rs = i - i % REC;
	fprintf(stderr,
	    "terasort_bench: MISMATCH: sluice's output and GNU sort's differ "
	    "at byte %" PRIu64 " (record %" PRIu64 ", in %s)\n",
	    at + i, (at + i) / REC, part);
	fprintf(stderr, "  sluice: %.*s\n", rs < na ? (int)(REC - 1) : 0,
	    rs < na ? a + rs : "");
	fprintf(stderr, "  sort:   %.*s\n", rs < nb ? (int)(REC - 1) : 0,
	    rs < nb ? b + rs : "");
	if (rs >= na || rs >= nb)
		fprintf(stderr, "  (one of them ends there)\n");
	else if (memcmp(a + rs, b + rs, KEY) == 0)
		fprintf(stderr,
		    "  (the keys tie: sort orders ties by the whole "
		    "line, sluice's sort keeps\n  the order they "
		    "arrived in; the input has equal keys)\n");
	else
		fprintf(stderr,
		    "  (the keys differ, and validate-sorted "
		    "passed: the outputs are different\n  "
		    "permutations, which should not happen)\n");
	exit(1);
}

/* dir's part-* files, one after the other, against the file sorted. */
static void
compare_outputs(const char *dir, const char *sorted, uint64_t bytes)
{
	char *a = malloc(CHUNK), *b = malloc(CHUNK), **names, path[PATH_MAX];
	size_t n, extra;
	uint64_t at = 0;
	int fb = open(sorted, O_RDONLY);

	if (a == NULL || b == NULL)
		bench_die("out of memory");
	if (fb < 0)
		bench_die("%s: %s", sorted, strerror(errno));
	names = part_names(dir, &n);
	for (size_t i = 0; i < n; i++) {
		size_t na, nb;
		int fa;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path))
			bench_die("%s/%s: too long a path", dir, names[i]);
		if ((fa = open(path, O_RDONLY)) < 0)
			bench_die("%s: %s", path, strerror(errno));
		while ((na = bench_read_full(fa, a, CHUNK, path)) > 0) {
			nb = bench_read_full(fb, b, na, sorted);
			if (nb != na || memcmp(a, b, na) != 0)
				differ(at, names[i], a, na, b, nb);
			at += na;
			bench_check_stop();
		}
		close(fa);
	}
	if ((extra = bench_read_full(fb, b, CHUNK, sorted)) > 0)
		differ(at, "the end of sluice's output", a, 0, b, extra);
	if (at != bytes)
		bench_die("both outputs have %" PRIu64
		          " bytes, the input %" PRIu64,
		    at, bytes);
	close(fb);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(a);
	free(b);
}

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: terasort_bench [--records N] [--runs R] [--workers W] "
	    "[--slots S]\n"
	    "                      [--keep] [FILE]\n"
	    "\n"
	    "FILE: --ascii records (sluice gen-records --ascii); without it, "
	    "N records\n"
	    "(default 10000000) are generated in a temporary directory, and "
	    "--keep keeps\n"
	    "them there to pass as FILE next time. R runs of each (default "
	    "3); --workers\n"
	    "and --slots go to sluice run.\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *job = SL_SOURCE_DIR "/examples/terasort.json";
	const char *workers = NULL, *slots = NULL, *tmp_dir;
	unsigned long long records = 10000000, runs = 3;
	bool keep = false, have_records = false, generate;
	char sluice[PATH_MAX], file[PATH_MAX], out_dir[PATH_MAX];
	char sort_out[PATH_MAX], log[PATH_MAX];
	char count[32], version[256];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8], label[64];
	char *user_file = NULL, **c_env;
	double *s_wall, *s_cpu, *g_wall, *g_cpu, wall, cpu;
	double sw, sc, gw, gc, read_speed, mb;
	struct stat st;
	uint64_t bytes;

	bench_init("terasort_bench");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			records = bench_count_arg(argv[++i], 1000000000);
			if (records == 0)
				usage();
			have_records = true;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = bench_count_arg(argv[++i], 1000);
			if (runs == 0)
				usage();
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (bench_count_arg(workers = argv[++i], 256) == 0)
				usage();
		} else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc) {
			if (bench_count_arg(slots = argv[++i], 4096) == 0)
				usage();
		} else if (strcmp(argv[i], "--keep") == 0)
			keep = true;
		else if (argv[i][0] == '-' || user_file != NULL)
			usage();
		else
			user_file = argv[i];
	}
	if (user_file != NULL && have_records)
		bench_die("--records is for a generated file; %s has its own",
		    user_file);
	generate = user_file == NULL;

	bench_catch_signals();

	/* sluice beside this binary, the job in the source tree. */
	bench_sluice_path(sluice, sizeof(sluice));
	if (access(job, R_OK) != 0)
		bench_die("%s: %s", job, strerror(errno));

	/* The shuffle's files in tmp_dir too: every `sluice run` of this job
	 * names it terasort-1, so two at once on one host would share
	 * $TMPDIR/sluice-localdisk/terasort-1 and both fail. */
	tmp_dir = bench_scratch_dir(NULL, "sluice-terasort");
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp_dir);
	snprintf(log, sizeof(log), "%s/log.txt", tmp_dir);
	snprintf(sort_out, sizeof(sort_out), "%s/sort.txt", tmp_dir);

	/* GNU sort, before anything long: -S and --parallel are GNU's. */
	{
		char *av[] = { "sort", "--version", NULL };

		bench_run_or_die("sort --version", av, NULL, log, &wall, &cpu);
		first_line(log, version, sizeof(version));
		if (strstr(version, "GNU coreutils") == NULL)
			bench_die(
			    "sort is not GNU sort ('%s'); -S and --parallel "
			    "are GNU's",
			    version);
	}

	if (generate) {
		snprintf(file, sizeof(file), "%s/records.txt", tmp_dir);
		snprintf(count, sizeof(count), "%llu", records);
		check_space(tmp_dir, (uint64_t)records * REC, true);
		fprintf(stderr, "generating %llu records (%.2f GB) in %s ...\n",
		    records, (double)records * REC / 1e9, file);
		{
			char *av[] = { sluice, "gen-records", "--count", count,
				"--ascii", "--output", file, NULL };

			bench_run_or_die(
			    "sluice gen-records", av, NULL, log, &wall, &cpu);
		}
		fprintf(stderr, "generated in %.1f s\n", wall);
		if (keep)
			bench_keep(file);
	} else if (realpath(user_file, file) == NULL)
		bench_die("%s: %s", user_file, strerror(errno));
	if (stat(file, &st) != 0)
		bench_die("%s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % REC != 0)
		bench_die("%s: not a file of whole %d-byte records", file, REC);
	bytes = (uint64_t)st.st_size;
	records = bytes / REC;
	mb = (double)bytes / 1e6;
	if (!generate)
		check_space(tmp_dir, bytes, false);
	warm(file);

	snprintf(def_in, sizeof(def_in), "input=%s", file);
	snprintf(def_out, sizeof(def_out), "output=%s", out_dir);
	s_wall = bench_doubles(runs);
	s_cpu = bench_doubles(runs);
	g_wall = bench_doubles(runs);
	g_cpu = bench_doubles(runs);
	c_env = env_c_locale();

	sync();
	for (unsigned long long i = 0; i < runs; i++) {
		char *s_av[12] = { sluice, "run", (char *)job, "-D", def_in,
			"-D", def_out };
		char *g_av[] = { "sort", "-S", "4G", "--parallel=2", "-o",
			sort_out, file, NULL };
		int k = 7;
		bool last = i + 1 == runs;

		if (workers != NULL) {
			s_av[k++] = "--workers";
			s_av[k++] = (char *)workers;
		}
		if (slots != NULL) {
			s_av[k++] = "--slots";
			s_av[k++] = (char *)slots;
		}
		s_av[k] = NULL;

		bench_remove_tree(out_dir);
		bench_run_or_die(
		    "sluice run", s_av, NULL, log, &s_wall[i], &s_cpu[i]);
		fprintf(stderr,
		    "run %llu/%llu: sluice run %7.2f s wall %7.2f s cpu\n",
		    i + 1, runs, s_wall[i], s_cpu[i]);
		if (!last)
			bench_remove_tree(out_dir);
		sync();

		bench_run_or_die(
		    "LC_ALL=C sort", g_av, c_env, log, &g_wall[i], &g_cpu[i]);
		fprintf(stderr,
		    "run %llu/%llu: GNU sort   %7.2f s wall %7.2f s cpu\n",
		    i + 1, runs, g_wall[i], g_cpu[i]);
		if (!last)
			unlink(sort_out);
		sync();
	}

	/* The check, untimed, on the last outputs. */
	{
		char *av[] = { sluice, "validate-sorted", out_dir, "--input",
			file, NULL };

		fprintf(stderr, "checking the outputs ...\n");
		bench_run_or_die(
		    "sluice validate-sorted", av, NULL, log, &wall, &cpu);
	}
	compare_outputs(out_dir, sort_out, bytes);
	bench_remove_tree(out_dir);
	unlink(sort_out);

	sw = bench_median(s_wall, runs);
	sc = bench_median(s_cpu, runs);
	gw = bench_median(g_wall, runs);
	gc = bench_median(g_cpu, runs);
	read_speed = bench_read_gbs(file, bytes, s_wall, runs);

	if (workers != NULL || slots != NULL)
		snprintf(label, sizeof(label),
		    "sluice run, %s workers x %s slots",
		    workers != NULL ? workers : "default",
		    slots != NULL ? slots : "default");
	else
		snprintf(label, sizeof(label),
		    "sluice run, default workers and slots");
	if (generate && !keep)
		printf("TeraSort of `sluice gen-records --count %llu --ascii` "
		       "(a temporary file)\n",
		    records);
	else
		printf("TeraSort of %s\n", file);
	printf("%" PRIu64 " bytes (%.1f MB), %llu records of %d bytes; %s; "
	       "%ld cores online\n",
	    bytes, mb, records, REC, version, sysconf(_SC_NPROCESSORS_ONLN));
	printf("outputs agree: sluice validate-sorted passed, and sluice's "
	       "part-* files are\nbyte-identical to sort's output\n");
	printf("each figure is the median of %llu runs, from the page cache; "
	       "the runs alternate\n",
	    runs);
	printf("%-42s %8s %8s %8s\n", "", "wall s", "MB/s", "cpu s");
	printf("%-42s %8.2f %8.1f %8.2f\n", label, sw, mb / sw, sc);
	printf("%-42s %8.2f %8.1f %8.2f\n", "LC_ALL=C sort -S 4G --parallel=2",
	    gw, mb / gw, gc);
	printf("GNU sort time / sluice time: %.2f (higher is better; the goal "
	       "is >= 1.0)\n",
	    gw / sw);
	printf("physical limits, same run: memcpy %.1f GB/s (one thread, 64 "
	       "MiB blocks), reading\nthe file from the page cache %.1f GB/s "
	       "(one thread, 1 MiB reads)\n",
	    bench_memcpy_gbs(), read_speed);

	/* For bench/run: issue 4 asks sluice to be no slower than GNU sort. */
	{
		char name[160];

		if (workers != NULL || slots != NULL)
			snprintf(name, sizeof(name),
			    "terasort %.0f MB, sluice run %s x %s: wall time",
			    mb, workers != NULL ? workers : "default",
			    slots != NULL ? slots : "default");
		else
			snprintf(name, sizeof(name),
			    "terasort %.0f MB, sluice run: wall time", mb);
		bench_result(name, sw, "s", "LC_ALL=C sort -S 4G --parallel=2",
		    gw, gw / sw, 1.0);
	}

	free(c_env);
	free(s_wall);
	free(s_cpu);
	free(g_wall);
	free(g_cpu);
	return 0;
}
