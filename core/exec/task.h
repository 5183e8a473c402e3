/*
 * The task executor: runs one task of an execution graph on the calling
 * thread (what a worker does with each task it is given), and a local
 * runner that runs a whole job that way, every task on a thread of this
 * process. docs/runtime-tasks.md describes the lifecycle, the routing of
 * records and the failure rules.
 *
 * A task opens one shuffle writer per outgoing edge of its vertex and one
 * shuffle reader per incoming edge, then drives its operator:
 *
 *   open -> run (source) | process... (others) -> finish
 *        -> flush, writers finish -> commit         success
 *        -> abort, writers fail                     failure or cancel
 *   close, readers and writers fini                 always
 */
#ifndef SLI_EXEC_TASK_H
#define SLI_EXEC_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sluice/operator.h>
#include <sluice/shuffle.h>

#include "graph/exec.h"
#include "plugin/loader.h"

/* Named counters an operator adds to through ctx->count; more names than
 * this are dropped (and counted in counters_dropped). */
#define SLI_TASK_COUNTERS 8
#define SLI_TASK_COUNTER_NAME 48

struct sli_task_counter {
	char name[SLI_TASK_COUNTER_NAME]; /* cut short if longer */
	int64_t value;
};

/*
 * What a task did. The four totals are published as the task goes (after
 * each buffer it reads or writes, and at the end), so another thread may
 * read them at any time for a progress line; the named counters are
 * written by the task thread only and are read once sli_task_run returned.
 *
 *   records_in   records handed to process
 *   bytes_in     bytes of the data buffers those came in
 *   records_out  records the operator emitted (one per emit call)
 *   bytes_out    bytes of the buffers handed to shuffle writers (a
 *                broadcast record counts once per copy)
 *   ended        the task is done (a progress line counts these)
 */
struct sli_task_metrics {
	_Atomic uint64_t records_in;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t records_out;
	_Atomic uint64_t bytes_out;
	/* set once sli_task_run is about to return, whatever the outcome */
	atomic_bool ended;
	struct sli_task_counter counters[SLI_TASK_COUNTERS];
	uint32_t ncounters;
	uint32_t counters_dropped;
	/* The task failed with SL_EUNREADABLE: the edge and producer index
	 * of the partition it could not read (DESIGN §4 rule 2 restarts that
	 * producer); UINT32_MAX otherwise, and for a split range's partial
	 * results (not a graph edge's). Written by the task thread. */
	uint32_t unreadable_edge, unreadable_producer;
};

/* Zero m (atomics included). */
void sli_task_metrics_init(struct sli_task_metrics *m);

/*
 * Cancelling a task from another thread. The owner initialises it before
 * the task starts and destroys it after sli_task_run returned; one control
 * serves one task run at a time. sli_task_cancel may be called at any
 * time, also before the task started (it then stops at once).
 */
struct sli_task_ctl {
	atomic_bool cancelled;
	pthread_mutex_t mtx;
	struct sli_task_run *run; /* the running task, under mtx */
};

int sli_task_ctl_init(struct sli_task_ctl *c);
void sli_task_ctl_destroy(struct sli_task_ctl *c);
/*
 * Any thread, never blocks for long: sets the flag, closes the task's
 * shuffle writers and readers (a write blocked on credit returns
 * SL_ECLOSED, so does a later one) and wakes the task if it waits for
 * input. A source notices through ctx->cancelled or a failing emit. The
 * task then returns SL_ECLOSED, unless it had failed already.
 */
void sli_task_cancel(struct sli_task_ctl *c);
bool sli_task_cancelled(const struct sli_task_ctl *c);

/* One outgoing edge of the task's vertex. */
struct sli_task_output {
	struct sli_plugin *shuffle; /* borrowed; kind SL_PLUGIN_SHUFFLE */
	/* This task's partition of the edge, from the plugin's master
	 * (register_partition); borrowed, the writer copies what it needs. */
	struct sl_bytes desc;
	/* As registered: the consumer parallelism n for all_to_all and
	 * broadcast, the consumers this task feeds for pointwise. */
	uint32_t num_subpartitions;
	/* Optional, num_subpartitions entries, zeroed by the caller: bytes
	 * handed to the writer per subpartition (for the operation log and
	 * adaptive parallelism). Final once sli_task_run returned. */
	uint64_t *sub_bytes;
};

/* One incoming edge of the task's vertex. */
struct sli_task_input {
	struct sli_plugin *shuffle; /* borrowed */
	/* One descriptor per producer partition this task reads, in
	 * producer order: descs[k] is producer lo + first + k, where [lo, hi)
	 * is sli_edge_producers for this task and first + ndescs <= hi - lo
	 * (fewer than all when producers were left vacant by an adaptive
	 * decision, or when a hot subpartition is split among tasks that
	 * each read a slice of its producers). Borrowed; the reader copies
	 * what it needs during open. */
	const struct sl_bytes *descs;
	uint32_t ndescs;
	uint32_t first;
	/* A split hot subpartition's merge (DESIGN §5): descs are the
	 * partial results of tasks first.. of this task's own vertex, one
	 * subpartition each; only input 0 of a task with one input. */
	bool partials;
	/* The subpartitions read from every descriptor (inclusive). */
	uint32_t sub_lo;
	uint32_t sub_hi;
	uint32_t credits; /* 0: the plugin's default */
};

