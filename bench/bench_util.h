/*
 * What the benchmarks share: the clock and medians, stopping with a message,
 * a scratch directory removed at exit, running a program (the sluice binary
 * beside the benchmark, or one found in PATH) with its output in a log, or
 * in the background until it is stopped, the physical limits printed for
 * scale, and the sorted lines of a job's output.
 *
 * A benchmark is a program, not a library: these stop the process with a
 * message (bench_die) where a library would return an error. Ctrl-C is
 * caught only after bench_catch_signals(); then a long wait stops at the next
 * bench_check_stop() and exit removes the scratch directory.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The program's name, first on every message; before anything else. */
void bench_init(const char *name);

/* Print "NAME: " and the message on stderr and exit(1). */
_Noreturn __attribute__((format(printf, 1, 2))) void bench_die(
    const char *fmt, ...);

/* Catch SIGINT and SIGTERM without SA_RESTART, so that a wait returns:
 * bench_run and bench_check_stop then stop the benchmark cleanly. */
void bench_catch_signals(void);

/* Stop (bench_die) when a caught signal came. */
void bench_check_stop(void);

/* Seconds on the monotonic clock. */
double bench_now(void);

/* User and system seconds of ru together. */
double bench_cpu_s(const struct rusage *ru);

/* The median of v[0..n); sorts v. n > 0. */
double bench_median(double *v, size_t n);

/* n doubles set to 0, or stop: the caller frees them. */
double *bench_doubles(size_t n);

/* A decimal number 1 .. max, or 0 when s is not one. */
unsigned long long bench_count_arg(const char *s, unsigned long long max);

/* Read until len bytes or the end of the file: how many. what names fd
 * in the message when a read fails. */
size_t bench_read_full(int fd, char *buf, size_t len, const char *what);

/* The sluice binary beside this one, into buf (cap bytes: PATH_MAX will do);
 * stops when there is none. */
void bench_sluice_path(char *buf, size_t cap);

/* Make DIR/PREFIX-XXXXXX, dir $TMPDIR (or /tmp when it is not an absolute
 * path) when dir is NULL, and remove it and all below it at exit. The
 * localdisk shuffle's files go to its "shuffle" unless SLUICE_LOCALDISK_DIR
 * is set: they go with it, those of a failed or interrupted run too, and two
 * benchmarks at once do not share a job's directory. The path stays valid
 * until exit. */
const char *bench_scratch_dir(const char *dir, const char *prefix);

/* Leave path (a file in the scratch directory) at exit, and say so. */
void bench_keep(const char *path);

/* Remove path and all below it, but a file given to bench_keep. */
void bench_remove_tree(const char *path);

/* Stop when dir's file system has less than need bytes free; why says what
 * they are for, after the figures. */
void bench_check_space(const char *dir, uint64_t need, const char *why);

/* Run argv with env (environ when NULL), stdin from /dev/null, stdout and
 * stderr to log (truncated), and wait for it: its wall seconds and, when cpu
 * is not NULL, its CPU seconds and those of the children it waited for (sluice
 * run's workers). argv[0] without a '/' is looked up in PATH. Returns its wait
 * status; stops when it cannot start, or when a caught signal came (a Ctrl-C
 * reached it as well: it gets 5 s to end by itself, then SIGTERM, then SIGKILL
 * 10 s later). what names it in messages. */
int bench_run(const char *what, char *const argv[], char *const env[],
    const char *log, double *wall, double *cpu);

/* Stop with "WHAT EXPECT (exit N)" or "(signal N)" and the end of log. */
_Noreturn void bench_run_failed(
    const char *what, int status, const char *log, const char *expect);

/* bench_run, and stop with what went wrong unless it exited 0. */
void bench_run_or_die(const char *what, char *const argv[], char *const env[],
    const char *log, double *wall, double *cpu);

/* Start argv in the background with env (environ when NULL), stdin from
 * /dev/null, stdout to log (truncated) and stderr to err_fd, or to log as
 * well when err_fd is -1; argv[0] without a '/' is looked up in PATH. It
 * gets SIGKILL at exit (a bench_die too) unless bench_stop or bench_kill
 * waited for it first: no server a benchmark started outlives it, nor
 * holds files in its scratch directory while that goes. At most 8 at a
 * time. Stops when it cannot start; what names it in messages. */
pid_t bench_start(const char *what, char *const argv[], char *const env[],
    const char *log, int err_fd);

/* SIGTERM to a process of bench_start, up to 10 s to end, then SIGKILL;
 * waits for it. */
void bench_stop(pid_t pid);

/* SIGKILL to a process of bench_start (a crash), and wait for it. */
void bench_kill(pid_t pid);

/* Single-thread memcpy between two 64 MiB buffers (well past the caches),
 * median of 15 copies, in GB/s. */
double bench_memcpy_gbs(void);

/* Sequential read of file (bytes long) from the page cache in 1 MiB reads,
 * one thread, median of runs, in GB/s. t: runs doubles of scratch. */
double bench_read_gbs(
    const char *file, uint64_t bytes, double *t, unsigned long runs);

/* An output: its part files' lines, sorted (they point into text). */
struct bench_output {
	char *text;
	char **line;
	size_t n;
};

/* dir's part-* files read, their lines sorted: the output whatever the
 * parallelism that wrote it. bench_output_free frees o. */
void bench_output_read(const char *dir, struct bench_output *o);

void bench_output_free(struct bench_output *o);

/* A word count's first output ("word\tcount" lines) must add up to the words
 * generated, no word twice; stops otherwise. With top, the most frequent
 * word goes there (top_cap bytes) and its share of the words is returned. */
double bench_output_check(
    const struct bench_output *o, uint64_t words, char *top, size_t top_cap);

/* o must equal ref, line for line; else stop, loudly. ref_what says what ref
 * is in a sentence ("the first run's"), ref_label in a column ("first run"). */
void bench_output_compare(const struct bench_output *ref,
    const struct bench_output *o, const char *ref_what, const char *ref_label,
    const char *config, unsigned long run);

/* A shuffle reader's notify target: bench_notify(&waiter) sets ready and
 * wakes the thread waiting on cv. Initialise it with
 * { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false }. */
struct bench_waiter {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool ready;
};

void bench_notify(void *waiter);

/*
 * Results for bench/run. Each call appends one JSON object, a line, to the
 * file $SLUICE_BENCH_RESULTS names; nothing when it is unset, so a benchmark
 * run by hand only prints. bench/run gathers the lines into
 * bench/results/latest.json, its table and its plots (bench/report.c).
 */

/* A figure beside its reference measured in the same run. ratio is oriented
 * so that higher is better (value / reference for a rate, reference / value
 * for a time); goal is the ratio an issue asks for, 0 when none. reference
 * may be NULL (no reference: ratio and reference_value are not written). */
void bench_result(const char *name, double value, const char *unit,
    const char *reference, double reference_value, double ratio, double goal);

/* A point of a plot's curve: plot names the PNG (bench/results/PLOT.png),
 * series the curve; the first point of a plot gives its axes' labels. */
void bench_point(const char *plot, const char *xlabel, const char *ylabel,
    const char *series, double x, double y);

#endif
