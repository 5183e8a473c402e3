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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "exec/task.h"
#include "plugin/loader.h"

struct sli_coord_opts {
	const char *listen;    /* URL: ipc://PATH, tcp://HOST:PORT */
	uint32_t heartbeat_ms; /* 0: 500 */
	/* A worker silent for this many heartbeats is lost; 0: 6. */
	uint32_t heartbeat_misses;
	const char *scheduler;      /* NULL: "region" */
	struct sli_plugin_set *set; /* borrowed; scheduler, shuffle masters */
	/* Where each job's operation log goes (DIR/JOB.log, DESIGN §7; made
	 * when missing); NULL: no log. recover: take up the jobs whose logs
	 * there did not end (a standalone coordinator's; `sluice run` only
	 * logs, its workers die with it). */
	const char *state_dir;
	bool recover;
	/* `sluice shuffled` daemons (--shuffle-service), handed to every
	 * shuffle master as {"services": [URL...]} (the remote plugin's). */
	const char *const *services;
	uint32_t nservices;
	/* --shuffle-replicas: copies of each remote partition (0: 1) */
	uint32_t replicas;
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
	uint32_t done;      /* tasks finished */
	uint32_t attempts;  /* task deployments so far */
	uint32_t failovers; /* restarts after failures so far */
};

/*
 * Where sli_coord_job_info copies what it knows of a job; NULL members are
 * skipped. Per task of the job's execution graph (the job built from the
 * same text): m, its latest counters; worker, the id of the worker it ran
 * or runs on (cap bytes each, "" when never deployed); attempts, the
 * attempts made (0: never deployed). Per edge: edge_bytes, what its
 * finished producers wrote (of their latest attempts). Per region
 * (numbered as sli_regions_build numbers them): region_times, the seconds
 * after submission at which it last started running (a worker had
 * started its first task) and finished, -1 for what did not happen. Per vertex:
 * par, its parallelism (for one decided while the job runs, its decision, or
 * its max_parallelism until then); split, the tasks above it that read part of
 * a split hot range (DESIGN §5). failovers: the failover events as the report
 * gives them (the previous value released).
 */
struct sli_coord_job_out {
	struct sli_task_metrics *m;
	char (*worker)[64];
	uint32_t *attempts;
	uint64_t *edge_bytes;
	double *region_times;
	uint32_t *par;
	uint32_t *split;
	json_t **failovers;
};

/* What the job is doing. SL_ENOTFOUND for an unknown id. */
int sli_coord_job_info(struct sli_coord *c, const char *id,
    struct sli_coord_job_info *info, const struct sli_coord_job_out *out);

/* Cancel a running job: its tasks are cancelled, it ends CANCELLED. */
void sli_coord_cancel(struct sli_coord *c, const char *id);
/* Tell every registered worker to shut down. */
void sli_coord_shutdown_workers(struct sli_coord *c);
/* Stop the loop, join its thread, free everything. */
void sli_coord_stop(struct sli_coord *c);

#endif
