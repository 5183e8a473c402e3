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
 * sequential read of the text from the page cache.
 *
 *   adaptive_bench [--words N] [--runs R] [--dir DIR] [--zipf S]
 *                  [--vocabulary V]
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

#include <jansson.h>

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

#define TAIL_LINES 20
#define TARGET_TASKS 16 /* what auto's bytes_per_task aims at */
#define NFIXED 6

extern char **environ;

static const unsigned fixed_par[NFIXED] = { 1, 2, 4, 8, 16, 32 };

static char tmp_dir[1024]; /* ours: removed at exit */
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

	fputs("adaptive_bench: ", stderr);
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
	if (tmp_dir[0] != '\0')
		remove_tree(tmp_dir);
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

/* Interrupted while pid runs: a Ctrl-C reached it as well (the same process
 * group) and sluice run cancels its job on one. It gets 5 s to end by
 * itself, then SIGTERM, then SIGKILL 10 s later (as terasort_bench). */
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

/* Run argv (argv[0] a path) with stdin from /dev/null, stdout and stderr to
 * log (truncated), and wait for it: its wall and CPU seconds, those of the
 * children it waited for included (sluice run's workers). Stops with what
 * went wrong unless it exited 0. */
static void
run_or_die(const char *what, char *const argv[], const char *log, double *wall,
    double *cpu)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0;
	pid_t pid;
	int e, status;

	if ((e = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(
	         &fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(
	         &fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, 1, 2)) != 0)
		die("%s: %s", what, strerror(e));
	t0 = now();
	e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0)
		die("%s: cannot start %s: %s", what, argv[0], strerror(e));
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
		if (stop)
			stop_child(pid);
	}
	*wall = now() - t0;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	check_stop();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	fprintf(stderr,
	    "adaptive_bench: %s failed (%s %d); the end of its output:\n", what,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	print_tail(log);
	exit(1);
}

/* The space the runs need in dir: the text, the shuffle's files (about four
 * times the text: every word becomes a record with an 8-byte count) and
 * two outputs, and a tenth for luck. */
static void
check_space(const char *dir, uint64_t text_bytes)
{
	struct statvfs sv;
	uint64_t need = text_bytes * 5 + text_bytes / 2, avail;

	if (statvfs(dir, &sv) != 0)
		die("%s: %s", dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < need)
		die("%s: %.2f GB free, the runs need about %.2f GB (the text, "
		    "the shuffle's files, the outputs); use --dir on a "
		    "roomier file system",
		    dir, (double)avail / 1e9, (double)need / 1e9);
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
 * median of 15 copies, in GB/s; as terasort_bench measures it. */
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

/* An output: its part files' lines, sorted (they point into text). */
struct output {
	char *text;
	char **line;
	size_t n;
};

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
output_free(struct output *o)
{
	free(o->text);
	free(o->line);
	memset(o, 0, sizeof(*o));
}

/* dir's part-* files read, their lines sorted: the output whatever the
 * parallelism that wrote it. */
static void
output_read(const char *dir, struct output *o)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t len = 0, cap = 1 << 20, lcap = 1 << 16, parts = 0;
	char path[PATH_MAX];

	memset(o, 0, sizeof(*o));
	if (d == NULL)
		die("%s: %s", dir, strerror(errno));
	if ((o->text = malloc(cap)) == NULL)
		die("out of memory");
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			die("%s/%s: too long a path", dir, e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
			die("%s: %s", path, strerror(errno));
		/* room for the file, and a newline after it */
		while (cap < len + (size_t)st.st_size + 2)
			if ((o->text = realloc(o->text, cap *= 2)) == NULL)
				die("out of memory");
		len += read_full(fd, o->text + len, (size_t)st.st_size, path);
		close(fd);
		if (len > 0 && o->text[len - 1] != '\n')
			die("%s: does not end with a newline", path);
		parts++;
	}
	closedir(d);
	if (parts == 0)
		die("%s: no part-* files", dir);
	o->text[len] = '\0';
	if ((o->line = malloc(lcap * sizeof(*o->line))) == NULL)
		die("out of memory");
	for (char *p = o->text; p < o->text + len;) {
		char *nl = strchr(p, '\n');

		if (o->n == lcap &&
		    (o->line = realloc(
		         o->line, (lcap *= 2) * sizeof(*o->line))) == NULL)
			die("out of memory");
		*nl = '\0';
		o->line[o->n++] = p;
		p = nl + 1;
	}
	qsort(o->line, o->n, sizeof(*o->line), cmp_line);
}

