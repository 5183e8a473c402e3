/*
 * Failover while a job runs (DESIGN §4): a task failed, could not start,
 * or its worker was lost. The job's restart strategy says whether and
 * when; the regions of sli_failover_regions (the function `sluice plan
 * failover` runs) go back to CREATED with their tasks' attempts bumped and
 * their old partitions released, are held for the strategy's delay, and
 * are then handed to the scheduling strategy again (on_regions_reset).
 * Reports of an old attempt are ignored by attempt number, so nothing an
 * old attempt wrote is read or counted.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "coord.h"
#include "coord_impl.h"
#include "plan/failover.h"

/* Partition of producer `task` on `edge`: held by its plugin and not
 * reported unreadable by a consumer. */
static bool
view_held(void *arg, uint32_t task, uint32_t edge)
{
	struct cjob *j = arg;
	uint32_t idx = sli_task_index(&j->x, task);
	const struct sl_bytes *d = &j->descs[edge][idx];
	struct cmaster *m = &j->masters[j->master_of[edge]];

	if (j->lost[edge] != NULL && j->lost[edge][idx])
		return false;
	if (d->data == NULL || m->state == NULL)
		return true; /* not made yet: nothing lost */
	return m->p->ops.shuffle.master.is_available(m->state, d->data, d->len);
}

/* Release what task t's attempt wrote (its partitions, its share of the
 * edges' bytes) and make it a task to run again, one attempt later. */
static void
task_reset(struct cjob *j, uint32_t t)
{
	struct ctask *ct = &j->tasks[t];
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	const struct sli_vertex *vx = &j->job->v[v];

	if (ct->state == T_NONE || ct->state == T_VACANT)
		return;
	if (ct->state == T_RUNNING)
		sli_coord_task_cancel(j, t);
	if (ct->state == T_FINISHED)
		j->done--;
	sli_coord_slot_free(ct);
	for (uint32_t k = 0; k < vx->nout; k++) {
		uint32_t e = vx->out[k];
		struct sl_bytes *d = &j->descs[e][idx];
		struct cmaster *m = &j->masters[j->master_of[e]];

		if (d->data != NULL) {
			if (m->state != NULL)
				m->p->ops.shuffle.master.release_partition(
				    m->state, d->data, d->len);
			m->p->host.free(d->data);
			d->data = NULL;
			d->len = 0;
		}
		j->edge_bytes[e] -= j->task_bytes[(size_t)t * j->maxout + k];
		j->task_bytes[(size_t)t * j->maxout + k] = 0;
		if (j->sub_bytes[e] != NULL) {
			uint32_t n = j->x.par[j->job->e[e].to];

			memset(j->sub_bytes[e] + (size_t)idx * n, 0,
			    n * sizeof(uint64_t));
			if (j->scanned[e] > idx)
				j->scanned[e] = idx;
		}
		if (j->lost[e] != NULL)
			j->lost[e][idx] = 0; /* the next attempt's is new */
	}
	sli_coord_skew_reset(j, t);
	sli_task_metrics_init(&j->m[t]);
	ct->attempt++;
	ct->state = T_NONE;
	ct->w = NULL;
}

/* Record a failover event for the report. */
static void
event_add(struct cjob *j, uint32_t task, uint32_t attempt, const char *cause,
    uint32_t *restarted, uint32_t n, uint64_t delay_ms, bool gave_up)
{
	struct cfailover *ev =
	    realloc(j->events, (j->nevents + 1) * sizeof(*j->events));

	if (ev == NULL) {
		free(restarted);
		return;
	}
	j->events = ev;
	ev = &j->events[j->nevents++];
	ev->at = sli_coord_now_s() - j->t0;
	ev->task = task;
	ev->attempt = attempt;
	ev->cause = strdup(cause);
	ev->restarted = restarted;
	ev->nrestarted = n;
	ev->delay_ms = delay_ms;
	ev->gave_up = gave_up;
}

void
sli_coord_failover(
    struct cjob *j, const uint32_t *failed, uint32_t nfailed, const char *cause)
{
	struct sli_failover_view view = { .held = view_held, .arg = j };
	uint8_t *restart = NULL, *deployed = NULL;
	uint32_t *tasks = NULL, ntasks = 0, attempt;
	uint64_t delay = 0, now = sli_coord_now_ms();
	char name[192], why[256];

