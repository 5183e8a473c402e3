/*
 * The worker: a libuv loop that talks to the coordinator, and a thread per
 * running task. See worker.h.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <uv.h>

#include "common/error.h"
#include "common/log.h"
#include "exec/task.h"
#include "graph/exec.h"
#include "graph/job.h"
#include "net/rpc.h"
#include "worker.h"

#define HELLO_RETRY_MS 100      /* the first retry of a hello, doubled */
#define HELLO_RETRY_MAX_MS 2000 /* up to this */
#define HELLO_TIMEOUT_MS 2000   /* a hello's answer is due by then */
#define HELLO_WATCH_MS 6000     /* no answer nor timeout: dial again */
#define HB_SILENT_MS 6000       /* no heartbeat answered: dial again */
#define CALL_TIMEOUT_MS 5000
#define MAX_SERVICES 16

/* A job's graph, built once from DEPLOY.job_json and kept while tasks of
 * it run here. */
struct wjob {
	struct wjob *next;
	char *id;
	sl_job *job;
	struct sli_exec x;
	uint32_t refs;
};

struct worker;

/* One task of what a DEPLOY runs: stage 0 is the task deployed, the
 * others the tasks chained after it (operator chaining, task.h). */
struct wstage {
	uint32_t vertex;
	struct sli_task_spec spec;
	struct sli_task_metrics m;
	struct sli_task_output *outs;
	uint32_t nouts;
};

struct wtask {
	struct wtask *next;
	struct worker *w;
	struct wjob *j;
	uint32_t index, attempt;
	struct wstage *st;
	uint32_t nst;
	pthread_t th;
	bool ctl_ok;
	struct sli_task_ctl ctl;
	struct sli_task_input *ins; /* stage 0's */
	uint32_t nins;
	char *config; /* stage 0's configuration, when deployed with one */
	int rv;
	char detail[2048];
};

struct worker {
	const struct sli_worker_opts *o;
	uv_loop_t loop;
	struct sli_loopq q;
	struct sli_rpc_server *ctl;
	struct sli_rpc_client *coord;
	uv_timer_t hb;
	uv_timer_t retry;
	uv_timer_t parent;
	uv_signal_t sigint, sigterm;
	char id[256];
	char host[256];
	uint32_t hb_ms;
	bool welcomed;
	uint64_t heard; /* uv_now of the coordinator's last answer */
	bool hello_pending;
	uint32_t retry_ms;  /* before the next hello: backs off */
	uint32_t hello_gen; /* of the hello in flight */
	bool stopping;
	bool orphaned; /* the parent died: it cleans nothing up */
	bool closed;
	int result;
	uint32_t reports; /* TASK_STATE calls waiting for their reply */
	uint32_t linger;  /* ticks waited for them while closing */
	struct wtask *tasks;
	uint32_t running;
	struct wjob *jobs;
	struct sli_plugin *served[MAX_SERVICES];
	struct sli_wire_service services[MAX_SERVICES];
	char urls[MAX_SERVICES][512];
	uint32_t nservices;
};

static void send_hello(struct worker *w);
static void maybe_close(struct worker *w);
static void stop_services(struct worker *w);

/* ---- jobs ---- */

/* The job's graph as the coordinator expanded it: vertices still "auto"
 * in the document it sent are decided while the job runs, at their
 * max_parallelism (the coordinator tells each task what it reads). */
static int
build_graph(struct wjob *j)
{
	uint32_t *par = calloc(j->job->nv + 1, sizeof(*par));
	int rv;

	if (par == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t v = 0; v < j->job->nv; v++)
		if (j->job->v[v].parallelism == SL_PARALLELISM_AUTO)
			par[v] = SLI_PAR_AT_RUN;
	rv = sli_exec_build(j->job, par, &j->x);
	free(par);
	return rv;
}

static int
job_get(struct worker *w, const struct sli_wire_deploy *d, struct wjob **out)
{
	struct wjob *j;

	for (j = w->jobs; j != NULL; j = j->next)
		if (strcmp(j->id, d->job) == 0) {
			j->refs++;
			*out = j;
			return 0;
		}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->id = strdup(d->job)) == NULL) {
		free(j);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	if (sl_job_load_json(d->job_json, d->job_json_len, d->job, &j->job) !=
	        0 ||
	    build_graph(j) != 0) {
		sl_job_free(j->job);
		free(j->id);
		free(j);
		return SL_EINVAL;
	}
	for (uint32_t i = 0; i < j->job->nlibs; i++)
		if (sli_plugin_set_need(w->o->set, j->job->libs[i]) != 0) {
			char why[1024];

			snprintf(why, sizeof(why), "%s", sl_errdetail());
			sli_exec_free(&j->x);
			sl_job_free(j->job);
			free(j->id);
			free(j);
			return sli_err(
			    SL_ENOTFOUND, "worker %s: %s", w->id, why);
		}
	j->refs = 1;
	j->next = w->jobs;
	w->jobs = j;
	*out = j;
	return 0;
}

