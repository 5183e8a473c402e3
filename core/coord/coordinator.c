/*
 * The coordinator: workers, jobs, and the loop that drives them. One mutex
 * (c->mtx) guards everything; the loop thread holds it while it handles an
 * event, API callers while they look or submit. Messages are only sent
 * from the loop thread.
 *
 * A job's life: submitted (checked, built, its regions cut) -> started when
 * a worker is there (shuffle masters opened, the scheduler plugin's
 * on_start) -> each region the plugin deploys has its partitions
 * registered and its tasks placed and sent -> TASK_STATE reports finish
 * tasks, then regions (the plugin's on_region_finished) -> every task
 * finished: FINISHED; a task failed, a worker lost: FAILED.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "common/error.h"
#include "common/log.h"
#include "coord.h"
#include "coord_impl.h"
#include "exec/task.h"
#include "graph/exec.h"
#include "graph/job.h"
#include "graph/jobvars.h"
#include "net/rpc.h"
#include "plan/adaptive.h"
#include "plan/regions.h"
#include "plan/schedule.h"

#define CALL_TIMEOUT_MS 10000

struct sli_coord {
	const struct sli_coord_opts *o;
	uint32_t hb_ms, misses;
	uv_loop_t loop;
	struct sli_loopq q;
	uv_timer_t tick;
	uv_timer_t retry; /* the next failover restart due */
	uv_thread_t th;
	uv_mutex_t mtx;
	struct sli_rpc_server *srv;
	struct cworker *workers;
	struct cjob *jobs;
	uint32_t njobs;
	struct sli_plugin *sched;
	char *shuffle_config; /* the masters' configuration, or NULL */
	bool stopping;
};

uint64_t
sli_coord_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double
sli_coord_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void job_try_start(struct cjob *j);

/* ---- workers ---- */

static struct cworker *
worker_find(struct sli_coord *c, const char *id)
{
	for (struct cworker *w = c->workers; w != NULL; w = w->next)
		if (strcmp(w->id, id) == 0)
			return w;
	return NULL;
}

struct cworker *
sli_coord_worker_find(struct sli_coord *c, const char *id)
{
	struct cworker *w = worker_find(c, id);

	return w != NULL && !w->lost ? w : NULL;
}

/* A worker's dialer retries at most a second apart (core/net/rpc.c) and
 * a hello sent while the coordinator was down times out after 2 s: a
 * worker may need seconds to reach the new one, however short the
 * heartbeat. The wait ends as soon as every worker needed is back. */
#define RECOVERY_WAIT_MIN_MS 5000

uint64_t
sli_coord_wait_ms(const struct sli_coord *c)
{
	uint64_t ms = (uint64_t)c->hb_ms * c->misses;

	return ms > RECOVERY_WAIT_MIN_MS ? ms : RECOVERY_WAIT_MIN_MS;
}

static const char *
worker_data_url(const struct cworker *w, const char *plugin)
{
	for (uint32_t i = 0; i < w->ndata; i++)
		if (strcmp(w->data[i].plugin, plugin) == 0)
			return w->data[i].url;
	return NULL;
}

static int
part_cmp(const void *a, const void *b)
{
	const struct sli_wire_part *x = a, *y = b;
	int c = strcmp(x->job, y->job);

	if (c != 0)
		return c;
	if (x->edge != y->edge)
		return x->edge < y->edge ? -1 : 1;
	if (x->producer != y->producer)
		return x->producer < y->producer ? -1 : 1;
	return x->attempt < y->attempt ? -1 : x->attempt > y->attempt;
}

bool
sli_coord_worker_holds(const struct cworker *w, const char *plugin,
    const char *job, uint32_t edge, uint32_t producer, uint32_t attempt)
{
	struct sli_wire_part key = { (char *)job, edge, producer, attempt };

	for (uint32_t i = 0; i < w->ndata; i++)
		if (strcmp(w->data[i].plugin, plugin) == 0)
			return !w->data[i].lists ||
			    (w->data[i].nheld > 0 &&
			        bsearch(&key, w->data[i].held, w->data[i].nheld,
			            sizeof(key), part_cmp) != NULL);
	return true; /* no server here: its master alone knows */
}

/* A copy of what a service said in a hello, its partitions sorted. */
static int
service_copy(struct sli_wire_service *to, const struct sli_wire_service *from)
{
	to->plugin = strdup(from->plugin);
	to->url = strdup(from->url);
	to->lists = from->lists;
	if (to->plugin == NULL || to->url == NULL ||
	    (from->nheld > 0 &&
	        (to->held = calloc(from->nheld, sizeof(*to->held))) == NULL))
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < from->nheld; k++) {
		to->held[k] = from->held[k];
		if ((to->held[k].job = strdup(from->held[k].job)) == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		to->nheld++;
	}
	if (to->nheld > 1)
		qsort(to->held, to->nheld, sizeof(*to->held), part_cmp);
	return 0;
}

static void
worker_free(struct cworker *w)
{
	sli_rpc_client_close(w->cl);
	for (uint32_t i = 0; i < w->ndata; i++) {
		free(w->data[i].plugin);
		free(w->data[i].url);
		for (uint32_t k = 0; k < w->data[i].nheld; k++)
			free(w->data[i].held[k].job);
		free(w->data[i].held);
	}
	free(w->data);
	free(w->id);
	free(w->ctl_url);
	free(w->host);
	free(w);
}

/* A worker is gone: its shuffle data with it (each master is told), the
 * tasks it ran fail over, with the finished ones whose partitions a
 * consumer still needs (failover_run.c). */
static void
worker_lost(struct cworker *w, const char *why)
{
	struct sli_coord *c = w->c;

	if (w->lost)
		return;
	w->lost = true;
	sli_log(w->leaving ? SL_LOG_INFO : SL_LOG_WARN,
	    "coordinator: worker %s (pid %u on %s) %s: %s", w->id, w->pid,
	    w->host, w->leaving ? "left" : "lost", why);
	for (struct cjob *j = c->jobs; j != NULL; j = j->next) {
		if (j->state != SLI_JOB_RUNNING || !j->started)
			continue;
		for (uint32_t i = 0; i < j->nmasters; i++)
			for (uint32_t k = 0; k < w->ndata; k++)
				j->masters[i].p->ops.shuffle.master.worker_lost(
				    j->masters[i].state, w->data[k].url);
		sli_coord_failover_worker(j, w, why);
	}
}

static void
on_worker_pipe(void *arg, uint32_t pipe, bool up)
{
	struct cworker *w = arg;

	(void)pipe;
	if (up || w->c->stopping)
		return;
	uv_mutex_lock(&w->c->mtx);
	worker_lost(w, "its connection closed");
	uv_mutex_unlock(&w->c->mtx);
}

static int
worker_register(struct sli_coord *c, const struct sli_wire_hello *h)
{
	struct cworker *w, *old = worker_find(c, h->worker);
	int rv;

	/* the same process saying hello again (a late answer to a heartbeat
	 * it sent before it registered, say): nothing was lost */
	if (old != NULL && !old->lost && old->pid == h->pid &&
	    strcmp(old->ctl_url, h->ctl_url) == 0 &&
	    strcmp(old->host, h->host) == 0) {
		old->last_seen = sli_coord_now_ms();
		return 0;
	}
	if (old != NULL && !old->lost)
		worker_lost(old, "registered again (restarted?)");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	w->c = c;
	w->slots = h->slots;
	w->pid = h->pid;
	w->id = strdup(h->worker);
	w->ctl_url = strdup(h->ctl_url);
	w->host = strdup(h->host);
	w->data = calloc(h->ndata ? h->ndata : 1, sizeof(*w->data));
	if (w->id == NULL || w->ctl_url == NULL || w->host == NULL ||
	    w->data == NULL) {
		worker_free(w);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < h->ndata; i++) {
		w->ndata++;
		if ((rv = service_copy(&w->data[i], &h->data[i])) != 0) {
			worker_free(w);
			return rv;
		}
	}
	if (h->ctl_url[0] == '\0') {
		worker_free(w);
		return sli_err(
		    SL_EINVAL, "worker %s: no control URL", h->worker);
	}
	if ((rv = sli_rpc_dial(&c->q, h->ctl_url, on_worker_pipe, w, &w->cl)) !=
	    0) {
		worker_free(w);
		return rv;
	}
	w->last_seen = sli_coord_now_ms();
	if (old != NULL) {
		/* Keep the old record (tasks point at it) but out of the
		 * way: its id is taken. */
		old->id[0] = '\0';
	}
	w->next = c->workers;
	c->workers = w;
	sli_info("coordinator: worker %s registered: %u slots, pid %u on %s",
	    w->id, w->slots, w->pid, w->host);
	return 0;
}

