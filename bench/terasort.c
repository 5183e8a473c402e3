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
 * output. Each figure is the median of --runs runs.
 *
 *   terasort_bench [--records N] [--runs R] [--workers W] [--slots S]
 *                  [--keep] [FILE]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define REC 100
#define KEY 10
#define CHUNK (REC * 10486) /* about 1 MiB of whole records */
#define TAIL_LINES 20

extern char **environ;

static char tmp_dir[1024];       /* ours: removed at exit */
static char keep_path[PATH_MAX]; /* the generated file, with --keep */
static volatile sig_atomic_t stop;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn __attribute__((format(printf, 1, 2))) void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("terasort_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
on_signal(int sig)
{
	stop = sig;
}

/* Ctrl-C: stop where it is safe to, so that exit removes tmp_dir. */
static void
check_stop(void)
{
	if (stop)
		die("interrupted (signal %d)", (int)stop);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (strcmp(path, keep_path) != 0)
		remove(path);
	return 0;
}

static void
remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
cleanup(void)
{
	if (tmp_dir[0] == '\0')
		return;
	remove_tree(tmp_dir); /* leaves tmp_dir when it keeps keep_path */
	if (keep_path[0] != '\0')
		fprintf(stderr, "terasort_bench: kept %s\n", keep_path);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v. */
static double
median(double *v, unsigned long n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Read until len bytes or the end of the file: how many. */
static size_t
read_full(int fd, char *buf, size_t len, const char *name)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: %s", name, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* The last TAIL_LINES lines of path, indented, on stderr. */
static void
print_tail(const char *path)
{
	char buf[4096], *p, *end;
	int fd = open(path, O_RDONLY), lines = 0;
	off_t size, off;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	off = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	n = size < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, off);
	close(fd);
	if (n <= 0) {
		fputs("  (it printed nothing)\n", stderr);
		return;
	}
	end = buf + n;
	if (end[-1] == '\n')
		end--;
	*end = '\0';
	for (p = end; p > buf; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	while (p != NULL) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		fprintf(stderr, "  | %s\n", p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* Interrupted while pid runs. A Ctrl-C reached it as well (the same process
 * group), and sluice run cancels its job on one and stops its workers, but
 * kills them on a second, leaving their shuffle files behind. So pid gets
 * 5 s to end by itself, then SIGTERM (the signal was for this process
 * alone), then SIGKILL 10 s later. */
static _Noreturn void
stop_child(pid_t pid)
{
	struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };
	struct rusage ru;
	int status;

	for (int ms = 0;; ms += 50) {
		pid_t r = wait4(pid, &status, WNOHANG, &ru);

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (ms == 5000)
			kill(pid, SIGTERM);
		else if (ms == 15000)
			kill(pid, SIGKILL);
		nanosleep(&tick, NULL);
	}
	die("interrupted (signal %d)", (int)stop);
}

/* Run argv (argv[0] a path, or a name looked up in PATH when search) with
 * env, stdin from /dev/null, stdout and stderr to log (truncated), and wait
 * for it: its wall and CPU seconds, those of the children it waited for
 * included. 0, or an errno when it could not start. */
static int
run(char *const argv[], char *const env[], bool search, const char *log,
    double *wall, double *cpu, int *status)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0;
	pid_t pid;
	int e;

	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return e;
	if ((e = posix_spawn_file_actions_addopen(
	         &fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(
	         &fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, 1, 2)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return e;
	}
	t0 = now();
	e = search ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, env)
	           : posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0)
		return e;
	while (wait4(pid, status, 0, &ru) < 0) {
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
		if (stop)
			stop_child(pid);
	}
	*wall = now() - t0;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	check_stop();
	return 0;
}

/* run(), and stop with what went wrong unless it exited 0. */
static void
run_or_die(const char *what, char *const argv[], char *const env[], bool search,
    const char *log, double *wall, double *cpu)
{
	int status = 0, e = run(argv, env, search, log, wall, cpu, &status);

	if (e == ENOENT && search)
		die("%s: '%s' not found in PATH", what, argv[0]);
	if (e != 0)
		die("%s: cannot start %s: %s", what, argv[0], strerror(e));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	fprintf(stderr,
	    "terasort_bench: %s failed (%s %d); the end of its output:\n", what,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	print_tail(log);
	exit(1);
}

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
		die("out of memory");
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
	struct statvfs sv;
	uint64_t need = (generate ? 3 : 2) * bytes + bytes / 10, avail;

	if (statvfs(dir, &sv) != 0)
		die("%s: %s", dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < need)
		die("%s: %.2f GB free, the runs need about %.2f GB (the input, "
		    "sluice's shuffle files and two sorted outputs); set "
		    "TMPDIR to a roomier file system",
		    dir, (double)avail / 1e9, (double)need / 1e9);
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
		die("out of memory");
	if ((fd = open(file, O_RDONLY)) < 0)
		die("%s: %s", file, strerror(errno));
	while ((got = read_full(fd, buf, CHUNK, file)) > 0) {
		if (got % REC != 0)
			die("%s: changed while being read", file);
		for (size_t off = 0; off < got; off += REC, r++)
			if (buf[off + REC - 1] != '\n' ||
			    memchr(buf + off, '\n', REC - 1) != NULL)
				die("%s: record %" PRIu64 " is not a line of "
				    "%d bytes, as sluice gen-records --ascii "
				    "makes them (GNU sort sorts lines)",
				    file, r, REC);
		check_stop();
	}
	close(fd);
	free(buf);
}

/* Sequential read of file from the page cache in 1 MiB reads, one thread,
 * median of runs, in GB/s. t: runs doubles of scratch. */
static double
read_gbs(const char *file, uint64_t bytes, double *t, unsigned long runs)
{
	char *buf = malloc(1 << 20);

	if (buf == NULL)
		die("out of memory");
	for (unsigned long i = 0; i < runs; i++) {
		uint64_t got = 0;
		size_t n;
		double t0 = now();
		int fd = open(file, O_RDONLY);

		if (fd < 0)
			die("%s: %s", file, strerror(errno));
		while ((n = read_full(fd, buf, 1 << 20, file)) > 0)
			got += n;
		close(fd);
		t[i] = now() - t0;
		if (got != bytes)
			die("%s: changed while being read", file);
		check_stop();
	}
	free(buf);
	return (double)bytes / median(t, runs) / 1e9;
}

/* Single-thread memcpy between two 64 MiB buffers (well past the caches),
 * median of 15 copies, in GB/s; as wordcount_local measures it. */
static double
memcpy_gbs(void)
{
	enum { SIZE = 64 << 20, REPS = 15 };
	char *a = malloc(SIZE), *b = malloc(SIZE);
	double t[REPS];
	volatile char sink = 0;

	if (a == NULL || b == NULL)
		die("out of memory");
	memset(a, 1, SIZE);
	memset(b, 2, SIZE);
	for (int i = 0; i < REPS; i++) {
		double t0 = now();

		memcpy(b, a, SIZE);
		t[i] = now() - t0;
		sink += b[(size_t)i * 4099 % SIZE];
		a[i] = (char)i;
	}
	(void)sink;
	free(a);
	free(b);
	return SIZE / median(t, REPS) / 1e9;
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
		die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				die("out of memory");
		}
		if ((v[(*n)++] = strdup(e->d_name)) == NULL)
			die("out of memory");
	}
	closedir(d);
	if (*n == 0)
		die("%s: no part-* files", dir);
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
		die("out of memory");
	if (fb < 0)
		die("%s: %s", sorted, strerror(errno));
	names = part_names(dir, &n);
	for (size_t i = 0; i < n; i++) {
		size_t na, nb;
		int fa;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path))
			die("%s/%s: too long a path", dir, names[i]);
		if ((fa = open(path, O_RDONLY)) < 0)
			die("%s: %s", path, strerror(errno));
		while ((na = read_full(fa, a, CHUNK, path)) > 0) {
			nb = read_full(fb, b, na, sorted);
			if (nb != na || memcmp(a, b, na) != 0)
				differ(at, names[i], a, na, b, nb);
			at += na;
			check_stop();
		}
		close(fa);
	}
	if ((extra = read_full(fb, b, CHUNK, sorted)) > 0)
		differ(at, "the end of sluice's output", a, 0, b, extra);
	if (at != bytes)
		die("both outputs have %" PRIu64 " bytes, the input %" PRIu64,
		    at, bytes);
	close(fb);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(a);
	free(b);
}

