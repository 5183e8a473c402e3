/*
 * Running one task: the operator's lifecycle, the input loop over the
 * shuffle readers, failure and cancellation. output.c routes what the
 * operator emits. docs/runtime-tasks.md describes the whole.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "task_impl.h"

void
sli_task_metrics_init(struct sli_task_metrics *m)
{
	memset(m, 0, sizeof(*m));
	atomic_init(&m->records_in, 0);
	atomic_init(&m->bytes_in, 0);
	atomic_init(&m->records_out, 0);
	atomic_init(&m->bytes_out, 0);
	atomic_init(&m->ended, false);
	m->unreadable_edge = m->unreadable_producer = UINT32_MAX;
}

int
sli_task_ctl_init(struct sli_task_ctl *c)
{
	memset(c, 0, sizeof(*c));
	atomic_init(&c->cancelled, false);
	if (pthread_mutex_init(&c->mtx, NULL) != 0)
		return sli_err(SL_ENOMEM, "out of memory");
	return 0;
}

void
sli_task_ctl_destroy(struct sli_task_ctl *c)
{
	pthread_mutex_destroy(&c->mtx);
}

bool
sli_task_cancelled(const struct sli_task_ctl *c)
{
	return atomic_load_explicit(&c->cancelled, memory_order_relaxed);
}

/*
 * The flag first, then the objects: a task registers itself under c->mtx
 * and looks at the flag after, so either this finds it registered and
 * closes its objects, or the task finds the flag. Closing never blocks
 * (shuffle.h), and a reader's close may call notify, which takes r->mtx:
 * the order is always c->mtx, then r->mtx.
 */