/* Partitions a master lost without a worker loss (a shuffle service
 * went): those still needed are made again. */
static void
masters_losses(struct cjob *j)
{
	if (j->state != SLI_JOB_RUNNING || !j->started)
		return;
	for (uint32_t i = 0; i < j->nmasters; i++) {
		struct cmaster *m = &j->masters[i];
		uint64_t n;
		char why[160];

		if (m->state == NULL ||
		    (n = m->p->ops.shuffle.master.losses(m->state)) ==
		        m->losses)
			continue;
		m->losses = n;
		snprintf(why, sizeof(why),
		    "shuffle '%s' lost partitions (a shuffle service is "
		    "gone)",
		    m->p->name);
		sli_coord_failover_lost(j, why);
	}
}

static void
on_tick(uv_timer_t *h)
{
	struct sli_coord *c = h->data;
	uint64_t now = sli_coord_now_ms(),
	         limit = (uint64_t)c->hb_ms * c->misses;

	uv_mutex_lock(&c->mtx);
	for (struct cworker *w = c->workers; w != NULL; w = w->next) {
		char why[128];

		if (w->lost || now - w->last_seen <= limit)
			continue;
		snprintf(why, sizeof(why), "no heartbeat for %.1f s",
		    (double)(now - w->last_seen) / 1000.0);
		worker_lost(w, why);
	}
	/* recovered jobs whose wait for their workers ran out */
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		if (!j->started && j->replay != NULL)
			job_try_start(j);
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		masters_losses(j);
	/* finished tasks logged since: many to one fdatasync */
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		if (j->state == SLI_JOB_RUNNING) {
			sli_coord_log_snapshots(j, now);
			sli_coord_log_sync(j);
		}
	uv_mutex_unlock(&c->mtx);
}

/* Restarts whose delay passed; then wait for the next one. */
static void
on_retry(uv_timer_t *h)
{
	struct sli_coord *c = h->data;
	uint64_t now = sli_coord_now_ms(), next = 0;

	uv_mutex_lock(&c->mtx);
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		sli_coord_failover_due(j, now);
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		if (j->restart_due != 0 && (next == 0 || j->restart_due < next))
			next = j->restart_due;
	if (next != 0)
		sli_coord_arm_retry(c, next);
	uv_mutex_unlock(&c->mtx);
}

void
sli_coord_arm_retry(struct sli_coord *c, uint64_t due_ms)
{
	uint64_t now = sli_coord_now_ms(), in = due_ms > now ? due_ms - now : 0;

	/* the earliest wins: a later one is found again when this fires */
	if (uv_is_active((uv_handle_t *)&c->retry) &&
	    uv_timer_get_due_in(&c->retry) <= in)
		return;
	uv_timer_start(&c->retry, on_retry, in, 0);
}

/* ---- jobs: ending ---- */

void
sli_coord_slot_free(struct ctask *ct)
{
	if (ct->slot && ct->w != NULL && ct->w->placed > 0)
		ct->w->placed--;
	ct->slot = false;
}

static void
cancel_done(void *arg, int rv, const struct sli_msg *reply)
{
	(void)arg;
	(void)rv;
	(void)reply;
}

void
sli_coord_task_cancel(struct cjob *j, uint32_t t)
{
	struct ctask *ct = &j->tasks[t];
	struct sli_msg m = { .type = SLI_MSG_CANCEL };

	if (ct->state != T_RUNNING || ct->w == NULL || ct->w->lost)
		return;
	m.cancel.job = j->id;
	m.cancel.vertex = j->x.task_vertex[t];
	m.cancel.index = sli_task_index(&j->x, t);
	m.cancel.attempt = ct->attempt;
	(void)sli_rpc_call(ct->w->cl, &m, CALL_TIMEOUT_MS, cancel_done, NULL);
}

static void
masters_close(struct cjob *j)
{
	sli_coord_skew_release(j);
	for (uint32_t e = 0; j->descs != NULL && e < j->job->ne; e++) {
		struct cmaster *m = &j->masters[j->master_of[e]];
		uint32_t np = j->x.par[j->job->e[e].from];

		if (j->descs[e] == NULL)
			continue;
		for (uint32_t p = 0; p < np; p++) {
			struct sl_bytes *d = &j->descs[e][p];

			if (d->data == NULL)
				continue;
			if (m->state != NULL)
				m->p->ops.shuffle.master.release_partition(
				    m->state, d->data, d->len);
			m->p->host.free(d->data);
			d->data = NULL;
		}
	}
	for (uint32_t i = 0; i < j->nmasters; i++) {
		if (j->masters[i].state == NULL)
			continue;
		j->masters[i].p->ops.shuffle.master.fini(j->masters[i].state);
		free(j->masters[i].state);
		j->masters[i].state = NULL;
	}
}

void
sli_coord_job_end(struct cjob *j, int state, const char *fmt, ...)
{
	va_list ap;

	if (j->state != SLI_JOB_RUNNING)
		return;
	j->state = state;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
	if (state != SLI_JOB_FINISHED)
		for (uint32_t t = 0; t < j->x.ntasks; t++)
			sli_coord_task_cancel(j, t);
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		sli_coord_slot_free(&j->tasks[t]);
	if (j->sched_init) {
		j->sp->ops.scheduler.fini(j->sstate);
		j->sched_init = false;
	}
	/* durable before the partitions go: a crash between the two must
	 * not leave a job to take up whose finished work was released */
	sli_coord_log_ended(j);
	masters_close(j);
	sli_info("coordinator: job %s %s%s%s", j->id,
	    sli_wire_state_name(state), j->message[0] ? ": " : "", j->message);
}

/* ---- jobs: deploying ---- */

static int
sched_deploy(const struct sl_sched_ctx *ctx, uint32_t r)
{
	struct cjob *j = ctx->core;
	int rv;

	if ((rv = sli_sched_deploy(&j->s, r)) != 0)
		return rv;
	j->pending[j->npending++] = r;
	return 0;
}

/* The worker with the most free slots (ties: the first). */
static struct cworker *
pick_worker(struct sli_coord *c)
{
	struct cworker *best = NULL;
	int64_t bestfree = INT64_MIN;

	for (struct cworker *w = c->workers; w != NULL; w = w->next) {
		int64_t f = (int64_t)w->slots - w->placed;

		if (w->lost || w->id[0] == '\0')
			continue;
		if (f > bestfree) {
			best = w;
			bestfree = f;
		}
	}
	return best;
}