/* A decimal number 1 .. max, or 0 when s is not one. */
static unsigned long long
count_arg(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || end == s || *end != '\0' || *s == '-' || v > max ? 0
	                                                                 : v;
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
	const char *workers = NULL, *slots = NULL, *tmp_base;
	unsigned long long records = 10000000, runs = 3;
	bool keep = false, have_records = false, generate;
	char sluice[PATH_MAX], file[PATH_MAX], out_dir[PATH_MAX];
	char sort_out[PATH_MAX], log[PATH_MAX], shuffle[PATH_MAX];
	char count[32], version[256];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8], label[64];
	char *user_file = NULL, *slash, **c_env;
	double *s_wall, *s_cpu, *g_wall, *g_cpu, wall, cpu;
	double sw, sc, gw, gc, read_speed, mb;
	struct sigaction sa = { .sa_handler = on_signal };
	struct stat st;
	uint64_t bytes;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			if ((records = count_arg(argv[++i], 1000000000)) == 0)
				usage();
			have_records = true;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if ((runs = count_arg(argv[++i], 1000)) == 0)
				usage();
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (count_arg(workers = argv[++i], 256) == 0)
				usage();
		} else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc) {
			if (count_arg(slots = argv[++i], 4096) == 0)
				usage();
		} else if (strcmp(argv[i], "--keep") == 0)
			keep = true;
		else if (argv[i][0] == '-' || user_file != NULL)
			usage();
		else
			user_file = argv[i];
	}
	if (user_file != NULL && have_records)
		die("--records is for a generated file; %s has its own",
		    user_file);
	generate = user_file == NULL;

	/* Stop cleanly on Ctrl-C: no SA_RESTART, so that wait4 returns. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* sluice beside this binary, the job in the source tree. */
	if ((n = readlink("/proc/self/exe", sluice, sizeof(sluice) - 8)) < 0)
		die("/proc/self/exe: %s", strerror(errno));
	sluice[n] = '\0';
	if ((slash = strrchr(sluice, '/')) == NULL)
		die("/proc/self/exe: %s: not a path", sluice);
	strcpy(slash + 1, "sluice");
	if (access(sluice, X_OK) != 0)
		die("%s: %s (build the sluice target)", sluice,
		    strerror(errno));
	if (access(job, R_OK) != 0)
		die("%s: %s", job, strerror(errno));

	tmp_base = getenv("TMPDIR");
	if (tmp_base == NULL || tmp_base[0] != '/')
		tmp_base = "/tmp";
	if (snprintf(tmp_dir, sizeof(tmp_dir), "%s/sluice-terasort-XXXXXX",
	        tmp_base) >= (int)sizeof(tmp_dir))
		die("TMPDIR: too long a path");
	if (mkdtemp(tmp_dir) == NULL) {
		tmp_dir[0] = '\0';
		die("mkdtemp in %s: %s", tmp_base, strerror(errno));
	}
	atexit(cleanup);
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp_dir);
	snprintf(log, sizeof(log), "%s/log.txt", tmp_dir);
	/* The shuffle's files in tmp_dir too, unless told otherwise: every
	 * `sluice run` of this job names it terasort-1, so two at once on one
	 * host would share $TMPDIR/sluice-localdisk/terasort-1 and both fail;
	 * and the files of an interrupted run go with tmp_dir. */
	snprintf(shuffle, sizeof(shuffle), "%s/shuffle", tmp_dir);
	if (getenv("SLUICE_LOCALDISK_DIR") == NULL &&
	    setenv("SLUICE_LOCALDISK_DIR", shuffle, 1) != 0)
		die("setenv: %s", strerror(errno));
	snprintf(sort_out, sizeof(sort_out), "%s/sort.txt", tmp_dir);

	/* GNU sort, before anything long: -S and --parallel are GNU's. */
	{
		char *av[] = { "sort", "--version", NULL };

		run_or_die(
		    "sort --version", av, environ, true, log, &wall, &cpu);
		first_line(log, version, sizeof(version));
		if (strstr(version, "GNU coreutils") == NULL)
			die("sort is not GNU sort ('%s'); -S and --parallel "
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

			run_or_die("sluice gen-records", av, environ, false,
			    log, &wall, &cpu);
		}
		fprintf(stderr, "generated in %.1f s\n", wall);
		if (keep)
			snprintf(keep_path, sizeof(keep_path), "%s", file);
	} else if (realpath(user_file, file) == NULL)
		die("%s: %s", user_file, strerror(errno));
	if (stat(file, &st) != 0)
		die("%s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size % REC != 0)
		die("%s: not a file of whole %d-byte records", file, REC);
	bytes = (uint64_t)st.st_size;
	records = bytes / REC;
	mb = (double)bytes / 1e6;
	if (!generate)
		check_space(tmp_dir, bytes, false);
	warm(file);

	snprintf(def_in, sizeof(def_in), "input=%s", file);
	snprintf(def_out, sizeof(def_out), "output=%s", out_dir);
	s_wall = calloc(runs, sizeof(double));
	s_cpu = calloc(runs, sizeof(double));
	g_wall = calloc(runs, sizeof(double));
	g_cpu = calloc(runs, sizeof(double));
	c_env = env_c_locale();
	if (s_wall == NULL || s_cpu == NULL || g_wall == NULL || g_cpu == NULL)
		die("out of memory");

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

		remove_tree(out_dir);
		run_or_die("sluice run", s_av, environ, false, log, &s_wall[i],
		    &s_cpu[i]);
		fprintf(stderr,
		    "run %llu/%llu: sluice run %7.2f s wall %7.2f s cpu\n",
		    i + 1, runs, s_wall[i], s_cpu[i]);
		if (!last)
			remove_tree(out_dir);
		sync();

		run_or_die("LC_ALL=C sort", g_av, c_env, true, log, &g_wall[i],
		    &g_cpu[i]);
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
		run_or_die("sluice validate-sorted", av, environ, false, log,
		    &wall, &cpu);
	}
	compare_outputs(out_dir, sort_out, bytes);
	remove_tree(out_dir);
	unlink(sort_out);

	sw = median(s_wall, runs);
	sc = median(s_cpu, runs);
	gw = median(g_wall, runs);
	gc = median(g_cpu, runs);
	read_speed = read_gbs(file, bytes, s_wall, runs);

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
	    memcpy_gbs(), read_speed);

	free(c_env);
	free(s_wall);
	free(s_cpu);
	free(g_wall);
	free(g_cpu);
	return 0;
}
