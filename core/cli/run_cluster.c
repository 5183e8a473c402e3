/*
 * sluice run on a local cluster (DESIGN §1, the embedded default): a
 * coordinator on a thread of this process, N worker processes started with
 * uv_spawn (a fork+exec: nng must not be used in a forked child), ipc://
 * sockets in a private directory. The job is submitted once every worker
 * registered; progress is read from the coordinator. At the end the workers
 * are told to shut down and waited for; Ctrl-C cancels the job first. No
 * worker outlives this process: each has PR_SET_PDEATHSIG and watches its
 * parent, and any still running after a grace period gets SIGKILL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "cli.h"
#include "common/error.h"
#include "coord/coord.h"
#include "graph/job.h"
#include "plan/regions.h"
#include "run_report.h"

#define REGISTER_TIMEOUT_S 30.0
#define STOP_GRACE_S 5.0
#define TICK_MS 10

enum phase { P_REGISTER, P_RUNNING, P_STOPPING };

struct child {
	uv_process_t proc;
	bool spawned;
	bool exited;
	bool closed; /* proc's handle closed: it may be spawned again */
	int64_t status;
	int term_signal;
	uint32_t respawns;
};

struct rc {
	const struct run_opts *o;
	uv_loop_t loop;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	struct sli_coord *coord;
	struct child *kids;
	uint32_t nkids;
	uint32_t alive;
	enum phase phase;
	double t_phase;
	char job_id[128];
	const char *text;
	size_t len;
	/* what the coordinator says of the job, polled (coord.h) */
	struct sli_coord_job_out out;
	json_t *failovers;
	const struct sli_exec *x;
	int signal;  /* the first SIGINT/SIGTERM */
	bool killed; /* SIGKILL sent */
	struct sli_coord_job_info info;
	bool have_info;
	char failure[2048]; /* why the run could not run the job */
	/* the worker command line (spawn_one) */
	char exe[PATH_MAX];
	char **args;
	char id[32], slots[16], ppid[16];
	bool killed_one; /* --kill-worker-after done */
};

#define MAX_RESPAWNS 10

static void kill_and_respawn(struct rc *r);

static void
on_closed(uv_handle_t *h)
{
	((struct child *)h->data)->closed = true;
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
	struct child *k = p->data;
	struct rc *r = p->loop->data;

	k->exited = true;
	k->status = status;
	k->term_signal = term_signal;
	r->alive--;
	uv_close((uv_handle_t *)p, on_closed);
}

static void
kill_all(struct rc *r, int sig)
{
	for (uint32_t i = 0; i < r->nkids; i++)
		if (r->kids[i].spawned && !r->kids[i].exited)
			uv_process_kill(&r->kids[i].proc, sig);
}

static void
enter(struct rc *r, enum phase p)
{
	r->phase = p;
	r->t_phase = run_now();
	if (p == P_STOPPING)
		sli_coord_shutdown_workers(r->coord);
}

static void
fail_run(struct rc *r, const char *why)
{
	if (r->failure[0] == '\0')
		snprintf(r->failure, sizeof(r->failure), "%s", why);
	enter(r, P_STOPPING);
}

static void
on_tick(uv_timer_t *h)
{
	struct rc *r = h->data;
	double el = run_now() - r->t_phase;
	char why[512];

	switch (r->phase) {
	case P_REGISTER:
		for (uint32_t i = 0; i < r->nkids; i++)
			if (r->kids[i].exited) {
				snprintf(why, sizeof(why),
				    "worker process %u exited (%s %d) before "
				    "it registered; its messages are above",
				    i + 1,
				    r->kids[i].term_signal ? "signal"
				                           : "status",
				    r->kids[i].term_signal
				        ? r->kids[i].term_signal
				        : (int)r->kids[i].status);
				fail_run(r, why);
				return;
			}
		if (sli_coord_workers(r->coord) == r->nkids) {
			if (sli_coord_submit(r->coord, r->text, r->len,
			        r->o->job_path, r->o->defs, r->o->ndefs,
			        r->job_id, sizeof(r->job_id)) != 0) {
				fail_run(r, sl_errdetail());
				return;
			}
			enter(r, P_RUNNING);
		} else if (el > REGISTER_TIMEOUT_S) {
			snprintf(why, sizeof(why),
			    "only %u of %u workers registered within %.0f s",
			    sli_coord_workers(r->coord), r->nkids,
			    REGISTER_TIMEOUT_S);
			fail_run(r, why);
		}
		return;
	case P_RUNNING:
		kill_and_respawn(r);
		if (sli_coord_job_info(
		        r->coord, r->job_id, &r->info, &r->out) != 0)
			return;
		r->have_info = true;
		if (r->info.state != SLI_JOB_RUNNING)
			enter(r, P_STOPPING);
		return;
	case P_STOPPING:
		if (r->alive == 0) {
			uv_timer_stop(&r->tick);
			uv_close((uv_handle_t *)&r->tick, NULL);
			uv_close((uv_handle_t *)&r->sigint, NULL);
			uv_close((uv_handle_t *)&r->sigterm, NULL);
			return;
		}
		if (el > STOP_GRACE_S && !r->killed) {
			fprintf(stderr,
			    "sluice: %u worker processes did not stop within "
			    "%.0f s: killing them\n",
			    r->alive, STOP_GRACE_S);
			kill_all(r, SIGKILL);
			r->killed = true;
		}
		return;
	}
}