static void
deploy_done(void *arg, int rv, const struct sli_msg *reply)
{
	uintptr_t *k = arg;
	struct sli_coord *c = (struct sli_coord *)k[0];
	char jid[128];
	uint32_t t = (uint32_t)k[2], attempt = (uint32_t)k[3];

	snprintf(jid, sizeof(jid), "%s", (const char *)k[1]);
	free((void *)k[1]);
	free(k);
	uv_mutex_lock(&c->mtx);
	for (struct cjob *j = c->jobs; j != NULL; j = j->next) {
		char cause[1024];

		if (strcmp(j->id, jid) != 0 || j->state != SLI_JOB_RUNNING ||
		    j->tasks[t].attempt != attempt)
			continue;
		if (rv == 0 && reply->type == SLI_MSG_OK) {
			uint32_t r = j->r.of_task[t];

			/* running: the worker started the task's thread */
			if (j->rtime[2 * r] < 0)
				j->rtime[2 * r] = sli_coord_now_s() - j->t0;
			break;
		}
		j->tasks[t].state = T_FAILED;
		snprintf(cause, sizeof(cause), "could not start on %s: %s",
		    j->tasks[t].w->id,
		    rv != 0                            ? sl_errdetail()
		        : reply->type == SLI_MSG_ERROR ? reply->error.message
		                                       : "unexpected reply");
		sli_coord_failover(j, &t, 1, cause);
		break;
	}
	uv_mutex_unlock(&c->mtx);
}

/* A helper of a split range writes its partial result to one blocking
 * partition of its input edge's plugin, which its merger reads. */
static int
register_partial(struct cjob *j, uint32_t t)
{
	const sl_job *job = j->job;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	uint32_t e = job->v[v].in[0];
	struct cskew *k = j->skew[v];
	struct cmaster *m = &j->masters[k->master];
	struct sl_partition_spec ps = {
		.struct_size = sizeof(ps),
		.type = SL_PARTITION_BLOCKING,
		.job_id = j->id,
		.edge = job->v[v].out[0], /* its own: no one else's name */
		.producer = idx,
		.attempt = j->tasks[t].attempt,
		.num_subpartitions = 1,
		.producer_location = worker_data_url(j->tasks[t].w, m->p->name),
		.compression = (uint32_t)job->e[e].compression,
	};
	int rv;

	sli_err_clear();
	if ((rv = m->p->ops.shuffle.master.register_partition(
	         m->state, &ps, &k->desc[idx])) != 0)
		return sli_err(rv,
		    "shuffle '%s': register the partial result of %s#%u: %s",
		    m->p->name, job->v[v].id, idx,
		    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
	return 0;
}

static int
register_outputs(struct cjob *j, uint32_t t)
{
	const sl_job *job = j->job;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);

	if (sli_coord_skew_role(j, t, NULL) == 1)
		return register_partial(j, t);

	for (uint32_t k = 0; k < job->v[v].nout; k++) {
		uint32_t e = job->v[v].out[k];
		struct cmaster *m = &j->masters[j->master_of[e]];
		struct sl_partition_spec ps = {
			.struct_size = sizeof(ps),
			.type = (uint32_t)job->e[e].type,
			.job_id = j->id,
			.edge = e,
			.producer = idx,
			.attempt = j->tasks[t].attempt,
			.num_subpartitions = sli_edge_num_subs(&j->x, e, idx),
			.producer_location =
			    worker_data_url(j->tasks[t].w, m->p->name),
			.compression = (uint32_t)job->e[e].compression,
		};
		int rv;

		sli_err_clear();
		rv = m->p->ops.shuffle.master.register_partition(
		    m->state, &ps, &j->descs[e][idx]);
		if (rv != 0)
			return sli_err(rv,
			    "edge %u: shuffle '%s': register partition of "
			    "%s#%u: %s",
			    e, m->p->name, job->v[v].id, idx,
			    *sl_errdetail() ? sl_errdetail() : sl_strerror(rv));
	}
	return 0;
}

/* Task t's outputs as the wire carries them, into out[] (its vertex's
 * out edges, in order). */
static void
wire_outputs(struct cjob *j, uint32_t t, struct sli_wire_output *out)
{
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	const struct sli_vertex *vx = &j->job->v[v];

	if (sli_coord_skew_role(j, t, NULL) == 1) {
		out[0] = (struct sli_wire_output) {
			.edge = vx->out[0],
			.num_subpartitions = 1,
			.desc = j->skew[v]->desc[idx],
		};
		return;
	}
	for (uint32_t i = 0; i < vx->nout; i++) {
		uint32_t e = vx->out[i];

		out[i] = (struct sli_wire_output) {
			.edge = e,
			.num_subpartitions = sli_edge_num_subs(&j->x, e, idx),
			.desc = j->descs[e][idx],
		};
	}
}

/* Whether task t runs chained after the task before it (so it travels in
 * that task's DEPLOY, not in one of its own). */
static bool
chained_in(const struct cjob *j, uint32_t t)
{
	const struct sli_vertex *vx = &j->job->v[j->x.task_vertex[t]];

	return vx->nin == 1 && j->job->v[j->job->e[vx->in[0]].from].nout == 1 &&
	    sli_exec_chained(&j->x, vx->in[0]);
}

/* Task t's inputs as the wire carries them, into ins[] (its vertex's in
 * edges, in order). */
static void
wire_inputs(struct cjob *j, uint32_t t, struct sli_wire_input *ins)
{
	const sl_job *job = j->job;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t), o;
	const struct sli_vertex *vx = &job->v[v];
	const struct sli_adaptive_decision *d = &j->dec[v];
	int role = sli_coord_skew_role(j, t, &o);

	for (uint32_t i = 0; i < vx->nin; i++) {
		uint32_t e = vx->in[i], from = job->e[e].from, lo, hi, clo, chi;
		/* a helper reads its merger's range */
		uint32_t r = role == 1 ? o : idx;

		sli_edge_producers(&j->x, e, idx, &lo, &hi);
		sli_edge_consumers(&j->x, e, lo, &clo, &chi);
		ins[i] = (struct sli_wire_input) {
			.edge = e,
			.sub_lo = idx - clo,
			.sub_hi = idx - clo,
			.descs = j->descs[e] + lo,
			.ndescs = hi - lo,
		};
		/* decided from the bytes: a range of subpartitions */
		if (d->start != NULL && sli_coord_adaptive_leader(j, v)) {
			ins[i].sub_lo = d->start[r];
			ins[i].sub_hi = r + 1 < d->parallelism
			    ? d->start[r + 1] - 1
			    : j->x.par[v] - 1;
		}
		/* producers above a decision (vacant, or helpers whose
		 * output went to their merger) wrote nothing here */
		if (j->decided[from] == SLI_PAR_AT_RUN) {
			uint32_t p = j->dec[from].parallelism;

			ins[i].ndescs = p <= lo ? 0 : (p < hi ? p : hi) - lo;
		}
		if (role == 1) {
			/* a slice of the producers (none of them vacant) */
			uint32_t first = j->skew[v]->first[idx],
			         n = j->skew[v]->count[idx];

			ins[i].first = first;
			ins[i].descs = j->descs[e] + lo + first;
			ins[i].ndescs = first >= ins[i].ndescs ? 0
			    : n < ins[i].ndescs - first        ? n
			                                : ins[i].ndescs - first;
		} else if (role == 2) {
			/* the helpers' partial results, one subpartition */
			ins[i].first = j->skew[v]->first[idx];
			ins[i].descs = j->skew[v]->desc + ins[i].first;
			ins[i].ndescs = j->skew[v]->count[idx];
			ins[i].partials = 1;
			ins[i].sub_lo = ins[i].sub_hi = 0;
		}
	}
}

