/*
 * sluice run: run a job. Only --in-process exists for now: every task on a
 * thread of this process through sli_local_run (core/exec/task.h), which
 * takes jobs whose edges are all pipelined. Running on worker processes
 * comes with the coordinator.
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

static const char run_usage[] =
    "usage:\n"
    "  sluice run --in-process JOB.json [-D NAME=VALUE]...\n"
    "             [--plugin-dir DIR]... [--report FILE]\n"
    "\n"
    "--in-process runs every task as a thread of this process (jobs whose\n"
    "edges are all pipelined). -D NAME=VALUE sets ${NAME} in the job file.\n"
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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The progress thread: reads the tasks' atomic totals while they run. */
struct progress {
	const struct sli_exec *x;
	struct sli_task_metrics *m;
	double start;
	bool tty;
	bool stop; /* under mtx */
	bool printed;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
};

static void
progress_line(struct progress *p)
{
	uint64_t rec = 0, bytes = 0;
	uint32_t ended = 0;
	double el = now_s() - p->start, mb;

	for (uint32_t t = 0; t < p->x->ntasks; t++) {
		rec += atomic_load(&p->m[t].records_out);
		bytes += atomic_load(&p->m[t].bytes_out);
		ended += atomic_load(&p->m[t].ended);
	}
	mb = (double)bytes / (1024.0 * 1024.0);
	fprintf(stderr,
	    "%s%.1f s  tasks %u/%u done  %llu records out  %.1f MB out  "
	    "%.1f MB/s%s",
	    p->tty ? "\r" : "", el, ended, p->x->ntasks,
	    (unsigned long long)rec, mb, el > 0 ? mb / el : 0.0,
	    p->tty ? "\033[K" : "\n");
	fflush(stderr);
	p->printed = true;
}

static void *
progress_thread(void *arg)
{
	struct progress *p = arg;
	struct timespec until;
	long step_ms = p->tty ? 250 : 2000;

	pthread_mutex_lock(&p->mtx);
	clock_gettime(CLOCK_MONOTONIC, &until);
	while (!p->stop) {
		until.tv_nsec += step_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!p->stop &&
		    pthread_cond_timedwait(&p->cv, &p->mtx, &until) == 0)
			;
		if (!p->stop)
			progress_line(p);
	}
	if (p->tty && p->printed)
		fputs("\r\033[K", stderr);
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

static int
progress_start(struct progress *p, pthread_t *th)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_mutex_init(&p->mtx, NULL) != 0)
		return -1;
	if (pthread_condattr_init(&ca) != 0) {
		pthread_mutex_destroy(&p->mtx);
		return -1;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		pthread_mutex_destroy(&p->mtx);
		return -1;
	}
	if (pthread_create(th, NULL, progress_thread, p) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mtx);
		return -1;
	}
	return 0;
}

static void
progress_stop(struct progress *p, pthread_t th)
{
	pthread_mutex_lock(&p->mtx);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
	pthread_join(th, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
}

/* Per vertex: the sums of its tasks' four totals. */
struct vsum {
	uint64_t rin, rout, bin, bout;
};

static struct vsum
vertex_sum(
    const struct sli_exec *x, const struct sli_task_metrics *m, uint32_t v)
{
	struct vsum s = { 0 };

	for (uint32_t i = 0; i < x->par[v]; i++) {
		const struct sli_task_metrics *t = &m[x->base[v] + i];
		s.rin += atomic_load(&t->records_in);
		s.rout += atomic_load(&t->records_out);
		s.bin += atomic_load(&t->bytes_in);
		s.bout += atomic_load(&t->bytes_out);
	}
	return s;
}

static void
print_summary(const struct sli_exec *x, const struct sli_task_metrics *m,
    double wall, const char *how)
{
	const sl_job *job = x->job;

	printf("job '%s' %s in %.2f s\n", sl_job_name(job), how, wall);
	printf("%-20s %5s %14s %14s %14s %14s\n", "VERTEX", "TASKS",
	    "RECORDS_IN", "RECORDS_OUT", "BYTES_IN", "BYTES_OUT");
	for (uint32_t k = 0; k < job->nv; k++) {
		uint32_t v = x->topo[k];
		struct vsum s = vertex_sum(x, m, v);

		printf("%-20s %5u %14llu %14llu %14llu %14llu\n", job->v[v].id,
		    x->par[v], (unsigned long long)s.rin,
		    (unsigned long long)s.rout, (unsigned long long)s.bin,
		    (unsigned long long)s.bout);
	}
}

static json_t *
report_json(const struct sli_exec *x, const struct sli_task_metrics *m,
    double wall, const char *reason)
{
	const sl_job *job = x->job;
	json_t *root, *vs = json_array();
	char name[192];

	for (uint32_t k = 0; vs != NULL && k < job->nv; k++) {
		uint32_t v = x->topo[k];
		json_t *ts = json_array();

		for (uint32_t i = 0; ts != NULL && i < x->par[v]; i++) {
			const struct sli_task_metrics *t = &m[x->base[v] + i];

			sli_task_name(x, x->base[v] + i, name, sizeof(name));
			if (json_array_append_new(ts,
			        json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I}", "id",
			            name, "attempts", 1, "worker", "in-process",
			            "records_in",
			            (json_int_t)atomic_load(&t->records_in),
			            "records_out",
			            (json_int_t)atomic_load(&t->records_out),
			            "bytes_in",
			            (json_int_t)atomic_load(&t->bytes_in),
			            "bytes_out",
			            (json_int_t)atomic_load(&t->bytes_out))) !=
			    0) {
				json_decref(ts);
				ts = NULL;
			}
		}
		if (ts == NULL ||
		    json_array_append_new(vs,
		        json_pack("{s:s,s:i,s:o}", "id", job->v[v].id,
		            "parallelism", (int)x->par[v], "tasks", ts)) != 0) {
			json_decref(vs);
			vs = NULL;
		}
	}
	if (vs == NULL)
		return NULL;
	root = json_pack("{s:s,s:s?,s:f,s:o}", "status",
	    reason == NULL ? "FINISHED" : "FAILED", "reason", reason,
	    "wall_seconds", wall, "vertices", vs);
	return root;
}

