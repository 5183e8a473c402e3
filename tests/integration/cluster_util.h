/*
 * What the test programs that start real sluice processes share
 * (test_cluster.c, test_recovery.c): a scratch directory per program,
 * processes and the files they write as they go, the blocking WordCount
 * and its reference, and a coordinator's operation log. Failures are
 * CUnit assertions; a _FATAL one ends the running case.
 */
#ifndef SL_CLUSTER_UTIL_H
#define SL_CLUSTER_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "run_cmd.h"

/* ---- the scratch directory ---------------------------------------------
 */

/* Defined by each test program, so that two of them running at once
 * (ctest -j) never share files: the directory is $TMPDIR/PREFIX-XXXXXX. */
extern const char cluster_tmp_prefix[];

/* name in the scratch directory, made on the first call. The result is
 * one of 8 buffers used in turn: copy it when it must outlive the next
 * 7 calls (an argv that is spawned later, say). */
const char *tmp(const char *name);
/* "name=value", for -D; 8 buffers in turn, as tmp(). */
const char *def(const char *name, const char *value);
/* Removes the scratch directory: each program's last case, so that a
 * failed case leaves its files for a look until then. */
void cleanup(void);

/* ---- time and processes ------------------------------------------------
 */

/* Seconds on the monotonic clock. */
double now(void);
void sleep_ms(int ms);
/* argv[0] (a path) started with stdout and stderr to files (NULL:
 * /dev/null), and the test's environment as it is now: set what the
 * process should see just before. */
pid_t spawn(char *const argv[], const char *out, const char *err);
/* Wait up to secs for pid; its status, or -1 when it did not end. */
int wait_for(pid_t pid, double secs);

/* ---- files processes write ---------------------------------------------
 */

/* Whether path comes to hold needle within secs. */
bool file_has(const char *path, const char *needle, double secs);
/* Whether path comes to hold needle at least n times within secs. */
bool file_count(const char *path, const char *needle, int n, double secs);
void put(const char *path, const char *s);
/* The last 3000 bytes of each scratch file named (NULL-terminated) on
 * stderr: what the processes said, when a case fails. */
void print_tails(const char *const *names);

/* ---- the sluice binary -------------------------------------------------
 */

/* r exited with status and said needle (NULL: anything) on stdout or
 * stderr, or the case fails showing both; frees r. */
void expect(struct run_result *r, int status, const char *needle);
/* sluice coordinator on url with its operation log in dir, heartbeats
 * every 100 ms; stderr to err. */
pid_t start_coordinator(const char *url, const char *dir, const char *err);

/* ---- the blocking WordCount --------------------------------------------
 */

/* Text of about want bytes from a fixed seed, written to path; the caller
 * frees it. */
char *make_text(const char *path, size_t want, size_t *len);
/* The blocking WordCount (examples/jobs/wordcount-blocking.json: read ->
 * words -> combine x4, count x3, write x3, two localdisk edges) with
 * `extra` top-level members ("restart", "faults"). */
void put_blocking_wc(const char *path, const char *extra);
/* The part files of dir, concatenated and sorted by line, equal the
 * reference count of text. */
bool output_is_wordcount(const char *dir, const char *text, size_t len);

/* ---- the operation log -------------------------------------------------
 */

/* The records of a state directory (`sluice log dump`), one JSON object
 * each, in order; the good ones only when a log ends badly. */
json_t *log_records(const char *dir);
/* How many of recs have "t" type. */
size_t count_type(json_t *recs, const char *type);

/* ---- sluice run's report ----------------------------------------------
 */

/* A task's attempts in a report (--report FILE); -1 when it is not there. */
int report_attempts(const char *path, const char *task);
/* Whether every task of the report but those of but (NULL-terminated) had
 * want attempts; the others are named on stderr. */
bool report_attempts_all(const char *path, int want, const char *const *but);

#endif