static int
send_deploy(struct cjob *j, uint32_t t)
{
	const sl_job *job = j->job;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	const struct sli_vertex *vx = &job->v[v];
	struct sli_wire_input ins[vx->nin ? vx->nin : 1];
	struct sli_wire_output outs[vx->nout ? vx->nout : 1];
	struct sli_wire_chained *chain = NULL;
	struct sli_msg m = { .type = SLI_MSG_DEPLOY };
	uint32_t nchain = 0;
	uintptr_t *k = NULL;
	int role = sli_coord_skew_role(j, t, NULL), rv = SL_ENOMEM;

	wire_inputs(j, t, ins);
	wire_outputs(j, t, outs);
	/* The tasks chained after t ride along (operator chaining); a
	 * helper's followers are vacant: its result goes to its merger. */
	for (uint32_t w = v; role != 1 && job->v[w].nout == 1 &&
	     sli_exec_chained(&j->x, job->v[w].out[0]);) {
		uint32_t c;
		struct sli_wire_chained *nc;

		w = job->e[job->v[w].out[0]].to;
		c = j->x.base[w] + idx;
		if ((nc = realloc(chain, (nchain + 1) * sizeof(*nc))) == NULL)
			goto out;
		chain = nc;
		chain[nchain].vertex = w;
		chain[nchain].noutputs = job->v[w].nout;
		chain[nchain].outputs =
		    calloc(job->v[w].nout + 1, sizeof(struct sli_wire_output));
		if (chain[nchain].outputs == NULL)
			goto out;
		wire_outputs(j, c, chain[nchain++].outputs);
	}
	m.deploy.job = j->id;
	m.deploy.job_json = j->json;
	m.deploy.job_json_len = j->json_len;
	m.deploy.vertex = v;
	m.deploy.index = idx;
	m.deploy.attempt = j->tasks[t].attempt;
	m.deploy.inputs = ins;
	m.deploy.ninputs = vx->nin;
	m.deploy.outputs = outs;
	m.deploy.noutputs = vx->nout;
	m.deploy.chain = chain;
	m.deploy.nchain = nchain;
	m.deploy.partial = role == 1;
	m.deploy.config = role == 2 ? j->skew[v]->config : NULL;
	if ((k = calloc(4, sizeof(*k))) == NULL ||
	    (k[1] = (uintptr_t)strdup(j->id)) == 0)
		goto out;
	k[0] = (uintptr_t)j->c;
	k[2] = t;
	k[3] = j->tasks[t].attempt;
	rv = sli_rpc_call(
	    j->tasks[t].w->cl, &m, CALL_TIMEOUT_MS, deploy_done, k);
	if (rv == 0)
		k = NULL;
out:
	if (rv == SL_ENOMEM)
		sli_err(SL_ENOMEM, "out of memory");
	if (k != NULL) {
		free((void *)k[1]);
		free(k);
	}
	for (uint32_t i = 0; i < nchain; i++)
		free(chain[i].outputs);
	free(chain);
	return rv;
}

/*
 * Deploy region r: place its tasks (the tasks of one index across the
 * region's vertices share a slot, as in Flink's slot sharing, so a pipeline
 * of n-way vertices needs n slots), register their output partitions, then
 * send every DEPLOY: a consumer's descriptors exist before it is sent.
 */
static int
deploy_region(struct cjob *j, uint32_t r)
{
	uint32_t lo = j->r.start[r], hi = j->r.start[r + 1];
	uint32_t maxidx = 0;
	struct cworker **group;
	int rv = 0;

	/* what allowed this deploy is on disk before it leaves */
	if ((rv = sli_coord_log_sync(j)) != 0)
		return rv;
	j->rtime[2 * r] = -1; /* set when a worker has it running */
	for (uint32_t k = lo; k < hi; k++) {
		uint32_t idx = sli_task_index(&j->x, j->r.tasks[k]);

		if (idx + 1 > maxidx)
			maxidx = idx + 1;
	}
	if ((group = calloc(maxidx ? maxidx : 1, sizeof(*group))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = lo; k < hi && rv == 0; k++) {
		uint32_t t = j->r.tasks[k], idx = sli_task_index(&j->x, t);

		if (j->tasks[t].state == T_VACANT)
			continue;
		if (group[idx] == NULL) {
			if ((group[idx] = pick_worker(j->c)) == NULL) {
				rv = sli_err(SL_ESTATE, "no live worker");
				break;
			}
			group[idx]->placed++;
			j->tasks[t].slot = true;
		}
		j->tasks[t].w = group[idx];
		j->tasks[t].state = T_RUNNING;
		j->deployments++;
		rv = register_outputs(j, t);
	}
	for (uint32_t k = lo; k < hi && rv == 0; k++)
		if (j->tasks[j->r.tasks[k]].state != T_VACANT &&
		    !chained_in(j, j->r.tasks[k]))
			rv = send_deploy(j, j->r.tasks[k]);
	free(group);
	return rv;
}

void
sli_coord_deploy_pending(struct cjob *j, int oprv, const char *op)
{
	if (oprv != 0) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "scheduler '%s': %s: %s",
		    j->sp->name, op, sl_strerror(oprv));
		return;
	}
	for (uint32_t i = 0; i < j->npending && j->state == SLI_JOB_RUNNING;
	     i++)
		if (deploy_region(j, j->pending[i]) != 0)
			sli_coord_job_end(
			    j, SLI_JOB_FAILED, "%s", sl_errdetail());
	j->npending = 0;
}

static int
masters_open(struct cjob *j)
{
	const sl_job *job = j->job;

	for (uint32_t e = 0; e < job->ne; e++) {
		struct cmaster *m;
		uint32_t i;
		int rv;

		for (i = 0; i < j->nmasters; i++)
			if (j->masters[i].p == j->shuffle[e])
				break;
		j->master_of[e] = i;
		if (i < j->nmasters)
			continue;
		if (i == MAX_MASTERS)
			return sli_err(SL_ERANGE,
			    "more than %d shuffle plugins", MAX_MASTERS);
		m = &j->masters[j->nmasters++];
		m->p = j->shuffle[e];
		m->state = calloc(1, m->p->ops.shuffle.master.state_size + 1);
		if (m->state == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		sli_err_clear();
		if ((rv = m->p->ops.shuffle.master.init(
		         m->state, &m->p->host, j->c->shuffle_config)) != 0) {
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

static void
job_try_start(struct cjob *j)
{
	struct sli_coord *c = j->c;
	uint32_t slots = 0;
	int rv;

	if (j->started || j->state != SLI_JOB_RUNNING)
		return;
	for (struct cworker *w = c->workers; w != NULL; w = w->next)
		if (!w->lost && w->id[0] != '\0')
			slots += w->slots;
	if (slots == 0)
		return; /* waits for a worker */
	/* recovered: the workers of its finished tasks come back first */
	if (sli_coord_replay_waits(j, sli_coord_now_ms()))
		return;
	j->started = true;
	if ((rv = masters_open(j)) != 0) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "%s", sl_errdetail());
		return;
	}
	if ((rv = sli_sched_init(&j->s, &j->x, &j->r, slots)) != 0) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "%s", sl_errdetail());
		return;
	}
	j->have_s = true;
	for (uint32_t r = 0; r < j->r.n; r++)
		if (j->held[r] > 0)
			sli_sched_hold(&j->s, r);
	if ((rv = sli_coord_replay(j)) != 0) {
		sli_coord_job_end(j, SLI_JOB_FAILED,
		    "recovering from the operation log: %s", sl_errdetail());
		return;
	}
	/* every task finished before the crash: only its end was missing */
	if (j->done == j->x.ntasks) {
		sli_coord_job_end(j, SLI_JOB_FINISHED, "%s", "");
		return;
	}
	sli_sched_ctx_init(&j->ctx, &j->s);
	j->ctx.deploy = sched_deploy;
	sli_coord_adaptive_ctx(&j->ctx);
	if ((j->sstate = calloc(1, j->sp->ops.scheduler.state_size + 1)) ==
	    NULL) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "out of memory");
		return;
	}
	if ((rv = j->sp->ops.scheduler.init(
	         j->sstate, &j->sp->host, &j->ctx)) != 0) {
		j->sp->ops.scheduler.fini(j->sstate);
		sli_coord_job_end(j, SLI_JOB_FAILED, "scheduler '%s': init: %s",
		    j->sp->name, sl_strerror(rv));
		return;
	}
	j->sched_init = true;
	sli_info("coordinator: job %s started: %u tasks in %u regions, %u "
	         "slots, scheduler '%s'",
	    j->id, j->x.ntasks, j->r.n, slots, j->sp->name);
	sli_coord_deploy_pending(
	    j, j->sp->ops.scheduler.on_start(j->sstate, &j->ctx), "on_start");
}

