/*
 * Jobs taken up again from their operation logs (DESIGN §7), when a
 * coordinator starts on a state directory another one left (SIGKILLed,
 * say). A job without an "ended" record is submitted again under its id
 * from its "submitted" record (the job as the workers got it), and the
 * rest of its log says what was done: which attempt of each task finished,
 * on which worker, with which partitions; which decisions were taken.
 * When the job starts, after its workers had a bounded time to register
 * again, a task that finished on a worker that came back is finished with
 * the same partitions; decisions are taken again as logged; a region that
 * is not wholly finished runs again, its tasks one attempt above any the
 * log knows, so no attempt of the old coordinator is ever met again.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/error.h"
#include "common/log.h"
#include "coord.h"
#include "coord_impl.h"
#include "oplog/oplog_events.h"
#include "plan/failover.h"

struct routput {
	uint32_t edge;
	unsigned char *desc;
	size_t len;
	uint64_t *sub;
	uint32_t nsub;
};

struct rdecision {
	uint32_t v, p;
	uint32_t *starts;
};

struct rsnapshot {
	char plugin[128];
	unsigned char *data;
	size_t len;
};

struct creplay {
	uint64_t deadline; /* ms: wait for the workers until then */
	uint32_t *attempt; /* per task: the latest attempt logged */
	uint8_t *finished; /* per task: that attempt finished */
	char (*worker)[64];
	struct routput **outs; /* per task: its finished attempt's outputs */
	uint32_t *nouts;
	struct rdecision *dec;
	uint32_t ndec;
	struct rsnapshot snap[MAX_MASTERS]; /* the last of each master */
	uint32_t nsnap;
};

/* ---- reading the records ---- */

static bool
is(const msgpack_object *map, const char *type)
{
	const msgpack_object *t = sli_oplog_get(map, "t");

	return t != NULL && t->type == MSGPACK_OBJECT_STR &&
	    t->via.str.size == strlen(type) &&
	    memcmp(t->via.str.ptr, type, t->via.str.size) == 0;
}

/* The records of one log, unpacked (strings and binaries point into
 * their payloads, kept with them), in order. */
struct records {
	msgpack_unpacked *r;
	char **payload;
	size_t n;
	bool bad;
};

static int
keep(void *arg, const void *p, size_t len, uint64_t off)
{
	struct records *rs = arg;
	msgpack_unpacked *more = realloc(rs->r, (rs->n + 1) * sizeof(*more));
	char **pl;
	char *copy;

	(void)off;
	if (more != NULL)
		rs->r = more;
	pl = realloc(rs->payload, (rs->n + 1) * sizeof(*pl));
	if (pl != NULL)
		rs->payload = pl;
	if (more == NULL || pl == NULL || (copy = malloc(len)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	memcpy(copy, p, len);
	msgpack_unpacked_init(&rs->r[rs->n]);
	if (msgpack_unpack_next(&rs->r[rs->n], copy, len, NULL) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    rs->r[rs->n].data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&rs->r[rs->n]);
		free(copy);
		rs->bad = true;
		return 0;
	}
	rs->payload[rs->n++] = copy;
	return 0;
}

static void
records_free(struct records *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		msgpack_unpacked_destroy(&rs->r[i]);
		free(rs->payload[i]);
	}
	free(rs->r);
	free(rs->payload);
}

/* ---- what the log says ---- */

void
sli_coord_replay_free(struct cjob *j)
{
	struct creplay *p = j->replay;

	if (p == NULL)
		return;
	for (uint32_t t = 0; p->outs != NULL && t < j->x.ntasks; t++) {
		for (uint32_t k = 0; k < p->nouts[t]; k++) {
			free(p->outs[t][k].desc);
			free(p->outs[t][k].sub);
		}
		free(p->outs[t]);
	}
	for (uint32_t i = 0; i < p->ndec; i++)
		free(p->dec[i].starts);
	for (uint32_t i = 0; i < p->nsnap; i++)
		free(p->snap[i].data);
	free(p->dec);
	free(p->outs);
	free(p->nouts);
	free(p->attempt);
	free(p->finished);
	free(p->worker);
	free(p);
	j->replay = NULL;
}

