/*
 * The coordinator's private state, shared by coordinator.c (workers, jobs,
 * deploying) and adaptive_run.c (parallelism decided while a job runs).
 * Everything here is guarded by the coordinator's mutex and touched on its
 * loop thread.
 */
#ifndef SLI_COORD_IMPL_H
#define SLI_COORD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sluice/scheduler.h>

#include "exec/task.h"
#include "oplog/oplog.h"
#include "graph/exec.h"
#include "graph/job.h"
#include "plan/adaptive.h"
#include "plan/regions.h"
#include "plan/restart.h"
#include "plan/schedule.h"
#include "plugin/loader.h"
#include "wire/wire.h"

#define MAX_MASTERS 16

struct cworker {
	struct cworker *next;
	struct sli_coord *c;
	char *id;
	char *ctl_url;
	char *host;
	uint32_t pid;
	uint32_t slots;
	struct sli_wire_service *data;
	uint32_t ndata;
	struct sli_rpc_client *cl;
	uint64_t last_seen; /* ms */
	uint32_t placed;    /* slot-sharing groups placed here, running */
	bool lost;
	bool leaving; /* told to shut down */
};

/* Whether w said it holds that partition of plugin's, or cannot tell (a
 * plugin without a server on w, or whose server cannot list). */
bool sli_coord_worker_holds(const struct cworker *w, const char *plugin,
    const char *job, uint32_t edge, uint32_t producer, uint32_t attempt);

/* T_VACANT: above an adaptive decision, never run, counted as done */
enum { T_NONE, T_RUNNING, T_FINISHED, T_FAILED, T_VACANT };

struct ctask {
	struct cworker *w;
	uint32_t attempt;
	uint8_t state;
	bool slot; /* first of its slot-sharing group: holds w's slot */
};

struct cmaster {
	struct sli_plugin *p;
	void *state;
	uint64_t losses; /* its losses count when last looked at */
};

/*
 * A vertex's split hot ranges (DESIGN §5 skew; adaptive_run.c), per task
 * index of the vertex: a helper reads its range from a slice of the
 * producers and writes a partial partition; the range's own task, the
 * merger, reads those partitions with the operator's merge configuration.
 */
struct cskew {
	char config[1024];     /* the operator's merge_config */
	uint32_t *owner;       /* helper: its merger's index; else UINT32_MAX */
	uint32_t *first;       /* helper: its first producer; merger: helper */
	uint32_t *count;       /* helper: its producers; merger: its helpers */
	uint32_t *left;        /* merger: its helpers not finished */
	struct sl_bytes *desc; /* helper: its partial partition */
	uint32_t master;       /* the shuffle master of the vertex's input */
	uint32_t helpers;      /* in all */
};

/* A failover, for the report (failover_run.c). */
struct cfailover {
	double at;           /* s after submission */
	uint32_t task;       /* the failed task (the first of a worker's) */
	uint32_t attempt;    /* its attempt that failed */
	char *cause;         /* why */
	uint32_t *restarted; /* the deployed tasks restarted, ascending */
	uint32_t nrestarted;
	uint64_t delay_ms; /* the restart strategy's delay */
	bool gave_up;      /* the strategy gave up: the job failed */
};

