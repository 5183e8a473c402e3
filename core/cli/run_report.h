/* sluice run: its options, the local cluster (run_cluster.c), and the
 * progress line, summary and report both kinds of run show (run_report.c). */
#ifndef SLI_RUN_REPORT_H
#define SLI_RUN_REPORT_H

#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include "exec/task.h"
#include "graph/exec.h"
#include "plan/regions.h"

/* What sluice run was asked. */
struct run_opts {
	const char *job_path;
	const char **defs;
	size_t ndefs;
	const char **dirs;
	size_t ndirs;
	const char *report;
	uint32_t workers; /* worker processes of the local cluster */
	uint32_t slots;   /* slots per worker */
	/* Failure tests and demos: SIGKILL one worker this many seconds
	 * after the job started (0: never); start a worker that died again
	 * while the job runs. */
	double kill_worker_after;
	bool respawn;
	const char *state_dir; /* the coordinator's operation logs; NULL none */
	const char **services; /* --shuffle-service URLs */
	size_t nservices;
	uint32_t replicas; /* --shuffle-replicas; 0: 1 */
};

/* The local cluster: a coordinator in this process, workers as child
 * processes (run_cluster.c). Returns the exit code. */
int run_cluster(const struct run_opts *o);

/* Seconds on the monotonic clock. */
double run_now(void);

/* The progress thread: reads the tasks' atomic totals in m while they run
 * and prints a line on stderr (redrawn on a terminal, every 2 s
 * otherwise). */
struct run_progress {
	const struct sli_exec *x;
	struct sli_task_metrics *m;
	double start;
	bool tty;
	bool stop; /* under mtx */
	bool printed;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
};

int run_progress_start(struct run_progress *p, pthread_t *th);
void run_progress_stop(struct run_progress *p, pthread_t th);

/* Decide the parallelism of the job's "auto" sources (sli_auto_sources)
 * into *par (job->nv entries, 0 where nothing was decided; free()), and
 * say each decision on stderr. 0, or 1 after saying why not. */
int run_auto_sources(const char *path, const sl_job *job,
    const struct sli_plugin_set *set, uint32_t **par);

/* "job 'NAME' HOW in S s" and a table of the vertices' totals, on stdout. */
void run_print_summary(const struct sli_exec *x,
    const struct sli_task_metrics *m, const uint32_t *par, double wall,
    const char *how);

/* What a report says; NULL members are left out or take their default. */
struct run_report {
	const struct sli_exec *x;
	const struct sli_task_metrics *m; /* per task: its counters */
	const uint32_t *par;          /* per vertex, as decided; NULL: x's */
	const char (*worker)[64];     /* per task; NULL: "in-process" */
	const uint32_t *attempts;     /* per task; NULL: 1 each */
	const uint64_t *edge_bytes;   /* per edge: the bytes shuffled */
	const struct sli_regions *rg; /* per region its tasks and times */
	const double *rtimes; /* 2 per region: s after submission, < 0 never */
	json_t *failovers;    /* borrowed: the coordinator's events */
	double wall;
	const char *status; /* FINISHED, FAILED, CANCELLED */
	const char *reason; /* why not FINISHED */
};

json_t *run_report_json(const struct run_report *r);
/* Write root (taking it) to path; 0 or 1 after saying why. */
int run_write_report(const char *path, json_t *root);

#endif