/* A task's finished attempt: its worker and outputs. */
static int
take_finished(struct cjob *j, struct creplay *p, const msgpack_object *m)
{
	uint64_t v = sli_oplog_u64(sli_oplog_get(m, "vertex")),
	         idx = sli_oplog_u64(sli_oplog_get(m, "index")),
	         att = sli_oplog_u64(sli_oplog_get(m, "attempt"));
	const msgpack_object *w = sli_oplog_get(m, "worker"),
	                     *outs = sli_oplog_get(m, "outputs");
	uint32_t t, n;

	if (v >= j->job->nv || idx >= j->x.par[v] || att > UINT32_MAX ||
	    w == NULL || w->type != MSGPACK_OBJECT_STR || outs == NULL ||
	    outs->type != MSGPACK_OBJECT_ARRAY)
		return sli_err(SL_EPARSE,
		    "a finished record that does not fit "
		    "the job");
	t = j->x.base[v] + (uint32_t)idx;
	for (uint32_t k = 0; k < p->nouts[t]; k++) {
		free(p->outs[t][k].desc);
		free(p->outs[t][k].sub);
	}
	free(p->outs[t]);
	p->outs[t] = NULL;
	p->nouts[t] = 0;
	n = outs->via.array.size;
	if ((p->outs[t] = calloc(n + 1, sizeof(**p->outs))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t k = 0; k < n; k++) {
		const msgpack_object *o = &outs->via.array.ptr[k];
		struct routput *ro = &p->outs[t][k];

		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3 ||
		    o->via.array.ptr[1].type != MSGPACK_OBJECT_BIN ||
		    o->via.array.ptr[2].type != MSGPACK_OBJECT_ARRAY ||
		    sli_oplog_u64(&o->via.array.ptr[0]) >= j->job->ne)
			return sli_err(SL_EPARSE,
			    "a finished record's output "
			    "does not fit the job");
		ro->edge = (uint32_t)sli_oplog_u64(&o->via.array.ptr[0]);
		ro->len = o->via.array.ptr[1].via.bin.size;
		ro->nsub = o->via.array.ptr[2].via.array.size;
		ro->desc = malloc(ro->len + 1);
		ro->sub = calloc(ro->nsub + 1, sizeof(uint64_t));
		p->nouts[t]++;
		if (ro->desc == NULL || ro->sub == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		memcpy(ro->desc, o->via.array.ptr[1].via.bin.ptr, ro->len);
		for (uint32_t i = 0; i < ro->nsub; i++)
			ro->sub[i] = sli_oplog_u64(
			    &o->via.array.ptr[2].via.array.ptr[i]);
	}
	p->attempt[t] = (uint32_t)att;
	p->finished[t] = 1;
	snprintf(p->worker[t], sizeof(p->worker[t]), "%.*s",
	    (int)w->via.str.size, w->via.str.ptr);
	return 0;
}

static int
take_reset(struct cjob *j, struct creplay *p, const msgpack_object *m)
{
	const msgpack_object *rs = sli_oplog_get(m, "restarted");

	if (rs == NULL || rs->type != MSGPACK_OBJECT_ARRAY)
		return sli_err(SL_EPARSE, "a reset record without tasks");
	for (uint32_t i = 0; i < rs->via.array.size; i++) {
		const msgpack_object *e = &rs->via.array.ptr[i];
		uint64_t v, idx, att;

		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3)
			return sli_err(SL_EPARSE, "a reset record's task");
		v = sli_oplog_u64(&e->via.array.ptr[0]);
		idx = sli_oplog_u64(&e->via.array.ptr[1]);
		att = sli_oplog_u64(&e->via.array.ptr[2]);
		if (v >= j->job->nv || idx >= j->x.par[v] || att > UINT32_MAX)
			return sli_err(SL_EPARSE,
			    "a reset record's task does "
			    "not fit the job");
		p->attempt[j->x.base[v] + idx] = (uint32_t)att;
		p->finished[j->x.base[v] + idx] = 0;
	}
	return 0;
}