struct cjob {
	struct sli_sched s; /* first: the scheduler ctx's core pointer */
	struct sli_coord *c;
	struct sli_plugin_set *set; /* the coordinator's plugins */
	struct cjob *next;
	char id[128];
	int state;
	char message[2048];
	char *json; /* after -D substitution, for the workers */
	size_t json_len;
	sl_job *job;
	struct sli_exec x;
	struct sli_regions r;
	bool have_x, have_r, have_s, started, sched_init;
	struct sl_sched_ctx ctx;
	struct sli_plugin *sp;
	void *sstate;
	struct sli_plugin **shuffle; /* per edge */
	uint32_t *master_of;         /* per edge */
	struct cmaster masters[MAX_MASTERS];
	uint32_t nmasters;
	struct sl_bytes **descs; /* per edge, per producer task */
	struct ctask *tasks;
	struct sli_task_metrics *m;
	uint64_t *edge_bytes; /* per edge: bytes its finished producers wrote */
	uint32_t *decided;    /* per vertex: parallelism decided here, or 0 */
	uint64_t *input_bytes; /* per vertex: what the decision was made on */
	/* Decided while the job runs (DESIGN §5): per vertex the decision
	 * (parallelism 0 until made) of those with decided[v] ==
	 * SLI_PAR_AT_RUN; per edge into one, the bytes its finished
	 * producers wrote (row per producer, column per subpartition); per
	 * region, the undecided vertices with tasks in it (held until 0);
	 * per vertex, its split ranges (NULL: none). */
	struct sli_adaptive_decision *dec;
	uint64_t **sub_bytes;
	uint32_t *held;
	struct cskew **skew;
	uint32_t *scanned; /* per edge: producers known finished, from 0 */
	/* Failover (failover_run.c): the restart strategy's state; per edge,
	 * per producer, partitions a consumer found unreadable (NULL rows
	 * until one is); per task and output, the bytes it wrote (what a
	 * restart takes back from edge_bytes); per region, restarted and
	 * held until restart_due (ms, 0: none); the events. */
	struct sli_restart restart;
	uint8_t **lost;
	uint64_t *task_bytes;
	uint32_t maxout;
	uint8_t *waiting;
	uint64_t restart_due;
	struct cfailover *events;
	uint32_t nevents;
	/* The job's operation log (state_dir set): open while it runs. */
	struct sli_oplog log;
	bool have_log;
	/* per master: a hash of the snapshot logged last; when (ms) */
	uint64_t snap_hash[MAX_MASTERS];
	uint64_t snap_at;
	/* Recovery (recover.c): what the log says was done, applied when the
	 * job starts; replaying: decisions re-taken are not logged again. */
	struct creplay *replay;
	bool replaying;
	uint32_t *left;    /* per region: tasks not finished */
	double t0;         /* submitted, monotonic seconds */
	double *rtime;     /* per region: deployed, finished (s after t0) */
	uint32_t *pending; /* regions the scheduler deployed in this op */
	uint32_t npending;
	uint32_t done;
	uint32_t deployments;
};

/* End a running job (a no-op once ended): cancel what runs, free slots,
 * close the scheduler and the shuffle masters. */