void
sli_task_cancel(struct sli_task_ctl *c)
{
	struct sli_task_run *r;

	atomic_store(&c->cancelled, true);
	pthread_mutex_lock(&c->mtx);
	if ((r = c->run) != NULL) {
		for (struct sli_task_run *st = r; st != NULL; st = st->next)
			out_close(st);
		for (uint32_t i = 0; i < r->nin; i++)
			if (r->in[i].opened)
				r->in[i].ops->close(r->in[i].state);
		pthread_mutex_lock(&r->mtx);
		r->pending = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
}

bool
task_is_cancelled(const struct sli_task_run *r)
{
	return r->ctl != NULL && sli_task_cancelled(r->ctl);
}

int
task_fail(struct sli_task_run *r, int rv, const char *fmt, ...)
{
	va_list ap;

	if (r->err != 0)
		return r->err;
	r->err = rv;
	r->err_cancelled = task_is_cancelled(r);
	if (r->head != NULL && r->head->failed == NULL)
		r->head->failed = r;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	return rv;
}

void
task_publish(struct sli_task_run *r)
{
	struct sli_task_metrics *m = r->metrics;

	if (m == NULL)
		return;
	atomic_store_explicit(
	    &m->records_in, r->records_in, memory_order_relaxed);
	atomic_store_explicit(&m->bytes_in, r->bytes_in, memory_order_relaxed);
	atomic_store_explicit(
	    &m->records_out, r->records_out, memory_order_relaxed);
	atomic_store_explicit(
	    &m->bytes_out, r->bytes_out, memory_order_relaxed);
}

/* The operator failed: keep what it said (or what emit recorded first). */
static int
op_fail(struct sli_task_run *r, int rv, const char *what)
{
	if (rv == SL_ECLOSED && task_is_cancelled(r))
		return task_fail(r, rv, "cancelled");
	if (*sl_errdetail() != '\0')
		return task_fail(r, rv, "%s", sl_errdetail());
	return task_fail(r, rv, "operator '%s': %s: %s", r->spec->op->name,
	    what, sl_strerror(rv));
}

/* ---- the context handed to the operator -------------------------------
 */

static bool
ctx_cancelled(const struct sl_task_ctx *ctx)
{
	return task_is_cancelled(ctx->core);
}

static void
ctx_count(const struct sl_task_ctx *ctx, const char *name, int64_t delta)
{
	struct sli_task_metrics *m =
	    ((struct sli_task_run *)ctx->core)->metrics;
	uint32_t i;

	if (m == NULL || name == NULL)
		return;
	for (i = 0; i < m->ncounters; i++)
		if (strncmp(m->counters[i].name, name,
		        SLI_TASK_COUNTER_NAME - 1) == 0)
			break;
	if (i == m->ncounters) {
		if (i == SLI_TASK_COUNTERS) {
			m->counters_dropped++;
			return;
		}
		snprintf(m->counters[i].name, sizeof(m->counters[i].name), "%s",
		    name);
		m->ncounters++;
	}
	m->counters[i].value += delta;
}

/* ---- checking the spec against the graph ------------------------------
 */

/* Subpartitions producer j of edge e must have. */
static uint32_t
expected_subs(const struct sli_exec *x, uint32_t e, uint32_t j)
{
	uint32_t lo, hi;

	sli_edge_consumers(x, e, j, &lo, &hi);
	return x->job->e[e].distribution == SL_DIST_POINTWISE
	    ? hi - lo
	    : x->par[x->job->e[e].to];
}

static int
check_spec(struct sli_task_run *r)
{
	const struct sli_task_spec *s = r->spec;
	const struct sli_exec *x = s->exec;
	uint32_t idx = sli_task_index(x, s->task);
	bool source = s->op->run != NULL;

	if (s->op_host == NULL ||
	    (source ? s->op->process != NULL : s->op->process == NULL))
		return task_fail(r, SL_EINVAL,
		    "operator '%s' has no host or no run/process", s->op->name);
	if (source != (r->v->nin == 0))
		return task_fail(r, SL_EINVAL,
		    "operator '%s' is %sa source but the vertex has %u "
		    "inputs",
		    s->op->name, source ? "" : "not ", r->v->nin);
	if ((r->nout > 0 && s->outputs == NULL) ||
	    (r->nin > 0 && s->inputs == NULL))
		return task_fail(r, SL_EINVAL, "no outputs or inputs given");
	if (s->chain != NULL && !sli_exec_chained(x, r->v->out[0]))
		return task_fail(r, SL_EINVAL,
		    "output 0 (edge %u) cannot be chained", r->v->out[0]);
	if (s->partial &&
	    (r->nout != 1 || s->chain != NULL ||
	        s->outputs[0].num_subpartitions != 1))
		return task_fail(r, SL_EINVAL,
		    "a partial task needs one output of one subpartition and "
		    "nothing chained");
	for (uint32_t k = r->next != NULL || s->partial ? 1 : 0; k < r->nout;
	     k++) {
		uint32_t e = r->v->out[k];
		uint32_t want = expected_subs(x, e, idx);

		if (s->outputs[k].num_subpartitions != want)
			return task_fail(r, SL_EINVAL,
			    "output %u (edge %u): %u subpartitions, the graph "
			    "says %u",
			    k, e, s->outputs[k].num_subpartitions, want);
	}
	for (uint32_t k = 0; k < r->nin; k++) {
		const struct sli_task_input *in = &s->inputs[k];
		uint32_t e = r->v->in[k];
		uint32_t lo, hi;

		sli_edge_producers(x, e, idx, &lo, &hi);
		if (in->partials) {
			/* the vertex's own tasks, none of them this one */
			lo = 0;
			hi = x->par[x->task_vertex[s->task]];
			if (k > 0 || r->nin != 1 || in->first + in->ndescs > hi)
				return task_fail(r, SL_EINVAL,
				    "input %u (edge %u): partial results of "
				    "tasks %u..%u: only of a task with one "
				    "input, within the vertex's %u",
				    k, e, in->first, in->first + in->ndescs - 1,
				    hi);
		}
		if (in->shuffle == NULL ||
		    in->shuffle->desc.kind != SL_PLUGIN_SHUFFLE ||
		    (uint64_t)in->first + in->ndescs > hi - lo ||
		    (in->descs == NULL && in->ndescs > 0) ||
		    in->sub_lo > in->sub_hi)
			return task_fail(r, SL_EINVAL,
			    "input %u (edge %u): needs a shuffle plugin and "
			    "at most %u descriptors (producers %u..%u), got "
			    "%u from %u",
			    k, e, hi - lo, lo, hi - 1, in->ndescs,
			    lo + in->first);
	}
	return 0;
}

/* ---- inputs -----------------------------------------------------------
 */

/* Any thread; never blocks (shuffle.h asks that of notify). */
static void
task_notify(void *arg)
{
	struct sli_task_run *r = arg;

	pthread_mutex_lock(&r->mtx);
	r->pending = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mtx);
}