static int
take_decided(struct cjob *j, struct creplay *p, const msgpack_object *m)
{
	uint64_t v = sli_oplog_u64(sli_oplog_get(m, "vertex")),
	         par = sli_oplog_u64(sli_oplog_get(m, "parallelism"));
	const msgpack_object *st = sli_oplog_get(m, "starts");
	struct rdecision *d;

	if (v >= j->job->nv || par == 0 || par > j->x.par[v] || st == NULL ||
	    st->type != MSGPACK_OBJECT_ARRAY || st->via.array.size != par)
		return sli_err(SL_EPARSE,
		    "a decided record that does not fit "
		    "the job");
	if ((d = realloc(p->dec, (p->ndec + 1) * sizeof(*d))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	p->dec = d;
	d = &p->dec[p->ndec];
	if ((d->starts = calloc(par, sizeof(uint32_t))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	p->ndec++;
	d->v = (uint32_t)v;
	d->p = (uint32_t)par;
	for (uint32_t k = 0; k < par; k++)
		d->starts[k] = (uint32_t)sli_oplog_u64(&st->via.array.ptr[k]);
	return 0;
}

static int
take_snapshot(struct creplay *p, const msgpack_object *m)
{
	const msgpack_object *pl = sli_oplog_get(m, "plugin"),
	                     *d = sli_oplog_get(m, "data");
	struct rsnapshot *sn;
	uint32_t i;

	if (pl == NULL || pl->type != MSGPACK_OBJECT_STR || d == NULL ||
	    d->type != MSGPACK_OBJECT_BIN ||
	    pl->via.str.size >= sizeof(sn->plugin))
		return sli_err(SL_EPARSE, "a bad snapshot record");
	for (i = 0; i < p->nsnap; i++)
		if (strlen(p->snap[i].plugin) == pl->via.str.size &&
		    memcmp(p->snap[i].plugin, pl->via.str.ptr,
		        pl->via.str.size) == 0)
			break;
	if (i == MAX_MASTERS)
		return sli_err(SL_EPARSE, "snapshots of too many plugins");
	sn = &p->snap[i];
	free(sn->data);
	if ((sn->data = malloc(d->via.bin.size + 1)) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	memcpy(sn->data, d->via.bin.ptr, d->via.bin.size);
	sn->len = d->via.bin.size;
	if (i == p->nsnap) {
		memcpy(sn->plugin, pl->via.str.ptr, pl->via.str.size);
		sn->plugin[pl->via.str.size] = '\0';
		p->nsnap++;
	}
	return 0;
}

static int
replay_build(struct cjob *j, const struct records *rs, uint64_t deadline)
{
	struct creplay *p = calloc(1, sizeof(*p));
	uint32_t n = j->x.ntasks + 1;
	int rv = 0;

	if (p == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	j->replay = p;
	p->deadline = deadline;
	p->attempt = calloc(n, sizeof(*p->attempt));
	p->finished = calloc(n, 1);
	p->worker = calloc(n, sizeof(*p->worker));
	p->outs = calloc(n, sizeof(*p->outs));
	p->nouts = calloc(n, sizeof(*p->nouts));
	if (!p->attempt || !p->finished || !p->worker || !p->outs || !p->nouts)
		return sli_err(SL_ENOMEM, "out of memory");
	for (size_t i = 1; i < rs->n && rv == 0; i++) {
		const msgpack_object *m = &rs->r[i].data;

		if (is(m, "finished"))
			rv = take_finished(j, p, m);
		else if (is(m, "reset"))
			rv = take_reset(j, p, m);
		else if (is(m, "decided"))
			rv = take_decided(j, p, m);
		else if (is(m, "snapshot"))
			rv = take_snapshot(p, m);
	}
	return rv;
}

/* One log: taken up again when it did not end. */
static void
recover_one(
    struct sli_coord *c, const char *dir, const char *name, uint64_t deadline)
{
	char path[4096], job[128], origin[512], id[128];
	struct records rs = { 0 };
	struct sli_oplog_read rd;
	const msgpack_object *m, *json;
	struct cjob *j;
	int rv;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sli_oplog_read_file(path, keep, &rs, &rd) != 0) {
		sli_warn(
		    "coordinator: %s: %s; not recovered", path, sl_errdetail());
		goto out;
	}
	if (rd.end == SLI_OPLOG_CORRUPT) {
		/* what came before is used; what follows cannot be trusted */
		sli_warn("coordinator: %s: record %llu is corrupt: replaying "
		         "the %llu before it, dropping the rest",
		    path, (unsigned long long)rd.records + 1,
		    (unsigned long long)rd.records);
		if (truncate(path, (off_t)rd.good) != 0) {
			sli_warn("coordinator: %s: truncate: %m; not recovered",
			    path);
			goto out;
		}
	}
	if (rs.n == 0 || !is(&rs.r[0].data, "submitted")) {
		sli_warn("coordinator: %s: no submitted record; not recovered",
		    path);
		goto out;
	}
	for (size_t i = 0; i < rs.n; i++)
		if (is(&rs.r[i].data, "ended"))
			goto out; /* a job that ended: history */
	m = &rs.r[0].data;
	json = sli_oplog_get(m, "json");
	if (json == NULL || json->type != MSGPACK_OBJECT_STR ||
	    sli_oplog_get(m, "job") == NULL ||
	    sli_oplog_get(m, "job")->type != MSGPACK_OBJECT_STR) {
		sli_warn("coordinator: %s: a bad submitted record; not "
		         "recovered",
		    path);
		goto out;
	}
	snprintf(job, sizeof(job), "%.*s",
	    (int)sli_oplog_get(m, "job")->via.str.size,
	    sli_oplog_get(m, "job")->via.str.ptr);
	origin[0] = '\0';
	if (sli_oplog_get(m, "origin") != NULL &&
	    sli_oplog_get(m, "origin")->type == MSGPACK_OBJECT_STR)
		snprintf(origin, sizeof(origin), "%.*s",
		    (int)sli_oplog_get(m, "origin")->via.str.size,
		    sli_oplog_get(m, "origin")->via.str.ptr);
	if ((rv = sli_coord_submit_again(c, json->via.str.ptr,
	         json->via.str.size, origin, job, id, sizeof(id))) != 0) {
		sli_warn(
		    "coordinator: %s: %s; not recovered", path, sl_errdetail());
		goto out;
	}
	j = sli_coord_job_find(c, id);
	if ((rv = replay_build(j, &rs, deadline)) != 0) {
		sli_coord_replay_free(j);
		sli_coord_job_end(j, SLI_JOB_FAILED, "recovering from %s: %s",
		    path, sl_errdetail());
		goto out;
	}
	sli_info("coordinator: job %s recovered from %s (%zu records)", id,
	    path, rs.n);
out:
	records_free(&rs);
}

void
sli_coord_recover(struct sli_coord *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t deadline = sli_coord_now_ms() + sli_coord_wait_ms(c);

	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".log") == 0)
			recover_one(c, dir, e->d_name, deadline);
	}
	if (d != NULL)
		closedir(d);
}

/* ---- taking it up ---- */

/* Whether every partition task t writes for another region is kept by a
 * plugin whose data outlives the worker (SL_SHUFFLE_CAP_SURVIVES_WORKER: a
 * remote shuffle service's): its finished attempt stands whether its
 * worker comes back or not. */
static bool
outputs_survive(const struct cjob *j, uint32_t t)
{
	const struct sli_vertex *vx = &j->job->v[j->x.task_vertex[t]];

	/* a split range's helper writes to its input edge's plugin */
	if (sli_coord_skew_role(j, t, NULL) == 1)
		return vx->nin > 0 &&
		    (j->shuffle[vx->in[0]]->desc.caps &
		        SL_SHUFFLE_CAP_SURVIVES_WORKER);
	/* a pipelined edge stays within a region: a finished region
	 * consumed its data already */
	for (uint32_t k = 0; k < vx->nout; k++)
		if (j->job->e[vx->out[k]].type != SL_PARTITION_PIPELINED &&
		    !(j->shuffle[vx->out[k]]->desc.caps &
		        SL_SHUFFLE_CAP_SURVIVES_WORKER))
			return false;
	return true;
}

bool
sli_coord_replay_waits(const struct cjob *j, uint64_t now)
{
	const struct creplay *p = j->replay;

	if (p == NULL || now >= p->deadline)
		return false;
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		if (p->finished[t] && !outputs_survive(j, t) &&
		    sli_coord_worker_find(j->c, p->worker[t]) == NULL)
			return true;
	return false;
}

/* Finish task t as its log says, its partitions as they were; w is its
 * worker, NULL when gone (outputs_survive). */
static int
finish_logged(struct cjob *j, uint32_t t, struct cworker *w)
{
	const struct creplay *p = j->replay;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);
	struct ctask *ct = &j->tasks[t];

	for (uint32_t k = 0; k < p->nouts[t]; k++) {
		const struct routput *o = &p->outs[t][k];
		struct cmaster *m = &j->masters[j->master_of[o->edge]];
		struct sl_bytes *d = &j->descs[o->edge][idx];
		uint32_t n = j->x.par[j->job->e[o->edge].to];
		uint32_t kk;

		if (j->job->e[o->edge].from != v)
			return sli_err(
			    SL_EPARSE, "logged output not the task's");
		if ((d->data = m->p->host.alloc(o->len + 1)) == NULL)
			return sli_err(SL_ENOMEM, "out of memory");
		memcpy(d->data, o->desc, o->len);
		d->len = o->len;
		for (kk = 0; kk < j->job->v[v].nout; kk++)
			if (j->job->v[v].out[kk] == o->edge)
				break;
		for (uint32_t i = 0; i < o->nsub; i++) {
			j->edge_bytes[o->edge] += o->sub[i];
			if (kk < j->maxout)
				j->task_bytes[(size_t)t * j->maxout + kk] +=
				    o->sub[i];
			if (j->sub_bytes[o->edge] != NULL && i < n)
				j->sub_bytes[o->edge][(size_t)idx * n + i] =
				    o->sub[i];
		}
	}
	ct->state = T_FINISHED;
	ct->attempt = p->attempt[t];
	ct->w = w;
	j->done++;
	j->left[j->r.of_task[t]]--;
	return 0;
}

/* Release what finish_logged restored of t, to run it again. */
static void
unfinish(struct cjob *j, uint32_t t)
{
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);

	for (uint32_t k = 0; k < j->job->v[v].nout; k++) {
		uint32_t e = j->job->v[v].out[k];
		struct sl_bytes *d = &j->descs[e][idx];
		struct cmaster *m = &j->masters[j->master_of[e]];

		if (d->data == NULL)
			continue;
		m->p->ops.shuffle.master.release_partition(
		    m->state, d->data, d->len);
		m->p->host.free(d->data);
		d->data = NULL;
		j->edge_bytes[e] -= j->task_bytes[(size_t)t * j->maxout + k];
		j->task_bytes[(size_t)t * j->maxout + k] = 0;
	}
	j->tasks[t].state = T_NONE;
	j->tasks[t].w = NULL;
	j->tasks[t].attempt = j->replay->attempt[t] + 1;
	j->done--;
	j->left[j->r.of_task[t]]++;
}

