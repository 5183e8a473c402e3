/*
 * Region failover against a full job restart (issue 6), on a three-stage
 * job: the blocking WordCount of examples/jobs/wordcount-blocking.json
 * (read -> words -> combine chained, x4; a blocking localdisk all_to_all to
 * count, x3; a blocking localdisk pointwise edge to write, x3) by `sluice
 * run` (the binary beside this one, on its local cluster) over the text of
 * `sluice gen-words --zipf 1.0`. Three configurations, each run --runs
 * times, in turn, starting one further each round:
 *
 *  - failure-free: the job as it is (with "restart": none, so that an
 *    unexpected failure stops the benchmark instead of hiding in it);
 *  - region failover: "faults" fails count#1 in its attempt 0 after K
 *    records, K half of what count#1 reads (measured by a first, untimed
 *    run), and "restart" is fixed-delay, 3 attempts, 0 ms, so that no delay
 *    of the strategy is counted. From the report: when the failure was seen
 *    (failovers[0].at_s), what restarted (failovers[0].restarted), and when
 *    count#1's region was running again (its regions[] entry's started_s:
 *    a worker's answer to the DEPLOY of the new attempt, its task started);
 *    the time to running again is the difference, all of it on the
 *    coordinator's clock. Work recomputed: the restarted tasks' bytes_in
 *    (their last attempt's) plus what the failed attempt had read,
 *    estimated from the fault's position as K / records_in x bytes_in of
 *    the failed task;
 *  - full restart: what a framework without region failover does. The same
 *    fault with "restart": none: the job fails there (that run's wall time
 *    is the time lost; its report's failovers hold one event, count#1
 *    attempt 0 with "gave_up": true, at_s when the failure was seen) and is
 *    run again from scratch (the failure-free run of the same round). Its
 *    work recomputed is all the failed run did: the sum of bytes_in over
 *    its report's tasks (a task still running when the job failed counts
 *    what it last reported, which may be nothing: a lower bound). Its time
 *    to running again, from the failure to count#1 running in the new job,
 *    is the sum of three terms: (a) the failed run's wall time minus its
 *    gave_up event's at_s (the failed job's cancelling and its cluster's
 *    stop, but also, since at_s counts from the submission, that process's
 *    time before it: starting its cluster); (b) the failure-free run's wall
 *    time minus the latest ended_s of its regions (its process time outside
 *    the job: starting a cluster and submitting, which is not known on its
 *    own, and stopping the cluster); (c) the failure-free run's started_s
 *    of count#1's region (from its submission to count#1 running). (b) +
 *    (c) stand for the new job's time from its process's start to count#1
 *    running. The sum exceeds the time to running again by the failed
 *    process's time before its submission (in (a)) and the new one's after
 *    its last region (in (b)): an upper bound, by about (b).
 *
 * The job's total work is the sum of bytes_in over the tasks of the
 * failure-free run's report. Region failover's figure counts what the new
 * attempt reads in full although only the failed attempt's part was read
 * before; the work beyond a failure-free run, counted alike for both (the
 * failed attempt's, the failed run's), is printed beside it. Every successful
 * run's output, its part files' lines sorted, must equal the first run's; every
 * run with "restart": none and the fault must fail at count#1, its report's
 * one failover event naming count#1, attempt 0, "gave_up": true, nothing
 * restarted; every region failover run must have one event, count#1 attempt
 * 0 restarted, and count#1's region running again after it. Between runs,
 * untimed, the output is removed and dirty pages written back (sync). For
 * scale, single-thread memcpy and a sequential read of the text from the page
 * cache.
 *
 *   failover_bench [--words N] [--runs R] [--dir DIR]
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
#define FAILED_TASK "count#1"

extern char **environ;

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

	fputs("failover_bench: ", stderr);
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
	die("interrupted (signal %d)", (int)stop);
}

/* Run argv (argv[0] a path) with stdin from /dev/null, stdout and stderr to
 * log (truncated), and wait for it: its wall seconds and wait status. */
static int
run(const char *what, char *const argv[], const char *log, double *wall)
{
	posix_spawn_file_actions_t fa;
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
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
		if (stop)
			stop_child(pid);
	}
	*wall = now() - t0;
	check_stop();
	return status;
}