static void
on_signal(uv_signal_t *h, int sig)
{
	struct rc *r = h->data;

	if (r->signal != 0) {
		/* A second Ctrl-C: stop now. */
		kill_all(r, SIGKILL);
		r->killed = true;
		return;
	}
	r->signal = sig;
	fprintf(stderr,
	    "\nsluice: interrupted: cancelling the job and "
	    "stopping the workers (Ctrl-C again to kill them)\n");
	if (r->phase == P_RUNNING)
		sli_coord_cancel(r->coord, r->job_id);
	else if (r->phase == P_REGISTER)
		enter(r, P_STOPPING);
}

/* Start worker process i ("worker-I"). */
static int
spawn_one(struct rc *r, uint32_t i)
{
	struct child *k = &r->kids[i];
	uv_stdio_container_t io[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO },
	};
	uv_process_options_t po = {
		.exit_cb = on_exit_cb,
		.file = r->exe,
		.args = r->args,
		.stdio = io,
		.stdio_count = 3,
		/* Its own session: a Ctrl-C at the terminal reaches this
		 * process only, which cancels the job first. */
		.flags = UV_PROCESS_DETACHED,
	};
	int e;

	snprintf(r->id, sizeof(r->id), "worker-%u", i + 1);
	memset(&k->proc, 0, sizeof(k->proc));
	k->proc.data = k;
	k->exited = k->closed = false;
	if ((e = uv_spawn(&r->loop, &k->proc, &po)) != 0)
		return sli_err(
		    SL_EIO, "cannot start worker process: %s", uv_strerror(e));
	k->spawned = true;
	r->alive++;
	return 0;
}