/*
 * What an attempt of t the old coordinator deployed may have left behind
 * (a crash leaves no release): the logged partitions of a finished attempt
 * whose worker did not come back, or, for an attempt not logged as
 * finished, its partitions by name, registered only to be released (a
 * localdisk writer's files, half-written ones included, on this host).
 */
static void
release_old_attempt(struct cjob *j, uint32_t t)
{
	const struct creplay *p = j->replay;
	uint32_t v = j->x.task_vertex[t], idx = sli_task_index(&j->x, t);

	if (p->finished[t]) {
		for (uint32_t k = 0; k < p->nouts[t]; k++) {
			const struct routput *o = &p->outs[t][k];
			struct cmaster *m = &j->masters[j->master_of[o->edge]];

			m->p->ops.shuffle.master.release_partition(
			    m->state, o->desc, o->len);
		}
		return;
	}
	if (sli_coord_skew_role(j, t, NULL) == 1)
		return; /* a helper's partial result: not an edge's */
	for (uint32_t k = 0; k < j->job->v[v].nout; k++) {
		uint32_t e = j->job->v[v].out[k];
		struct cmaster *m = &j->masters[j->master_of[e]];
		struct sl_partition_spec ps = {
			.struct_size = sizeof(ps),
			.type = (uint32_t)j->job->e[e].type,
			.job_id = j->id,
			.edge = e,
			.producer = idx,
			.attempt = p->attempt[t],
			.num_subpartitions = sli_edge_num_subs(&j->x, e, idx),
			.compression = (uint32_t)j->job->e[e].compression,
		};
		struct sl_bytes d = { NULL, 0 };

		if (m->p->ops.shuffle.master.register_partition(
		        m->state, &ps, &d) != 0)
			continue;
		m->p->ops.shuffle.master.release_partition(
		    m->state, d.data, d.len);
		m->p->host.free(d.data);
	}
}

