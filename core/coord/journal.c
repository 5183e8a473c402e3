/*
 * A job's operation log (DESIGN §7; core/oplog): what the coordinator
 * decided and saw, one record each, so that a coordinator started again on
 * the same state directory knows what was done. Decisions are synced
 * before their effects leave the coordinator (a DEPLOY that a decided
 * parallelism allows, the SUBMITTED reply); finished tasks are synced with
 * the next decision or on the coordinator's tick, many to an fsync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/log.h"
#include "coord.h"
#include "coord_impl.h"
#include "oplog/oplog_events.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SNAPSHOT_MS 1000 /* at most one round of snapshots a second */

static uint64_t
since_submit(const struct cjob *j)
{
	double s = sli_coord_now_s() - j->t0;

	return s > 0 ? (uint64_t)(s * 1000.0) : 0;
}

/* A record that cannot be written: the job cannot go on promising what
 * it did not record. */
static void
log_failed(struct cjob *j, int rv)
{
	if (rv == 0 || j->state != SLI_JOB_RUNNING)
		return;
	sli_coord_job_end(j, SLI_JOB_FAILED, "operation log %s: %s",
	    j->log.path ? j->log.path : "", sl_errdetail());
}

int
sli_coord_log_open(
    struct cjob *j, const char *dir, const char *origin, bool again)
{
	char path[4096];
	int rv;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return sli_err(
		    SL_EIO, "state directory %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s.log", dir, j->id);
	if ((rv = sli_oplog_open(path, &j->log)) != 0)
		return rv;
	j->have_log = true;
	if (again)
		return 0; /* recovered: its records go on after the last */
	if ((rv = sli_oplog_submitted(
	         &j->log, 0, j->id, origin, j->json, j->json_len)) != 0 ||
	    (rv = sli_oplog_sync(&j->log)) != 0) {
		sli_oplog_close(&j->log);
		j->have_log = false;
		return rv;
	}
	return 0;
}

void
sli_coord_log_decided(struct cjob *j, uint32_t v)
{
	if (!j->have_log || j->replaying)
		return;
	log_failed(j,
	    sli_oplog_decided(&j->log, since_submit(j), v, j->job->v[v].id,
	        j->dec[v].parallelism, j->dec[v].start));
}

void
sli_coord_log_finished(
    struct cjob *j, uint32_t t, const struct sli_wire_task_state *s)
{
	const struct sli_vertex *vx = &j->job->v[j->x.task_vertex[t]];
	struct sli_oplog_output outs[vx->nout ? vx->nout : 1];
	uint32_t idx = sli_task_index(&j->x, t), n = 0;

	if (!j->have_log)
		return;
	for (uint32_t k = 0; k < vx->nout && k < s->nsub_bytes; k++) {
		uint32_t e = vx->out[k];

		outs[n++] = (struct sli_oplog_output) {
			.edge = e,
			.desc = j->descs[e][idx],
			.sub_bytes = s->sub_bytes[k].v,
			.nsub = s->sub_bytes[k].n,
		};
	}
	log_failed(j,
	    sli_oplog_finished(&j->log, since_submit(j), j->x.task_vertex[t],
	        idx, j->tasks[t].attempt,
	        j->tasks[t].w != NULL ? j->tasks[t].w->id : "", outs, n));
}

void
sli_coord_log_reset(
    struct cjob *j, const char *cause, const uint32_t *tasks, uint32_t n)
{
	uint32_t(*rs)[3];

	if (!j->have_log)
		return;
	if ((rs = calloc(n + 1, sizeof(*rs))) == NULL) {
		log_failed(j, sli_err(SL_ENOMEM, "out of memory"));
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		rs[i][0] = j->x.task_vertex[tasks[i]];
		rs[i][1] = sli_task_index(&j->x, tasks[i]);
		rs[i][2] = j->tasks[tasks[i]].attempt;
	}
	log_failed(j,
	    sli_oplog_reset(
	        &j->log, since_submit(j), cause, (const uint32_t(*)[3])rs, n));
	free(rs);
}

/*
 * Each shuffle master's snapshot (its ABI's), when it changed since the
 * one logged last and SNAPSHOT_MS passed: a recovered job's masters are
 * restored from the last ones. What a snapshot holds only grows (released
 * partitions, lost workers), so an older one is true as far as it goes.
 */
void
sli_coord_log_snapshots(struct cjob *j, uint64_t now)
{
	if (!j->have_log || !j->started || now < j->snap_at + SNAPSHOT_MS)
		return;
	j->snap_at = now;
	for (uint32_t i = 0; i < j->nmasters; i++) {
		struct cmaster *m = &j->masters[i];
		struct sl_bytes b = { NULL, 0 };
		uint64_t h;
		int rv;

		if (m->state == NULL)
			continue;
		sli_err_clear();
		if ((rv = m->p->ops.shuffle.master.snapshot(m->state, &b)) !=
		    0) {
			sli_warn("coordinator: job %s: shuffle '%s': snapshot: "
			         "%s",
			    j->id, m->p->name, sl_errdetail());
			continue;
		}
		h = XXH3_64bits(b.data, b.len);
		if (b.len > 0 && h != j->snap_hash[i]) {
			j->snap_hash[i] = h;
			log_failed(j,
			    sli_oplog_snapshot(&j->log, since_submit(j),
			        m->p->name, b.data, b.len));
		}
		m->p->host.free(b.data);
	}
}

int
sli_coord_log_sync(struct cjob *j)
{
	int rv;

	if (!j->have_log)
		return 0;
	rv = sli_oplog_sync(&j->log);
	log_failed(j, rv);
	return rv;
}

void
sli_coord_log_ended(struct cjob *j)
{
	char path[4096];
	int rv, rc;

	if (!j->have_log)
		return;
	snprintf(path, sizeof(path), "%s", j->log.path);
	rv = sli_oplog_ended(&j->log, since_submit(j),
	    sli_wire_state_name(j->state), j->message);
	rc = sli_oplog_close(&j->log);
	if (rv != 0 || rc != 0)
		sli_warn("coordinator: job %s: operation log %s: %s", j->id,
		    path, sl_errdetail());
	j->have_log = false;
}