/* What went wrong with a run: its status and the end of its output. */
static _Noreturn void
run_failed(const char *what, int status, const char *log, const char *expect)
{
	fprintf(stderr,
	    "failover_bench: %s %s (%s %d); the end of its output:\n", what,
	    expect, WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	print_tail(log);
	exit(1);
}

static void
run_or_die(const char *what, char *const argv[], const char *log, double *wall)
{
	int status = run(what, argv, log, wall);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		run_failed(what, status, log, "failed");
}

/* The space the runs need in dir: the text, the shuffle's files (compressed
 * partial counts: well under the text), two outputs, and room to spare. */
static void
check_space(const char *dir, uint64_t text_bytes)
{
	struct statvfs sv;
	uint64_t need = text_bytes * 3, avail;

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

/* dir's part-* files read, their lines sorted. */
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

/* The first output's counts ("word\tcount") add up to the words generated
 * and no word comes twice. */
static void
output_check(const struct output *o, uint64_t words)
{
	uint64_t sum = 0;

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
	}
	if (sum != words)
		die("MISMATCH: the first output's counts add up to %" PRIu64
		    ", the text has %" PRIu64 " words",
		    sum, words);
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
	    "failover_bench: MISMATCH: the output of %s, run %lu, differs from "
	    "the failure-free output\n  (%zu lines against %zu; sorted, they "
	    "part at line %zu)\n",
	    config, run, o->n, ref->n, i + 1);
	fprintf(stderr, "  failure-free: %s\n",
	    i < ref->n ? ref->line[i] : "(end)");
	fprintf(
	    stderr, "  this run:     %s\n", i < o->n ? o->line[i] : "(end)");
	exit(1);
}

/* The example job with "restart" set (fixed-delay 0 ms when fixed_delay,
 * else strategy none) and, when fault_after is not 0, a fault that
 * fails FAILED_TASK in its attempt 0 after that many records. */
static void
write_job(const json_t *example, const char *path, bool fixed_delay,
    uint64_t fault_after)
{
	json_t *job = json_deep_copy(example), *restart, *faults;

	if (job == NULL)
		die("out of memory");
	restart = fixed_delay
	    ? json_pack("{s:s,s:i,s:s}", "strategy", "fixed-delay", "attempts",
	          3, "delay", "0ms")
	    : json_pack("{s:s}", "strategy", "none");
	if (restart == NULL || json_object_set_new(job, "restart", restart))
		die("out of memory");
	if (fault_after != 0) {
		faults = json_pack("[{s:s,s:i,s:I,s:s}]", "task", FAILED_TASK,
		    "attempt", 0, "after_records", (json_int_t)fault_after,
		    "action", "fail");
		if (faults == NULL ||
		    json_object_set_new(job, "faults", faults) != 0)
			die("out of memory");
	}
	if (json_dump_file(job, path, JSON_INDENT(2)) != 0)
		die("%s: cannot write it", path);
	json_decref(job);
}

/* A task's entry in a report's vertices[].tasks[], or NULL. */
static json_t *
report_task(json_t *rep, const char *id)
{
	json_t *v, *t;
	size_t i, k;

	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		json_array_foreach (json_object_get(v, "tasks"), k, t) {
			const char *tid =
			    json_string_value(json_object_get(t, "id"));

			if (tid != NULL && strcmp(tid, id) == 0)
				return t;
		}
	return NULL;
}

static uint64_t
task_u64(json_t *t, const char *key)
{
	json_t *v = json_object_get(t, key);

	return json_is_integer(v) && json_integer_value(v) >= 0
	    ? (uint64_t)json_integer_value(v)
	    : 0;
}

/* What a benchmark reads from one report. */
struct report {
	char status[16];
	char reason[512];
	uint64_t work;         /* sum of bytes_in over every task */
	uint64_t failed_in;    /* FAILED_TASK's records_in */
	uint64_t failed_bytes; /* FAILED_TASK's bytes_in */
	unsigned failed_tries; /* FAILED_TASK's attempts */
	double started;        /* FAILED_TASK's region's started_s, or -1 */
	double count_end;      /* FAILED_TASK's region's ended_s, or -1 */
	double last_end;       /* the latest ended_s of any region, or -1 */
	unsigned nfailovers;   /* events in "failovers" */
	double at;             /* failovers[0].at_s */
	char fo_task[64];      /* failovers[0].task */
	int fo_attempt;        /* failovers[0].attempt */
	bool fo_gave_up;       /* failovers[0].gave_up */
	char restarted[256];   /* failovers[0].restarted, comma-separated */
	uint64_t restarted_in; /* the restarted tasks' bytes_in */
	unsigned nrestarted;
};