static void
job_put(struct worker *w, struct wjob *j)
{
	struct wjob **pp = &w->jobs;

	if (--j->refs > 0)
		return;
	while (*pp != j)
		pp = &(*pp)->next;
	*pp = j->next;
	sli_exec_free(&j->x);
	sl_job_free(j->job);
	free(j->id);
	free(j);
}

/* ---- tasks ---- */

static void
task_free(struct wtask *t)
{
	for (uint32_t i = 0; t->st != NULL && i < t->nst; i++) {
		struct wstage *g = &t->st[i];

		for (uint32_t k = 0; k < g->nouts; k++) {
			free(g->outs[k].desc.data);
			free(g->outs[k].sub_bytes);
		}
		free(g->outs);
	}
	for (uint32_t k = 0; k < t->nins; k++) {
		for (uint32_t i = 0; i < t->ins[k].ndescs; i++)
			free(t->ins[k].descs[i].data);
		free((void *)t->ins[k].descs);
	}
	free(t->st);
	free(t->ins);
	free(t->config);
	if (t->ctl_ok)
		sli_task_ctl_destroy(&t->ctl);
	free(t);
}

static void
state_done(void *arg, int rv, const struct sli_msg *reply)
{
	struct worker *w = arg;

	w->reports--;
	if (rv != 0 && rv != SL_ECLOSED)
		sli_warn(
		    "worker: reporting a task's state: %s", sl_errdetail());
	(void)reply;
}

/* Send TASK_STATE for each task of t: state RUNNING with the counters so
 * far, or how it ended (the tasks of a chain end together). */
static void
report(struct worker *w, struct wtask *t, int state)
{
	for (uint32_t i = 0; i < t->nst && w->coord != NULL; i++) {
		const struct wstage *g = &t->st[i];
		struct sli_msg m = { .type = SLI_MSG_TASK_STATE };
		struct sli_wire_task_state *s = &m.task_state;
		struct sli_wire_u64s sb[64];

		s->job = t->j->id;
		s->vertex = g->vertex;
		s->index = t->index;
		s->attempt = t->attempt;
		s->state = (uint32_t)state;
		s->error = state == SLI_WIRE_FAILED ? t->detail : "";
		s->records_in = atomic_load(&g->m.records_in);
		s->records_out = atomic_load(&g->m.records_out);
		s->bytes_in = atomic_load(&g->m.bytes_in);
		s->bytes_out = atomic_load(&g->m.bytes_out);
		s->bad_edge = g->m.unreadable_edge;
		s->bad_producer = g->m.unreadable_producer;
		if (state == SLI_WIRE_FINISHED && g->nouts <= 64) {
			for (uint32_t k = 0; k < g->nouts; k++) {
				sb[k].v = g->outs[k].sub_bytes;
				sb[k].n = g->outs[k].num_subpartitions;
			}
			s->sub_bytes = sb;
			s->nsub_bytes = g->nouts;
		}
		if (sli_rpc_call(
		        w->coord, &m, CALL_TIMEOUT_MS, state_done, w) != 0)
			sli_warn("worker: reporting a task's state: %s",
			    sl_errdetail());
		else
			w->reports++;
	}
}

static void
task_ended(void *arg)
{
	struct wtask *t = arg;
	struct worker *w = t->w;
	struct wtask **pp = &w->tasks;
	int state = t->rv == 0    ? SLI_WIRE_FINISHED
	    : t->rv == SL_ECLOSED ? SLI_WIRE_CANCELLED
	                          : SLI_WIRE_FAILED;

	pthread_join(t->th, NULL);
	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	w->running--;
	if (state == SLI_WIRE_FAILED)
		sli_info("worker %s: %s", w->id, t->detail);
	report(w, t, state);
	job_put(w, t->j);
	task_free(t);
	maybe_close(w);
}

