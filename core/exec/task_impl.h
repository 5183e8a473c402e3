/*
 * The task executor's internals, shared by task.c (lifecycle, inputs,
 * cancel) and output.c (writers, routing, buffers). task.h is the
 * interface.
 */
#ifndef SLI_EXEC_TASK_IMPL_H
#define SLI_EXEC_TASK_IMPL_H

#include "data/records.h"
#include "task.h"

/* One outgoing edge: a shuffle writer and a record buffer per
 * subpartition. */
struct out_edge {
	uint32_t edge;  /* job edge index */
	const char *to; /* the consuming vertex's id, for messages */
	int distribution;
	int partitioner;
	const struct sl_shuffle_writer_ops *ops; /* the loader's copy */
	const struct sl_host *host;              /* the shuffle's */
	const char *plugin;                      /* its name */
	void *state;
	bool opened;   /* open succeeded: close/fail/finish apply */
	bool finished; /* finish succeeded */
	uint32_t nsub;
	uint32_t rr;             /* next subpartition for round robin */
	struct sli_recbuf *bufs; /* nsub, from malloc */
	uint64_t *sub_bytes;     /* optional, the caller's */
	/* range: nsub - 1 split keys (pointers into bound_arena), set by
	 * the operator's sample (ctx->range_sample); NULL until then */
	const unsigned char **bound;
	uint32_t *bound_len;
	unsigned char *bound_arena;
};

/* One incoming edge: a shuffle reader over the producers' partitions. */
struct in_edge {
	uint32_t edge;
	const char *from; /* the producing vertex's id */
	uint32_t plo;     /* producer index of descriptor 0 */
	const struct sl_shuffle_reader_ops *ops;
	const struct sl_host *host;
	const char *plugin;
	void *state;
	bool opened;
	bool done; /* SL_EEOF seen */
};

struct sli_task_run {
	const struct sli_task_spec *spec;
	/* Operator chaining (task.h, spec->chain): the next stage, which
	 * takes output 0's records directly; the first stage of the chain,
	 * which owns the inputs, the control and the outcome. */
	struct sli_task_run *next;
	struct sli_task_run *head;
	struct sli_task_run *failed; /* head only: the first stage to fail */
	bool chained_in;             /* input 0 is the previous stage */
	const struct sli_vertex *v;
	char name[160]; /* "vertex#index" */
	struct sl_task_ctx ctx;
	void *op_state;           /* state_size bytes, zeroed */
	bool op_opened;           /* open was called: close is owed */
	bool op_ok;               /* open succeeded: commit or abort is owed */
	struct sli_task_ctl *ctl; /* NULL: not cancellable */

	struct out_edge *out;
	uint32_t nout;
	struct in_edge *in;
	uint32_t nin;

	/* Readers' notify sets pending and signals; so does a cancel. */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool pending;
	bool sync_ok; /* mtx and cv were initialised */

	/* The first failure: its code, and what to say after "task NAME: ".
	 * Later failures are consequences and are dropped. */
	int err;
	bool err_cancelled; /* the task was being cancelled when it failed */
	char detail[1024];

	/* Totals, published to metrics after each buffer. */
	uint64_t records_in;
	uint64_t bytes_in;
	uint64_t records_out;
	uint64_t bytes_out;
	struct sli_task_metrics *metrics;
};

/* Record the task's failure (the first one wins) and return rv. The
 * format is what follows "task NAME: " in the detail. */
int task_fail(struct sli_task_run *r, int rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool task_is_cancelled(const struct sli_task_run *r);
void task_publish(struct sli_task_run *r);

/* task.c: hand rec from stage r to its next stage's operator. */
int chain_emit(struct sli_task_run *r, const struct sl_record *rec);

/* output.c. out_open opens every writer (a failure is recorded with
 * task_fail); out_finish flushes every buffer and finishes every writer;
 * out_fail fails every opened writer (also one that finished: best effort,
 * after a failed commit); out_close closes them from any thread (cancel);
 * out_fini frees everything, safe after any of the above. */
int out_open(struct sli_task_run *r);
int task_emit(
    const struct sl_task_ctx *ctx, uint32_t out, const struct sl_record *rec);
int task_range_sample(const struct sl_task_ctx *ctx, uint32_t out,
    const struct sl_record *samples, uint32_t n);
int out_finish(struct sli_task_run *r);
void out_fail(struct sli_task_run *r);
void out_close(struct sli_task_run *r);
void out_fini(struct sli_task_run *r);

/* Fault injection: 0, or the stage's failure when its fault is due after
 * `handled` records (a crash does not return). */
int task_fault_check(struct sli_task_run *r, uint64_t handled);

#endif