	if (j->state != SLI_JOB_RUNNING || nfailed == 0)
		return;
	sli_task_name(&j->x, failed[0], name, sizeof(name));
	attempt = j->tasks[failed[0]].attempt;
	if (!sli_restart_on_failure(
	        &j->restart, now, &delay, why, sizeof(why))) {
		/* the report says when and why the job ended */
		event_add(j, failed[0], attempt, cause, NULL, 0, 0, true);
		sli_coord_job_end(j, SLI_JOB_FAILED,
		    "task %s failed (attempt %u): %s; restart strategy %s",
		    name, attempt, cause, why);
		return;
	}
	restart = calloc(j->r.n + 1, 1);
	deployed = calloc(j->x.ntasks + 1, 1);
	if (restart == NULL || deployed == NULL)
		goto nomem;
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		deployed[t] = j->tasks[t].state == T_RUNNING ||
		    j->tasks[t].state == T_FINISHED ||
		    j->tasks[t].state == T_FAILED;
	view.deployed = deployed;
	if (sli_failover_regions(
	        &j->x, &j->r, failed, nfailed, &view, restart) != 0 ||
	    sli_failover_tasks(&j->x, &j->r, restart, &view, &tasks, &ntasks) !=
	        0)
		goto nomem;
	for (uint32_t r = 0; r < j->r.n; r++) {
		uint32_t left = 0;

		if (!restart[r])
			continue;
		for (uint32_t k = j->r.start[r]; k < j->r.start[r + 1]; k++) {
			uint32_t t = j->r.tasks[k];

			task_reset(j, t);
			left += j->tasks[t].state != T_VACANT;
		}
		/* all vacant (an adaptive decision skipped it): it stays
		 * finished, it has nothing to run */
		if (left == 0) {
			restart[r] = 0;
			continue;
		}
		j->left[r] = left;
		j->rtime[2 * r] = j->rtime[2 * r + 1] = -1;
	}
	sli_sched_restart(&j->s, restart);
	/* held for the strategy's delay: nothing of them runs before */
	for (uint32_t r = 0; r < j->r.n; r++)
		if (restart[r] && !j->waiting[r]) {
			j->waiting[r] = 1;
			sli_sched_hold(&j->s, r);
		}
	sli_warn("coordinator: job %s: task %s failed (attempt %u): %s; "
	         "restarting %u tasks in %llu ms",
	    j->id, name, attempt, cause, ntasks, (unsigned long long)delay);
	sli_coord_log_reset(j, cause, tasks, ntasks);
	event_add(j, failed[0], attempt, cause, tasks, ntasks, delay, false);
	j->restart_due = now + delay;
	sli_coord_arm_retry(j->c, j->restart_due);
	free(restart);
	free(deployed);
	return;
nomem:
	free(restart);
	free(deployed);
	free(tasks);
	sli_coord_job_end(j, SLI_JOB_FAILED, "task %s failed: %s; %s", name,
	    cause, "out of memory while failing over");
}

void
sli_coord_failover_due(struct cjob *j, uint64_t now)
{
	uint32_t *regs, n = 0;
	int rv;

	if (j->state != SLI_JOB_RUNNING || j->restart_due == 0 ||
	    j->restart_due > now)
		return;
	j->restart_due = 0;
	if ((regs = malloc((j->r.n + 1) * sizeof(*regs))) == NULL) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "out of memory");
		return;
	}
	for (uint32_t r = 0; r < j->r.n; r++) {
		if (!j->waiting[r])
			continue;
		j->waiting[r] = 0;
		regs[n++] = r;
		sli_sched_release(&j->s, r, sli_coord_region_slots(j, r));
	}
	sli_err_clear();
	rv = j->sp->ops.scheduler.on_regions_reset != NULL
	    ? j->sp->ops.scheduler.on_regions_reset(j->sstate, &j->ctx, regs, n)
	    : j->sp->ops.scheduler.on_start(j->sstate, &j->ctx);
	free(regs);
	sli_coord_deploy_pending(j, rv, "on_regions_reset");
}

/* Whether finished task t must run again: a partition of its is gone
 * (not held) while a consumer of it has still to finish. A split range's
 * helper counts while its merger has not merged its partial result. */
static bool
lost_and_needed(struct cjob *j, uint32_t t)
{
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t), o;

	if (j->tasks[t].state != T_FINISHED)
		return false;
	if (sli_coord_skew_role(j, t, &o) == 1) {
		const struct cskew *k = j->skew[v];
		const struct cmaster *m = &j->masters[k->master];
		const struct sl_bytes *d = &k->desc[idx];

		if (d->data == NULL || m->state == NULL ||
		    m->p->ops.shuffle.master.is_available(
		        m->state, d->data, d->len))
			return false;
		return j->tasks[j->x.base[v] + o].state != T_FINISHED;
	}
	for (uint32_t k = 0; k < j->job->v[v].nout; k++) {
		uint32_t e = j->job->v[v].out[k], to = j->job->e[e].to, lo, hi;

		if (view_held(j, t, e))
			continue;
		sli_edge_consumers(&j->x, e, idx, &lo, &hi);
		for (uint32_t c = lo; c < hi; c++) {
			uint32_t st = j->tasks[j->x.base[to] + c].state;

			if (st != T_FINISHED && st != T_VACANT)
				return true;
		}
	}
	return false;
}

