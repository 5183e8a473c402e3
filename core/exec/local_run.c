/*
 * A whole job in this process: what `sluice run` will do in embedded mode
 * and what tests use. Every partition is registered with its edge's
 * shuffle master first (so readers and writers meet on it in whatever
 * order they open), then every task runs on a thread of its own: pipelined
 * edges need every producer and consumer alive at once. When a task fails
 * the others are cancelled; the failure reported is the cause, not the
 * unreadable inputs and cancellations it brought about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "task.h"

/* How often the run looks at opts->cancel. */
#define CANCEL_POLL_NS (10 * 1000 * 1000)

struct lr_master {
	struct sli_plugin *p;
	void *state;
};

struct lr;

struct lr_task {
	struct lr *lr;
	pthread_t th;
	bool started;
	bool chained_in; /* runs in the thread of the task chained to it */
	bool ctl_ok;
	struct sli_task_ctl ctl;
	struct sli_task_spec spec;
	struct sli_task_output *outputs;
	struct sli_task_input *inputs;
	/* set by its thread under lr->mtx */
	int rv;
	uint32_t seq; /* order of completion, from 1 */
	char detail[1100];
};

struct lr {
	const struct sli_exec *x;
	const struct sli_local_opts *o;
	const char *job_id;
	struct sli_plugin **shuffle; /* per edge */
	uint32_t *master;            /* per edge: index into masters */
	struct lr_master *masters;
	uint32_t nmasters;
	struct sl_bytes **descs; /* per edge: one per producer task */
	struct lr_task *tasks;

	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uint32_t ndone;
	bool failed; /* a task failed: cancel the rest */
};

static const char *
edge_shuffle_name(const sl_job *job, const struct sli_edge *e)
{
	return e->shuffle != NULL ? e->shuffle : job->default_shuffle;
}

int
sli_exec_resolve(const struct sli_exec *x, const struct sli_plugin_set *set,
    struct sli_plugin **shuffle)
{
	const sl_job *job = x->job;

	for (uint32_t v = 0; v < job->nv; v++) {
		const struct sli_vertex *vx = &job->v[v];
		const struct sl_operator_ops *op;
		struct sli_plugin *lib;

		if ((op = sli_operator_find(set, vx->op, &lib)) == NULL)
			return sli_err(SL_ENOTFOUND,
			    "vertex '%s': operator '%s' is not in any loaded "
			    "operator library",
			    vx->id, vx->op);
		if (op->run != NULL && vx->nin > 0)
			return sli_err(SL_EINVAL,
			    "vertex '%s': operator '%s' is a source and "
			    "takes no input, but %u edges lead to it",
			    vx->id, vx->op, vx->nin);
		if (op->run == NULL && vx->nin == 0)
			return sli_err(SL_EINVAL,
			    "vertex '%s': operator '%s' needs an input and "
			    "no edge leads to it",
			    vx->id, vx->op);
	}
	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		const char *name = edge_shuffle_name(job, ed);
		struct sli_plugin *p;

		p = sli_plugin_set_find(set, SL_PLUGIN_SHUFFLE, name);
		if (p == NULL)
			return sli_err(SL_ENOTFOUND,
			    "edge %u ('%s' -> '%s'): shuffle plugin '%s' is "
			    "not loaded",
			    e, job->v[ed->from].id, job->v[ed->to].id, name);
		if (!(p->desc.caps & SL_SHUFFLE_CAP_TYPE(ed->type)))
			return sli_err(SL_ENOTSUP,
			    "edge %u ('%s' -> '%s'): shuffle plugin '%s' "
			    "does not offer %s partitions",
			    e, job->v[ed->from].id, job->v[ed->to].id, name,
			    sl_partition_type_name(ed->type));
		/* before 1.2 a plugin does not know the field: it would not
		 * compress, silently */
		if (ed->compression != SL_COMPRESSION_NONE &&
		    p->desc.abi_major == 1 && p->desc.abi_minor < 2)
			return sli_err(SL_ENOTSUP,
			    "edge %u ('%s' -> '%s'): shuffle plugin '%s' is "
			    "built for ABI 1.%u, which has no compression "
			    "(1.2 has)",
			    e, job->v[ed->from].id, job->v[ed->to].id, name,
			    p->desc.abi_minor);
		shuffle[e] = p;
	}
	return 0;
}