static void
task_finished(struct cjob *j, uint32_t t)
{
	uint32_t r = j->r.of_task[t];
	int rv;

	j->tasks[t].state = T_FINISHED;
	j->done++;
	if (--j->left[r] > 0)
		return;
	j->rtime[2 * r + 1] = sli_coord_now_s() - j->t0;
	if (j->rtime[2 * r] < 0) /* its report came before the DEPLOY's ack */
		j->rtime[2 * r] = j->rtime[2 * r + 1];
	for (uint32_t k = j->r.start[r]; k < j->r.start[r + 1]; k++)
		sli_coord_slot_free(&j->tasks[j->r.tasks[k]]);
	if (j->done == j->x.ntasks) {
		sli_coord_job_end(j, SLI_JOB_FINISHED, "%s", "");
		return;
	}
	if ((rv = sli_sched_finish(&j->s, r)) != 0 ||
	    (rv = sli_coord_skew_finished(j, t)) != 0) {
		sli_coord_job_end(
		    j, SLI_JOB_FAILED, "region %u: %s", r, sl_strerror(rv));
		return;
	}
	if ((rv = sli_coord_adaptive_decide_ready(j)) != 0) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "%s", sl_errdetail());
		return;
	}
	if (j->done == j->x.ntasks) {
		sli_coord_job_end(j, SLI_JOB_FINISHED, "%s", "");
		return;
	}
	sli_coord_deploy_pending(j,
	    j->sp->ops.scheduler.on_region_finished(j->sstate, &j->ctx, r),
	    "on_region_finished");
}

/* Producer `index` of edge e wrote `bytes` to subpartition `sub`: the
 * consumer task reading it learns its region's input (what a scheduling
 * strategy may order regions by, ctx->region_input_bytes). */
static void
region_input(
    struct cjob *j, uint32_t e, uint32_t index, uint32_t sub, uint64_t bytes)
{
	const struct sli_edge *ed = &j->job->e[e];
	uint32_t c = sub, lo, hi, from, to;

	if (!j->have_s)
		return;
	if (ed->distribution == SL_DIST_POINTWISE) {
		sli_edge_consumers(&j->x, e, index, &lo, &hi);
		c = lo + sub;
	}
	if (c >= j->x.par[ed->to])
		return;
	from = j->r.of_task[j->x.base[ed->from] + index];
	to = j->r.of_task[j->x.base[ed->to] + c];
	if (from != to)
		j->s.input_bytes[to] += bytes;
}

struct cjob *
sli_coord_job_find(struct sli_coord *c, const char *id)
{
	for (struct cjob *j = c->jobs; j != NULL; j = j->next)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

static void
task_state(struct sli_coord *c, const struct sli_wire_task_state *s)
{
	struct cjob *j = sli_coord_job_find(c, s->job);
	struct sli_task_metrics *m;
	struct ctask *ct;
	uint32_t t;
	char cause[2048];

	if (j == NULL || !j->have_x || s->vertex >= j->job->nv ||
	    s->index >= j->x.par[s->vertex])
		return;
	t = j->x.base[s->vertex] + s->index;
	ct = &j->tasks[t];
	if (s->attempt != ct->attempt || ct->state != T_RUNNING)
		return; /* an old attempt, or already settled */
	m = &j->m[t];
	atomic_store(&m->records_in, s->records_in);
	atomic_store(&m->records_out, s->records_out);
	atomic_store(&m->bytes_in, s->bytes_in);
	atomic_store(&m->bytes_out, s->bytes_out);
	if (s->state == SLI_WIRE_RUNNING)
		return;
	atomic_store(&m->ended, true);
	if (j->state != SLI_JOB_RUNNING) {
		ct->state =
		    s->state == SLI_WIRE_FINISHED ? T_FINISHED : T_FAILED;
		return;
	}
	/* a helper's partial result is not its edge's: not counted */
	if (s->state == SLI_WIRE_FINISHED)
		sli_coord_log_finished(j, t, s);
	if (s->state == SLI_WIRE_FINISHED &&
	    sli_coord_skew_role(j, t, NULL) == 1) {
		task_finished(j, t);
		return;
	}
	if (s->state == SLI_WIRE_FINISHED) {
		const struct sli_vertex *vx = &j->job->v[s->vertex];

		for (uint32_t k = 0; k < s->nsub_bytes && k < vx->nout; k++) {
			uint32_t e = vx->out[k], n = j->x.par[j->job->e[e].to];

			for (uint32_t i = 0; i < s->sub_bytes[k].n; i++) {
				j->edge_bytes[e] += s->sub_bytes[k].v[i];
				j->task_bytes[(size_t)t * j->maxout + k] +=
				    s->sub_bytes[k].v[i];
				if (j->sub_bytes[e] != NULL && i < n)
					j->sub_bytes[e][(size_t)s->index * n +
					    i] += s->sub_bytes[k].v[i];
				region_input(
				    j, e, s->index, i, s->sub_bytes[k].v[i]);
			}
		}
		task_finished(j, t);
		return;
	}
	ct->state = T_FAILED;
	if (s->bad_edge != UINT32_MAX)
		sli_coord_unreadable(j, s->bad_edge, s->bad_producer);
	if (s->state == SLI_WIRE_CANCELLED)
		snprintf(
		    cause, sizeof(cause), "cancelled on worker %s", ct->w->id);
	else
		snprintf(cause, sizeof(cause), "%s", s->error);
	sli_coord_failover(j, &t, 1, cause);
}

/* ---- the server: workers and clients ---- */

static void
reply_ok(struct sli_rpc_req *req)
{
	struct sli_msg ok = { .type = SLI_MSG_OK };

	sli_rpc_reply(req, &ok);
}

static int submit_locked(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *const *defs, size_t ndefs, char *id,
    size_t cap, const char *given_id);

/* What `sluice status` says of a job: its message, and the parallelism
 * decided for each "auto" vertex ("?" while it waits for its producers). */
static void
job_status_text(const struct cjob *j, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "%s", j->message);
	bool first = true;

	for (uint32_t v = 0; j->decided != NULL && v < j->job->nv && n < cap;
	     v++) {
		uint32_t p = j->decided[v] == SLI_PAR_AT_RUN
		    ? j->dec[v].parallelism
		    : j->decided[v];
		char num[16] = "?";

		if (j->job->v[v].parallelism != SL_PARALLELISM_AUTO)
			continue;
		if (p != 0 && j->skew != NULL && j->skew[v] != NULL)
			snprintf(
			    num, sizeof(num), "%u+%u", p, j->skew[v]->helpers);
		else if (p != 0)
			snprintf(num, sizeof(num), "%u", p);
		n += (size_t)snprintf(buf + n, cap - n, "%s%s=%s",
		    !first      ? " "
		        : n > 0 ? "; parallelism "
		                : "parallelism ",
		    j->job->v[v].id, num);
		first = false;
	}
}