static int
spawn_workers(struct rc *r, const char *url, const char *dir)
{
	const struct run_opts *o = r->o;
	ssize_t n;
	size_t na = 0;
	int rv = 0;

	if ((n = readlink("/proc/self/exe", r->exe, sizeof(r->exe) - 1)) < 0)
		return sli_err(SL_EIO, "/proc/self/exe: %s", strerror(errno));
	r->exe[n] = '\0';
	if ((r->args = calloc(16 + 2 * o->ndirs, sizeof(char *))) == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	snprintf(r->slots, sizeof(r->slots), "%u", o->slots);
	snprintf(r->ppid, sizeof(r->ppid), "%d", (int)getpid());
	r->args[na++] = r->exe;
	r->args[na++] = "worker";
	r->args[na++] = "--coordinator";
	r->args[na++] = (char *)url;
	r->args[na++] = "--slots";
	r->args[na++] = r->slots;
	r->args[na++] = "--parent-pid";
	r->args[na++] = r->ppid;
	r->args[na++] = "--run-dir";
	r->args[na++] = (char *)dir;
	for (size_t i = 0; i < o->ndirs; i++) {
		r->args[na++] = "--plugin-dir";
		r->args[na++] = (char *)o->dirs[i];
	}
	r->args[na++] = "--id";
	r->args[na++] = r->id;
	r->args[na] = NULL;
	for (uint32_t i = 0; i < r->nkids && rv == 0; i++)
		rv = spawn_one(r, i);
	return rv;
}

/* While the job runs: --kill-worker-after, and --respawn of the dead. */
static void
kill_and_respawn(struct rc *r)
{
	const struct run_opts *o = r->o;

	if (o->kill_worker_after > 0 && !r->killed_one &&
	    run_now() - r->t_phase >= o->kill_worker_after) {
		for (uint32_t i = 0; i < r->nkids; i++) {
			struct child *k = &r->kids[i];

			if (!k->spawned || k->exited)
				continue;
			fprintf(stderr,
			    "sluice: --kill-worker-after: killing worker-%u "
			    "(pid %d) with SIGKILL\n",
			    i + 1, (int)k->proc.pid);
			uv_process_kill(&k->proc, SIGKILL);
			break;
		}
		r->killed_one = true;
	}
	for (uint32_t i = 0; o->respawn && i < r->nkids; i++) {
		struct child *k = &r->kids[i];

		if (!k->spawned || !k->closed || k->respawns >= MAX_RESPAWNS)
			continue;
		k->respawns++;
		fprintf(stderr,
		    "sluice: worker-%u died (%s %d): starting it again\n",
		    i + 1, k->term_signal ? "signal" : "status",
		    k->term_signal ? k->term_signal : (int)k->status);
		if (spawn_one(r, i) != 0)
			fprintf(stderr, "sluice: %s\n", sl_errdetail());
	}
}

/* Remove the run directory and the sockets in it. nng removes a socket
 * file on its own threads after a close, so try a few times. */
static void
remove_dir(const char *dir)
{
	char path[PATH_MAX];

	for (int tries = 0; tries < 50; tries++) {
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		if (d != NULL)
			closedir(d);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		usleep(10 * 1000);
	}
	fprintf(stderr, "sluice: warning: cannot remove %s: %s\n", dir,
	    strerror(errno));
}

static char *
read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (b == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

int
run_cluster(const struct run_opts *o)
{
	struct rc r = { .o = o };
	struct sli_coord_job_out *o_ = &r.out;
	struct sli_coord_opts co = { 0 };
	struct sli_plugin_set set = { 0 };
	struct run_progress p = { 0 };
	sl_job *job = NULL;
	struct sli_exec x;
	struct sli_regions rg;
	bool have_x = false, have_rg = false, progress_on = false;
	char dir[] = "/tmp/sluice-run-XXXXXX", url[PATH_MAX + 16];
	char *text = NULL;
	uint32_t *par = NULL;
	pthread_t th;
	double t0, wall;
	const char *how, *status;
	int rv;

	/* Check the job here first: its errors name the file, and the
	 * graph names the tasks in the progress and the summary. */
	if (sl_job_load_file_vars(o->job_path, o->defs, o->ndefs, &job) != 0)
		return sli_cli_fail("%s", sl_errdetail());
	if ((text = read_text(o->job_path, &r.len)) == NULL) {
		rv = sli_cli_fail("%s: %s", o->job_path, strerror(errno));
		goto out;
	}
	r.text = text;
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
	/* the coordinator decides the same from the same input */
	if ((rv = run_auto_sources(o->job_path, job, &set, &par)) != 0)
		goto out;
	if (sli_exec_build(job, par, &x) != 0) {
		rv = sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
		goto out;
	}
	have_x = true;
	/* What workers would refuse, refused before any starts. */
	{
		struct sli_plugin **sh = calloc(job->ne + 1, sizeof(*sh));

		rv = sh == NULL ? sli_err(SL_ENOMEM, "out of memory")
		                : sli_exec_resolve(&x, &set, sh);
		free(sh);
		if (rv != 0) {
			rv =
			    sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
			goto out;
		}
	}

	o_->m = calloc(x.ntasks, sizeof(*o_->m));
	o_->worker = calloc(x.ntasks, sizeof(*o_->worker));
	o_->attempts = calloc(x.ntasks, sizeof(*o_->attempts));
	o_->edge_bytes = calloc(job->ne + 1, sizeof(*o_->edge_bytes));
	o_->par = calloc(job->nv + 1, sizeof(*o_->par));
	o_->split = calloc(job->nv + 1, sizeof(*o_->split));
	o_->failovers = &r.failovers;
	if (sli_regions_build(&x, &rg) != 0) {
		rv = sli_cli_fail("%s: %s", o->job_path, sl_errdetail());
		goto out;
	}
	have_rg = true;
	o_->region_times = malloc(2 * (rg.n + 1) * sizeof(double));
	r.kids = calloc(o->workers, sizeof(*r.kids));
	if (o_->m == NULL || o_->worker == NULL || o_->attempts == NULL ||
	    r.kids == NULL || o_->edge_bytes == NULL ||
	    o_->region_times == NULL || o_->par == NULL || o_->split == NULL) {
		rv = sli_cli_fail("out of memory");
		goto out;
	}
	for (uint32_t t = 0; t < x.ntasks; t++)
		sli_task_metrics_init(&o_->m[t]);
	for (uint32_t i = 0; i < 2 * rg.n; i++)
		o_->region_times[i] = -1;
	r.nkids = o->workers;
	r.x = &x;
	if (mkdtemp(dir) == NULL) {
		rv = sli_cli_fail(
		    "cannot make a directory in /tmp: %s", strerror(errno));
		goto out;
	}
	snprintf(url, sizeof(url), "ipc://%s/coordinator.sock", dir);
	co.listen = url;
	co.set = &set;
	co.state_dir = o->state_dir;
	co.services = o->services;
	co.nservices = (uint32_t)o->nservices;
	co.replicas = o->replicas;
	if (sli_coord_start(&co, &r.coord) != 0) {
		rv = sli_cli_fail("%s", sl_errdetail());
		remove_dir(dir);
		goto out;
	}

	uv_loop_init(&r.loop);
	r.loop.data = &r;
	uv_timer_init(&r.loop, &r.tick);
	uv_signal_init(&r.loop, &r.sigint);
	uv_signal_init(&r.loop, &r.sigterm);
	r.tick.data = r.sigint.data = r.sigterm.data = &r;
	uv_signal_start(&r.sigint, on_signal, SIGINT);
	uv_signal_start(&r.sigterm, on_signal, SIGTERM);
	enter(&r, P_REGISTER);
	if (spawn_workers(&r, url, dir) != 0)
		fail_run(&r, sl_errdetail());
	uv_timer_start(&r.tick, on_tick, TICK_MS, TICK_MS);

	p.x = &x;
	p.m = o_->m;
	p.tty = isatty(STDERR_FILENO);
	t0 = p.start = run_now();
	progress_on = run_progress_start(&p, &th) == 0;
	uv_run(&r.loop, UV_RUN_DEFAULT);
	wall = run_now() - t0;
	if (progress_on)
		run_progress_stop(&p, th);
	uv_loop_close(&r.loop);
	sli_coord_stop(r.coord);
	remove_dir(dir);

	if (r.failure[0] != '\0' || !r.have_info) {
		rv = r.signal != 0 && r.failure[0] == '\0'
		    ? 128 + r.signal
		    : sli_cli_fail("%s",
		          r.failure[0] ? r.failure : "the job did not run");
		goto out;
	}
	switch (r.info.state) {
	case SLI_JOB_FINISHED:
		how = "finished";
		status = "FINISHED";
		break;
	case SLI_JOB_CANCELLED:
		how = "was cancelled";
		status = "CANCELLED";
		break;
	default:
		how = "failed";
		status = "FAILED";
		sli_cli_fail("%s", r.info.message);
	}
	/* what was decided while the job ran */
	for (uint32_t v = 0; v < job->nv; v++) {
		if (par == NULL || par[v] != SLI_PAR_AT_RUN ||
		    o_->par[v] == x.par[v])
			continue;
		fprintf(stderr, "sluice: vertex '%s': parallelism %u",
		    job->v[v].id, o_->par[v]);
		if (o_->split[v] > 0)
			fprintf(stderr,
			    ", and %u more tasks that split its hot "
			    "ranges",
			    o_->split[v]);
		fputc('\n', stderr);
	}
	run_print_summary(&x, o_->m, o_->par, wall, how);
	rv = sli_cli_flush();
	if (r.info.state != SLI_JOB_FINISHED)
		rv = r.signal != 0 ? 128 + r.signal : 1;
	if (o->report != NULL) {
		int w = run_write_report(o->report,
		    run_report_json(&(struct run_report) {
		        .x = &x,
		        .m = o_->m,
		        .par = o_->par,
		        .worker = (const char(*)[64])o_->worker,
		        .attempts = o_->attempts,
		        .edge_bytes = o_->edge_bytes,
		        .rg = &rg,
		        .rtimes = o_->region_times,
		        .failovers = r.failovers,
		        .wall = wall,
		        .status = status,
		        .reason = r.info.state == SLI_JOB_FINISHED
		            ? NULL
		            : r.info.message,
		    }));
		if (w != 0 && rv == 0)
			rv = w;
	}
out:
	free(par);
	free(text);
	free(r.out.m);
	free(r.out.worker);
	free(r.out.attempts);
	free(r.out.edge_bytes);
	free(r.out.par);
	free(r.out.split);
	free(r.out.region_times);
	json_decref(r.failovers);
	if (have_rg)
		sli_regions_free(&rg);
	free(r.kids);
	free(r.args);
	sli_plugin_set_clear(&set);
	if (have_x)
		sli_exec_free(&x);
	sl_job_free(job);
	return rv;
}