static void *
task_thread(void *arg)
{
	struct wtask *t = arg;

	t->rv = sli_task_run(&t->st[0].spec);
	if (t->rv != 0)
		snprintf(t->detail, sizeof(t->detail), "%s", sl_errdetail());
	if (sli_loopq_post(&t->w->q, task_ended, t) != 0)
		abort(); /* cannot tell the loop: nothing sane is left */
	return NULL;
}

static const char *
edge_shuffle(const sl_job *job, uint32_t e)
{
	return job->e[e].shuffle != NULL ? job->e[e].shuffle
	                                 : job->default_shuffle;
}

static struct sli_plugin *
find_shuffle(struct worker *w, const sl_job *job, uint32_t e)
{
	struct sli_plugin *p = sli_plugin_set_find(
	    w->o->set, SL_PLUGIN_SHUFFLE, edge_shuffle(job, e));

	if (p == NULL)
		sli_err(SL_ENOTFOUND,
		    "edge %u: shuffle plugin '%s' is not loaded on worker %s",
		    e, edge_shuffle(job, e), w->id);
	return p;
}

/* Stage g: vertex v's operator and outputs (copied from o[0..nout)). */
static int
stage_build(struct worker *w, struct wtask *t, struct wstage *g, uint32_t v,
    const struct sli_wire_output *o, uint32_t nout, bool partial)
{
	const sl_job *job = t->j->job;
	const struct sli_exec *x = &t->j->x;
	const struct sli_vertex *vx = &job->v[v];
	struct sli_plugin *lib;

	if (t->index >= x->par[v])
		return sli_err(SL_EINVAL, "job %s: no task %s#%u", t->j->id,
		    vx->id, t->index);
	if (partial && (vx->nin != 1 || nout != 1))
		return sli_err(SL_EINVAL,
		    "task %s#%u: partial, but not one input and one output",
		    vx->id, t->index);
	if (nout != vx->nout)
		return sli_err(SL_EINVAL,
		    "task %s#%u: %u outputs deployed, the vertex has %u",
		    vx->id, t->index, nout, vx->nout);
	g->vertex = v;
	sli_task_metrics_init(&g->m);
	g->spec.op = sli_operator_find(w->o->set, vx->op, &lib);
	if (g->spec.op == NULL)
		return sli_err(SL_ENOTFOUND,
		    "vertex '%s': operator '%s' is not in any operator "
		    "library loaded on worker %s",
		    vx->id, vx->op, w->id);
	g->spec.op_host = &lib->host;
	if ((g->outs = calloc(nout ? nout : 1, sizeof(*g->outs))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < nout; k++) {
		struct sli_task_output *to = &g->outs[k];

		if (o[k].edge != vx->out[k])
			return sli_err(SL_EINVAL, "output %u: edge %u, not %u",
			    k, o[k].edge, vx->out[k]);
		/* a partial result goes where its vertex's input came
		 * through: a blocking partition of that edge's plugin */
		if ((to->shuffle = find_shuffle(
		         w, job, partial ? vx->in[0] : o[k].edge)) == NULL)
			return SL_ENOTFOUND;
		to->num_subpartitions = o[k].num_subpartitions;
		to->sub_bytes =
		    calloc(o[k].num_subpartitions, sizeof(uint64_t));
		to->desc.data = malloc(o[k].desc.len ? o[k].desc.len : 1);
		if (to->sub_bytes == NULL || to->desc.data == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		if (o[k].desc.len > 0)
			memcpy(to->desc.data, o[k].desc.data, o[k].desc.len);
		to->desc.len = o[k].desc.len;
		g->nouts++;
	}
	g->spec.exec = x;
	g->spec.task = x->base[v] + t->index;
	g->spec.attempt = t->attempt;
	/* a fault the job asks to inject into this attempt */
	{
		const struct sli_fault *f =
		    sli_job_fault(job, v, t->index, t->attempt);

		if (f != NULL) {
			g->spec.fault = f->action == SL_FAULT_CRASH_WORKER
			    ? SLI_FAULT_CRASH
			    : SLI_FAULT_FAIL;
			g->spec.fault_after = f->after_records;
		}
	}
	g->spec.outputs = g->outs;
	g->spec.metrics = &g->m;
	return 0;
}

/* Fill t's stages from d; everything copied, so the message may go. */
static int
task_build(struct worker *w, struct wtask *t, const struct sli_wire_deploy *d)
{
	const sl_job *job = t->j->job;
	const struct sli_vertex *vx;
	int rv;

	if (d->vertex >= job->nv)
		return sli_err(
		    SL_EINVAL, "job %s: no vertex %u", d->job, d->vertex);
	vx = &job->v[d->vertex];
	if (d->ninputs != vx->nin)
		return sli_err(SL_EINVAL,
		    "task %s#%u: %u inputs deployed, the vertex has %u", vx->id,
		    d->index, d->ninputs, vx->nin);
	if ((t->st = calloc(1 + d->nchain, sizeof(*t->st))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	t->nst = 1 + d->nchain;
	if ((rv = stage_build(w, t, &t->st[0], d->vertex, d->outputs,
	         d->noutputs, d->partial != 0)) != 0)
		return rv;
	t->st[0].spec.partial = d->partial != 0;
	if (d->config != NULL && d->config[0] != '\0') {
		if ((t->config = strdup(d->config)) == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		t->st[0].spec.config_json = t->config;
	}
	for (uint32_t c = 0; c < d->nchain; c++) {
		const struct sli_wire_chained *ch = &d->chain[c];
		const struct sli_vertex *prev = &job->v[t->st[c].vertex];

		/* sli_task_run checks the rest (sli_exec_chained) */
		if (ch->vertex >= job->nv || prev->nout != 1 ||
		    job->e[prev->out[0]].to != ch->vertex)
			return sli_err(SL_EINVAL,
			    "task %s#%u: chain[%u] is not fed by the task "
			    "before it",
			    vx->id, d->index, c);
		if ((rv = stage_build(w, t, &t->st[c + 1], ch->vertex,
		         ch->outputs, ch->noutputs, false)) != 0)
			return rv;
		t->st[c].spec.chain = &t->st[c + 1].spec;
	}
	if ((t->ins = calloc(vx->nin ? vx->nin : 1, sizeof(*t->ins))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < vx->nin; k++) {
		const struct sli_wire_input *in = &d->inputs[k];
		struct sli_task_input *ti = &t->ins[k];
		struct sl_bytes *descs;

		if (in->edge != vx->in[k])
			return sli_err(SL_EINVAL, "input %u: edge %u, not %u",
			    k, in->edge, vx->in[k]);
		if ((ti->shuffle = find_shuffle(w, job, in->edge)) == NULL)
			return SL_ENOTFOUND;
		descs = calloc(in->ndescs ? in->ndescs : 1, sizeof(*descs));
		if (descs == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		ti->descs = descs;
		t->nins++;
		for (uint32_t i = 0; i < in->ndescs; i++) {
			if ((descs[i].data = malloc(in->descs[i].len + 1)) ==
			    NULL)
				return sli_err(SL_ENOMEM, "out of memory");
			if (in->descs[i].len > 0)
				memcpy(descs[i].data, in->descs[i].data,
				    in->descs[i].len);
			descs[i].len = in->descs[i].len;
			ti->ndescs++;
		}
		ti->sub_lo = in->sub_lo;
		ti->sub_hi = in->sub_hi;
		ti->first = in->first;
		ti->partials = in->partials != 0;
	}
	t->st[0].spec.inputs = t->ins;
	return 0;
}

static int
deploy(struct worker *w, const struct sli_wire_deploy *d)
{
	struct wtask *t;
	int rv;

	if (w->stopping)
		return sli_err(SL_ECLOSED, "worker %s is shutting down", w->id);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	t->w = w;
	t->index = d->index;
	t->attempt = d->attempt;
	if ((rv = job_get(w, d, &t->j)) != 0) {
		free(t);
		return rv;
	}
	if ((rv = task_build(w, t, d)) != 0 ||
	    (rv = sli_task_ctl_init(&t->ctl)) != 0) {
		job_put(w, t->j);
		task_free(t);
		return rv;
	}
	t->ctl_ok = true;
	t->st[0].spec.ctl = &t->ctl;
	if (pthread_create(&t->th, NULL, task_thread, t) != 0) {
		job_put(w, t->j);
		task_free(t);
		return sli_err(SL_ENOMEM, "cannot start a task thread");
	}
	t->next = w->tasks;
	w->tasks = t;
	w->running++;
	if (sli_log_level() >= SL_LOG_INFO) {
		char name[192];

		for (uint32_t i = 0; i < t->nst; i++) {
			sli_task_name(
			    &t->j->x, t->st[i].spec.task, name, sizeof(name));
			sli_info("worker %s: running task %s of job %s "
			         "(attempt %u)%s",
			    w->id, name, t->j->id, t->attempt,
			    i > 0 ? ", chained" : "");
		}
	}
	return 0;
}

static void
cancel_all(struct worker *w)
{
	for (struct wtask *t = w->tasks; t != NULL; t = t->next)
		sli_task_cancel(&t->ctl);
}

/* ---- the control server: what the coordinator tells us ---- */

static void
on_control(
    void *arg, struct sli_rpc_req *req, const struct sli_msg *m, uint32_t pipe)
{
	struct worker *w = arg;
	struct sli_msg ok = { .type = SLI_MSG_OK };

	switch (m->type) {
	case SLI_MSG_DEPLOY:
		if (deploy(w, &m->deploy) != 0) {
			sli_rpc_reply_error(req, "%s", sl_errdetail());
			return;
		}
		break;
	case SLI_MSG_CANCEL:
		for (struct wtask *t = w->tasks; t != NULL; t = t->next)
			for (uint32_t i = 0; i < t->nst; i++)
				if (t->st[i].vertex == m->cancel.vertex &&
				    t->index == m->cancel.index &&
				    t->attempt == m->cancel.attempt &&
				    strcmp(t->j->id, m->cancel.job) == 0)
					sli_task_cancel(&t->ctl);
		break;
	case SLI_MSG_SHUTDOWN:
		sli_info("worker %s: shutdown requested", w->id);
		w->stopping = true;
		cancel_all(w);
		break;
	default:
		sli_rpc_reply_error(req, "worker: unexpected %s",
		    sli_msg_type_name((int)m->type));
		return;
	}
	sli_rpc_reply(req, &ok);
	if (w->stopping)
		maybe_close(w);
}

/* ---- registration and heartbeats ---- */

static void
on_retry(uv_timer_t *h)
{
	send_hello(h->data);
}

static void
heartbeat_done(void *arg, int rv, const struct sli_msg *reply)
{
	struct worker *w = arg;

	if (w->stopping)
		return;
	if (rv == 0)
		w->heard = uv_now(&w->loop);
	if (rv == 0 && reply->type == SLI_MSG_ERROR && w->welcomed) {
		/* The coordinator does not know us (it restarted): register
		 * again (once: later errors of heartbeats sent before are
		 * answered by the hello in flight, or the coordinator takes a
		 * second hello of this process as the same worker). */
		sli_warn("worker %s: coordinator: %s; registering again", w->id,
		    reply->error.message);
		w->welcomed = false;
		uv_timer_stop(&w->hb);
		send_hello(w);
	}
}

static void dial_again(struct worker *w);

static void
on_heartbeat(uv_timer_t *h)
{
	struct worker *w = h->data;
	struct sli_msg m = { .type = SLI_MSG_HEARTBEAT };

	if (!w->welcomed || w->stopping)
		return;
	if (uv_now(&w->loop) - w->heard > HB_SILENT_MS) {
		/* Not even an error back (a coordinator started again
		 * answers one): the connection is as stuck as a hello can
		 * be (on_hello_watch). */
		sli_warn("worker %s: no answer to heartbeats in %d s; dialing "
		         "%s again",
		    w->id, HB_SILENT_MS / 1000, w->o->coordinator);
		w->welcomed = false;
		uv_timer_stop(&w->hb);
		dial_again(w);
		return;
	}
	m.heartbeat.worker = w->id;
	m.heartbeat.running = w->running;
	(void)sli_rpc_call(w->coord, &m, (int)w->hb_ms * 3, heartbeat_done, w);
	for (struct wtask *t = w->tasks; t != NULL; t = t->next)
		report(w, t, SLI_WIRE_RUNNING);
}

/* A hello in flight: answers to one given up on are told apart. */
struct hello_call {
	struct worker *w;
	uint32_t gen;
};

static void on_hello_watch(uv_timer_t *t);

/* Say hello again later, backing off: a coordinator that is starting
 * again is not hurried by a crowd of workers. */
static void
retry_later(struct worker *w)
{
	if (w->retry_ms == 0)
		w->retry_ms = HELLO_RETRY_MS;
	uv_timer_start(&w->retry, on_retry, w->retry_ms, 0);
	w->retry_ms = w->retry_ms * 2 > HELLO_RETRY_MAX_MS ? HELLO_RETRY_MAX_MS
	                                                   : w->retry_ms * 2;
}

static void
hello_done(void *arg, int rv, const struct sli_msg *reply)
{
	struct hello_call *h = arg;
	struct worker *w = h->w;
	bool stale = h->gen != w->hello_gen;

	free(h);
	if (stale)
		return; /* given up on by the watch: another was sent */
	w->hello_pending = false;
	if (w->stopping)
		return; /* the retry timer is the linger's now */
	uv_timer_stop(&w->retry);
	if (rv == 0 && reply->type == SLI_MSG_WELCOME) {
		w->welcomed = true;
		w->heard = uv_now(&w->loop);
		w->retry_ms = HELLO_RETRY_MS;
		w->hb_ms = reply->welcome.heartbeat_ms;
		sli_info(
		    "worker %s: registered with %s", w->id, w->o->coordinator);
		uv_timer_start(&w->hb, on_heartbeat, w->hb_ms, w->hb_ms);
		return;
	}
	if (rv == 0 && reply->type == SLI_MSG_ERROR) {
		sli_warn("worker %s: coordinator refused: %s", w->id,
		    reply->error.message);
		w->result = sli_err(
		    SL_EINVAL, "coordinator refused: %s", reply->error.message);
		w->stopping = true;
		maybe_close(w);
		return;
	}
	retry_later(w);
}

/* Collecting what a service holds (shuffle server op held). */
struct held_list {
	struct sli_wire_service *sv;
	uint32_t cap; /* entries sv->held has room for */
	int rv;
};

static void
held_one(void *arg, const char *job, uint32_t edge, uint32_t producer,
    uint32_t attempt)
{
	struct held_list *h = arg;
	struct sli_wire_service *sv = h->sv;
	struct sli_wire_part *more, *p;

	if (h->rv != 0)
		return;
	if (sv->nheld == SLI_WIRE_MAX_HELD) {
		h->rv = sli_err(SL_ERANGE, "more than %u partitions held",
		    SLI_WIRE_MAX_HELD);
		return;
	}
	if (sv->nheld == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 64;

		if ((more = realloc(sv->held, cap * sizeof(*more))) == NULL) {
			h->rv = sli_err(SL_ENOMEM, "out of memory");
			return;
		}
		sv->held = more;
		h->cap = cap;
	}
	p = &sv->held[sv->nheld];
	if ((p->job = strdup(job)) == NULL) {
		h->rv = sli_err(SL_ENOMEM, "out of memory");
		return;
	}
	p->edge = edge;
	p->producer = producer;
	p->attempt = attempt;
	sv->nheld++;
}

static void
held_free(struct worker *w)
{
	for (uint32_t i = 0; i < w->nservices; i++) {
		struct sli_wire_service *sv = &w->services[i];

		for (uint32_t k = 0; k < sv->nheld; k++)
			free(sv->held[k].job);
		free(sv->held);
		sv->held = NULL;
		sv->nheld = 0;
		sv->lists = 0;
	}
}

/* What each service holds, for a coordinator that restarted and takes up
 * jobs whose tasks ran here (a service that cannot tell says so). */
static void
held_collect(struct worker *w)
{
	for (uint32_t i = 0; i < w->nservices; i++) {
		const struct sl_shuffle_server_ops *ops =
		    &w->served[i]->ops.shuffle.server;
		struct held_list h = { &w->services[i], 0, 0 };

		if (ops->held == NULL)
			continue;
		if ((h.rv = ops->held(held_one, &h)) == 0 && h.rv == 0) {
			w->services[i].lists = 1;
			continue;
		}
		sli_warn("worker %s: %s: cannot list the partitions held: %s",
		    w->id, w->served[i]->name, sl_errdetail());
		for (uint32_t k = 0; k < w->services[i].nheld; k++)
			free(w->services[i].held[k].job);
		free(w->services[i].held);
		w->services[i].held = NULL;
		w->services[i].nheld = 0;
	}
}

static void
send_hello(struct worker *w)
{
	struct sli_msg m = { .type = SLI_MSG_HELLO };
	struct hello_call *h;
	int rv;

	if (w->hello_pending || w->stopping)
		return;
	m.hello.worker = w->id;
	m.hello.slots = w->o->slots;
	m.hello.ctl_url = (char *)sli_rpc_server_url(w->ctl);
	m.hello.pid = (uint32_t)getpid();
	m.hello.host = w->host;
	held_collect(w);
	m.hello.data = w->services;
	m.hello.ndata = w->nservices;
	if ((h = malloc(sizeof(*h))) == NULL) {
		held_free(w);
		retry_later(w);
		return;
	}
	h->w = w;
	h->gen = ++w->hello_gen;
	rv = sli_rpc_call(w->coord, &m, HELLO_TIMEOUT_MS, hello_done, h);
	held_free(w);
	if (rv == 0) {
		w->hello_pending = true;
		uv_timer_start(&w->retry, on_hello_watch, HELLO_WATCH_MS, 0);
		return;
	}
	free(h);
	retry_later(w);
}

/*
 * A hello that got no answer at all, not even its timeout, long after it
 * was sent: seen (rarely) when the coordinator was killed while it was in
 * flight. Give up on it and on the connection, dial the coordinator
 * again and say hello anew.
 */
static void
on_hello_watch(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (!w->hello_pending || w->stopping)
		return;
	sli_warn("worker %s: no answer to its hello in %d s; dialing %s again",
	    w->id, HELLO_WATCH_MS / 1000, w->o->coordinator);
	dial_again(w);
}

/* A new connection to the coordinator in place of the old, and a hello on
 * it; when the dial fails, a hello on the old one (watched: it comes back
 * here). */
static void
dial_again(struct worker *w)
{
	struct sli_rpc_client *cl;

	w->hello_gen++; /* the pending one's answer, if any, is ignored */
	w->hello_pending = false;
	if (sli_rpc_dial(&w->q, w->o->coordinator, NULL, NULL, &cl) == 0) {
		sli_rpc_client_close(w->coord);
		w->coord = cl;
	}
	send_hello(w);
}

/* ---- stopping ---- */

static void
on_signal(uv_signal_t *h, int sig)
{
	struct worker *w = h->data;

	sli_info("worker %s: signal %d, stopping", w->id, sig);
	/* PR_SET_PDEATHSIG's SIGTERM: the parent is gone */
	if (w->o->parent_pid != 0 && getppid() != w->o->parent_pid)
		w->orphaned = true;
	w->stopping = true;
	cancel_all(w);
	maybe_close(w);
}

static void
on_parent(uv_timer_t *h)
{
	struct worker *w = h->data;

	if (getppid() == w->o->parent_pid)
		return;
	sli_warn(
	    "worker %s: parent %d is gone, stopping", w->id, w->o->parent_pid);
	w->orphaned = true;
	w->stopping = true;
	cancel_all(w);
	maybe_close(w);
}

/*
 * The parent (sluice run) died without cleaning up, SIGKILLed say: the
 * coordinator's socket file is left in the run directory. Each worker
 * removes it and tries the directory; the last one out succeeds (nng
 * removes a worker's own socket file shortly after it closed it).
 */
static void
remove_run_dir(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/coordinator.sock", dir);
	(void)unlink(path);
	for (int tries = 0; tries < 25 && rmdir(dir) != 0 && errno == ENOTEMPTY;
	     tries++)
		usleep(20000);
}

/* Closing: wait (up to a second) for the last reports and the reply to
 * SHUTDOWN to leave, then close every handle; the loop then ends. */
static void
on_linger(uv_timer_t *h)
{
	struct worker *w = h->data;

	if (w->reports > 0 && ++w->linger < 50)
		return;
	uv_close((uv_handle_t *)&w->hb, NULL);
	uv_close((uv_handle_t *)&w->retry, NULL);
	uv_close((uv_handle_t *)&w->parent, NULL);
	uv_close((uv_handle_t *)&w->sigint, NULL);
	uv_close((uv_handle_t *)&w->sigterm, NULL);
	sli_rpc_client_close(w->coord);
	w->coord = NULL;
	sli_rpc_server_close(w->ctl);
	w->ctl = NULL;
	stop_services(w);
	sli_loopq_close(&w->q);
}

/* Once stopping and no task runs: close everything; the loop ends. */
static void
maybe_close(struct worker *w)
{
	if (!w->stopping || w->running > 0 || w->closed)
		return;
	w->closed = true;
	uv_timer_stop(&w->hb);
	uv_timer_stop(&w->parent);
	uv_timer_stop(&w->retry);
	uv_timer_start(&w->retry, on_linger, 20, 20);
}

/* ---- start ---- */

static int
listen_url(struct worker *w, const char *what, char *buf, size_t cap)
{
	if (strncmp(w->o->coordinator, "ipc://", 6) == 0)
		snprintf(buf, cap, "ipc://%s/sluice-%d-%s.sock",
		    w->o->run_dir ? w->o->run_dir : "/tmp", (int)getpid(),
		    what);
	else if (strncmp(w->o->coordinator, "inproc://", 9) == 0)
		snprintf(
		    buf, cap, "inproc://sluice-%d-%s", (int)getpid(), what);
	else
		snprintf(buf, cap, "tcp://%s:0", w->host);
	return 0;
}

static int
start_services(struct worker *w)
{
	struct sli_plugin_set *set = w->o->set;

	for (size_t i = 0; i < set->n; i++) {
		struct sli_plugin *p = set->v[i];
		const struct sl_shuffle_server_ops *sv;
		char url[512];
		int rv;

		if (p->desc.kind != SL_PLUGIN_SHUFFLE)
			continue;
		sv = &p->ops.shuffle.server;
		if (sv->start == NULL || w->nservices == MAX_SERVICES)
			continue;
		listen_url(w, p->name, url, sizeof(url));
		sli_err_clear();
		rv = sv->start(
		    &p->host, url, w->urls[w->nservices], sizeof(w->urls[0]));
		if (rv != 0)
			return sli_err(rv,
			    "shuffle '%s': cannot serve at %s: %s", p->name,
			    url,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
		w->served[w->nservices] = p;
		w->services[w->nservices].plugin = p->name;
		w->services[w->nservices].url = w->urls[w->nservices];
		w->nservices++;
	}
	return 0;
}

static void
stop_services(struct worker *w)
{
	for (uint32_t i = 0; i < w->nservices; i++)
		w->served[i]->ops.shuffle.server.stop();
	w->nservices = 0;
}

int
sli_worker_run(const struct sli_worker_opts *o)
{
	struct worker *w;
	char url[512];
	int rv;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	w->o = o;
	if (o->host != NULL)
		snprintf(w->host, sizeof(w->host), "%s", o->host);
	else if (gethostname(w->host, sizeof(w->host)) != 0)
		snprintf(w->host, sizeof(w->host), "localhost");
	if (o->id != NULL)
		snprintf(w->id, sizeof(w->id), "%s", o->id);
	else
		snprintf(
		    w->id, sizeof(w->id), "%.200s-%d", w->host, (int)getpid());
	if (o->parent_pid > 0) {
		/* Die with sluice run, even when it is killed with SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != o->parent_pid) {
			free(w);
			return sli_err(SL_ECLOSED, "parent already gone");
		}
	}
	if (uv_loop_init(&w->loop) != 0) {
		free(w);
		return sli_err(SL_ENOMEM, "cannot start the event loop");
	}
	if ((rv = sli_loopq_init(&w->q, &w->loop)) != 0)
		goto out_loop;
	if ((rv = start_services(w)) != 0)
		goto out_q;
	listen_url(w, "ctl", url, sizeof(url));
	if ((rv = sli_rpc_listen(&w->q, url, on_control, NULL, w, &w->ctl)) !=
	    0)
		goto out_services;
	if ((rv = sli_rpc_dial(&w->q, o->coordinator, NULL, NULL, &w->coord)) !=
	    0)
		goto out_ctl;
	uv_timer_init(&w->loop, &w->hb);
	uv_timer_init(&w->loop, &w->retry);
	uv_timer_init(&w->loop, &w->parent);
	uv_signal_init(&w->loop, &w->sigint);
	uv_signal_init(&w->loop, &w->sigterm);
	w->hb.data = w->retry.data = w->parent.data = w;
	w->sigint.data = w->sigterm.data = w;
	uv_signal_start(&w->sigint, on_signal, SIGINT);
	uv_signal_start(&w->sigterm, on_signal, SIGTERM);
	if (o->parent_pid > 0)
		uv_timer_start(&w->parent, on_parent, 200, 200);
	sli_info("worker %s: %u slots, control at %s", w->id, o->slots,
	    sli_rpc_server_url(w->ctl));
	send_hello(w);

	uv_run(&w->loop, UV_RUN_DEFAULT);
	rv = w->result;
	goto out_loop;

out_ctl:
	sli_rpc_server_close(w->ctl);
out_services:
	stop_services(w);
out_q:
	sli_loopq_close(&w->q);
	uv_run(&w->loop, UV_RUN_DEFAULT);
out_loop:
	if (uv_loop_close(&w->loop) != 0)
		sli_warn("worker: the event loop had handles left");
	while (w->jobs != NULL) {
		struct wjob *j = w->jobs;

		w->jobs = j->next;
		sli_exec_free(&j->x);
		sl_job_free(j->job);
		free(j->id);
		free(j);
	}
	if (w->orphaned && o->run_dir != NULL)
		remove_run_dir(o->run_dir);
	free(w);
	return rv;
}