struct sli_task_spec {
	const struct sli_exec *exec; /* borrowed, with its job */
	uint32_t task;               /* id in exec */
	uint32_t attempt;
	const struct sl_operator_ops *op; /* a core-owned copy (loader.h) */
	const struct sl_host *op_host;    /* its library's host table */
	/* One per outgoing edge of the vertex, in the order of
	 * job->v[v].out (which is ctx->emit's `out`); NULL when none. */
	const struct sli_task_output *outputs;
	/* One per incoming edge, in the order of job->v[v].in (which is
	 * process's `in`); NULL when none. */
	const struct sli_task_input *inputs;
	struct sli_task_ctl *ctl;         /* optional: cancellable */
	struct sli_task_metrics *metrics; /* optional, init'ed by the caller */
	/*
	 * Operator chaining: the task whose operator takes the records of
	 * this task's output 0 directly, on this thread, instead of through
	 * a shuffle; the edge must satisfy sli_exec_chained. The chained
	 * spec's inputs and ctl are ignored (this task's cancel the chain),
	 * its output 0 too when it chains on; its metrics are its own. The
	 * stages open, finish, commit or abort together, and the result is
	 * the first stage's failure. NULL: none.
	 */
	const struct sli_task_spec *chain;
	/*
	 * A split hot subpartition (DESIGN §5): a partial task reads a slice
	 * of its producers and hands all it emits to outputs[0], one
	 * subpartition of a blocking partition that the merging task reads;
	 * the vertex must have one output and nothing chained. config_json,
	 * when not NULL, replaces the vertex's configuration (the merging
	 * task's: the operator's merge_config).
	 */
	bool partial;
	const char *config_json;
	/*
	 * Fault injection (a job's "faults", docs/job-file.md): once this
	 * stage handled fault_after records (taken in; given out, for a
	 * source), it fails (SLI_FAULT_FAIL) or kills its whole process as
	 * SIGKILL does (SLI_FAULT_CRASH). SLI_FAULT_NONE: none.
	 */
	int fault;
	uint64_t fault_after;
};

enum { SLI_FAULT_NONE, SLI_FAULT_FAIL, SLI_FAULT_CRASH };

/*
 * Run the task on the calling thread until it succeeded, failed or was
 * cancelled. Returns 0, SL_ECLOSED when cancelled, or the failure: the
 * operator's code, SL_EUNREADABLE when an input partition could not be
 * read, a shuffle plugin's code, SL_EINVAL for a spec that does not fit
 * the graph, SL_ENOTSUP for a range partitioner. The detail always starts
 * with the task's name: "task count#1: ...". Everything the task opened is
 * closed and freed before it returns, whatever happened.
 */
int sli_task_run(const struct sli_task_spec *spec);

/*
 * What can be refused before anything runs, naming the vertex or edge: an
 * operator no library in set has, a source with inputs or another operator
 * without, a shuffle plugin not loaded or lacking the edge's partition
 * type, a range partitioner. Fills shuffle[e] for every edge.
 */
int sli_exec_resolve(const struct sli_exec *x, const struct sli_plugin_set *set,
    struct sli_plugin **shuffle);

/* Subpartitions of producer j's partition on edge e: the consumer
 * parallelism, or for pointwise the consumers j feeds. */
uint32_t sli_edge_num_subs(const struct sli_exec *x, uint32_t e, uint32_t j);

/* Options of sli_local_run; every member may be 0/NULL. */
struct sli_local_opts {
	/* The shuffle job id partitions are registered under; NULL: the
	 * job's name. Two runs in one process at once need distinct ids. */
	const char *job_id;
	/* Optional, exec->ntasks entries: what each task did. Initialised
	 * by sli_local_run. */
	struct sli_task_metrics *metrics;
	/* Optional: set it (from any thread) to cancel the run; polled every
	 * few milliseconds. */
	atomic_bool *cancel;
	uint32_t credits; /* per reader subpartition; 0: plugin default */
	/* Optional, job->ne entries, zeroed by the caller: the bytes each
	 * edge carried (what its producers handed their writers). */
	uint64_t *edge_bytes;
	/* Run every task on a thread of its own, even where operators could
	 * be chained (sli_exec_chained). */
	bool no_chaining;
};

/*
 * Decide the parallelism of the job's sources whose parallelism is
 * "auto" from their operators' input_bytes, and of the auto vertices fed
 * pointwise by them (auto_sources.c): par[v] for those (and bytes[v] of
 * sources when bytes is not NULL; job->nv entries each, zeroed by the
 * caller), and SLI_PAR_AT_RUN for those decided while the job runs
 * (inputs all blocking all_to_all, and their pointwise followers); the
 * others left alone. Errors name the vertex, also for an auto vertex that
 * none of this decides.
 */
int sli_auto_sources(const sl_job *job, const struct sli_plugin_set *set,
    uint32_t *par, uint64_t *bytes);

/*
 * Run a whole job in this process: every partition is registered with its
 * edge's shuffle master (attempt 0), then every task runs at once, each on
 * its own thread (pipelined edges need producers and consumers alive
 * together). Operators are found by name in set, shuffle plugins by each
 * edge's shuffle name (or the job's default). A shuffle plugin that lacks
 * an edge's partition type, a missing plugin or operator, a range
 * partitioner: refused before anything runs, with the edge or vertex
 * named. When a task fails, the others are cancelled; the result is the
 * failure that caused the others (a task's own error before an unreadable
 * input, before a cancellation) with that task's detail. SL_ECLOSED when
 * opts->cancel stopped the run. Partitions are released and the masters
 * closed before it returns.
 */
int sli_local_run(const struct sli_exec *x, struct sli_plugin_set *set,
    const struct sli_local_opts *opts);

#endif
