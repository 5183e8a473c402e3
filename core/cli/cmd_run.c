/*
 * sluice run: run a job. By default on a local cluster: a coordinator and
 * worker processes on this machine (run_cluster.c). With --in-process every
 * task is a thread of this process, through sli_local_run
 * (core/exec/task.h), which takes jobs whose edges are all pipelined.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "common/error.h"
#include "exec/task.h"
#include "graph/exec.h"
#include "graph/job.h"
#include "plugin/loader.h"
#include "run_report.h"

static const char run_usage[] =
    "usage:\n"
    "  sluice run JOB.json [-D NAME=VALUE]... [--workers N] [--slots N]\n"
    "             [--in-process] [--plugin-dir DIR]... [--report FILE]\n"
    "             [--kill-worker-after SECONDS] [--respawn]\n"
    "             [--state-dir DIR] [--shuffle-service URL]...\n"
    "             [--shuffle-replicas 1|2]\n"
    "\n"
    "Starts a coordinator and --workers worker processes (default 2) with\n"
    "--slots slots each (default 2) on this machine, runs the job, and\n"
    "stops them. --in-process runs every task as a thread of this process\n"
    "instead (jobs whose edges are all pipelined). -D NAME=VALUE sets\n"
    "${NAME} in the job file.\n"
    "--kill-worker-after SECONDS kills one worker process with SIGKILL that\n"
    "long after the job started (failover: the job goes on without it);\n"
    "--respawn starts a worker that died again. --state-dir DIR keeps the\n"
    "job's operation log there (`sluice log dump DIR`). --shuffle-service\n"
    "URL names a `sluice shuffled` daemon for remote shuffle edges;\n"
    "--shuffle-replicas 2 keeps each of their partitions on two daemons.\n"
    "--report FILE writes what every task did as JSON. Progress goes to\n"
    "stderr, the summary to stdout. Exit 0 when the job finished, 1 when it\n"
    "failed, 130 when interrupted (Ctrl-C cancels the run).\n";

/* Set by SIGINT/SIGTERM, polled by sli_local_run every few ms. A lock-free
 * atomic store is async-signal-safe. */
static atomic_bool run_cancel;
static volatile sig_atomic_t run_signal;

static void
on_signal(int sig)
{
	run_signal = sig;
	atomic_store(&run_cancel, true);
}