/* Worker w was lost: the tasks running there failed, and so did the
 * finished ones there whose partitions went with it while a consumer still
 * needs them. One failover for all of them. */
void
sli_coord_failover_worker(
    struct cjob *j, const struct cworker *w, const char *why)
{
	uint32_t *failed, n = 0;
	char cause[512];

	if (j->state != SLI_JOB_RUNNING || !j->started)
		return;
	if ((failed = malloc((j->x.ntasks + 1) * sizeof(*failed))) == NULL) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "out of memory");
		return;
	}
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		if (j->tasks[t].w == w &&
		    (j->tasks[t].state == T_RUNNING || lost_and_needed(j, t)))
			failed[n++] = t;
	snprintf(cause, sizeof(cause), "worker %s lost: %s", w->id, why);
	sli_coord_failover(j, failed, n, cause);
	free(failed);
}

/* A shuffle master reported partitions lost (its losses count grew: a
 * shuffle service went): the finished producers of those a consumer still
 * needs run again, with their consumers (rule 3), in one failover. */
void
sli_coord_failover_lost(struct cjob *j, const char *why)
{
	uint32_t *failed, n = 0;

	if (j->state != SLI_JOB_RUNNING || !j->started)
		return;
	if ((failed = malloc((j->x.ntasks + 1) * sizeof(*failed))) == NULL) {
		sli_coord_job_end(j, SLI_JOB_FAILED, "out of memory");
		return;
	}
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		if (lost_and_needed(j, t))
			failed[n++] = t;
	if (n > 0)
		sli_coord_failover(j, failed, n, why);
	free(failed);
}

void
sli_coord_failover_free(struct cjob *j)
{
	for (uint32_t e = 0; j->lost != NULL && e < j->job->ne; e++)
		free(j->lost[e]);
	free(j->lost);
	j->lost = NULL;
	for (uint32_t i = 0; i < j->nevents; i++) {
		free(j->events[i].cause);
		free(j->events[i].restarted);
	}
	free(j->events);
	j->events = NULL;
	j->nevents = 0;
	free(j->waiting);
	j->waiting = NULL;
	free(j->task_bytes);
	j->task_bytes = NULL;
	sli_restart_fini(&j->restart);
}

int
sli_coord_failover_init(struct cjob *j)
{
	struct sl_restart_spec spec;

	for (uint32_t v = 0; v < j->job->nv; v++)
		if (j->job->v[v].nout > j->maxout)
			j->maxout = j->job->v[v].nout;
	j->lost = calloc(j->job->ne + 1, sizeof(*j->lost));
	j->waiting = calloc(j->r.n + 1, 1);
	j->task_bytes =
	    calloc((size_t)j->x.ntasks * (j->maxout ? j->maxout : 1) + 1,
	        sizeof(*j->task_bytes));
	if (j->lost == NULL || j->waiting == NULL || j->task_bytes == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	sli_job_restart(j->job, &spec);
	return sli_restart_init(
	    &j->restart, &spec, (uint64_t)sli_coord_now_ms());
}

void
sli_coord_unreadable(struct cjob *j, uint32_t e, uint32_t producer)
{
	if (e >= j->job->ne || producer >= j->x.par[j->job->e[e].from])
		return;
	if (j->lost[e] == NULL &&
	    (j->lost[e] = calloc(j->x.par[j->job->e[e].from], 1)) == NULL)
		return;
	j->lost[e][producer] = 1;
}

json_t *
sli_coord_failover_json(const struct cjob *j)
{
	json_t *a = json_array();
	char name[192];

	for (uint32_t i = 0; a != NULL && i < j->nevents; i++) {
		const struct cfailover *ev = &j->events[i];
		json_t *ts = json_array();

		for (uint32_t k = 0; ts != NULL && k < ev->nrestarted; k++) {
			sli_task_name(
			    &j->x, ev->restarted[k], name, sizeof(name));
			json_array_append_new(ts, json_string(name));
		}
		sli_task_name(&j->x, ev->task, name, sizeof(name));
		json_array_append_new(a,
		    json_pack("{s:f,s:s,s:i,s:s,s:o*,s:I,s:b}", "at_s", ev->at,
		        "task", name, "attempt", (int)ev->attempt, "cause",
		        ev->cause ? ev->cause : "", "restarted", ts, "delay_ms",
		        (json_int_t)ev->delay_ms, "gave_up", ev->gave_up));
	}
	return a;
}