/* One master per shuffle plugin the job uses. */
static int
open_masters(struct lr *lr)
{
	const sl_job *job = lr->x->job;
	int rv;

	for (uint32_t e = 0; e < job->ne; e++) {
		struct lr_master *m;
		uint32_t i;

		for (i = 0; i < lr->nmasters; i++)
			if (lr->masters[i].p == lr->shuffle[e])
				break;
		lr->master[e] = i;
		if (i < lr->nmasters)
			continue;
		m = &lr->masters[lr->nmasters];
		m->p = lr->shuffle[e];
		m->state = calloc(1,
		    m->p->ops.shuffle.master.state_size
		        ? m->p->ops.shuffle.master.state_size
		        : 1);
		if (m->state == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		lr->nmasters++;
		sli_err_clear();
		rv = m->p->ops.shuffle.master.init(m->state, &m->p->host, NULL);
		if (rv != 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", sl_errdetail());
			m->p->ops.shuffle.master.fini(m->state);
			free(m->state);
			m->state = NULL;
			return sli_err(rv, "shuffle '%s': master init: %s",
			    m->p->name, *why ? why : sl_strerror(rv));
		}
	}
	return 0;
}

uint32_t
sli_edge_num_subs(const struct sli_exec *x, uint32_t e, uint32_t j)
{
	uint32_t lo, hi;

	if (x->job->e[e].distribution != SL_DIST_POINTWISE)
		return x->par[x->job->e[e].to];
	sli_edge_consumers(x, e, j, &lo, &hi);
	return hi - lo;
}

static int
register_all(struct lr *lr)
{
	const struct sli_exec *x = lr->x;
	const sl_job *job = x->job;
	int rv;

	for (uint32_t e = 0; e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];
		struct lr_master *m = &lr->masters[lr->master[e]];
		uint32_t np = x->par[ed->from];

		if ((lr->descs[e] = calloc(np, sizeof(struct sl_bytes))) ==
		    NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		for (uint32_t j = 0; j < np; j++) {
			struct sl_partition_spec ps = {
				.struct_size = sizeof(ps),
				.type = (uint32_t)ed->type,
				.job_id = lr->job_id,
				.edge = e,
				.producer = j,
				.attempt = 0,
				.num_subpartitions = sli_edge_num_subs(x, e, j),
				.compression = (uint32_t)ed->compression,
			};

			sli_err_clear();
			rv = m->p->ops.shuffle.master.register_partition(
			    m->state, &ps, &lr->descs[e][j]);
			if (rv != 0)
				return sli_err(rv,
				    "edge %u ('%s' -> '%s'): shuffle '%s': "
				    "register partition of %s#%u: %s",
				    e, job->v[ed->from].id, job->v[ed->to].id,
				    m->p->name, job->v[ed->from].id, j,
				    *sl_errdetail() ? sl_errdetail()
				                    : sl_strerror(rv));
		}
	}
	return 0;
}

static int
make_specs(struct lr *lr, struct sli_plugin_set *set)
{
	const struct sli_exec *x = lr->x;
	const sl_job *job = x->job;
	const struct sli_local_opts *o = lr->o;

	for (uint32_t t = 0; t < x->ntasks; t++) {
		struct lr_task *lt = &lr->tasks[t];
		const struct sli_vertex *v = &job->v[x->task_vertex[t]];
		uint32_t idx = sli_task_index(x, t);
		struct sli_plugin *lib;

		lt->lr = lr;
		if (sli_task_ctl_init(&lt->ctl) != 0)
			return SL_ENOMEM;
		lt->ctl_ok = true;
		if ((v->nout > 0 &&
		        (lt->outputs = calloc(v->nout, sizeof(*lt->outputs))) ==
		            NULL) ||
		    (v->nin > 0 &&
		        (lt->inputs = calloc(v->nin, sizeof(*lt->inputs))) ==
		            NULL))
			return sli_err(SL_ENOMEM, "out of memory");
		for (uint32_t k = 0; k < v->nout; k++) {
			uint32_t e = v->out[k];

			lt->outputs[k] = (struct sli_task_output) {
				.shuffle = lr->shuffle[e],
				.desc = lr->descs[e][idx],
				.num_subpartitions =
				    sli_edge_num_subs(x, e, idx),
			};
			if (o->edge_bytes != NULL &&
			    (lt->outputs[k].sub_bytes =
			            calloc(lt->outputs[k].num_subpartitions,
			                sizeof(uint64_t))) == NULL)
				return sli_err(SL_ENOMEM, "out of memory");
		}
		for (uint32_t k = 0; k < v->nin; k++) {
			uint32_t e = v->in[k];
			uint32_t lo, hi, clo, chi;

			/* The consumers of the first producer read: this
			 * task's subpartition is its place among them
			 * (all_to_all and broadcast: its index). */
			sli_edge_producers(x, e, idx, &lo, &hi);
			sli_edge_consumers(x, e, lo, &clo, &chi);
			lt->inputs[k] = (struct sli_task_input) {
				.shuffle = lr->shuffle[e],
				.descs = lr->descs[e] + lo,
				.ndescs = hi - lo,
				.sub_lo = idx - clo,
				.sub_hi = idx - clo,
				.credits = o->credits,
			};
		}
		lt->spec = (struct sli_task_spec) {
			.exec = x,
			.task = t,
			.attempt = 0,
			.op = sli_operator_find(set, v->op, &lib),
			.outputs = lt->outputs,
			.inputs = lt->inputs,
			.ctl = &lt->ctl,
			.metrics = o->metrics != NULL ? &o->metrics[t] : NULL,
		};
		lt->spec.op_host = &lib->host;
		if (o->metrics != NULL)
			sli_task_metrics_init(&o->metrics[t]);
	}
	/* Operator chaining: a task whose only output may be chained runs
	 * its consumer's operator in its own thread (task.h). */
	for (uint32_t t = 0; t < x->ntasks && !o->no_chaining; t++) {
		const struct sli_vertex *v = &job->v[x->task_vertex[t]];
		uint32_t c;

		if (v->nout != 1 || !sli_exec_chained(x, v->out[0]))
			continue;
		c = x->base[job->e[v->out[0]].to] + sli_task_index(x, t);
		lr->tasks[t].spec.chain = &lr->tasks[c].spec;
		lr->tasks[c].chained_in = true;
	}
	return 0;
}

static void *
task_thread(void *arg)
{
	struct lr_task *t = arg;
	struct lr *lr = t->lr;
	int rv = sli_task_run(&t->spec);

	pthread_mutex_lock(&lr->mtx);
	t->rv = rv;
	if (rv != 0)
		snprintf(t->detail, sizeof(t->detail), "%s", sl_errdetail());
	t->seq = ++lr->ndone;
	if (rv != 0)
		lr->failed = true;
	pthread_cond_broadcast(&lr->cv);
	pthread_mutex_unlock(&lr->mtx);
	return NULL;
}

/* Every flag first, so that no task sees a neighbour's failure before it
 * knows it is being cancelled itself; then the closing. */
static void
cancel_all(struct lr *lr)
{
	for (uint32_t t = 0; t < lr->x->ntasks; t++)
		if (lr->tasks[t].ctl_ok)
			atomic_store(&lr->tasks[t].ctl.cancelled, true);
	for (uint32_t t = 0; t < lr->x->ntasks; t++)
		if (lr->tasks[t].ctl_ok)
			sli_task_cancel(&lr->tasks[t].ctl);
}

static bool
external_cancel(const struct lr *lr)
{
	return lr->o->cancel != NULL && atomic_load(lr->o->cancel);
}

/* Wait for every started task, cancelling the rest at the first failure
 * or when asked to. Returns whether the caller asked. */
static bool
wait_all(struct lr *lr, uint32_t started)
{
	bool cancelled = false, asked = false;

	pthread_mutex_lock(&lr->mtx);
	while (lr->ndone < started) {
		if (!cancelled && (lr->failed || external_cancel(lr))) {
			asked = !lr->failed;
			cancelled = true;
			pthread_mutex_unlock(&lr->mtx);
			cancel_all(lr);
			pthread_mutex_lock(&lr->mtx);
			continue;
		}
		if (lr->o->cancel == NULL || cancelled) {
			pthread_cond_wait(&lr->cv, &lr->mtx);
		} else {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += CANCEL_POLL_NS;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&lr->cv, &lr->mtx, &ts);
		}
	}
	pthread_mutex_unlock(&lr->mtx);
	for (uint32_t t = 0; t < lr->x->ntasks; t++)
		if (lr->tasks[t].started)
			pthread_join(lr->tasks[t].th, NULL);
	return asked;
}