static void
on_request(
    void *arg, struct sli_rpc_req *req, const struct sli_msg *m, uint32_t pipe)
{
	struct sli_coord *c = arg;
	struct cworker *w;

	(void)pipe;
	uv_mutex_lock(&c->mtx);
	switch (m->type) {
	case SLI_MSG_HELLO: {
		struct sli_msg r = { .type = SLI_MSG_WELCOME };

		if (worker_register(c, &m->hello) != 0) {
			sli_rpc_reply_error(req, "%s", sl_errdetail());
			break;
		}
		r.welcome.worker = m->hello.worker;
		r.welcome.heartbeat_ms = c->hb_ms;
		sli_rpc_reply(req, &r);
		for (struct cjob *j = c->jobs; j != NULL; j = j->next)
			job_try_start(j);
		break;
	}
	case SLI_MSG_HEARTBEAT:
		if ((w = worker_find(c, m->heartbeat.worker)) == NULL ||
		    w->lost) {
			sli_rpc_reply_error(
			    req, "unknown worker '%s'", m->heartbeat.worker);
			break;
		}
		w->last_seen = sli_coord_now_ms();
		reply_ok(req);
		break;
	case SLI_MSG_TASK_STATE:
		task_state(c, &m->task_state);
		reply_ok(req);
		break;
	case SLI_MSG_SUBMIT: {
		struct sli_msg r = { .type = SLI_MSG_SUBMITTED };
		char id[128];

		if (submit_locked(c, m->submit.job_json, m->submit.job_json_len,
		        "job", (const char *const *)m->submit.defs,
		        m->submit.ndefs, id, sizeof(id), NULL) != 0) {
			sli_rpc_reply_error(req, "%s", sl_errdetail());
			break;
		}
		r.submitted.job = id;
		sli_rpc_reply(req, &r);
		job_try_start(sli_coord_job_find(c, id));
		break;
	}
	case SLI_MSG_STATUS: {
		struct sli_msg r = { .type = SLI_MSG_JOBS };
		struct sli_wire_job *v =
		    calloc(c->njobs ? c->njobs : 1, sizeof(*v));
		char(*text)[3072] =
		    calloc(c->njobs ? c->njobs : 1, sizeof(*text));
		uint32_t n = 0;

		if (v == NULL || text == NULL) {
			free(v);
			free(text);
			sli_rpc_reply_error(req, "out of memory");
			break;
		}
		/* oldest first */
		for (struct cjob *j = c->jobs; j != NULL; j = j->next)
			n++;
		r.jobs.njobs = n;
		for (struct cjob *j = c->jobs; j != NULL; j = j->next) {
			struct sli_wire_job *o = &v[--n];

			o->job = j->id;
			o->state = (uint32_t)j->state;
			job_status_text(j, text[n], sizeof(text[n]));
			o->message = text[n];
		}
		r.jobs.jobs = v;
		sli_rpc_reply(req, &r);
		free(v);
		free(text);
		break;
	}
	default:
		sli_rpc_reply_error(req, "coordinator: unexpected %s",
		    sli_msg_type_name((int)m->type));
	}
	uv_mutex_unlock(&c->mtx);
}

/* ---- submitting ---- */

static void
job_free(struct cjob *j)
{
	if (j->sched_init)
		j->sp->ops.scheduler.fini(j->sstate);
	masters_close(j);
	if (j->have_log)
		sli_oplog_close(&j->log);
	sli_coord_failover_free(j);
	sli_coord_replay_free(j);
	free(j->sstate);
	if (j->have_s)
		sli_sched_fini(&j->s);
	if (j->have_r)
		sli_regions_free(&j->r);
	if (j->descs != NULL)
		for (uint32_t e = 0; e < j->job->ne; e++)
			free(j->descs[e]);
	free(j->descs);
	free(j->shuffle);
	free(j->master_of);
	free(j->tasks);
	free(j->m);
	free(j->left);
	free(j->rtime);
	free(j->edge_bytes);
	for (uint32_t v = 0; j->dec != NULL && v < j->job->nv; v++)
		sli_adaptive_decision_free(&j->dec[v]);
	free(j->dec);
	for (uint32_t e = 0; j->sub_bytes != NULL && e < j->job->ne; e++)
		free(j->sub_bytes[e]);
	free(j->sub_bytes);
	free(j->held);
	free(j->scanned);
	sli_coord_skew_free(j);
	free(j->decided);
	free(j->input_bytes);
	free(j->pending);
	if (j->have_x)
		sli_exec_free(&j->x);
	sl_job_free(j->job);
	free(j->json);
	free(j);
}