/*
 * The attempts that run from now on, logged (a "reset" record) and synced
 * before anything is deployed: a coordinator that crashes again and takes
 * the job up once more then starts above them, so no attempt number is
 * ever given twice (an old attempt may still run on a worker).
 */
static int
log_attempts(struct cjob *j)
{
	uint32_t *todo = malloc((j->x.ntasks + 1) * sizeof(*todo)), n = 0;

	if (todo == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t t = 0; t < j->x.ntasks; t++)
		if (j->tasks[t].state != T_FINISHED &&
		    j->tasks[t].state != T_VACANT)
			todo[n++] = t;
	if (n > 0)
		sli_coord_log_reset(
		    j, "taken up again by a new coordinator", todo, n);
	free(todo);
	return sli_coord_log_sync(j);
}

/* Partition of finished producer `task` on `edge`: still there, as far
 * as its worker (which lists what it holds) and its master can tell. */
static bool
replay_held(void *arg, uint32_t task, uint32_t edge)
{
	struct cjob *j = arg;
	uint32_t idx = sli_task_index(&j->x, task);
	const struct sl_bytes *d = &j->descs[edge][idx];
	struct cmaster *m = &j->masters[j->master_of[edge]];
	const struct ctask *ct = &j->tasks[task];

	if (ct->state != T_FINISHED || d->data == NULL)
		return false;
	if (ct->w != NULL &&
	    !sli_coord_worker_holds(
	        ct->w, m->p->name, j->id, edge, idx, ct->attempt)) {
		sli_info("coordinator: job %s: worker %s no longer holds the "
		         "partition of %s#%u attempt %u on edge %u",
		    j->id, ct->w->id, j->job->v[j->x.task_vertex[task]].id, idx,
		    ct->attempt, edge);
		return false;
	}
	return m->p->ops.shuffle.master.is_available(m->state, d->data, d->len);
}