static int
in_open(struct sli_task_run *r)
{
	const struct sli_exec *x = r->spec->exec;
	uint32_t idx = sli_task_index(x, r->spec->task);
	int rv;

	if (r->nin == 0)
		return 0;
	if ((r->in = calloc(r->nin, sizeof(*r->in))) == NULL)
		return task_fail(r, SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < r->nin; k++) {
		const struct sli_task_input *spec = &r->spec->inputs[k];
		struct in_edge *in = &r->in[k];
		struct sli_plugin *p = spec->shuffle;
		struct sl_reader_spec rs = {
			.struct_size = sizeof(rs),
			.descriptors = spec->descs,
			.num_descriptors = spec->ndescs,
			.sub_lo = spec->sub_lo,
			.sub_hi = spec->sub_hi,
			.notify = task_notify,
			.notify_arg = r,
			.credits = spec->credits,
		};
		uint32_t hi;

		in->edge = r->v->in[k];
		in->from = x->job->v[x->job->e[in->edge].from].id;
		sli_edge_producers(x, in->edge, idx, &in->plo, &hi);
		in->plo += spec->first;
		if (spec->partials) {
			in->from = r->v->id;
			in->plo = spec->first;
		}
		in->ops = &p->ops.shuffle.reader;
		in->host = &p->host;
		in->plugin = p->name;
		if ((in->state = calloc(
		         1, in->ops->state_size ? in->ops->state_size : 1)) ==
		    NULL)
			return task_fail(r, SL_ENOMEM, "out of memory");
		sli_err_clear();
		if ((rv = in->ops->open(in->state, in->host, &rs)) != 0)
			return task_fail(r, rv,
			    "input %u (edge %u from '%s'): shuffle '%s': "
			    "open: %s",
			    k, in->edge, in->from, in->plugin,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		in->opened = true;
	}
	return 0;
}

/* An input that cannot be read: its partition is gone or its bytes are
 * not what a buffer must be. SL_EUNREADABLE lets the coordinator restart
 * the producer (DESIGN §4.2). */
static int
unreadable(struct sli_task_run *r, uint32_t k, uint32_t input, const char *what,
    const char *why)
{
	struct in_edge *in = &r->in[k];

	if (r->metrics != NULL && r->err == 0 && !r->spec->inputs[k].partials) {
		r->metrics->unreadable_edge = in->edge;
		r->metrics->unreadable_producer = in->plo + input;
	}
	return task_fail(r, SL_EUNREADABLE,
	    "input %u (edge %u from '%s'): producer %s#%u: %s: %s", k, in->edge,
	    in->from, in->from, in->plo + input, what, why);
}

/* Every record of one buffer to process. */
static int
consume(struct sli_task_run *r, uint32_t k, const struct sl_buffer *b)
{
	const struct sl_operator_ops *op = r->spec->op;
	struct sli_recs it;
	struct sl_record rec;
	int rv;

	if (b->kind == SL_BUFFER_EVENT) {
		uint32_t type;
		const void *payload;
		size_t plen;

		/* No event changes what a batch task does yet; barriers
		 * and watermarks will (DESIGN §9). */
		if (sli_event_decode(b->data, b->len, &type, &payload, &plen) !=
		    0)
			return unreadable(
			    r, k, b->input, "malformed event", sl_errdetail());
		return 0;
	}
	if (b->kind != SL_BUFFER_DATA) {
		char why[64];

		snprintf(why, sizeof(why), "buffer kind %u", b->kind);
		return unreadable(r, k, b->input, "malformed buffer", why);
	}
	r->bytes_in += b->len;
	sli_recs_init(&it, b->data, b->len);
	sli_err_clear();
	while ((rv = sli_recs_next(&it, &rec)) == 0) {
		r->records_in++;
		if ((rv = task_fault_check(r, r->records_in)) != 0) {
			task_publish(r);
			return rv;
		}
		if ((rv = op->process(r->op_state, &r->ctx, k, &rec)) != 0) {
			task_publish(r);
			return op_fail(r, rv, "process");
		}
		/* an emit failed and the operator carried on */
		if (r->err != 0) {
			task_publish(r);
			return r->err;
		}
	}
	task_publish(r);
	if (rv != SL_EEOF)
		return unreadable(
		    r, k, b->input, "malformed buffer", sl_errdetail());
	return 0;
}

/* One round: a buffer from each live reader at most, so that no input
 * starves the others. *progress tells whether anything happened. */
static int
poll_inputs(struct sli_task_run *r, uint32_t *live, bool *progress)
{
	for (uint32_t k = 0; k < r->nin; k++) {
		struct in_edge *in = &r->in[k];
		struct sl_buffer b = { 0 };
		int rv;

		if (in->done)
			continue;
		sli_err_clear();
		rv = in->ops->next(in->state, &b);
		if (rv == 0) {
			*progress = true;
			rv = consume(r, k, &b);
			in->ops->release(in->state, &b);
			if (rv != 0)
				return rv;
		} else if (rv == SL_EEOF) {
			in->done = true;
			(*live)--;
			*progress = true;
		} else if (rv == SL_EUNREADABLE) {
			return unreadable(r, k, b.input, "partition unreadable",
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		} else if (rv == SL_ECLOSED && task_is_cancelled(r)) {
			return task_fail(r, rv, "cancelled");
		} else if (rv != SL_EAGAIN) {
			return task_fail(r, rv,
			    "input %u (edge %u from '%s'): shuffle '%s': "
			    "next: %s",
			    k, in->edge, in->from, in->plugin,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		}
	}
	return 0;
}

/*
 * Until every input ended. pending is cleared before each round and set by
 * every notify, so a notify that comes during a round makes the wait after
 * it return at once: no wake-up is lost.
 */
static int
read_inputs(struct sli_task_run *r)
{
	uint32_t live = r->nin;
	int rv;

	while (live > 0) {
		bool progress = false;

		if (task_is_cancelled(r))
			return task_fail(r, SL_ECLOSED, "cancelled");
		pthread_mutex_lock(&r->mtx);
		r->pending = false;
		pthread_mutex_unlock(&r->mtx);
		if ((rv = poll_inputs(r, &live, &progress)) != 0)
			return rv;
		if (progress || live == 0)
			continue;
		pthread_mutex_lock(&r->mtx);
		while (!r->pending && !task_is_cancelled(r))
			pthread_cond_wait(&r->cv, &r->mtx);
		pthread_mutex_unlock(&r->mtx);
	}
	return 0;
}

static void
in_fini(struct sli_task_run *r)
{
	for (uint32_t k = 0; r->in != NULL && k < r->nin; k++) {
		struct in_edge *in = &r->in[k];

		if (in->state != NULL)
			in->ops->fini(in->state);
		free(in->state);
	}
	free(r->in);
	r->in = NULL;
}

/* ---- the task ---------------------------------------------------------
 */

static void
ctl_attach(struct sli_task_run *r)
{
	if (r->ctl == NULL)
		return;
	pthread_mutex_lock(&r->ctl->mtx);
	r->ctl->run = r;
	pthread_mutex_unlock(&r->ctl->mtx);
}

/* After this no cancel touches the task's objects. */
static void
ctl_detach(struct sli_task_run *r)
{
	if (r->ctl == NULL)
		return;
	pthread_mutex_lock(&r->ctl->mtx);
	if (r->ctl->run == r)
		r->ctl->run = NULL;
	pthread_mutex_unlock(&r->ctl->mtx);
}

static int
run_setup(struct sli_task_run *r, const struct sli_task_spec *spec,
    struct sli_task_run *head)
{
	const struct sli_exec *x = spec->exec;
	const sl_job *job = x->job;

	r->spec = spec;
	r->head = head;
	r->chained_in = head != r;
	r->v = &job->v[x->task_vertex[spec->task]];
	r->ctl = head->spec->ctl;
	r->metrics = spec->metrics;
	r->nout = r->v->nout;
	/* A chained stage has no reader: its one input is the stage before. */
	r->nin = r->chained_in ? 0 : r->v->nin;
	sli_task_name(x, spec->task, r->name, sizeof(r->name));
	r->ctx = (struct sl_task_ctx) {
		.struct_size = sizeof(struct sl_task_ctx),
		.host = spec->op_host,
		.job = job->name,
		.vertex = r->v->id,
		.config_json = spec->config_json ? spec->config_json
		    : r->v->config_json          ? r->v->config_json
		                                 : "{}",
		.index = sli_task_index(x, spec->task),
		.parallelism = x->par[x->task_vertex[spec->task]],
		.attempt = spec->attempt,
		.num_inputs = r->v->nin,
		.num_outputs = r->nout,
		.emit = task_emit,
		.cancelled = ctx_cancelled,
		.count = ctx_count,
		.core = r,
		.range_sample = task_range_sample,
	};
	if (pthread_mutex_init(&r->mtx, NULL) != 0)
		return task_fail(r, SL_ENOMEM, "out of memory");
	if (pthread_cond_init(&r->cv, NULL) != 0) {
		pthread_mutex_destroy(&r->mtx);
		return task_fail(r, SL_ENOMEM, "out of memory");
	}
	r->sync_ok = true;
	return check_spec(r);
}

int
task_fault_check(struct sli_task_run *r, uint64_t handled)
{
	const struct sli_task_spec *s = r->spec;

	if (s->fault == SLI_FAULT_NONE || handled < s->fault_after)
		return 0;
	if (s->fault == SLI_FAULT_CRASH) {
		sli_warn("task %s: injected fault after %llu records: killing "
		         "this process",
		    r->name, (unsigned long long)handled);
		raise(SIGKILL);
	}
	return task_fail(r, SL_EIO,
	    "injected fault after %llu records (the job's \"faults\")",
	    (unsigned long long)handled);
}

int
chain_emit(struct sli_task_run *r, const struct sl_record *rec)
{
	struct sli_task_run *n = r->next;
	/* what the record would take in a buffer (records.h) */
	uint64_t len = 8 + (uint64_t)rec->key_len + rec->value_len;
	const struct sli_task_output *o = &r->spec->outputs[0];
	int rv;

	if (n->err != 0)
		return task_fail(r, n->err, "chained stage failed");
	r->records_out++;
	r->bytes_out += len;
	if (r->v->nin == 0 && (rv = task_fault_check(r, r->records_out)) != 0)
		return rv;
	if (o->sub_bytes != NULL)
		o->sub_bytes[0] +=
		    len; /* pointwise, m == n: one subpartition */
	n->records_in++;
	n->bytes_in += len;
	if ((n->records_in & 4095) == 0) {
		task_publish(r);
		task_publish(n);
	}
	if ((rv = task_fault_check(n, n->records_in)) != 0)
		return task_fail(r, rv, "chained stage failed");
	sli_err_clear();
	if ((rv = n->spec->op->process(n->op_state, &n->ctx, 0, rec)) != 0) {
		op_fail(n, rv, "process");
		return task_fail(r, rv, "chained stage failed");
	}
	return n->err != 0 ? task_fail(r, n->err, "chained stage failed") : 0;
}

/* Whether any stage from r on failed. */
static bool
chain_failed(const struct sli_task_run *r)
{
	for (; r != NULL; r = r->next)
		if (r->err != 0)
			return true;
	return false;
}

/*
 * Every stage: open; the first stage runs or reads its inputs (its emits
 * reach the next stages through chain_emit); then each stage in order
 * finishes (a stage's finish may emit into the next), every writer
 * finishes, every stage commits. Stops at the first failure.
 */
static void
run_chain(struct sli_task_run *head)
{
	struct sli_task_run *r;
	int rv;

	for (r = head; r != NULL; r = r->next) {
		const struct sl_operator_ops *op = r->spec->op;

		r->op_state = calloc(1, op->state_size ? op->state_size : 1);
		if (r->op_state == NULL) {
			task_fail(r, SL_ENOMEM, "out of memory");
			return;
		}
		sli_err_clear();
		r->op_opened = true;
		if ((rv = op->open(r->op_state, &r->ctx)) != 0) {
			op_fail(r, rv, "open");
			return;
		}
		r->op_ok = true;
		if (task_fault_check(r, 0) != 0)
			return;
	}
	if (head->spec->op->run != NULL) {
		sli_err_clear();
		if ((rv = head->spec->op->run(head->op_state, &head->ctx)) !=
		    0) {
			op_fail(head, rv, "run");
			return;
		}
	} else if (read_inputs(head) != 0) {
		return;
	}
	for (r = head; r != NULL; r = r->next) {
		/* emit may have failed while the operator went on */
		if (chain_failed(head))
			return;
		sli_err_clear();
		if ((rv = r->spec->op->finish(r->op_state, &r->ctx)) != 0) {
			op_fail(r, rv, "finish");
			return;
		}
	}
	for (r = head; r != NULL; r = r->next)
		if (chain_failed(head) || out_finish(r) != 0)
			return;
	if (task_is_cancelled(head)) {
		task_fail(head, SL_ECLOSED, "cancelled");
		return;
	}
	for (r = head; r != NULL; r = r->next) {
		sli_err_clear();
		if ((rv = r->spec->op->commit(r->op_state, &r->ctx)) != 0) {
			op_fail(r, rv, "commit");
			return;
		}
		r->op_ok = false; /* committed: nothing to abort */
	}
}

int
sli_task_run(const struct sli_task_spec *spec)
{
	struct sli_task_run *head = NULL, **tail = &head, *r, *f;
	bool ok = true;
	int rv;

	if (spec == NULL || spec->exec == NULL || spec->op == NULL ||
	    spec->task >= spec->exec->ntasks)
		return sli_err(SL_EINVAL, "task: bad spec");
	for (const struct sli_task_spec *s = spec; s != NULL; s = s->chain) {
		if (s->op == NULL || s->exec != spec->exec ||
		    s->task >= spec->exec->ntasks) {
			rv = sli_err(SL_EINVAL, "task: bad chained spec");
			goto out_free;
		}
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			rv = sli_err(SL_ENOMEM, "task: out of memory");
			goto out_free;
		}
		r->spec = s;
		*tail = r;
		tail = &r->next;
	}

	for (r = head; r != NULL; r = r->next) {
		r->head = head;
		if (ok)
			ok = run_setup(r, r->spec, head) == 0;
	}
	for (r = head; ok && r != NULL; r = r->next)
		ok = out_open(r) == 0;
	if (ok && in_open(head) == 0) {
		ctl_attach(head);
		if (task_is_cancelled(head))
			task_fail(head, SL_ECLOSED, "cancelled");
		else
			run_chain(head);
	}

	if (chain_failed(head))
		for (r = head; r != NULL; r = r->next) {
			if (r->op_ok)
				r->spec->op->abort(r->op_state, &r->ctx);
			out_fail(r);
		}
	ctl_detach(head);
	/* Readers first: a reader that leaves releases its producers'
	 * credit, so their writers do not wait for it. */
	in_fini(head);
	for (r = head; r != NULL; r = r->next) {
		out_fini(r);
		if (r->op_opened)
			r->spec->op->close(r->op_state);
		free(r->op_state);
		task_publish(r);
		if (r->sync_ok) {
			pthread_cond_destroy(&r->cv);
			pthread_mutex_destroy(&r->mtx);
		}
	}

	/* The outcome is the first failure: a stage's own, not the
	 * "chained stage failed" of those before it. */
	f = head->failed;
	if (f == NULL)
		rv = 0;
	else if (f->err_cancelled)
		rv = sli_err(SL_ECLOSED, "task %s: cancelled", f->name);
	else
		rv = sli_err(f->err, "task %s: %s", f->name, f->detail);
	for (r = head; r != NULL; r = r->next)
		if (r->spec->metrics != NULL)
			atomic_store(&r->spec->metrics->ended, true);
out_free:
	while (head != NULL) {
		r = head->next;
		free(head);
		head = r;
	}
	return rv;
}