static int
submit_locked(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *const *defs, size_t ndefs, char *id,
    size_t cap, const char *given_id)
{
	struct cjob *j = calloc(1, sizeof(*j));
	const char *at_run = NULL, *sname;
	const sl_job *job;
	int rv;

	if (j == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	j->c = c;
	j->set = c->o->set;
	j->state = SLI_JOB_RUNNING;
	if ((rv = sli_job_load_expanded(
	         text, len, origin, defs, ndefs, &j->job, &j->json)) != 0)
		goto fail;
	job = j->job;
	for (uint32_t i = 0; i < job->nlibs; i++)
		if ((rv = sli_plugin_set_need(c->o->set, job->libs[i])) != 0) {
			rv = sli_err(rv, "%s: libraries[%u]: %s", origin, i,
			    sl_errdetail());
			goto fail;
		}
	/* Sources of "auto" parallelism: decided now, and written into the
	 * document the workers get. */
	j->decided = calloc(job->nv + 1, sizeof(*j->decided));
	j->input_bytes = calloc(job->nv + 1, sizeof(*j->input_bytes));
	if (j->decided == NULL || j->input_bytes == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rv = sli_auto_sources(
	         job, c->o->set, j->decided, j->input_bytes)) != 0 ||
	    (rv = sli_job_json_fix_parallelism(
	         &j->json, j->decided, job->nv)) != 0) {
		rv = sli_err(rv, "%s: %s", origin, sl_errdetail());
		goto fail;
	}
	j->json_len = strlen(j->json);

	if ((rv = sli_exec_build(job, j->decided, &j->x)) != 0) {
		rv = sli_err(rv, "%s: %s", origin, sl_errdetail());
		goto fail;
	}

	j->have_x = true;
	j->shuffle = calloc(job->ne + 1, sizeof(*j->shuffle));
	j->master_of = calloc(job->ne + 1, sizeof(*j->master_of));
	j->descs = calloc(job->ne + 1, sizeof(*j->descs));
	j->edge_bytes = calloc(job->ne + 1, sizeof(*j->edge_bytes));
	j->tasks = calloc(j->x.ntasks, sizeof(*j->tasks));
	j->m = calloc(j->x.ntasks, sizeof(*j->m));
	if (j->shuffle == NULL || j->master_of == NULL || j->descs == NULL ||
	    j->edge_bytes == NULL || j->tasks == NULL || j->m == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (uint32_t e = 0; e < job->ne; e++)
		if ((j->descs[e] = calloc(j->x.par[job->e[e].from],
		         sizeof(struct sl_bytes))) == NULL) {
			rv = sli_err(SL_ENOMEM, "out of memory");
			goto fail;
		}
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		sli_task_metrics_init(&j->m[t]);
	/* The job's strategy (its libraries may bring it), or the
	 * coordinator's default; "adaptive-batch" when a parallelism is
	 * decided while the job runs. */
	for (uint32_t v = 0; v < job->nv && at_run == NULL; v++)
		if (j->decided[v] == SLI_PAR_AT_RUN)
			at_run = job->v[v].id;
	sname = job->scheduler != NULL ? job->scheduler
	    : at_run != NULL           ? "adaptive-batch"
	                               : NULL;
	j->sp = sname == NULL
	    ? c->sched
	    : sli_plugin_set_find(c->o->set, SL_PLUGIN_SCHEDULER, sname);
	if (j->sp == NULL) {
		rv = sli_err(SL_ENOTFOUND,
		    "%s: scheduler: no scheduler plugin named '%s' is loaded",
		    origin, sname);
		goto fail;
	}
	if (at_run != NULL &&
	    j->sp->ops.scheduler.on_parallelism_needed == NULL) {
		rv = sli_err(SL_ENOTSUP,
		    "%s: vertex '%s': its parallelism is decided while the job "
		    "runs, which scheduler '%s' cannot do (no "
		    "on_parallelism_needed; 'adaptive-batch' can)",
		    origin, at_run, j->sp->name);
		goto fail;
	}
	if ((rv = sli_exec_resolve(&j->x, c->o->set, j->shuffle)) != 0) {
		rv = sli_err(rv, "%s: %s", origin, sl_errdetail());
		goto fail;
	}
	if ((rv = sli_regions_build(&j->x, &j->r)) != 0)
		goto fail;
	j->have_r = true;
	j->left = calloc(j->r.n, sizeof(*j->left));
	j->rtime = malloc(2 * (j->r.n + 1) * sizeof(*j->rtime));
	j->pending = calloc(j->r.n, sizeof(*j->pending));
	if (j->left == NULL || j->pending == NULL || j->rtime == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (uint32_t r = 0; r < j->r.n; r++) {
		j->left[r] = j->r.start[r + 1] - j->r.start[r];
		j->rtime[2 * r] = j->rtime[2 * r + 1] = -1;
	}
	if ((rv = sli_coord_adaptive_init(j)) != 0 ||
	    (rv = sli_coord_failover_init(j)) != 0)
		goto fail;
	j->t0 = sli_coord_now_s();
	/* a job recovered from its log keeps its id (recover.c) */
	if (given_id != NULL)
		snprintf(j->id, sizeof(j->id), "%s", given_id);
	else
		snprintf(j->id, sizeof(j->id), "%.100s-%u",
		    job->name != NULL ? job->name : "job", ++c->njobs);
	/* logged before it is acknowledged: a job the client was told of
	 * is in the log */
	if (c->o->state_dir != NULL &&
	    (rv = sli_coord_log_open(
	         j, c->o->state_dir, origin, given_id != NULL)) != 0)
		goto fail;
	for (uint32_t v = 0; v < job->nv; v++)
		if (j->decided[v] != 0 && job->v[v].nin == 0)
			sli_info(
			    "coordinator: job %s: vertex '%s': parallelism "
			    "%u for %llu bytes of input",
			    j->id, job->v[v].id, j->decided[v],
			    (unsigned long long)j->input_bytes[v]);
		else if (j->decided[v] == SLI_PAR_AT_RUN)
			sli_info(
			    "coordinator: job %s: vertex '%s': parallelism "
			    "decided when its producers finish",
			    j->id, job->v[v].id);
		else if (j->decided[v] != 0)
			sli_info(
			    "coordinator: job %s: vertex '%s': parallelism "
			    "%u, as the vertices that feed it",
			    j->id, job->v[v].id, j->decided[v]);
	snprintf(id, cap, "%s", j->id);
	j->next = c->jobs;
	c->jobs = j;
	sli_info("coordinator: job %s submitted", j->id);
	/* Started on the loop thread, the only one that sends (P_KICK, or
	 * the SUBMIT handler). */
	return 0;
fail:
	job_free(j);
	return rv;
}

int
sli_coord_submit_again(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *given_id, char *id, size_t cap)
{
	return submit_locked(c, text, len, origin, NULL, 0, id, cap, given_id);
}

/* ---- the API ---- */

struct post_arg {
	struct sli_coord *c;
	char id[128];
	int what;
};

enum { P_CANCEL, P_SHUTDOWN, P_STOP, P_KICK };

static void
shutdown_done(void *arg, int rv, const struct sli_msg *reply)
{
	(void)arg;
	(void)rv;
	(void)reply;
}

static void
on_post(void *arg)
{
	struct post_arg *p = arg;
	struct sli_coord *c = p->c;

	uv_mutex_lock(&c->mtx);
	switch (p->what) {
	case P_CANCEL: {
		struct cjob *j = sli_coord_job_find(c, p->id);

		if (j != NULL)
			sli_coord_job_end(j, SLI_JOB_CANCELLED, "cancelled");
		break;
	}
	case P_SHUTDOWN:
		for (struct cworker *w = c->workers; w != NULL; w = w->next) {
			struct sli_msg m = { .type = SLI_MSG_SHUTDOWN };

			if (w->lost)
				continue;
			w->leaving = true;
			(void)sli_rpc_call(
			    w->cl, &m, CALL_TIMEOUT_MS, shutdown_done, NULL);
		}
		break;
	case P_KICK:
		for (struct cjob *j = c->jobs; j != NULL; j = j->next)
			if (!j->started)
				job_try_start(j);
		break;
	case P_STOP: {
		struct sli_rpc_server *srv = c->srv;
		struct cworker *ws = c->workers;

		c->stopping = true;
		uv_timer_stop(&c->tick);
		uv_close((uv_handle_t *)&c->tick, NULL);
		uv_timer_stop(&c->retry);
		uv_close((uv_handle_t *)&c->retry, NULL);
		c->srv = NULL;
		c->workers = NULL;
		uv_mutex_unlock(&c->mtx);
		/* Closing drains the loop's queue, whose callbacks take
		 * c->mtx: not under it. Jobs' tasks still point at workers;
		 * nothing reads them from here on (job_free does not). */
		for (struct cworker *w = ws; w != NULL; w = w->next)
			w->lost = true; /* no call to them any more */
		sli_rpc_server_close(srv);
		for (struct cworker *w = ws; w != NULL; w = w->next) {
			sli_rpc_client_close(w->cl);
			w->cl = NULL;
		}
		while (ws != NULL) {
			struct cworker *next = ws->next;

			worker_free(ws);
			ws = next;
		}
		free(p);
		sli_loopq_close(&c->q);
		return;
	}
	}
	uv_mutex_unlock(&c->mtx);
	free(p);
}

static void
post(struct sli_coord *c, int what, const char *id)
{
	struct post_arg *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return;
	p->c = c;
	p->what = what;
	if (id != NULL)
		snprintf(p->id, sizeof(p->id), "%s", id);
	if (sli_loopq_post(&c->q, on_post, p) != 0)
		free(p);
}

static void
loop_thread(void *arg)
{
	struct sli_coord *c = arg;

	uv_run(&c->loop, UV_RUN_DEFAULT);
}

/* The highest job number of the logs in dir (NAME-N.log): new jobs are
 * numbered after them, so no log is ever written twice. */
static uint32_t
logged_jobs(const char *dir)
{
	DIR *d = dir != NULL ? opendir(dir) : NULL;
	struct dirent *e;
	uint32_t most = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		const char *dash = strrchr(e->d_name, '-');
		char *end;
		unsigned long n;

		if (dash == NULL)
			continue;
		n = strtoul(dash + 1, &end, 10);
		if (strcmp(end, ".log") == 0 && n > most && n < UINT32_MAX)
			most = (uint32_t)n;
	}
	if (d != NULL)
		closedir(d);
	return most;
}

/* {"services": [URL...], "replicas": N} for the shuffle masters, NULL
 * without any. */
static int
shuffle_config(const struct sli_coord_opts *o, char **out)
{
	json_t *cfg, *sv;

	*out = NULL;
	if (o->replicas > o->nservices)
		return sli_err(SL_EINVAL,
		    "--shuffle-replicas %u needs as many --shuffle-service "
		    "daemons, not %u",
		    o->replicas, o->nservices);
	if (o->nservices == 0)
		return 0;
	for (uint32_t i = 0; i < o->nservices; i++)
		if (strncmp(o->services[i], "tcp://", 6) != 0 &&
		    strncmp(o->services[i], "tls+tcp://", 10) != 0 &&
		    strncmp(o->services[i], "ipc://", 6) != 0)
			return sli_err(SL_EINVAL,
			    "--shuffle-service: '%s' is not a tcp://, "
			    "tls+tcp:// or ipc:// URL",
			    o->services[i]);
	cfg = json_object();
	sv = json_array();
	for (uint32_t i = 0; i < o->nservices; i++)
		json_array_append_new(sv, json_string(o->services[i]));
	json_object_set_new(cfg, "services", sv);
	if (o->replicas > 1)
		json_object_set_new(cfg, "replicas", json_integer(o->replicas));
	*out = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	return *out != NULL ? 0 : sli_err(SL_ENOMEM, "out of memory");
}

const char *
sli_coord_shuffle_config(const struct sli_coord *c)
{
	return c->shuffle_config;
}

int
sli_coord_start(const struct sli_coord_opts *o, struct sli_coord **out)
{
	struct sli_coord *c = calloc(1, sizeof(*c));
	const char *sname = o->scheduler != NULL ? o->scheduler : "region";
	int rv;

	if (c == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	c->o = o;
	c->hb_ms = o->heartbeat_ms ? o->heartbeat_ms : 500;
	c->misses = o->heartbeat_misses ? o->heartbeat_misses : 6;
	c->njobs = logged_jobs(o->state_dir);
	if ((rv = shuffle_config(o, &c->shuffle_config)) != 0) {
		free(c);
		return rv;
	}
	if ((c->sched = sli_plugin_set_find(
	         o->set, SL_PLUGIN_SCHEDULER, sname)) == NULL) {
		free(c->shuffle_config);
		free(c);
		return sli_err(SL_ENOTFOUND,
		    "no scheduler plugin named '%s' is loaded", sname);
	}
	if (uv_loop_init(&c->loop) != 0) {
		free(c->shuffle_config);
		free(c);
		return sli_err(SL_ENOMEM, "cannot start the event loop");
	}
	uv_mutex_init(&c->mtx);
	if ((rv = sli_loopq_init(&c->q, &c->loop)) != 0)
		goto fail_loop;
	if ((rv = sli_rpc_listen(
	         &c->q, o->listen, on_request, NULL, c, &c->srv)) != 0) {
		sli_loopq_close(&c->q);
		uv_run(&c->loop, UV_RUN_DEFAULT);
		goto fail_loop;
	}
	uv_timer_init(&c->loop, &c->tick);
	c->tick.data = c;
	uv_timer_start(&c->tick, on_tick, c->hb_ms, c->hb_ms);
	uv_timer_init(&c->loop, &c->retry);
	c->retry.data = c;
	/* jobs a coordinator before this one left unfinished */
	if (o->state_dir != NULL && o->recover)
		sli_coord_recover(c, o->state_dir);
	if (uv_thread_create(&c->th, loop_thread, c) != 0) {
		rv = sli_err(SL_ENOMEM, "cannot start the coordinator thread");
		sli_rpc_server_close(c->srv);
		uv_close((uv_handle_t *)&c->tick, NULL);
		uv_close((uv_handle_t *)&c->retry, NULL);
		sli_loopq_close(&c->q);
		uv_run(&c->loop, UV_RUN_DEFAULT);
		goto fail_loop;
	}
	sli_info("coordinator: listening at %s", sli_rpc_server_url(c->srv));
	*out = c;
	return 0;
fail_loop:
	uv_loop_close(&c->loop);
	uv_mutex_destroy(&c->mtx);
	free(c->shuffle_config);
	free(c);
	return rv;
}

const char *
sli_coord_url(const struct sli_coord *c)
{
	return sli_rpc_server_url(c->srv);
}

int
sli_coord_submit(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *const *defs, size_t ndefs, char *id,
    size_t cap)
{
	int rv;

	/* Checked and built here, on the caller's thread; started by the
	 * loop. */
	uv_mutex_lock(&c->mtx);
	rv = submit_locked(c, text, len, origin, defs, ndefs, id, cap, NULL);
	uv_mutex_unlock(&c->mtx);
	if (rv == 0)
		post(c, P_KICK, NULL);
	return rv;
}

uint32_t
sli_coord_workers(struct sli_coord *c)
{
	uint32_t n = 0;

	uv_mutex_lock(&c->mtx);
	for (struct cworker *w = c->workers; w != NULL; w = w->next)
		n += !w->lost && w->id[0] != '\0';
	uv_mutex_unlock(&c->mtx);
	return n;
}

int
sli_coord_job_info(struct sli_coord *c, const char *id,
    struct sli_coord_job_info *info, const struct sli_coord_job_out *o)
{
	struct cjob *j;

	uv_mutex_lock(&c->mtx);
	if ((j = sli_coord_job_find(c, id)) == NULL) {
		uv_mutex_unlock(&c->mtx);
		return sli_err(SL_ENOTFOUND, "no job '%s'", id);
	}
	info->state = j->state;
	snprintf(info->message, sizeof(info->message), "%s", j->message);
	info->ntasks = j->x.ntasks;
	info->done = j->done;
	info->attempts = j->deployments;
	info->failovers = j->nevents;
	for (uint32_t e = 0; o->edge_bytes != NULL && e < j->job->ne; e++)
		o->edge_bytes[e] = j->edge_bytes[e];
	for (uint32_t i = 0; o->region_times != NULL && i < 2 * j->r.n; i++)
		o->region_times[i] = j->rtime[i];
	for (uint32_t v = 0; o->par != NULL && v < j->job->nv; v++)
		o->par[v] = j->dec[v].parallelism != 0 ? j->dec[v].parallelism
		                                       : j->x.par[v];
	for (uint32_t v = 0; o->split != NULL && v < j->job->nv; v++)
		o->split[v] = j->skew != NULL && j->skew[v] != NULL
		    ? j->skew[v]->helpers
		    : 0;
	for (uint32_t t = 0; t < j->x.ntasks; t++) {
		const struct ctask *ct = &j->tasks[t];
		struct sli_task_metrics *m = o->m;

		if (m != NULL) {
			atomic_store(
			    &m[t].records_in, atomic_load(&j->m[t].records_in));
			atomic_store(&m[t].records_out,
			    atomic_load(&j->m[t].records_out));
			atomic_store(
			    &m[t].bytes_in, atomic_load(&j->m[t].bytes_in));
			atomic_store(
			    &m[t].bytes_out, atomic_load(&j->m[t].bytes_out));
			atomic_store(&m[t].ended, atomic_load(&j->m[t].ended));
		}
		if (o->worker != NULL && (ct->w != NULL || ct->attempt == 0))
			snprintf(o->worker[t], sizeof(o->worker[t]), "%s",
			    ct->w != NULL ? ct->w->id : "");
		if (o->attempts != NULL)
			o->attempts[t] = ct->attempt +
			    (ct->state == T_RUNNING ||
			        ct->state == T_FINISHED ||
			        ct->state == T_FAILED);
	}
	if (o->failovers != NULL) {
		json_decref(*o->failovers);
		*o->failovers = sli_coord_failover_json(j);
	}
	uv_mutex_unlock(&c->mtx);
	return 0;
}

void
sli_coord_cancel(struct sli_coord *c, const char *id)
{
	post(c, P_CANCEL, id);
}

void
sli_coord_shutdown_workers(struct sli_coord *c)
{
	post(c, P_SHUTDOWN, NULL);
}

void
sli_coord_stop(struct sli_coord *c)
{
	post(c, P_STOP, NULL);
	uv_thread_join(&c->th);
	if (uv_loop_close(&c->loop) != 0)
		sli_warn("coordinator: the event loop had handles left");
	while (c->jobs != NULL) {
		struct cjob *j = c->jobs;

		c->jobs = j->next;
		job_free(j);
	}
	uv_mutex_destroy(&c->mtx);
	free(c->shuffle_config);
	free(c);
}