/* The reference's counts ("word\tcount") add up to the words generated, no
 * word twice, no more words than the vocabulary: the share of the most
 * frequent one. */
static double
output_check(const struct output *o, uint64_t words, uint64_t vocabulary,
    char *top, size_t top_cap)
{
	uint64_t sum = 0, max = 0;

	if (o->n > vocabulary)
		die("the first output has %zu distinct words, more than the "
		    "vocabulary of %" PRIu64,
		    o->n, vocabulary);
	for (size_t i = 0; i < o->n; i++) {
		char *tab = strchr(o->line[i], '\t'), *end;
		uint64_t c;

		if (tab == NULL)
			die("the first output: a line without a tab: '%s'",
			    o->line[i]);
		errno = 0;
		c = strtoull(tab + 1, &end, 10);
		if (errno != 0 || *end != '\0' || c == 0)
			die("the first output: not a count: '%s'", o->line[i]);
		if (i > 0 &&
		    strncmp(o->line[i - 1], o->line[i],
		        (size_t)(tab - o->line[i]) + 1) == 0)
			die("the first output: '%.*s' twice",
			    (int)(tab - o->line[i]), o->line[i]);
		sum += c;
		if (c > max) {
			max = c;
			snprintf(top, top_cap, "%.*s", (int)(tab - o->line[i]),
			    o->line[i]);
		}
	}
	if (sum != words)
		die("MISMATCH: the first output's counts add up to %" PRIu64
		    ", the text has %" PRIu64 " words",
		    sum, words);
	return words ? (double)max / (double)words : 0;
}

/* o must equal ref, line for line; else stop, loudly. */
static void
output_compare(const struct output *ref, const struct output *o,
    const char *config, unsigned long run)
{
	size_t i = 0;

	while (i < ref->n && i < o->n && strcmp(ref->line[i], o->line[i]) == 0)
		i++;
	if (i == ref->n && i == o->n)
		return;
	fprintf(stderr,
	    "adaptive_bench: MISMATCH: the output of %s, run %lu, differs from "
	    "the first run's\n  (%zu lines against %zu; sorted, they part at "
	    "line %zu)\n",
	    config, run, o->n, ref->n, i + 1);
	fprintf(
	    stderr, "  first run: %s\n", i < ref->n ? ref->line[i] : "(end)");
	fprintf(stderr, "  this run:  %s\n", i < o->n ? o->line[i] : "(end)");
	exit(1);
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
		die("out of memory");
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
			die("out of memory");
		found |= strcmp(id, "count") == 0;
	}
	if (!found)
		die("%s: no vertex 'count'",
		    SL_SOURCE_DIR "/examples/jobs/wordcount-skew.json");
	if (json_dump_file(job, path, JSON_INDENT(2)) != 0)
		die("%s: cannot write it", path);
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
		die("%s: line %d: %s", path, err.line, err.text);
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
		die("%s: no count vertex with its tasks", path);
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