/* The cause: a task's own failure before an unreadable input (the
 * consequence of a producer's failure) before a cancellation; the earliest
 * of a kind. */
static int
rank(int rv)
{
	return rv == 0             ? 0
	    : rv == SL_ECLOSED     ? 1
	    : rv == SL_EUNREADABLE ? 2
	                           : 3;
}

static int
result(struct lr *lr, bool asked)
{
	const struct lr_task *best = NULL;

	for (uint32_t t = 0; t < lr->x->ntasks; t++) {
		const struct lr_task *lt = &lr->tasks[t];

		if (rank(lt->rv) == 0)
			continue;
		if (best == NULL || rank(lt->rv) > rank(best->rv) ||
		    (rank(lt->rv) == rank(best->rv) && lt->seq < best->seq))
			best = lt;
	}
	if (best == NULL)
		return 0;
	if (asked && best->rv == SL_ECLOSED)
		return sli_err(
		    SL_ECLOSED, "job '%s': cancelled", lr->x->job->name);
	return sli_err(best->rv, "%s", best->detail);
}

static void
cleanup(struct lr *lr)
{
	const sl_job *job = lr->x->job;

	if (lr->descs != NULL) {
		for (uint32_t e = 0; e < job->ne; e++) {
			struct lr_master *m;

			if (lr->descs[e] == NULL)
				continue;
			m = &lr->masters[lr->master[e]];
			for (uint32_t j = 0; j < lr->x->par[job->e[e].from];
			     j++) {
				struct sl_bytes *d = &lr->descs[e][j];

				if (d->data == NULL)
					continue;
				if (m->state != NULL)
					(void)m->p->ops.shuffle.master
					    .release_partition(
					        m->state, d->data, d->len);
				m->p->host.free(d->data);
			}
			free(lr->descs[e]);
		}
	}
	for (uint32_t i = 0; i < lr->nmasters; i++) {
		if (lr->masters[i].state == NULL)
			continue;
		lr->masters[i].p->ops.shuffle.master.fini(lr->masters[i].state);
		free(lr->masters[i].state);
	}
	if (lr->tasks != NULL) {
		for (uint32_t t = 0; t < lr->x->ntasks; t++) {
			const struct sli_vertex *v =
			    &job->v[lr->x->task_vertex[t]];

			for (uint32_t k = 0;
			     lr->tasks[t].outputs != NULL && k < v->nout; k++) {
				struct sli_task_output *to =
				    &lr->tasks[t].outputs[k];

				for (uint32_t i = 0; to->sub_bytes != NULL &&
				     i < to->num_subpartitions;
				     i++)
					lr->o->edge_bytes[v->out[k]] +=
					    to->sub_bytes[i];
				free(to->sub_bytes);
			}
			free(lr->tasks[t].outputs);
			free(lr->tasks[t].inputs);
			if (lr->tasks[t].ctl_ok)
				sli_task_ctl_destroy(&lr->tasks[t].ctl);
		}
	}
	free(lr->tasks);
	free(lr->descs);
	free(lr->masters);
	free(lr->master);
	free(lr->shuffle);
}