/*
 * Which regions run again: those with a task the log does not show
 * finished on a worker that is back, and, by DESIGN §4 rules 2 and 3, the
 * producers of partitions they need that are gone and the consumers of
 * what runs again. restart: one byte per region.
 */
static int
replay_restart_set(struct cjob *j, uint8_t *restart)
{
	struct sli_failover_view view = { replay_held, j, NULL };
	uint32_t *todo = malloc((j->x.ntasks + 1) * sizeof(*todo)), n = 0;
	int rv;

	if (todo == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	for (uint32_t r = 0; r < j->r.n; r++) {
		if (j->s.state[r] != SL_REGION_CREATED)
			continue;
		for (uint32_t k = j->r.start[r]; k < j->r.start[r + 1]; k++) {
			uint32_t t = j->r.tasks[k];

			if (j->tasks[t].state != T_FINISHED &&
			    j->tasks[t].state != T_VACANT)
				todo[n++] = t;
		}
	}
	rv = sli_failover_regions(&j->x, &j->r, todo, n, &view, restart);
	free(todo);
	return rv;
}

/* The job's shuffle masters as their last snapshots left them; a master
 * that refuses its snapshot starts afresh (what its workers hold is asked
 * of them all the same). */
static int
masters_restore(struct cjob *j)
{
	const struct creplay *p = j->replay;

	for (uint32_t i = 0; i < j->nmasters; i++) {
		struct cmaster *m = &j->masters[i];
		const struct sl_shuffle_master_ops *ops =
		    &m->p->ops.shuffle.master;
		const struct rsnapshot *sn = NULL;
		int rv;

		for (uint32_t k = 0; k < p->nsnap && sn == NULL; k++)
			if (strcmp(p->snap[k].plugin, m->p->name) == 0)
				sn = &p->snap[k];
		if (sn == NULL)
			continue;
		sli_err_clear();
		if (ops->restore(m->state, sn->data, sn->len) == 0)
			continue;
		sli_warn("coordinator: job %s: shuffle '%s': its snapshot "
		         "cannot be restored (%s); starting it afresh",
		    j->id, m->p->name, sl_errdetail());
		ops->fini(m->state);
		memset(m->state, 0, ops->state_size + 1);
		if ((rv = ops->init(m->state, &m->p->host,
		         sli_coord_shuffle_config(j->c))) != 0) {
			ops->fini(m->state);
			free(m->state);
			m->state = NULL;
			return sli_err(rv, "shuffle '%s': master init: %s",
			    m->p->name, sl_errdetail());
		}
	}
	return 0;
}

int
sli_coord_replay(struct cjob *j)
{
	struct creplay *p = j->replay;
	uint32_t kept = 0, rerun = 0;
	uint8_t *restart = NULL;
	bool changed = true;
	int rv = 0;

	if (p == NULL)
		return 0;
	j->replaying = true;
	rv = masters_restore(j);
	for (uint32_t t = 0; t < j->x.ntasks && rv == 0; t++) {
		struct cworker *w = p->finished[t]
		    ? sli_coord_worker_find(j->c, p->worker[t])
		    : NULL;

		if (w != NULL || (p->finished[t] && outputs_survive(j, t)))
			rv = finish_logged(j, t, w);
		else
			j->tasks[t].attempt = p->attempt[t] + 1;
	}
	for (uint32_t i = 0; i < p->ndec && rv == 0; i++)
		rv = sli_coord_adaptive_replay(
		    j, p->dec[i].v, p->dec[i].p, p->dec[i].starts);
	for (uint32_t t = 0; t < j->x.ntasks && rv == 0; t++)
		if (j->tasks[t].state == T_FINISHED)
			rv = sli_coord_skew_finished(j, t);
	if (rv == 0 && (restart = calloc(j->r.n + 1, 1)) == NULL)
		rv = sli_err(SL_ENOMEM, "out of memory");
	if (rv == 0)
		rv = replay_restart_set(j, restart);
	/* The others are kept, producers before consumers (a region's
	 * inputs are there when its producers' regions were kept). */
	while (changed && rv == 0) {
		changed = false;
		for (uint32_t r = 0; r < j->r.n; r++) {
			if (restart[r] || j->s.state[r] != SL_REGION_CREATED ||
			    j->left[r] > 0 || j->s.pending[r] > 0)
				continue;
			if (sli_sched_deploy(&j->s, r) == 0 &&
			    sli_sched_finish(&j->s, r) == 0) {
				kept++;
				changed = true;
			}
		}
	}
	for (uint32_t r = 0; r < j->r.n && rv == 0; r++) {
		if (j->s.state[r] != SL_REGION_CREATED)
			continue;
		for (uint32_t k = j->r.start[r]; k < j->r.start[r + 1]; k++) {
			uint32_t t = j->r.tasks[k];

			if (j->tasks[t].state == T_FINISHED) {
				unfinish(j, t);
				rerun++;
			} else if (j->tasks[t].state != T_VACANT) {
				release_old_attempt(j, t);
			}
		}
	}
	free(restart);
	if (rv == 0)
		rv = log_attempts(j);
	j->replaying = false;
	if (rv == 0)
		sli_info("coordinator: job %s: %u regions kept from the log, "
		         "%u finished tasks to run again, %u tasks done of %u",
		    j->id, kept, rerun, j->done, j->x.ntasks);
	sli_coord_replay_free(j);
	return rv;
}