int
main(int argc, char **argv)
{
	const char *example_path =
	    SL_SOURCE_DIR "/examples/jobs/wordcount-skew.json";
	const char *base = NULL, *zipf = "1.1";
	unsigned long long words = 32000000, runs = 3, vocabulary = 1000000;
	char sluice[PATH_MAX], text[PATH_MAX], out_dir[PATH_MAX];
	char log[PATH_MAX], report[PATH_MAX], shuffle[PATH_MAX];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8], top[64];
	char nwords[32], nvocab[32], *slash;
	struct sigaction sa = { .sa_handler = on_signal };
	struct config cf[2 + NFIXED];
	int ncf = 0, best = -1, worst = -1;
	double med[2 + NFIXED];
	struct output ref, o;
	struct count_report cal;
	json_error_t jerr;
	json_t *example;
	uint64_t bytes, count_bpt;
	double wall, cpu, gen_wall, top_share, *scratch, mb;
	struct stat st;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--words") == 0 && i + 1 < argc) {
			if ((words = count_arg(argv[++i], 10000000000ULL)) == 0)
				usage();
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if ((runs = count_arg(argv[++i], 1000)) == 0)
				usage();
		} else if (strcmp(argv[i], "--vocabulary") == 0 &&
		    i + 1 < argc) {
			if ((vocabulary = count_arg(argv[++i], 100000000)) == 0)
				usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--zipf") == 0 && i + 1 < argc)
			zipf = argv[++i]; /* gen-words checks it */
		else
			usage();
	}

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
	if ((example = json_load_file(example_path, 0, &jerr)) == NULL)
		die("%s: line %d: %s", example_path, jerr.line, jerr.text);

	if (base == NULL &&
	    ((base = getenv("TMPDIR")) == NULL || base[0] != '/'))
		base = "/tmp";
	if (snprintf(tmp_dir, sizeof(tmp_dir), "%s/sluice-adaptive-XXXXXX",
	        base) >= (int)sizeof(tmp_dir))
		die("%s: too long a path", base);
	if (mkdtemp(tmp_dir) == NULL) {
		int e = errno;

		tmp_dir[0] = '\0';
		die("mkdtemp in %s: %s", base, strerror(e));
	}
	atexit(cleanup);
	snprintf(text, sizeof(text), "%s/words.txt", tmp_dir);
	snprintf(out_dir, sizeof(out_dir), "%s/out", tmp_dir);
	snprintf(log, sizeof(log), "%s/log.txt", tmp_dir);
	snprintf(report, sizeof(report), "%s/report.json", tmp_dir);
	/* The shuffle's files in tmp_dir, unless told otherwise: they go
	 * with it, those of an interrupted run too. */
	snprintf(shuffle, sizeof(shuffle), "%s/shuffle", tmp_dir);
	if (getenv("SLUICE_LOCALDISK_DIR") == NULL &&
	    setenv("SLUICE_LOCALDISK_DIR", shuffle, 1) != 0)
		die("setenv: %s", strerror(errno));
	check_space(tmp_dir, (uint64_t)words * 6);

	snprintf(nwords, sizeof(nwords), "%llu", words);
	snprintf(nvocab, sizeof(nvocab), "%llu", vocabulary);
	fprintf(stderr, "generating %llu words in %s ...\n", words, text);
	{
		char *av[] = { sluice, "gen-words", "--words", nwords, "--zipf",
			(char *)zipf, "--vocabulary", nvocab, "--output", text,
			NULL };

		run_or_die("sluice gen-words", av, log, &gen_wall, &cpu);
	}
	if (stat(text, &st) != 0)
		die("%s: %s", text, strerror(errno));
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
		run_or_die("sluice run", av, log, &wall, &cpu);
		read_report(report, &cal);
		output_read(out_dir, &ref);
		top_share =
		    output_check(&ref, words, vocabulary, top, sizeof(top));
		remove_tree(out_dir);
		if (cal.shuffle_bytes == 0)
			die("%s: no bytes from words to count", report);
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
		cf[c].wall = calloc(runs, sizeof(double));
		cf[c].cpu = calloc(runs, sizeof(double));
		cf[c].spread = calloc(runs, sizeof(double));
		cf[c].varied = false;
		if (cf[c].wall == NULL || cf[c].cpu == NULL ||
		    cf[c].spread == NULL)
			die("out of memory");
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
			run_or_die(what, av, log, &c->wall[i], &c->cpu[i]);
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
			output_read(out_dir, &o);
			output_compare(&ref, &o, c->name, (unsigned long)i + 1);
			output_free(&o);
			remove_tree(out_dir);
			sync();
		}
	}
	output_free(&ref);

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
		med[c] = median(cf[c].wall, runs);
		printf("%-22s %11u %7u %8.2f %8.2f %13.2f%s\n", cf[c].name,
		    cf[c].first.par, cf[c].first.tasks - cf[c].first.par,
		    med[c], median(cf[c].cpu, runs), median(cf[c].spread, runs),
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
	if ((scratch = calloc(runs, sizeof(double))) == NULL)
		die("out of memory");
	printf("physical limits, same run: memcpy %.1f GB/s (one thread, 64 "
	       "MiB blocks), reading\nthe text from the page cache %.1f GB/s "
	       "(one thread, 1 MiB reads)\n",
	    memcpy_gbs(), read_gbs(text, bytes, scratch, runs));
	free(scratch);
	for (int c = 0; c < ncf; c++) {
		free(cf[c].wall);
		free(cf[c].cpu);
		free(cf[c].spread);
	}
	return 0;
}