void sli_coord_job_end(struct cjob *j, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Shared by the files of the coordinator (coordinator.c). */
struct cworker *sli_coord_worker_find(struct sli_coord *c, const char *id);
struct cjob *sli_coord_job_find(struct sli_coord *c, const char *id);
/* The shuffle masters' configuration ({"services": [...]}), or NULL. */
const char *sli_coord_shuffle_config(const struct sli_coord *c);
/* How long recovery waits for the workers of logged finished tasks to
 * register again: heartbeat x misses, at least RECOVERY_WAIT_MIN_MS. */
uint64_t sli_coord_wait_ms(const struct sli_coord *c);
/* Submit a job read back from its log, under its id. */
int sli_coord_submit_again(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *given_id, char *id, size_t cap);
uint64_t sli_coord_now_ms(void);
double sli_coord_now_s(void);
void sli_coord_task_cancel(struct cjob *j, uint32_t t);
void sli_coord_slot_free(struct ctask *ct);
/* Deploy what the scheduler chose during its last op (oprv its result). */
void sli_coord_deploy_pending(struct cjob *j, int oprv, const char *op);
/* Wake the loop at due_ms (monotonic) to restart what waits for it. */
void sli_coord_arm_retry(struct sli_coord *c, uint64_t due_ms);

/* ---- journal.c: the job's operation log (DESIGN §7) ---- */

/* Open DIR/ID.log and write the job's "submitted" record, synced; again:
 * a recovered job's log, appended to as it is. */
int sli_coord_log_open(
    struct cjob *j, const char *dir, const char *origin, bool again);
/* Records; each a no-op without a log. A failure to log is the job's:
 * it fails saying so (a decision that cannot be logged is not taken). */
void sli_coord_log_decided(struct cjob *j, uint32_t v);
void sli_coord_log_finished(
    struct cjob *j, uint32_t t, const struct sli_wire_task_state *s);
void sli_coord_log_reset(
    struct cjob *j, const char *cause, const uint32_t *tasks, uint32_t n);
/* The shuffle masters' snapshots that changed, now and then (now: ms). */
void sli_coord_log_snapshots(struct cjob *j, uint64_t now);
/* The "ended" record, synced, and the log closed. */
void sli_coord_log_ended(struct cjob *j);
/* Write and fdatasync what was logged (group commit): before the effects
 * of a decision leave the coordinator, and now and then. */
int sli_coord_log_sync(struct cjob *j);

/* ---- recover.c: jobs taken up again from their logs (DESIGN §7) ---- */

/* At start, with a state directory: every log without an "ended" record
 * is submitted again under its id, with what it says was done kept for
 * sli_coord_replay. A log that cannot be read is skipped, saying why. */
void sli_coord_recover(struct sli_coord *c, const char *dir);
/* Whether the job waits for the workers its finished tasks ran on (until
 * the deadline). */
bool sli_coord_replay_waits(const struct cjob *j, uint64_t now);
/* When it starts (masters open, scheduler state made): finished tasks
 * whose workers came back are finished, with their partitions; decisions
 * are taken again; a region not wholly finished runs again, one attempt
 * above any logged. */
int sli_coord_replay(struct cjob *j);
void sli_coord_replay_free(struct cjob *j);

/* ---- failover_run.c: restarting what failed (DESIGN §4) ---- */

int sli_coord_failover_init(struct cjob *j);
void sli_coord_failover_free(struct cjob *j);
/* Tasks failed[0..n) failed for `cause`: the restart strategy decides;
 * then the restart set is reset and held until its delay passed, or the
 * job fails saying why. */
void sli_coord_failover(
    struct cjob *j, const uint32_t *failed, uint32_t n, const char *cause);
/* The tasks w ran that its loss undoes, as one failover. */
void sli_coord_failover_worker(
    struct cjob *j, const struct cworker *w, const char *why);
/* Redeploy what waited for its delay, when due at now (ms). */
void sli_coord_failover_due(struct cjob *j, uint64_t now);
/* A consumer could not read producer `producer`'s partition on edge e. */
void sli_coord_unreadable(struct cjob *j, uint32_t e, uint32_t producer);
void sli_coord_failover_lost(struct cjob *j, const char *why);
/* The events as the report gives them. */
json_t *sli_coord_failover_json(const struct cjob *j);

/* ---- adaptive_run.c: parallelism decided while the job runs ---- */

/* Whether v waits for its producers' bytes (decided at run time and fed by
 * all_to_all edges; not a pointwise follower). */
bool sli_coord_adaptive_leader(const struct cjob *j, uint32_t v);
/* Allocate the job's decision state and count the decisions each region
 * waits for (j->held). */
int sli_coord_adaptive_init(struct cjob *j);
/* A decision read back from the operation log, taken again as it was
 * (the skew split follows from the same bytes). */
int sli_coord_adaptive_replay(
    struct cjob *j, uint32_t v, uint32_t p, const uint32_t *starts);
/* Fill the scheduler ctx's adaptive ops. */
void sli_coord_adaptive_ctx(struct sl_sched_ctx *ctx);
/* Ask the strategy to decide every leader whose producers all finished. */
int sli_coord_adaptive_decide_ready(struct cjob *j);
/* Task t's part in a split range: helper (returns 1, *merger its merger's
 * task index), merger (2), or none (0). */
int sli_coord_skew_role(const struct cjob *j, uint32_t t, uint32_t *merger);
/* Task t finished: a merger whose helpers all did is released. */
int sli_coord_skew_finished(struct cjob *j, uint32_t t);
/* Task t restarts: a helper's partial result is released and its merger
 * waits for it again. */
void sli_coord_skew_reset(struct cjob *j, uint32_t t);
/* Release the partial partitions (the job ended); free the split state
 * (releasing what is left), when the job goes. */
void sli_coord_skew_release(struct cjob *j);
void sli_coord_skew_free(struct cjob *j);
/* The slots region r needs: one per task index among those not vacant. */
uint32_t sli_coord_region_slots(const struct cjob *j, uint32_t r);

#endif