int
sli_local_run(const struct sli_exec *x, struct sli_plugin_set *set,
    const struct sli_local_opts *opts)
{
	static const struct sli_local_opts no_opts;
	struct lr lr = { 0 };
	uint32_t started = 0;
	uint32_t ne;
	bool asked;
	int rv;

	if (x == NULL || x->job == NULL || set == NULL)
		return sli_err(SL_EINVAL, "local run: no job or plugins");
	lr.x = x;
	lr.o = opts != NULL ? opts : &no_opts;
	lr.job_id = lr.o->job_id != NULL ? lr.o->job_id : x->job->name;
	ne = x->job->ne;
	if (pthread_mutex_init(&lr.mtx, NULL) != 0)
		return sli_err(SL_ENOMEM, "out of memory");
	if (pthread_cond_init(&lr.cv, NULL) != 0) {
		pthread_mutex_destroy(&lr.mtx);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	lr.shuffle = calloc(ne + 1, sizeof(*lr.shuffle));
	lr.master = calloc(ne + 1, sizeof(*lr.master));
	lr.masters = calloc(ne + 1, sizeof(*lr.masters));
	lr.descs = calloc(ne + 1, sizeof(*lr.descs));
	lr.tasks = calloc(x->ntasks + 1, sizeof(*lr.tasks));
	if (lr.shuffle == NULL || lr.master == NULL || lr.masters == NULL ||
	    lr.descs == NULL || lr.tasks == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rv = sli_exec_resolve(x, set, lr.shuffle)) != 0 ||
	    (rv = open_masters(&lr)) != 0 || (rv = register_all(&lr)) != 0 ||
	    (rv = make_specs(&lr, set)) != 0)
		goto out;

	/* A thread per task, but one per chain: chained tasks run in the
	 * thread of the task before them. */
	for (uint32_t t = 0; t < x->ntasks; t++) {
		int err;

		if (lr.tasks[t].chained_in)
			continue;
		err = pthread_create(
		    &lr.tasks[t].th, NULL, task_thread, &lr.tasks[t]);
		if (err != 0) {
			rv = sli_err(-err,
			    "local run: starting the thread of "
			    "task %u: %s",
			    t, strerror(err));
			break;
		}
		lr.tasks[t].started = true;
		started++;
	}
	if (rv != 0) {
		cancel_all(&lr);
		(void)wait_all(&lr, started);
		/* rv's detail is this thread's, still set */
		goto out;
	}
	asked = wait_all(&lr, started);
	rv = result(&lr, asked);
out : {
	/* cleanup calls plugins, which may set the detail */
	char keep[1100];

	snprintf(keep, sizeof(keep), "%s", sl_errdetail());
	cleanup(&lr);
	pthread_cond_destroy(&lr.cv);
	pthread_mutex_destroy(&lr.mtx);
	if (rv != 0)
		sli_err(rv, "%s", keep);
}
	return rv;
}
