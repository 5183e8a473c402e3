/*
 * A task's outputs: one shuffle writer per outgoing edge, one record buffer
 * per subpartition, and the routing of each emitted record to the
 * subpartitions of its edge (docs/runtime-tasks.md):
 *
 *   all_to_all  hash: XXH3_64bits(key) % n; round_robin: the next one;
 *               range: by split keys from the operator's sample
 *   broadcast   a copy to every subpartition
 *   pointwise   round robin over this producer's consumers (usually one)
 *
 * Buffers come from the shuffle plugin's host allocator, so that a full
 * one can be handed to writer->write, which takes it on success.
 */
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/error.h"
#include "task_impl.h"

/* Buffer memory of one edge stays below this however many consumers it
 * has: a task feeding 10 000 consumers gets smaller buffers rather than
 * 320 MB of them. Never below MIN_CAP, so a buffer still holds many small
 * records. */
#define EDGE_BUFFER_BUDGET (16u << 20)
#define MIN_CAP (4u << 10)

static size_t
buffer_cap(uint32_t nsub)
{
	size_t cap = EDGE_BUFFER_BUDGET / nsub;

	if (cap > SLI_BUFFER_SIZE)
		cap = SLI_BUFFER_SIZE;
	if (cap < MIN_CAP)
		cap = MIN_CAP;
	return cap;
}

