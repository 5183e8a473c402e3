/*
 * The coordinator (job master, DESIGN §1): takes jobs, cuts them into
 * pipelined regions, asks the scheduler plugin which to deploy, registers
 * partitions with each shuffle plugin's master, places tasks on workers,
 * follows them to the end, and notices workers that stop heartbeating.
 *
 * It runs a libuv loop on a thread of its own. The functions below may be
 * called from any other thread; `sluice coordinator` and `sluice run` use
 * them. Restarting failed regions is the failover's work (a task failure
 * or a lost worker fails the job for now).
 */
#ifndef SLI_COORD_H
#define SLI_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "exec/task.h"
#include "plugin/loader.h"

struct sli_coord_opts {
	const char *listen;    /* URL: ipc://PATH, tcp://HOST:PORT */
	uint32_t heartbeat_ms; /* 0: 500 */
	/* A worker silent for this many heartbeats is lost; 0: 6. */
	uint32_t heartbeat_misses;
	const char *scheduler;      /* NULL: "region" */
	struct sli_plugin_set *set; /* borrowed; scheduler, shuffle masters */
};

struct sli_coord;

int sli_coord_start(const struct sli_coord_opts *o, struct sli_coord **out);
/* The URL workers and clients dial (the port bound for tcp://:0). */
const char *sli_coord_url(const struct sli_coord *c);

/*
 * Take a job: text is the job file (origin names it in messages), defs the
 * -D definitions. Checked now: a job that cannot run is refused with a
 * detail and never listed. On success id (cap bytes) names the job; it
 * starts once a worker is registered.
 */
int sli_coord_submit(struct sli_coord *c, const char *text, size_t len,
    const char *origin, const char *const *defs, size_t ndefs, char *id,
    size_t cap);

/* Workers registered and not lost. */
uint32_t sli_coord_workers(struct sli_coord *c);

enum sli_job_state {
	SLI_JOB_RUNNING = 1, /* the wire's numbers (wire.h) */
	SLI_JOB_FINISHED = 2,
	SLI_JOB_FAILED = 3,
	SLI_JOB_CANCELLED = 4,
};

struct sli_coord_job_info {
	int state; /* enum sli_job_state */
	char message[2048];
	uint32_t ntasks;
	uint32_t done;     /* tasks finished */
	uint32_t attempts; /* task deployments so far */
};

/*
 * What the job is doing. m, when not NULL, has one entry per task of the
 * job's execution graph (the job built from the same text) and gets each
 * task's latest counters; worker, when not NULL, gets per task the id of
 * the worker it ran on (cap bytes each, "" when not deployed);
 * edge_bytes, when not NULL, gets per edge the bytes its finished
 * producers wrote; region_times, when not NULL, gets per region (numbered
 * as sli_regions_build numbers them) the seconds after submission at which
 * it was deployed and finished, -1 for what did not happen; par, when not
 * NULL, gets per vertex its parallelism (for one decided while the job
 * runs, its decision, or its max_parallelism until then); split, when
 * not NULL, gets per vertex the tasks above its parallelism that read part
 * of a split hot range (DESIGN §5). SL_ENOTFOUND for an unknown id.
 */
int sli_coord_job_info(struct sli_coord *c, const char *id,
    struct sli_coord_job_info *info, struct sli_task_metrics *m,
    char (*worker)[64], uint64_t *edge_bytes, double *region_times,
    uint32_t *par, uint32_t *split);

/* Cancel a running job: its tasks are cancelled, it ends CANCELLED. */
void sli_coord_cancel(struct sli_coord *c, const char *id);
/* Tell every registered worker to shut down. */
void sli_coord_shutdown_workers(struct sli_coord *c);
/* Stop the loop, join its thread, free everything. */
void sli_coord_stop(struct sli_coord *c);

#endif
