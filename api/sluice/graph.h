/*
 * Building a job graph from C. A job file (JSON, docs/job-file.md) builds
 * the same graph through the same calls.
 *
 * A job is a DAG of vertices (an operator and a parallelism) joined by
 * edges (a distribution, a result partition type and a shuffle plugin).
 * Functions return 0 or a negative sl_errno and set sl_errdetail() on
 * failure; on failure the job is unchanged.
 */
#ifndef SLUICE_GRAPH_H
#define SLUICE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "shuffle.h" /* enum sl_partition_type */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_job sl_job;

enum sl_distribution {
	SL_DIST_POINTWISE = 0,
	SL_DIST_ALL_TO_ALL = 1,
	SL_DIST_BROADCAST = 2,
};

enum sl_partitioner {
	SL_PARTITIONER_NONE = 0, /* pointwise and broadcast edges */
	SL_PARTITIONER_HASH = 1,
	SL_PARTITIONER_RANGE = 2,
	SL_PARTITIONER_ROUND_ROBIN = 3,
};

/* Parallelism decided at run time from the data (DESIGN §5). */
#define SL_PARALLELISM_AUTO (-1)

/*
 * Limits that keep every index in 32 bits and a plan in memory, each
 * checked where it can first be known: vertices and edges as they are
 * added, tasks (the sum of the parallelisms) when the job is loaded from a
 * file (fixed parallelisms) and when it is expanded for planning (with
 * "auto" ones decided).
 */
#define SL_MAX_PARALLELISM 1000000
#define SL_MAX_VERTICES 10000
#define SL_MAX_EDGES 100000
#define SL_MAX_TASKS (1 << 24) /* 16 777 216 */

struct sl_edge_spec {
	const char *from; /* vertex id */
	const char *to;   /* vertex id */
	int distribution; /* enum sl_distribution */
	int partitioner;  /* enum sl_partitioner; HASH if NONE on all_to_all */
	int type;         /* enum sl_partition_type */
	const char *shuffle; /* plugin name; NULL: the job's default */
	int compression;     /* enum sl_compression (shuffle.h) */
};

/* A new, empty job. The name is 1..128 characters of [A-Za-z0-9_.-] (it
 * names files). *out is owned by the caller: free with sl_job_free. */
int sl_job_new(const char *name, sl_job **out);
void sl_job_free(sl_job *job);

/* Vertex ids are unique, 1..128 characters of [A-Za-z0-9_.-].
 * parallelism is 1..SL_MAX_PARALLELISM or SL_PARALLELISM_AUTO. config_json
 * (may be NULL) is the operator's configuration, copied. At most
 * SL_MAX_VERTICES. */
int sl_job_add_vertex(sl_job *job, const char *id, const char *op,
    int32_t parallelism, const char *config_json);

/*
 * Both vertices must exist. Refused at once: an edge from a vertex to
 * itself (SL_ECYCLE), an exact repeat of an earlier edge (same from, to,
 * distribution, partitioner, type and shuffle: SL_EEXISTS), a shuffle name
 * that is not 1..64 characters of [a-z0-9_-], and more than SL_MAX_EDGES
 * edges. Longer cycles are not looked for here, which keeps adding an edge
 * O(1) on average: call sl_job_validate after the last edge.
 */
int sl_job_add_edge(sl_job *job, const struct sl_edge_spec *edge);

/*
 * Check the whole graph once it is built: 0, or SL_ECYCLE with a detail
 * naming one cycle ("edges form a cycle: a -> b -> c -> a"). O(E + V log V).
 * sl_job_load_* call it; planning a job with a cycle fails the same way.
 */
int sl_job_validate(const sl_job *job);

/* The shuffle plugin of edges that name none (default "memory"); 1..64
 * characters of [a-z0-9_-], as plugin names. */
int sl_job_set_default_shuffle(sl_job *job, const char *plugin);

/* The scheduler plugin that deploys the job's regions (default "region";
 * "adaptive-batch" when a vertex is "auto"); a plugin name as above. */
int sl_job_set_scheduler(sl_job *job, const char *plugin);

/* How "auto" parallelism is decided (DESIGN §5): bounds, and the bytes a
 * task should read. 0 inherits: a vertex's from the job's, the job's from
 * the defaults below. */
