/*
 * What the benchmarks share (bench_util.h).
 */
#include "bench_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define TAIL_LINES 20

extern char **environ;

static const char *name = "bench";
static char scratch[1024];  /* ours: removed at exit */
static char kept[PATH_MAX]; /* a file in it bench_keep leaves */
static volatile sig_atomic_t stop;

static void background_kill(void);

void
bench_init(const char *prog)
{
	name = prog;
	/* a line at a time through bench/run's tee, as on a terminal */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", name);
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

void
bench_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Ctrl-C: stop where it is safe to, so that exit removes the scratch
 * directory. */
void
bench_check_stop(void)
{
	if (stop)
		bench_die("interrupted (signal %d)", (int)stop);
}

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec +
	    (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
	    (double)ru->ru_stime.tv_usec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double *
bench_doubles(size_t n)
{
	double *v = calloc(n, sizeof(double));

	if (v == NULL)
		bench_die("out of memory");
	return v;
}

unsigned long long
bench_count_arg(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || end == s || *end != '\0' || *s == '-' || v > max ? 0
	                                                                 : v;
}

size_t
bench_read_full(int fd, char *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bench_die("%s: %s", what, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

void
bench_sluice_path(char *buf, size_t cap)
{
	char *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, cap - 8)) < 0)
		bench_die("/proc/self/exe: %s", strerror(errno));
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		bench_die("/proc/self/exe: %s: not a path", buf);
	strcpy(slash + 1, "sluice");
	if (access(buf, X_OK) != 0)
		bench_die(
		    "%s: %s (build the sluice target)", buf, strerror(errno));
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (strcmp(path, kept) != 0)
		remove(path);
	return 0;
}

void
bench_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
cleanup(void)
{
	background_kill(); /* they may hold files in it */
	if (scratch[0] == '\0')
		return;
	bench_remove_tree(scratch); /* leaves it when it keeps a file */
	if (kept[0] != '\0')
		fprintf(stderr, "%s: kept %s\n", name, kept);
}

const char *
bench_scratch_dir(const char *dir, const char *prefix)
{
	char shuffle[PATH_MAX];

	if (dir == NULL && ((dir = getenv("TMPDIR")) == NULL || dir[0] != '/'))
		dir = "/tmp";
	if (snprintf(scratch, sizeof(scratch), "%s/%s-XXXXXX", dir, prefix) >=
	    (int)sizeof(scratch))
		bench_die("%s: too long a path", dir);
	if (mkdtemp(scratch) == NULL) {
		int e = errno;

		scratch[0] = '\0';
		bench_die("mkdtemp in %s: %s", dir, strerror(e));
	}
	atexit(cleanup);
	snprintf(shuffle, sizeof(shuffle), "%s/shuffle", scratch);
	if (getenv("SLUICE_LOCALDISK_DIR") == NULL &&
	    setenv("SLUICE_LOCALDISK_DIR", shuffle, 1) != 0)
		bench_die("setenv: %s", strerror(errno));
	return scratch;
}

void
bench_keep(const char *path)
{
	snprintf(kept, sizeof(kept), "%s", path);
}

void
bench_check_space(const char *dir, uint64_t need, const char *why)
{
	struct statvfs sv;
	uint64_t avail;

	if (statvfs(dir, &sv) != 0)
		bench_die("%s: %s", dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < need)
		bench_die("%s: %.2f GB free, the runs need about %.2f GB %s",
		    dir, (double)avail / 1e9, (double)need / 1e9, why);
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
	int status;

	for (int ms = 0;; ms += 50) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (ms == 5000)
			kill(pid, SIGTERM);
		else if (ms == 15000)
			kill(pid, SIGKILL);
		nanosleep(&tick, NULL);
	}
	bench_die("interrupted (signal %d)", (int)stop);
}

int
bench_run(const char *what, char *const argv[], char *const env[],
    const char *log, double *wall, double *cpu)
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
		bench_die("%s: %s", what, strerror(e));
	t0 = bench_now();
	/* posix_spawnp looks in PATH only for a name without a '/' */
	e = posix_spawnp(
	    &pid, argv[0], &fa, NULL, argv, env != NULL ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e == ENOENT && strchr(argv[0], '/') == NULL)
		bench_die("%s: '%s' not found in PATH", what, argv[0]);
	if (e != 0)
		bench_die(
		    "%s: cannot start %s: %s", what, argv[0], strerror(e));
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			bench_die("wait4: %s", strerror(errno));
		if (stop)
			stop_child(pid);
	}
	*wall = bench_now() - t0;
	if (cpu != NULL)
		*cpu = bench_cpu_s(&ru);
	bench_check_stop();
	return status;
}