static const char *
str_or(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static double
real_or(json_t *v, double dflt)
{
	return json_is_number(v) ? json_number_value(v) : dflt;
}

static void
read_report(const char *path, struct report *r)
{
	json_error_t err;
	json_t *rep = json_load_file(path, 0, &err), *v, *t, *g, *fo;
	size_t i, k;

	memset(r, 0, sizeof(*r));
	r->started = r->count_end = r->last_end = r->at = -1;
	if (rep == NULL)
		die("%s: line %d: %s", path, err.line, err.text);
	snprintf(r->status, sizeof(r->status), "%s",
	    str_or(json_object_get(rep, "status")));
	snprintf(r->reason, sizeof(r->reason), "%s",
	    str_or(json_object_get(rep, "reason")));
	json_array_foreach (json_object_get(rep, "vertices"), i, v)
		json_array_foreach (json_object_get(v, "tasks"), k, t)
			r->work += task_u64(t, "bytes_in");
	if ((t = report_task(rep, FAILED_TASK)) == NULL)
		die("%s: no task %s", path, FAILED_TASK);
	r->failed_in = task_u64(t, "records_in");
	r->failed_bytes = task_u64(t, "bytes_in");
	r->failed_tries = (unsigned)task_u64(t, "attempts");
	json_array_foreach (json_object_get(rep, "regions"), i, g) {
		json_t *name;
		double end = real_or(json_object_get(g, "ended_s"), -1);

		if (end > r->last_end)
			r->last_end = end;
		json_array_foreach (json_object_get(g, "tasks"), k, name)
			if (json_is_string(name) &&
			    strcmp(json_string_value(name), FAILED_TASK) == 0) {
				r->started = real_or(
				    json_object_get(g, "started_s"), -1);
				r->count_end = end;
			}
	}
	r->nfailovers =
	    (unsigned)json_array_size(json_object_get(rep, "failovers"));
	if ((fo = json_array_get(json_object_get(rep, "failovers"), 0)) !=
	    NULL) {
		size_t len = 0;

		r->at = real_or(json_object_get(fo, "at_s"), -1);
		snprintf(r->fo_task, sizeof(r->fo_task), "%s",
		    str_or(json_object_get(fo, "task")));
		r->fo_attempt =
		    (int)json_integer_value(json_object_get(fo, "attempt"));
		if (!json_is_boolean(json_object_get(fo, "gave_up")))
			die("%s: failovers[0] has no boolean gave_up", path);
		r->fo_gave_up = json_is_true(json_object_get(fo, "gave_up"));
		json_array_foreach (json_object_get(fo, "restarted"), k, v) {
			const char *id = json_string_value(v);

			if (id == NULL || (t = report_task(rep, id)) == NULL)
				die("%s: restarted task %s is not in the "
				    "report's tasks",
				    path, id != NULL ? id : "(not a string)");
			r->restarted_in += task_u64(t, "bytes_in");
			r->nrestarted++;
			if (len < sizeof(r->restarted))
				len += (size_t)snprintf(r->restarted + len,
				    sizeof(r->restarted) - len, "%s%s",
				    k ? ", " : "", id);
		}
	}
	json_decref(rep);
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
	    "usage: failover_bench [--words N] [--runs R] [--dir DIR]\n"
	    "\n"
	    "Generates N words (default 20000000, about 120 MB) of Zipf text "
	    "(exponent 1.0)\n"
	    "with sluice gen-words in a temporary directory under DIR "
	    "(default $TMPDIR or\n"
	    "/tmp), removed at the end, and runs "
	    "examples/jobs/wordcount-blocking.json on it\n"
	    "R times (default 3) in each of three configurations: "
	    "failure-free; count#1\n"
	    "failing halfway with region failover; and the same failure with "
	    "no restart,\n"
	    "followed by a failure-free run (a full job restart).\n");
	exit(2);
}