struct sl_adaptive_spec {
	uint32_t min_parallelism;
	uint32_t max_parallelism;
	uint64_t bytes_per_task;
	/* A range of subpartitions holding more than skew_factor x
	 * bytes_per_task is split among several tasks when the vertex's
	 * operator can merge partial results (DESIGN §5, docs/job-file.md);
	 * SL_SKEW_NEVER: never. */
	uint32_t skew_factor;
};
#define SL_DEFAULT_MIN_PARALLELISM 1
#define SL_DEFAULT_MAX_PARALLELISM 128
#define SL_DEFAULT_BYTES_PER_TASK (UINT64_C(64) << 20)
#define SL_DEFAULT_SKEW_FACTOR 4
#define SL_SKEW_NEVER UINT32_MAX

/* The job's settings (vertex NULL) or a vertex's: SL_ERANGE for a bound
 * above SL_MAX_PARALLELISM, SL_EINVAL for min above max when both are
 * given, SL_ENOTFOUND for an unknown vertex. sl_job_validate checks what
 * is in force for every vertex. */
int sl_job_set_adaptive(
    sl_job *job, const char *vertex, const struct sl_adaptive_spec *a);

/*
 * What the coordinator does when a task fails (DESIGN §4,
 * docs/job-file.md "Restart strategies"): whether to restart the regions
 * the failure touches, and after how long. Only the fields of the chosen
 * strategy are read.
 *
 * Unset fields take the defaults below. A count (attempts, failures) or a
 * multiplier of 0 is unset; a duration is unset when it is
 * SL_RESTART_UNSET and jitter when it is SL_RESTART_JITTER_UNSET, because
 * 0 is a value there: a delay of 0 restarts at once and a jitter of 0
 * adds none. So start from SL_RESTART_SPEC_INIT, not from zeros, and set
 * what you mean:
 *
 *   struct sl_restart_spec r = SL_RESTART_SPEC_INIT;
 *   r.strategy = SL_RESTART_FIXED_DELAY;
 *   r.attempts = 5;
 */
enum sl_restart_strategy {
	SL_RESTART_DEFAULT = 0, /* fixed-delay, 3 attempts, 1 s; nothing
	                         * else of the spec is read */
	SL_RESTART_NONE,        /* the first failure fails the job */
	SL_RESTART_FIXED_DELAY,
	SL_RESTART_EXPONENTIAL_DELAY,
	SL_RESTART_FAILURE_RATE,
};

struct sl_restart_spec {
	uint32_t strategy; /* enum sl_restart_strategy */
	/* fixed-delay: restarts in all (default 3); exponential-delay:
	 * restarts since the backoff was last reset (default
	 * SL_RESTART_UNLIMITED). The one failure more gives up. */
	uint32_t attempts;
	uint64_t delay_ms; /* fixed-delay, failure-rate: default 1 s; 0 ok */
	/* exponential-delay: the first backoff and the largest (defaults
	 * 1 s and 60 s; both > 0, initial <= max) */
	uint64_t initial_ms, max_ms;
	double multiplier; /* exponential-delay: >= 1, default 1.5 */
	double jitter;     /* exponential-delay: 0..1, default 0.1 */
	/* exponential-delay: a failure more than this after the previous
	 * one starts again from initial_ms (default 1 h; > 0) */
	uint64_t reset_after_ms;
	/* failure-rate: failures allowed within interval_ms (default 1, at
	 * most SL_RESTART_MAX_FAILURES; interval default 60 s, > 0) */
	uint32_t failures;
	uint64_t interval_ms;
};
#define SL_RESTART_UNSET UINT64_MAX
#define SL_RESTART_JITTER_UNSET (-1.0)
#define SL_RESTART_UNLIMITED UINT32_MAX
#define SL_RESTART_SPEC_INIT                                                  \
	{                                                                     \
		.strategy = SL_RESTART_DEFAULT, .attempts = 0,                \
		.delay_ms = SL_RESTART_UNSET, .initial_ms = SL_RESTART_UNSET, \
		.max_ms = SL_RESTART_UNSET, .multiplier = 0,                  \
		.jitter = SL_RESTART_JITTER_UNSET,                            \
		.reset_after_ms = SL_RESTART_UNSET, .failures = 0,            \
		.interval_ms = SL_RESTART_UNSET                               \
	}
#define SL_DEFAULT_RESTART_ATTEMPTS 3
#define SL_DEFAULT_RESTART_DELAY_MS 1000
#define SL_DEFAULT_RESTART_INITIAL_MS 1000
#define SL_DEFAULT_RESTART_MAX_MS 60000
#define SL_DEFAULT_RESTART_MULTIPLIER 1.5
#define SL_DEFAULT_RESTART_JITTER 0.1
#define SL_DEFAULT_RESTART_RESET_AFTER_MS 3600000
#define SL_DEFAULT_RESTART_FAILURES 1
#define SL_DEFAULT_RESTART_INTERVAL_MS 60000
/* Every duration is at most a year; failure-rate keeps the time of each
 * failure it allows. */