void
bench_run_failed(
    const char *what, int status, const char *log, const char *expect)
{
	fprintf(stderr, "%s: %s %s (%s %d); the end of its output:\n", name,
	    what, expect, WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	print_tail(log);
	exit(1);
}

void
bench_run_or_die(const char *what, char *const argv[], char *const env[],
    const char *log, double *wall, double *cpu)
{
	int status = bench_run(what, argv, env, log, wall, cpu);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_run_failed(what, status, log, "failed");
}

/* ---- processes in the background ---- */

static pid_t background[8];

/* At exit, and before the scratch directory goes. */
static void
background_kill(void)
{
	for (size_t i = 0; i < sizeof(background) / sizeof(background[0]); i++)
		if (background[i] > 0) {
			kill(background[i], SIGKILL);
			waitpid(background[i], NULL, 0);
			background[i] = 0;
		}
}

static void
background_forget(pid_t pid)
{
	for (size_t i = 0; i < sizeof(background) / sizeof(background[0]); i++)
		if (background[i] == pid)
			background[i] = 0;
}

pid_t
bench_start(const char *what, char *const argv[], char *const env[],
    const char *log, int err_fd)
{
	static bool registered;
	posix_spawn_file_actions_t fa;
	size_t slot;
	pid_t pid;
	int e;

	for (slot = 0; slot < sizeof(background) / sizeof(background[0]);
	     slot++)
		if (background[slot] == 0)
			break;
	if (slot == sizeof(background) / sizeof(background[0]))
		bench_die("%s: too many processes in the background", what);
	if (!registered) {
		atexit(background_kill);
		registered = true;
	}
	if ((e = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(
	         &fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(
	         &fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(
	         &fa, err_fd != -1 ? err_fd : 1, 2)) != 0)
		bench_die("%s: %s", what, strerror(e));
	e = posix_spawnp(
	    &pid, argv[0], &fa, NULL, argv, env != NULL ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0)
		bench_die(
		    "%s: cannot start %s: %s", what, argv[0], strerror(e));
	background[slot] = pid;
	return pid;
}

void
bench_stop(pid_t pid)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			goto out;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	background_forget(pid);
}

void
bench_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	background_forget(pid);
}

double
bench_memcpy_gbs(void)
{
	enum { SIZE = 64 << 20, REPS = 15 };
	char *a = malloc(SIZE), *b = malloc(SIZE);
	double t[REPS];
	volatile char sink = 0;

	if (a == NULL || b == NULL)
		bench_die("out of memory");
	memset(a, 1, SIZE);
	memset(b, 2, SIZE);
	for (int i = 0; i < REPS; i++) {
		double t0 = bench_now();

		memcpy(b, a, SIZE);
		t[i] = bench_now() - t0;
		sink += b[(size_t)i * 4099 % SIZE];
		a[i] = (char)i;
	}
	(void)sink;
	free(a);
	free(b);
	return SIZE / bench_median(t, REPS) / 1e9;
}

double
bench_read_gbs(const char *file, uint64_t bytes, double *t, unsigned long runs)
{
	char *buf = malloc(1 << 20);

	if (buf == NULL)
		bench_die("out of memory");
	for (unsigned long i = 0; i < runs; i++) {
		uint64_t got = 0;
		size_t n;
		double t0 = bench_now();
		int fd = open(file, O_RDONLY);

		if (fd < 0)
			bench_die("%s: %s", file, strerror(errno));
		while ((n = bench_read_full(fd, buf, 1 << 20, file)) > 0)
			got += n;
		close(fd);
		t[i] = bench_now() - t0;
		if (got != bytes)
			bench_die("%s: changed while being read", file);
		bench_check_stop();
	}
	free(buf);
	return (double)bytes / bench_median(t, runs) / 1e9;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
bench_output_free(struct bench_output *o)
{
	free(o->text);
	free(o->line);
	memset(o, 0, sizeof(*o));
}

void
bench_output_read(const char *dir, struct bench_output *o)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t len = 0, cap = 1 << 20, lcap = 1 << 16, parts = 0;
	char path[PATH_MAX];

	memset(o, 0, sizeof(*o));
	if (d == NULL)
		bench_die("%s: %s", dir, strerror(errno));
	if ((o->text = malloc(cap)) == NULL)
		bench_die("out of memory");
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			bench_die("%s/%s: too long a path", dir, e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
			bench_die("%s: %s", path, strerror(errno));
		/* room for the file, and a newline after it */
		while (cap < len + (size_t)st.st_size + 2)
			if ((o->text = realloc(o->text, cap *= 2)) == NULL)
				bench_die("out of memory");
		len += bench_read_full(
		    fd, o->text + len, (size_t)st.st_size, path);
		close(fd);
		if (len > 0 && o->text[len - 1] != '\n')
			bench_die("%s: does not end with a newline", path);
		parts++;
	}
	closedir(d);
	if (parts == 0)
		bench_die("%s: no part-* files", dir);
	o->text[len] = '\0';
	if ((o->line = malloc(lcap * sizeof(*o->line))) == NULL)
		bench_die("out of memory");
	for (char *p = o->text; p < o->text + len;) {
		char *nl = strchr(p, '\n');

		if (o->n == lcap &&
		    (o->line = realloc(
		         o->line, (lcap *= 2) * sizeof(*o->line))) == NULL)
			bench_die("out of memory");
		*nl = '\0';
		o->line[o->n++] = p;
		p = nl + 1;
	}
	qsort(o->line, o->n, sizeof(*o->line), cmp_line);
}

double
bench_output_check(
    const struct bench_output *o, uint64_t words, char *top, size_t top_cap)
{
	uint64_t sum = 0, max = 0;

	for (size_t i = 0; i < o->n; i++) {
		char *tab = strchr(o->line[i], '\t'), *end;
		uint64_t c;

		if (tab == NULL)
			bench_die("the first output: a line without a tab: "
			          "'%s'",
			    o->line[i]);
		errno = 0;
		c = strtoull(tab + 1, &end, 10);
		if (errno != 0 || *end != '\0' || c == 0)
			bench_die(
			    "the first output: not a count: '%s'", o->line[i]);
		if (i > 0 &&
		    strncmp(o->line[i - 1], o->line[i],
		        (size_t)(tab - o->line[i]) + 1) == 0)
			bench_die("the first output: '%.*s' twice",
			    (int)(tab - o->line[i]), o->line[i]);
		sum += c;
		if (top != NULL && c > max) {
			max = c;
			snprintf(top, top_cap, "%.*s", (int)(tab - o->line[i]),
			    o->line[i]);
		}
	}
	if (sum != words)
		bench_die("MISMATCH: the first output's counts add up to "
		          "%" PRIu64 ", the text has %" PRIu64 " words",
		    sum, words);
	return words ? (double)max / (double)words : 0;
}

void
bench_output_compare(const struct bench_output *ref,
    const struct bench_output *o, const char *ref_what, const char *ref_label,
    const char *config, unsigned long run)
{
	char label[64];
	size_t i = 0;
	int w;

	while (i < ref->n && i < o->n && strcmp(ref->line[i], o->line[i]) == 0)
		i++;
	if (i == ref->n && i == o->n)
		return;
	fprintf(stderr,
	    "%s: MISMATCH: the output of %s, run %lu, differs from %s\n  (%zu "
	    "lines against %zu; sorted, they part at line %zu)\n",
	    name, config, run, ref_what, o->n, ref->n, i + 1);
	/* the two values in one column */
	w = snprintf(label, sizeof(label), "%s:", ref_label);
	fprintf(stderr, "  %-*s %s\n", w, label,
	    i < ref->n ? ref->line[i] : "(end)");
	fprintf(stderr, "  %-*s %s\n", w,
	    "this run:", i < o->n ? o->line[i] : "(end)");
	exit(1);
}

void
bench_notify(void *arg)
{
	struct bench_waiter *w = arg;

	pthread_mutex_lock(&w->mtx);
	w->ready = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

/* Append o as one line to $SLUICE_BENCH_RESULTS (O_APPEND: two benchmarks
 * may write at once); steals o. */
static void
results_append(json_t *o)
{
	const char *path = getenv("SLUICE_BENCH_RESULTS");
	char *line;
	int fd;
	size_t len;

	if (path == NULL || *path == '\0') {
		json_decref(o);
		return;
	}
	json_object_set_new(o, "benchmark", json_string(name));
	line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		bench_die("out of memory");
	len = strlen(line);
	line[len++] = '\n'; /* json_dumps leaves room for its NUL */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die("cannot open %s: %s", path, strerror(errno));
	if (write(fd, line, len) != (ssize_t)len)
		bench_die("cannot write %s: %s", path, strerror(errno));
	close(fd);
	free(line);
}

void
bench_result(const char *rname, double value, const char *unit,
    const char *reference, double reference_value, double ratio, double goal)
{
	json_t *o = json_pack(
	    "{s:s, s:f, s:s}", "name", rname, "value", value, "unit", unit);

	if (o == NULL)
		bench_die("out of memory");
	if (reference != NULL) {
		json_object_set_new(o, "reference", json_string(reference));
		json_object_set_new(
		    o, "reference_value", json_real(reference_value));
		json_object_set_new(o, "ratio", json_real(ratio));
	}
	if (goal > 0)
		json_object_set_new(o, "goal", json_real(goal));
	results_append(o);
}

void
bench_point(const char *plot, const char *xlabel, const char *ylabel,
    const char *series, double x, double y)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}", "plot", plot, "xlabel",
	        xlabel, "ylabel", ylabel, "series", series, "x", x, "y", y);

	if (o == NULL)
		bench_die("out of memory");
	results_append(o);
}
