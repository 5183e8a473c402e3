/*
 * Operator ABI: the user code a task runs.
 *
 * Operators come in libraries: a plugin of kind SL_PLUGIN_OPERATORS whose
 * ops is a struct sl_operator_lib listing named operators. sluice bundles
 * one ("builtin"); a job brings its own in a job shared object that the
 * coordinator and every worker load. A vertex's "operator" names one.
 *
 * A task runs one operator on its own thread:
 *
 *   open -> (run | process... ) -> finish -> commit     (success)
 *                                        \-> abort      (failure, cancel)
 *   close                                               (always, last)
 *
 * A source (SL_OPERATOR_SOURCE) has no inputs; run produces its records.
 * Any other operator gets every record of its inputs through process,
 * then finish once all inputs ended. Records leave through ctx->emit. The
 * core allocates state_size bytes, zeroed, for each task; close frees what
 * the operator holds, also after open failed.
 *
 * Streaming will append optional snapshot_state / restore_state and timer
 * ops to struct sl_operator_ops (marked with the ABI minor that adds them);
 * an operator that leaves them NULL stays a batch operator.
 */
#ifndef SLUICE_OPERATOR_H
#define SLUICE_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A record: a key (what all_to_all edges partition on; may be empty) and
 * a value. The bytes belong to the caller and are valid only during the
 * call they are passed to: copy what must outlive it. */
struct sl_record {
	const void *key;
	uint32_t key_len;
	uint32_t value_len;
	const void *value;
};

/* What a task hands its operator. Valid from open until close returns. */
struct sl_task_ctx {
	uint32_t struct_size;
	const struct sl_host *host;
	const char *job;    /* the job's name */
	const char *vertex; /* the vertex id */
	const char
	    *config_json;     /* the vertex's "config" object; "{}" if none */
	uint32_t index;       /* this task's index within the vertex */
	uint32_t parallelism; /* tasks of the vertex */
	uint32_t attempt;     /* 0 first, then one more per restart */
	uint32_t num_inputs;  /* incoming edges of the vertex */
	uint32_t num_outputs; /* outgoing edges of the vertex */

	/*
	 * Emit a record on output edge `out` (0..num_outputs-1, in the order
	 * the job lists the vertex's edges). The core copies it, partitions
	 * it by key and buffers it; it may block while consumers hold no
	 * credit (back pressure). Returns 0, SL_ECLOSED when the task is
	 * being cancelled (return soon), or another error to give up with.
	 */
	int (*emit)(const struct sl_task_ctx *ctx, uint32_t out,
	    const struct sl_record *rec);

	/* Whether the task was asked to stop; a source polls it. */
	bool (*cancelled)(const struct sl_task_ctx *ctx);

	/* Add to one of the task's counters, shown in reports
	 * ("records_skipped"). Names are copied. */
	void (*count)(
	    const struct sl_task_ctx *ctx, const char *name, int64_t delta);

	void *core; /* the core's; do not touch */

	/*
	 * ABI 1.1. For an output whose edge is partitioned by range: the keys
	 * of samples[0..n), in any order, stand for the keys the output will
	 * carry; the core splits at their quantiles, one range of keys
	 * (unsigned bytes) per consumer, lower keys to lower consumers. Every
	 * task of the vertex must pass the same sample, before its first emit
	 * on that output. Returns 0, SL_EINVAL when the output is not
	 * partitioned by range, SL_ENOMEM. (Test struct_size before calling
	 * it from an operator built for older hosts.)
	 */
	int (*range_sample)(const struct sl_task_ctx *ctx, uint32_t out,
	    const struct sl_record *samples, uint32_t n);
};

/* Capability bits (struct sl_operator_ops.caps). */
#define SL_OPERATOR_SOURCE (UINT64_C(1) << 0) /* has no inputs; has run */
#define SL_OPERATOR_SINK (UINT64_C(1) << 1)   /* emits nothing */

struct sl_operator_ops {
	uint32_t struct_size;
	const char *name; /* unique in its library: [a-z0-9_-], 1..64 */
	size_t state_size;
	uint64_t caps;

	/* Required. Parse config_json, open files. On failure say why with
	 * host->set_error ("wordcount: config: 'path' is missing"). */
	int (*open)(void *state, const struct sl_task_ctx *ctx);

	/* Required of sources, NULL for others. Produce every record of this
	 * task's share of the input. */
	int (*run)(void *state, const struct sl_task_ctx *ctx);

	/* Required of non-sources, NULL for sources. One record from input
	 * edge `in` (0..num_inputs-1). */
	int (*process)(void *state, const struct sl_task_ctx *ctx, uint32_t in,
	    const struct sl_record *rec);

	/* Optional. Every input ended (for a source: run returned 0); emit
	 * what was held back, e.g. aggregates. */
	int (*finish)(void *state, const struct sl_task_ctx *ctx);

	/* Optional. The task succeeded: make its output visible (a sink
	 * renames its part file into place). Called once, after finish. */
	int (*commit)(void *state, const struct sl_task_ctx *ctx);

	/* Optional. The task failed or was cancelled: discard what it wrote
	 * so that nothing of this attempt is visible. Never blocks for long. */
	void (*abort)(void *state, const struct sl_task_ctx *ctx);

	/* Optional. Free what the operator holds; called last, also after
	 * open failed. */
	void (*close)(void *state);

	/* 1.2. Optional, sources only: the bytes the whole source will read
	 * (e.g. its file's size), from its configuration alone, so that a
	 * source vertex with "parallelism": "auto" gets one task per
	 * bytes_per_task (DESIGN §5). Called in the coordinator, before any
	 * task runs. 0 with *bytes, or a code with host->set_error. */
	int (*input_bytes)(const struct sl_host *host, const char *config_json,
	    uint64_t *bytes);

	/*
	 * 1.2. Optional, aggregations that finish with a merge: write into
	 * buf (cap bytes, NUL-terminated) the "config" with which this same
	 * operator, given records it emitted (its partial results over parts
	 * of one key group's input, on input 0), emits what it would have
	 * emitted over the whole input; e.g. counts merge by a sum. With it
	 * the core may split a hot subpartition among several tasks and
	 * merge their results in one (DESIGN §5). Called in the coordinator.
	 * 0, or a code with host->set_error when this configuration cannot
	 * merge (SL_ENOTSUP).
	 */
	int (*merge_config)(const struct sl_host *host, const char *config_json,
	    char *buf, size_t cap);
};

/* The ops of a SL_PLUGIN_OPERATORS plugin (struct sl_plugin.ops). */
struct sl_operator_lib {
	uint32_t struct_size;
	uint32_t count;
	const struct sl_operator_ops *const *ops;
};

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_OPERATOR_H */