static int
write_report(const char *path, json_t *root)
{
	if (root == NULL)
		return sli_cli_fail("--report: out of memory");
	if (json_dump_file(root, path, JSON_INDENT(2)) != 0) {
		json_decref(root);
		return sli_cli_fail("--report %s: cannot write it", path);
	}
	json_decref(root);
	return 0;
}

struct run_opts {
	const char *job_path;
	const char **defs;
	size_t ndefs;
	const char **dirs;
	size_t ndirs;
	const char *report;
};

static int
run_in_process(const struct run_opts *o)
{
	sl_job *job = NULL;
	struct sli_exec x;
	bool have_x = false, progress_on = false;
	struct sli_plugin_set set = { 0 };
	struct sli_task_metrics *m = NULL;
	struct sli_local_opts lo = { 0 };
	struct sigaction sa, old_int, old_term;
	struct progress p = { 0 };
	pthread_t th;
	double t0, wall;
	char *reason = NULL;
	int rv, lrv;

	if (sl_job_load_file_vars(o->job_path, o->defs, o->ndefs, &job) != 0)
		return sli_cli_fail("%s", sl_errdetail());
	if (sli_exec_build(job, NULL, &x) != 0) {
		rv = sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
		goto out;
	}
	have_x = true;
	if (sli_plugin_set_load_default(&set, o->dirs, o->ndirs) < 0) {
		rv = sli_cli_fail("%s", sl_errdetail());
		goto out;
	}
	if ((m = calloc(x.ntasks, sizeof(*m))) == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	lo.metrics = m;
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
	t0 = p.start = now_s();
	progress_on = progress_start(&p, &th) == 0;
	lrv = sli_local_run(&x, &set, &lo);
	wall = now_s() - t0;
	if (lrv != 0)
		reason = strdup(sl_errdetail());
	if (progress_on)
		progress_stop(&p, th);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	if (lrv == 0) {
		print_summary(&x, m, wall, "finished");
		rv = sli_cli_flush();
	} else {
		if (run_signal != 0 && lrv == SL_ECLOSED)
			fprintf(stderr,
			    "sluice: interrupted: cancelled the "
			    "run\n");
		else
			sli_cli_fail("%s", reason ? reason : sl_strerror(lrv));
		print_summary(&x, m, wall,
		    run_signal != 0 && lrv == SL_ECLOSED ? "was cancelled"
		                                         : "failed");
		fflush(stdout);
		rv =
		    run_signal != 0 && lrv == SL_ECLOSED ? 128 + run_signal : 1;
	}
	if (o->report != NULL) {
		int r = write_report(o->report,
		    report_json(&x, m, wall,
		        lrv == 0 ? NULL : (reason ? reason : "failed")));
		if (r != 0 && rv == 0)
			rv = r;
	}
out:
	free(reason);
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
		{ "plugin-dir", required_argument, NULL, 'd' },
		{ "report", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { 0 };
	bool in_process = false;
	int c, rv;

	/* Option arrays can hold at most argc entries each. */
	o.defs = calloc(argc, sizeof(char *));
	o.dirs = calloc(argc, sizeof(char *));
	if (o.defs == NULL || o.dirs == NULL) {
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
		case 'd':
			o.dirs[o.ndirs++] = optarg;
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
	if (!in_process) {
		rv = sli_cli_usage(
		    "run: running on worker processes is not built yet; "
		    "use --in-process to run every task as a thread of this "
		    "process");
		goto out;
	}
	rv = run_in_process(&o);
out:
	free(o.defs);
	free(o.dirs);
	return rv;
}