static int
open_one(struct sli_task_run *r, uint32_t k)
{
	const struct sli_task_output *spec = &r->spec->outputs[k];
	const sl_job *job = r->spec->exec->job;
	struct out_edge *o = &r->out[k];
	const struct sli_edge *e;
	struct sli_plugin *p = spec->shuffle;
	int rv;

	o->edge = r->v->out[k];
	e = &job->e[o->edge];
	o->to = job->v[e->to].id;
	o->distribution = e->distribution;
	o->partitioner = e->partitioner;
	o->nsub = spec->num_subpartitions;
	o->sub_bytes = spec->sub_bytes;
	if (p == NULL || p->desc.kind != SL_PLUGIN_SHUFFLE || o->nsub == 0)
		return task_fail(r, SL_EINVAL,
		    "output %u (edge %u to '%s'): no shuffle plugin or no "
		    "subpartitions",
		    k, o->edge, o->to);
	o->ops = &p->ops.shuffle.writer;
	o->host = &p->host;
	o->plugin = p->name;
	/* Start the round robin where this task's index says, so that the
	 * producers of an edge do not all start with subpartition 0. */
	o->rr = sli_task_index(r->spec->exec, r->spec->task) % o->nsub;

	if ((o->bufs = calloc(o->nsub, sizeof(*o->bufs))) == NULL)
		return task_fail(r, SL_ENOMEM, "out of memory");
	for (uint32_t s = 0; s < o->nsub; s++) {
		sli_recbuf_init(&o->bufs[s], buffer_cap(o->nsub));
		o->bufs[s].alloc = o->host->alloc;
		o->bufs[s].free = o->host->free;
	}
	if ((o->state = calloc(
	         1, o->ops->state_size ? o->ops->state_size : 1)) == NULL)
		return task_fail(r, SL_ENOMEM, "out of memory");
	sli_err_clear();
	rv = o->ops->open(o->state, o->host, spec->desc.data, spec->desc.len);
	if (rv != 0)
		return task_fail(r, rv,
		    "output %u (edge %u to '%s'): shuffle '%s': open: %s", k,
		    o->edge, o->to, o->plugin,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
	o->opened = true;
	return 0;
}

int
out_open(struct sli_task_run *r)
{
	int rv;

	if (r->nout == 0)
		return 0;
	if ((r->out = calloc(r->nout, sizeof(*r->out))) == NULL)
		return task_fail(r, SL_ENOMEM, "out of memory");
	/* A chained output 0 has no writer: its records go to the next
	 * stage's operator. */
	for (uint32_t k = r->next != NULL ? 1 : 0; k < r->nout; k++)
		if ((rv = open_one(r, k)) != 0)
			return rv;
	return 0;
}

/* Hand the buffer of subpartition sub to the writer, if it holds
 * anything. write may block on credit (back pressure) until the consumer
 * releases a buffer or the task is cancelled. */
static int
put_buffer(struct sli_task_run *r, struct out_edge *o, uint32_t sub)
{
	struct sl_buffer b = { .kind = SL_BUFFER_DATA };
	size_t len;
	int rv;

	sli_recbuf_take(&o->bufs[sub], &b.data, &len);
	if (b.data == NULL)
		return 0;
	b.len = len;
	sli_err_clear();
	if ((rv = o->ops->write(o->state, sub, &b)) != 0) {
		/* Ours again on failure; the plugin took nothing. */
		if (b.data != NULL)
			o->host->free(b.data);
		if (rv == SL_ECLOSED && task_is_cancelled(r))
			return task_fail(r, rv, "cancelled");
		return task_fail(r, rv,
		    "output %u (edge %u to '%s'): shuffle '%s': write to "
		    "subpartition %u: %s",
		    (uint32_t)(o - r->out), o->edge, o->to, o->plugin, sub,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
	}
	r->bytes_out += len;
	if (o->sub_bytes != NULL)
		o->sub_bytes[sub] += len;
	task_publish(r);
	return 0;
}

/* Append rec to subpartition sub, handing the buffer on when it is full. */
static int
append(struct sli_task_run *r, struct out_edge *o, uint32_t sub,
    const struct sl_record *rec)
{
	int rv = sli_recbuf_append(&o->bufs[sub], rec);

	if (rv == SL_EAGAIN) {
		if ((rv = put_buffer(r, o, sub)) != 0)
			return rv;
		/* An empty buffer takes any record up to SLI_RECORD_MAX. */
		rv = sli_recbuf_append(&o->bufs[sub], rec);
	}
	if (rv == 0)
		return 0;
	if (rv == SL_ERANGE)
		return task_fail(r, rv,
		    "output %u (edge %u to '%s'): a record of %u + %u bytes "
		    "is over the limit of %u",
		    (uint32_t)(o - r->out), o->edge, o->to, rec->key_len,
		    rec->value_len, SLI_RECORD_MAX - 4);
	if (rv == SL_EINVAL)
		return task_fail(r, rv,
		    "output %u (edge %u to '%s'): a record with a NULL key "
		    "or value of non-zero length",
		    (uint32_t)(o - r->out), o->edge, o->to);
	return task_fail(r, rv, "out of memory");
}

static uint32_t
next_rr(struct out_edge *o)
{
	uint32_t s = o->rr;

	if (++o->rr == o->nsub)
		o->rr = 0;
	return s;
}

/* Unsigned bytes; a prefix first. */
static int
key_cmp(const void *a, uint32_t al, const void *b, uint32_t bl)
{
	uint32_t k = al < bl ? al : bl;
	int c = k ? memcmp(a, b, k) : 0;

	return c != 0 ? c : (al > bl) - (al < bl);
}

/* The range a key falls in: the number of split keys at or below it. */
static int
append_range(struct sli_task_run *r, struct out_edge *o, uint32_t out,
    const struct sl_record *rec)
{
	uint32_t lo = 0, hi = o->nsub - 1;

	if (o->bound == NULL && o->nsub > 1)
		return task_fail(r, SL_EINVAL,
		    "output %u (edge %u to '%s'): partitioned by range, but "
		    "operator '%s' gave no sample of its keys "
		    "(ctx->range_sample)",
		    out, o->edge, o->to, r->spec->op->name);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (key_cmp(o->bound[mid], o->bound_len[mid], rec->key,
		        rec->key_len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return append(r, o, lo, rec);
}

static _Thread_local const struct sl_record *sort_samples;

static int
cmp_sample(const void *a, const void *b)
{
	const struct sl_record *x = &sort_samples[*(const uint32_t *)a];
	const struct sl_record *y = &sort_samples[*(const uint32_t *)b];

	return key_cmp(x->key, x->key_len, y->key, y->key_len);
}

int
task_range_sample(const struct sl_task_ctx *ctx, uint32_t out,
    const struct sl_record *samples, uint32_t n)
{
	struct sli_task_run *r = ctx->core;
	struct out_edge *o;
	uint32_t *idx, nb;
	size_t total = 0;

	if (out >= r->nout || r->out == NULL || !r->out[out].opened ||
	    r->out[out].distribution != SL_DIST_ALL_TO_ALL ||
	    r->out[out].partitioner != SL_PARTITIONER_RANGE)
		return task_fail(r, SL_EINVAL,
		    "operator '%s' gave a range sample for output %u, which "
		    "is not partitioned by range",
		    r->spec->op->name, out);
	o = &r->out[out];
	nb = o->nsub - 1;
	if (nb == 0 || n == 0)
		return 0; /* one consumer, or no sample: everything to 0 */
	if ((idx = malloc(sizeof(*idx) * n)) == NULL)
		return task_fail(r, SL_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	sort_samples = samples;
	qsort(idx, n, sizeof(*idx), cmp_sample);
	/* split key i: the sample at the (i+1)/nsub quantile */
	for (uint32_t i = 0; i < nb; i++)
		total += samples[idx[(uint64_t)(i + 1) * n / o->nsub]].key_len;
	free(o->bound);
	free(o->bound_len);
	free(o->bound_arena);
	o->bound = malloc(sizeof(*o->bound) * nb);
	o->bound_len = malloc(sizeof(*o->bound_len) * nb);
	o->bound_arena = malloc(total + 1);
	if (o->bound == NULL || o->bound_len == NULL ||
	    o->bound_arena == NULL) {
		free(idx);
		return task_fail(r, SL_ENOMEM, "out of memory");
	}
	total = 0;
	for (uint32_t i = 0; i < nb; i++) {
		const struct sl_record *sm =
		    &samples[idx[(uint64_t)(i + 1) * n / o->nsub]];

		if (sm->key_len > 0)
			memcpy(o->bound_arena + total, sm->key, sm->key_len);
		o->bound[i] = o->bound_arena + total;
		o->bound_len[i] = sm->key_len;
		total += sm->key_len;
	}
	free(idx);
	return 0;
}

int
task_emit(
    const struct sl_task_ctx *ctx, uint32_t out, const struct sl_record *rec)
{
	struct sli_task_run *r = ctx->core;
	struct out_edge *o;
	int rv;

	if (r->err != 0)
		return r->err; /* the operator should have stopped */
	if (task_is_cancelled(r))
		return task_fail(r, SL_ECLOSED, "cancelled");
	if (out >= r->nout)
		return task_fail(r, SL_EINVAL,
		    "operator '%s' emitted on output %u; the vertex has %u",
		    r->spec->op->name, out, r->nout);
	if (rec == NULL)
		return task_fail(r, SL_EINVAL,
		    "operator '%s' emitted a NULL record", r->spec->op->name);
	if (out == 0 && r->next != NULL)
		return chain_emit(r, rec);
	o = &r->out[out];
	r->records_out++;
	if (r->v->nin == 0 && (rv = task_fault_check(r, r->records_out)) != 0)
		return rv;
	switch (o->distribution) {
	case SL_DIST_ALL_TO_ALL:
		if (o->partitioner == SL_PARTITIONER_ROUND_ROBIN)
			return append(r, o, next_rr(o), rec);
		if (o->partitioner == SL_PARTITIONER_RANGE)
			return append_range(r, o, out, rec);
		return append(r, o,
		    (uint32_t)(XXH3_64bits(rec->key, rec->key_len) % o->nsub),
		    rec);
	case SL_DIST_BROADCAST:
		for (uint32_t s = 0; s < o->nsub; s++)
			if ((rv = append(r, o, s, rec)) != 0)
				return rv;
		return 0;
	default: /* pointwise */
		return append(r, o, o->nsub == 1 ? 0 : next_rr(o), rec);
	}
}

int
out_finish(struct sli_task_run *r)
{
	int rv;

	for (uint32_t k = 0; k < r->nout; k++) {
		struct out_edge *o = &r->out[k];

		for (uint32_t s = 0; s < o->nsub; s++)
			if ((rv = put_buffer(r, o, s)) != 0)
				return rv;
	}
	for (uint32_t k = 0; k < r->nout; k++) {
		struct out_edge *o = &r->out[k];

		if (!o->opened)
			continue; /* chained */
		sli_err_clear();
		if ((rv = o->ops->finish(o->state)) != 0) {
			if (rv == SL_ECLOSED && task_is_cancelled(r))
				return task_fail(r, rv, "cancelled");
			return task_fail(r, rv,
			    "output %u (edge %u to '%s'): shuffle '%s': "
			    "finish: %s",
			    k, o->edge, o->to, o->plugin,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		}
		o->finished = true;
	}
	return 0;
}

void
out_fail(struct sli_task_run *r)
{
	for (uint32_t k = 0; r->out != NULL && k < r->nout; k++)
		if (r->out[k].opened)
			r->out[k].ops->fail(r->out[k].state);
}

void
out_close(struct sli_task_run *r)
{
	for (uint32_t k = 0; r->out != NULL && k < r->nout; k++)
		if (r->out[k].opened)
			r->out[k].ops->close(r->out[k].state);
}

void
out_fini(struct sli_task_run *r)
{
	for (uint32_t k = 0; r->out != NULL && k < r->nout; k++) {
		struct out_edge *o = &r->out[k];

		/* fini after a failed open too; not before open ran. */
		if (o->state != NULL && o->ops != NULL)
			o->ops->fini(o->state);
		free(o->state);
		if (o->bufs != NULL)
			for (uint32_t s = 0; s < o->nsub; s++)
				sli_recbuf_free(&o->bufs[s]);
		free(o->bufs);
		free(o->bound);
		free(o->bound_len);
		free(o->bound_arena);
	}
	free(r->out);
	r->out = NULL;
}