#define SL_RESTART_MAX_MS (UINT64_C(365) * 24 * 3600 * 1000)
#define SL_RESTART_MAX_FAILURES 10000

/* The job's restart strategy, checked and copied: SL_EINVAL with a detail
 * naming the field for a value out of its range or an unknown strategy;
 * the job is then unchanged. */
int sl_job_set_restart(sl_job *job, const struct sl_restart_spec *r);

/*
 * Fault injection (docs/job-file.md "Faults"), for tests and for trying
 * failover: attempt `attempt` of task `task` ("VERTEX#INDEX", e.g.
 * "count#1"; attempt 0 is its first run) does `action` once it has
 * handled after_records records (taken in; given out, for a source; 0: at
 * once). action is "fail" (the task fails with an injected error) or
 * "crash_worker" (the worker process running it dies as by SIGKILL).
 * Errors: SL_EINVAL for a malformed task or an unknown action,
 * SL_ENOTFOUND for an unknown vertex, SL_ERANGE for an index at or above
 * the vertex's parallelism when that is fixed (an "auto" vertex's is not
 * known yet) or for more than SL_MAX_FAULTS faults, SL_EEXISTS for a
 * second fault on the same task and attempt.
 */
enum sl_fault_action {
	SL_FAULT_FAIL = 0,
	SL_FAULT_CRASH_WORKER = 1,
};
#define SL_MAX_FAULTS 256
int sl_job_add_fault(sl_job *job, const char *task, uint32_t attempt,
    uint64_t after_records, const char *action);

/* An operator library the job needs: an absolute path (SL_EINVAL
 * otherwise) that the coordinator and every worker load before they run
 * the job. At most 256. */
int sl_job_add_library(sl_job *job, const char *path);

/*
 * Parse a job file, with every check above and sl_job_validate, and the
 * fixed parallelisms within SL_MAX_TASKS. On failure the detail names the
 * file, the place and the problem ("job.json: edges[2].to: unknown vertex
 * 'cnt'"). No variables are defined: a string holding ${name} fails as
 * sl_job_load_file_vars says.
 */
int sl_job_load_file(const char *path, sl_job **out);
/* Same for text in memory; origin names it in messages. */
int sl_job_load_json(
    const char *text, size_t len, const char *origin, sl_job **out);

/*
 * The same with variables (docs/job-file.md, "Variables"). Each of
 * defs[0 .. ndefs) is "NAME=VALUE" as given to `-D`: NAME is 1..128
 * characters, a letter or _ then letters, digits, _ . -; VALUE is the rest
 * after the first '=' (may be empty or hold '='), valid UTF-8. defs is only
 * read during the call; with ndefs 0 it may be NULL.
 *
 * After parsing, every string value of the document (keys are left alone)
 * has each ${NAME} replaced by its VALUE, and each $${ by a literal ${;
 * then the job is built as sl_job_load_file does, so a "parallelism" of
 * "${p}" works once it reads "auto" or a decimal number. A definition no
 * string uses is fine.
 *
 * Errors, besides those of sl_job_load_file: SL_EINVAL for a definition
 * that is malformed (no '=', a bad name, a value that is not UTF-8) and
 * SL_EEXISTS for a name defined twice, both checked before the file is
 * read and named "-D ..."; SL_ENOTFOUND for ${NAME} with no definition
 * ("job.json: vertices[0].config.path: unknown variable 'input': set it
 * with -D input=VALUE"); SL_EPARSE for a ${ with no } or a bad name inside
 * one; SL_ERANGE if the strings that use variables come to more than
 * 64 MiB in all.
 */
int sl_job_load_file_vars(
    const char *path, const char *const *defs, size_t ndefs, sl_job **out);
int sl_job_load_json_vars(const char *text, size_t len, const char *origin,
    const char *const *defs, size_t ndefs, sl_job **out);

const char *sl_job_name(const sl_job *job);
uint32_t sl_job_vertex_count(const sl_job *job);
uint32_t sl_job_edge_count(const sl_job *job);

/* Names from enums and back; parse functions return -1 when unknown. */
const char *sl_distribution_name(int d);
const char *sl_partition_type_name(int t);
const char *sl_partitioner_name(int p);
int sl_distribution_parse(const char *s);
int sl_partition_type_parse(const char *s);
int sl_partitioner_parse(const char *s);
const char *sl_compression_name(int c);
int sl_compression_parse(const char *s);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_GRAPH_H */