enum { C_FREE, C_REGION, C_NONE, NCONF };

static const char *const conf_name[NCONF] = { "failure-free", "region failover",
	"restart none (fails)" };

int
main(int argc, char **argv)
{
	const char *example_path =
	    SL_SOURCE_DIR "/examples/jobs/wordcount-blocking.json";
	const char *base = NULL;
	unsigned long long words = 20000000, runs = 3;
	char sluice[PATH_MAX], text[PATH_MAX], out_dir[PATH_MAX];
	char log[PATH_MAX], report[PATH_MAX], shuffle[PATH_MAX];
	char job[NCONF][PATH_MAX], cal_job[PATH_MAX];
	char def_in[PATH_MAX + 8], def_out[PATH_MAX + 8], nwords[32], *slash;
	char restarted[256] = "";
	struct sigaction sa = { .sa_handler = on_signal };
	struct output ref, o;
	struct report cal, rep[NCONF];
	json_error_t jerr;
	json_t *example;
	uint64_t bytes, fault_after;
	double wall, gen_wall, mb, total_mb, *scratch;
	/* per run */
	double *w[NCONF], *ttr_region, *ttr_full, *rc_region, *rc_full;
	double *w_full, *failed_est, *failed_meas, *at;
	double *fail_stop, *fr_deploy, *fr_proc, *rs_in, *count_run, *w_diff;
	double m_w[NCONF], m_wfull, m_ttr_r, m_ttr_f, m_rc_r, m_rc_f;
	struct stat st;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--words") == 0 && i + 1 < argc) {
			if ((words = count_arg(argv[++i], 10000000000ULL)) == 0)
				usage();
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if ((runs = count_arg(argv[++i], 1000)) == 0)
				usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else
			usage();
	}

	/* Stop cleanly on Ctrl-C: no SA_RESTART, so that waitpid returns. */
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
	if (snprintf(tmp_dir, sizeof(tmp_dir), "%s/sluice-failover-XXXXXX",
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
	 * with it, those of a failed or interrupted run too. */
	snprintf(shuffle, sizeof(shuffle), "%s/shuffle", tmp_dir);
	if (getenv("SLUICE_LOCALDISK_DIR") == NULL &&
	    setenv("SLUICE_LOCALDISK_DIR", shuffle, 1) != 0)
		die("setenv: %s", strerror(errno));
	check_space(tmp_dir, (uint64_t)words * 6);

	snprintf(nwords, sizeof(nwords), "%llu", words);
	fprintf(stderr, "generating %llu words in %s ...\n", words, text);
	{
		char *av[] = { sluice, "gen-words", "--words", nwords, "--zipf",
			"1.0", "--output", text, NULL };

		run_or_die("sluice gen-words", av, log, &gen_wall);
	}
	if (stat(text, &st) != 0)
		die("%s: %s", text, strerror(errno));
	bytes = (uint64_t)st.st_size;
	mb = (double)bytes / 1e6;
	fprintf(stderr, "generated %.1f MB in %.1f s\n", mb, gen_wall);
	snprintf(def_in, sizeof(def_in), "input=%s", text);
	snprintf(def_out, sizeof(def_out), "output=%s", out_dir);

	/* The first run, untimed: it reads the text into the page cache,
	 * measures what count#1 reads (the fault goes halfway), and its
	 * output is the one all others must equal. */
	{
		char *av[] = { sluice, "run", cal_job, "-D", def_in, "-D",
			def_out, "--report", report, NULL };

		snprintf(
		    cal_job, sizeof(cal_job), "%s/job-first.json", tmp_dir);
		write_job(example, cal_job, false, 0);
		fprintf(stderr, "a first run, untimed ...\n");
		run_or_die("sluice run (the first run)", av, log, &wall);
		read_report(report, &cal);
		if (cal.nfailovers != 0)
			die("%s: a failure-free run failed over", report);
		output_read(out_dir, &ref);
		output_check(&ref, words);
		remove_tree(out_dir);
	}
	if (cal.failed_in < 2)
		die("%s reads %" PRIu64 " records: too few to fail halfway "
		    "(use more --words)",
		    FAILED_TASK, cal.failed_in);
	fault_after = cal.failed_in / 2;
	for (int c = 0; c < NCONF; c++) {
		snprintf(job[c], sizeof(job[c]), "%s/job-%d.json", tmp_dir, c);
		write_job(example, job[c], c == C_REGION,
		    c == C_FREE ? 0 : fault_after);
		if ((w[c] = calloc(runs, sizeof(double))) == NULL)
			die("out of memory");
	}
	json_decref(example);
	ttr_region = calloc(runs, sizeof(double));
	ttr_full = calloc(runs, sizeof(double));
	rc_region = calloc(runs, sizeof(double));
	rc_full = calloc(runs, sizeof(double));
	w_full = calloc(runs, sizeof(double));
	failed_est = calloc(runs, sizeof(double));
	failed_meas = calloc(runs, sizeof(double));
	at = calloc(runs, sizeof(double));
	scratch = calloc(runs, sizeof(double));
	fail_stop = calloc(runs, sizeof(double));
	fr_deploy = calloc(runs, sizeof(double));
	fr_proc = calloc(runs, sizeof(double));
	rs_in = calloc(runs, sizeof(double));
	count_run = calloc(runs, sizeof(double));
	w_diff = calloc(runs, sizeof(double));
	if (ttr_region == NULL || ttr_full == NULL || rc_region == NULL ||
	    rc_full == NULL || w_full == NULL || failed_est == NULL ||
	    failed_meas == NULL || at == NULL || scratch == NULL ||
	    fail_stop == NULL || fr_deploy == NULL || fr_proc == NULL ||
	    rs_in == NULL || count_run == NULL || w_diff == NULL)
		die("out of memory");

	sync();
	for (unsigned long long i = 0; i < runs; i++) {
		struct report *r;
		double est;

		for (int k = 0; k < NCONF; k++) {
			int c = (int)(((unsigned long long)k + i) % NCONF),
			    status;
			char *av[] = { sluice, "run", job[c], "-D", def_in,
				"-D", def_out, "--report", report, NULL };
			char what[64];

			snprintf(what, sizeof(what), "sluice run (%s)",
			    conf_name[c]);
			remove(report);
			status = run(what, av, log, &w[c][i]);
			if (c == C_NONE) {
				/* it must fail, at the fault, by itself */
				if (!WIFEXITED(status) ||
				    WEXITSTATUS(status) == 0)
					run_failed(what, status, log,
					    "did not fail with an exit code");
			} else if (!WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0)
				run_failed(what, status, log, "failed");
			read_report(report, &rep[c]);
			r = &rep[c];
			if (c == C_NONE &&
			    (strcmp(r->status, "FAILED") != 0 ||
			        strstr(r->reason, FAILED_TASK) == NULL))
				die("%s, run %llu: the report says %s, \"%s\"; "
				    "expected FAILED at %s",
				    what, i + 1, r->status, r->reason,
				    FAILED_TASK);
			/* the strategy gave up on the fault: one event, the
			 * time of the failure */
			if (c == C_NONE &&
			    (r->nfailovers != 1 ||
			        strcmp(r->fo_task, FAILED_TASK) != 0 ||
			        r->fo_attempt != 0 || !r->fo_gave_up ||
			        r->nrestarted != 0 || r->at < 0 ||
			        r->at > w[c][i]))
				die("%s, run %llu: expected one failover "
				    "event, "
				    "%s attempt 0 given up on, nothing "
				    "restarted; the report has %u events, the "
				    "first of %s attempt %d at %.4f s, gave_up "
				    "%s, %u tasks restarted",
				    what, i + 1, FAILED_TASK, r->nfailovers,
				    r->fo_task, r->fo_attempt, r->at,
				    r->fo_gave_up ? "true" : "false",
				    r->nrestarted);
			if (c != C_NONE) {
				if (strcmp(r->status, "FINISHED") != 0)
					die("%s, run %llu: exit 0 but the "
					    "report says %s",
					    what, i + 1, r->status);
				output_read(out_dir, &o);
				output_compare(&ref, &o, conf_name[c],
				    (unsigned long)i + 1);
				output_free(&o);
			}
			if (c == C_FREE && r->nfailovers != 0)
				die("%s, run %llu: %u failovers", what, i + 1,
				    r->nfailovers);
			if (c == C_REGION &&
			    (r->nfailovers != 1 ||
			        strcmp(r->fo_task, FAILED_TASK) != 0 ||
			        r->fo_attempt != 0 || r->fo_gave_up ||
			        r->failed_tries != 2 || r->at < 0 ||
			        r->started < r->at))
				die("%s, run %llu: expected one failover, of "
				    "%s attempt 0, not given up on, and its "
				    "region running again after it; the "
				    "report has %u failovers, the first of %s "
				    "attempt %d at %.4f s, gave_up %s, %s in "
				    "%u "
				    "attempts, its region started at %.4f s",
				    what, i + 1, FAILED_TASK, r->nfailovers,
				    r->fo_task, r->fo_attempt, r->at,
				    r->fo_gave_up ? "true" : "false",
				    FAILED_TASK, r->failed_tries, r->started);
			/* the part files a failed run committed go too */
			remove_tree(out_dir);
			sync();
			fprintf(stderr,
			    "run %llu/%llu: %-21s %7.2f s wall, %s\n", i + 1,
			    runs, conf_name[c], w[c][i], r->status);
		}
		if (i == 0)
			snprintf(restarted, sizeof(restarted), "%s",
			    rep[C_REGION].restarted);
		else if (strcmp(restarted, rep[C_REGION].restarted) != 0)
			die("the restarted set changed between runs: %s, then "
			    "%s",
			    restarted, rep[C_REGION].restarted);
		/* The failed attempt's reading, from the fault's position in
		 * the input the restarted attempt read in full. */
		est = (double)fault_after / (double)rep[C_REGION].failed_in *
		    (double)rep[C_REGION].failed_bytes;
		failed_est[i] = est;
		failed_meas[i] = (double)rep[C_NONE].failed_bytes;
		at[i] = rep[C_REGION].at;
		ttr_region[i] = rep[C_REGION].started - rep[C_REGION].at;
		rc_region[i] = (double)rep[C_REGION].restarted_in + est;
		w_full[i] = w[C_NONE][i] + w[C_FREE][i];
		rc_full[i] = (double)rep[C_NONE].work;
		/* (a) the failed run after its failure (and before its
		 * submission), (b) the new run outside its job, (c) the new
		 * run's count#1 running */
		fail_stop[i] = w[C_NONE][i] - rep[C_NONE].at;
		fr_proc[i] = w[C_FREE][i] - rep[C_FREE].last_end;
		fr_deploy[i] = rep[C_FREE].started;
		ttr_full[i] = fail_stop[i] + fr_proc[i] + fr_deploy[i];
		rs_in[i] = (double)rep[C_REGION].restarted_in;
		count_run[i] = rep[C_FREE].count_end - rep[C_FREE].started;
		w_diff[i] = w[C_REGION][i] - w[C_FREE][i];
	}
	output_free(&ref);

	total_mb = (double)cal.work / 1e6;
	for (int c = 0; c < NCONF; c++)
		m_w[c] = median(w[c], runs);
	m_wfull = median(w_full, runs);
	m_ttr_r = median(ttr_region, runs) * 1e3;
	m_ttr_f = median(ttr_full, runs) * 1e3;
	m_rc_r = median(rc_region, runs) / 1e6;
	m_rc_f = median(rc_full, runs) / 1e6;

	printf(
	    "three-stage blocking WordCount (examples/jobs/"
	    "wordcount-blocking.json:\nread, words, combine chained x4; a "
	    "blocking localdisk all_to_all to count x3;\na blocking "
	    "pointwise edge to write x3) by sluice run (2 workers x 2 "
	    "slots)\non `sluice gen-words --words %llu --zipf 1.0`: %.1f MB; "
	    "%ld cores online\n",
	    words, mb, sysconf(_SC_NPROCESSORS_ONLN));
	printf("the job's total work (sum of bytes_in over its tasks, "
	       "failure-free): %.1f MB\n",
	    total_mb);
	printf("the fault: %s, attempt 0, fails after %" PRIu64
	       " of its %" PRIu64 " records,\n%.2f s after submission "
	       "(median); %s's region runs %.2f s when nothing\nfails; region "
	       "failover (fixed-delay, 0 ms) restarts: %s\n",
	    FAILED_TASK, fault_after, cal.failed_in, median(at, runs),
	    FAILED_TASK, median(count_run, runs), restarted);
	printf("every successful run's output equals the failure-free one "
	       "(lines sorted);\nevery run with restart none failed at %s\n",
	    FAILED_TASK);
	printf("medians of %llu runs, the configurations in turn\n", runs);
	printf("%-34s %6s %10s %11s %6s\n", "configuration", "wall s",
	    "to run ms", "recomput. MB", "% work");
	printf("%-34s %6.2f %10s %11s %6s\n", "failure-free", m_w[C_FREE], "-",
	    "-", "-");
	printf("%-34s %6.2f %10.2f %11.1f %5.1f%%\n", "region failover",
	    m_w[C_REGION], m_ttr_r, m_rc_r, 100 * m_rc_r / total_mb);
	printf("%-34s %6.2f %10.2f %11.1f %5.1f%%\n",
	    "full restart (failed run + rerun)", m_wfull, m_ttr_f, m_rc_f,
	    100 * m_rc_f / total_mb);
	printf("%-34s %6.2f\n", "  of which the failed run", m_w[C_NONE]);
	printf("region failover vs full restart: wall time %.2fx (full / "
	       "region, higher is\nbetter); work recomputed %.1fx less; time "
	       "to running again %.0fx shorter\n",
	    m_wfull / m_w[C_REGION], m_rc_f / m_rc_r, m_ttr_f / m_ttr_r);
	printf("region failover - failure-free, same round: %+.2f s "
	       "(median)\n",
	    median(w_diff, runs));
	printf("to run: region failover, %s's regions[] started_s (a worker "
	       "answered the\nnew attempt's DEPLOY: it runs) - "
	       "failovers[0].at_s; full restart, an upper\nbound, (a) + (b) "
	       "+ (c): (a) %.2f ms, the failed run's wall - its gave_up\n"
	       "event's at_s (cancelling the job, stopping its cluster, and "
	       "that process's\ntime before its submission); (b) %.2f ms, a "
	       "failure-free run's wall - its\nlast ended_s (starting and "
	       "stopping a cluster); (c) %.2f ms, that run's %s\nregion's "
	       "started_s. It exceeds the time to running again by the failed "
	       "process's\ntime before its submission and the new one's after "
	       "its last region, about (b)\n",
	    FAILED_TASK, median(fail_stop, runs) * 1e3,
	    median(fr_proc, runs) * 1e3, median(fr_deploy, runs) * 1e3,
	    FAILED_TASK);
	printf("recomputed: region failover, the restarted tasks' bytes_in "
	       "(%.2f MB) + the\nfailed attempt's, estimated as %" PRIu64
	       " / records_in x bytes_in of %s\n= %.2f MB (the failed run's "
	       "report gives %.2f MB for that attempt); full\n"
	       "restart, the sum of bytes_in over the failed run's tasks\n",
	    median(rs_in, runs) / 1e6, fault_after, FAILED_TASK,
	    median(failed_est, runs) / 1e6, median(failed_meas, runs) / 1e6);
	printf("the work done beyond a failure-free run, counted alike for "
	       "both: region\nfailover %.2f MB (the failed attempt's, "
	       "estimated), full restart %.1f MB\n(the failed run's): %.1fx "
	       "less\n",
	    median(failed_est, runs) / 1e6, m_rc_f,
	    m_rc_f * 1e6 / median(failed_est, runs));
	printf("physical limits, same run: memcpy %.1f GB/s (one thread, 64 "
	       "MiB blocks), reading\nthe text from the page cache %.1f GB/s "
	       "(one thread, 1 MiB reads)\n",
	    memcpy_gbs(), read_gbs(text, bytes, scratch, runs));
	for (int c = 0; c < NCONF; c++)
		free(w[c]);
	free(ttr_region);
	free(ttr_full);
	free(rc_region);
	free(rc_full);
	free(w_full);
	free(failed_est);
	free(failed_meas);
	free(at);
	free(scratch);
	free(fail_stop);
	free(fr_deploy);
	free(fr_proc);
	free(rs_in);
	free(count_run);
	free(w_diff);
	return 0;
}