static int
run_in_process(const struct run_opts *o)
{
	sl_job *job = NULL;
	struct sli_exec x;
	bool have_x = false, progress_on = false;
	struct sli_plugin_set set = { 0 };
	struct sli_task_metrics *m = NULL;
	uint64_t *eb = NULL;
	uint32_t *par = NULL;
	struct sli_local_opts lo = { 0 };
	struct sigaction sa, old_int, old_term;
	struct run_progress p = { 0 };
	pthread_t th;
	double t0, wall;
	char *reason = NULL;
	int rv, lrv;

	if (sl_job_load_file_vars(o->job_path, o->defs, o->ndefs, &job) != 0)
		return sli_cli_fail("%s", sl_errdetail());
	/* one process has no worker to lose and restarts nothing */
	if (job->nfaults > 0) {
		rv = sli_cli_fail("%s: \"faults\" need the cluster (failover "
		                  "runs there); run it without --in-process",
		    o->job_path);
		goto out;
	}
	if (sli_plugin_set_load_default(&set, o->dirs, o->ndirs) < 0) {
		rv = sli_cli_fail("%s", sl_errdetail());
		goto out;
	}
	for (uint32_t i = 0; i < job->nlibs; i++)
		if (sli_plugin_set_need(&set, job->libs[i]) != 0) {
			rv = sli_cli_fail("%s: libraries[%u]: %s", o->job_path,
			    i, sl_errdetail());
			goto out;
		}
	if ((rv = run_auto_sources(o->job_path, job, &set, &par)) != 0)
		goto out;
	for (uint32_t v = 0; v < job->nv; v++)
		if (par[v] == SLI_PAR_AT_RUN) {
			rv = sli_cli_fail(
			    "%s: vertex '%s': a parallelism "
			    "decided from the producers' bytes needs "
			    "the cluster: run without --in-process",
			    o->job_path, job->v[v].id);
			goto out;
		}
	if (sli_exec_build(job, par, &x) != 0) {
		rv = sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
		goto out;
	}
	have_x = true;
	if ((m = calloc(x.ntasks, sizeof(*m))) == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	lo.metrics = m;
	if ((eb = calloc(job->ne + 1, sizeof(*eb))) == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	lo.edge_bytes = eb;
	lo.cancel = &run_cancel;

	atomic_store(&run_cancel, false);
	run_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* A second Ctrl-C kills at once, for a run that will not stop. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	p.x = &x;
	p.m = m;
	p.tty = isatty(STDERR_FILENO);
	t0 = p.start = run_now();
	progress_on = run_progress_start(&p, &th) == 0;
	lrv = sli_local_run(&x, &set, &lo);
	wall = run_now() - t0;
	if (lrv != 0)
		reason = strdup(sl_errdetail());
	if (progress_on)
		run_progress_stop(&p, th);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	if (lrv == 0) {
		run_print_summary(&x, m, NULL, wall, "finished");
		rv = sli_cli_flush();
	} else {
		if (run_signal != 0 && lrv == SL_ECLOSED)
			fprintf(stderr,
			    "sluice: interrupted: cancelled the "
			    "run\n");
		else
			sli_cli_fail("%s", reason ? reason : sl_strerror(lrv));
		run_print_summary(&x, m, NULL, wall,
		    run_signal != 0 && lrv == SL_ECLOSED ? "was cancelled"
		                                         : "failed");
		fflush(stdout);
		rv =
		    run_signal != 0 && lrv == SL_ECLOSED ? 128 + run_signal : 1;
	}
	if (o->report != NULL) {
		struct run_report rep = {
			.x = &x,
			.m = m,
			.edge_bytes = eb,
			.wall = wall,
			.status = lrv == 0                         ? "FINISHED"
			    : run_signal != 0 && lrv == SL_ECLOSED ? "CANCELLED"
			                                           : "FAILED",
			.reason =
			    lrv == 0 ? NULL : (reason ? reason : "failed"),
		};
		int r = run_write_report(o->report, run_report_json(&rep));
		if (r != 0 && rv == 0)
			rv = r;
	}
out:
	free(par);
	free(reason);
	free(eb);
	free(m);
	sli_plugin_set_clear(&set);
	if (have_x)
		sli_exec_free(&x);
	sl_job_free(job);
	return rv;
}

int
sli_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in-process", no_argument, NULL, 'i' },
		{ "workers", required_argument, NULL, 'w' },
		{ "slots", required_argument, NULL, 's' },
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'r' },
		{ "kill-worker-after", required_argument, NULL, 'k' },
		{ "respawn", no_argument, NULL, 'R' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "shuffle-service", required_argument, NULL, 'X' },
		{ "shuffle-replicas", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .workers = 2, .slots = 2 };
	bool in_process = false;
	int c, rv;

	/* Option arrays can hold at most argc entries each. */
	o.defs = calloc(argc, sizeof(char *));
	o.dirs = calloc(argc, sizeof(char *));
	o.services = calloc(argc, sizeof(char *));
	if (o.defs == NULL || o.dirs == NULL || o.services == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "D:", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o.defs[o.ndefs++] = optarg;
			break;
		case 'i':
			in_process = true;
			break;
		case 'w':
			if (!sli_parse_u32(optarg, 1, 256, &o.workers)) {
				rv = sli_cli_usage("run: --workers: 1 to 256, "
				                   "not '%s'",
				    optarg);
				goto out;
			}
			break;
		case 's':
			if (!sli_parse_u32(optarg, 1, 4096, &o.slots)) {
				rv = sli_cli_usage("run: --slots: 1 to 4096, "
				                   "not '%s'",
				    optarg);
				goto out;
			}
			break;
		case 'd':
			o.dirs[o.ndirs++] = optarg;
			break;
		case 'k': {
			char *end;

			errno = 0;
			o.kill_worker_after = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o.kill_worker_after > 0) ||
			    o.kill_worker_after > 1e6) {
				rv = sli_cli_usage("run: --kill-worker-after: "
				                   "seconds above 0, not '%s'",
				    optarg);
				goto out;
			}
			break;
		}
		case 'R':
			o.respawn = true;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'X':
			o.services[o.nservices++] = optarg;
			break;
		case 'P':
			if (!sli_parse_u32(optarg, 1, 2, &o.replicas)) {
				rv = sli_cli_usage("run: --shuffle-replicas: 1 "
				                   "or 2, not '%s'",
				    optarg);
				goto out;
			}
			break;
		case 'r':
			if (o.report != NULL) {
				rv = sli_cli_usage("run: --report given twice");
				goto out;
			}
			o.report = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			rv = sli_cli_flush();
			goto out;
		default:
			rv = 2;
			goto out;
		}
	}
	if (optind + 1 < argc) {
		rv = sli_cli_usage("run: unexpected '%s'", argv[optind + 1]);
		goto out;
	}
	if (optind >= argc) {
		rv = sli_cli_usage("run: no job file given\n\n%s", run_usage);
		goto out;
	}
	o.job_path = argv[optind];
	if (in_process &&
	    (o.kill_worker_after > 0 || o.respawn || o.state_dir != NULL)) {
		rv = sli_cli_usage("run: --kill-worker-after, --respawn and "
		                   "--state-dir need worker processes (a "
		                   "coordinator), not --in-process");
		goto out;
	}
	rv = in_process ? run_in_process(&o) : run_cluster(&o);
out:
	free(o.defs);
	free(o.dirs);
	free(o.services);
	return rv;
}
