/*
 * What sluice run shows while a job runs and after: the progress line (a
 * thread reading the tasks' counters), the summary per vertex, and the
 * JSON report. Shared by the in-process and the cluster runs.
 */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "run_report.h"

double
run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
run_progress_line(struct run_progress *p)
{
	uint64_t rec = 0, bytes = 0;
	uint32_t ended = 0;
	double el = run_now() - p->start, mb;

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
run_progress_thread(void *arg)
{
	struct run_progress *p = arg;
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
			run_progress_line(p);
	}
	if (p->tty && p->printed)
		fputs("\r\033[K", stderr);
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

int
run_progress_start(struct run_progress *p, pthread_t *th)
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
	if (pthread_create(th, NULL, run_progress_thread, p) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mtx);
		return -1;
	}
	return 0;
}

void
run_progress_stop(struct run_progress *p, pthread_t th)
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
run_vertex_sum(
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

void
run_print_summary(const struct sli_exec *x, const struct sli_task_metrics *m,
    const uint32_t *par, double wall, const char *how)
{
	const sl_job *job = x->job;

	printf("job '%s' %s in %.2f s\n", sl_job_name(job), how, wall);
	printf("%-20s %5s %14s %14s %14s %14s\n", "VERTEX", "TASKS",
	    "RECORDS_IN", "RECORDS_OUT", "BYTES_IN", "BYTES_OUT");
	for (uint32_t k = 0; k < job->nv; k++) {
		uint32_t v = x->topo[k];
		struct vsum s = run_vertex_sum(x, m, v);

		printf("%-20s %5u %14llu %14llu %14llu %14llu\n", job->v[v].id,
		    par != NULL ? par[v] : x->par[v], (unsigned long long)s.rin,
		    (unsigned long long)s.rout, (unsigned long long)s.bin,
		    (unsigned long long)s.bout);
	}
}

/* Per region: its tasks, and when it started and ended (null: never). */
static json_t *
regions_json(
    const struct sli_exec *x, const struct sli_regions *rg, const double *rt)
{
	json_t *a = json_array();
	char name[192];

	for (uint32_t r = 0; a != NULL && r < rg->n; r++) {
		json_t *ts = json_array();

		for (uint32_t k = rg->start[r];
		     ts != NULL && k < rg->start[r + 1]; k++) {
			sli_task_name(x, rg->tasks[k], name, sizeof(name));
			if (json_array_append_new(ts, json_string(name)) != 0) {
				json_decref(ts);
				ts = NULL;
			}
		}
		if (ts == NULL ||
		    json_array_append_new(a,
		        json_pack("{s:i,s:o,s:o,s:o}", "region", (int)r,
		            "tasks", ts, "started_s",
		            rt[2 * r] >= 0 ? json_real(rt[2 * r]) : json_null(),
		            "ended_s",
		            rt[2 * r + 1] >= 0 ? json_real(rt[2 * r + 1])
		                               : json_null())) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

json_t *
run_report_json(const struct run_report *rep)
{
	const struct sli_exec *x = rep->x;
	const struct sli_task_metrics *m = rep->m;
	const uint32_t *par = rep->par;
	const char(*worker)[64] = rep->worker;
	const sl_job *job = x->job;
	json_t *root, *vs = json_array(), *es = json_array();
	char name[192];

	for (uint32_t k = 0; vs != NULL && k < job->nv; k++) {
		uint32_t v = x->topo[k], pv = par != NULL ? par[v] : x->par[v];
		json_t *ts = json_array();

		/* tasks above a decision never ran: not listed, but for
		 * those that read part of a split range (they have a
		 * worker) */
		for (uint32_t i = 0; ts != NULL && i < x->par[v]; i++) {
			const struct sli_task_metrics *t = &m[x->base[v] + i];

			if (i >= pv &&
			    (worker == NULL ||
			        worker[x->base[v] + i][0] == '\0'))
				continue;

			sli_task_name(x, x->base[v] + i, name, sizeof(name));
			if (json_array_append_new(ts,
			        json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I}", "id",
			            name, "attempts",
			            rep->attempts != NULL
			                ? (int)rep->attempts[x->base[v] + i]
			                : 1,
			            "worker",
			            worker != NULL ? worker[x->base[v] + i]
			                           : "in-process",
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
		/* "auto": the parallelism was decided from the data */
		if (ts == NULL ||
		    json_array_append_new(vs,
		        json_pack("{s:s,s:i,s:b,s:o}", "id", job->v[v].id,
		            "parallelism", (int)pv, "auto",
		            job->v[v].parallelism == SL_PARALLELISM_AUTO,
		            "tasks", ts)) != 0) {
			json_decref(vs);
			vs = NULL;
		}
	}
	if (vs == NULL) {
		json_decref(es);
		return NULL;
	}
	for (uint32_t e = 0; es != NULL && e < job->ne; e++) {
		const struct sli_edge *ed = &job->e[e];

		if (json_array_append_new(es,
		        json_pack("{s:s,s:s,s:I}", "from", job->v[ed->from].id,
		            "to", job->v[ed->to].id, "bytes",
		            (json_int_t)rep->edge_bytes[e])) != 0) {
			json_decref(es);
			es = NULL;
		}
	}
	if (es == NULL) {
		json_decref(vs);
		return NULL;
	}
	root = json_pack("{s:s,s:s?,s:f,s:o,s:o}", "status", rep->status,
	    "reason", rep->reason, "wall_seconds", rep->wall, "vertices", vs,
	    "edges", es);
	if (root != NULL && rep->rg != NULL &&
	    json_object_set_new(
	        root, "regions", regions_json(x, rep->rg, rep->rtimes)) != 0) {
		json_decref(root);
		root = NULL;
	}
	/* per failover: when, which task, why, what restarted */
	if (root != NULL &&
	    json_object_set_new(root, "failovers",
	        rep->failovers != NULL ? json_incref(rep->failovers)
	                               : json_array()) != 0) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

int
run_write_report(const char *path, json_t *root)
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

int
run_auto_sources(const char *path, const sl_job *job,
    const struct sli_plugin_set *set, uint32_t **par)
{
	uint64_t *bytes = calloc(job->nv + 1, sizeof(*bytes));

	*par = calloc(job->nv + 1, sizeof(**par));
	if (*par == NULL || bytes == NULL) {
		free(bytes);
		return sli_cli_fail("out of memory");
	}
	if (sli_auto_sources(job, set, *par, bytes) != 0) {
		free(bytes);
		return sli_cli_fail("%s: %s", path, sl_errdetail());
	}
	for (uint32_t v = 0; v < job->nv; v++)
		if ((*par)[v] == SLI_PAR_AT_RUN)
			fprintf(stderr,
			    "sluice: vertex '%s': parallelism decided when its "
			    "producers finish\n",
			    job->v[v].id);
		else if ((*par)[v] != 0 && job->v[v].nin == 0)
			fprintf(stderr,
			    "sluice: vertex '%s': parallelism %u for %llu "
			    "bytes "
			    "of input\n",
			    job->v[v].id, (*par)[v],
			    (unsigned long long)bytes[v]);
		else if ((*par)[v] != 0)
			fprintf(stderr,
			    "sluice: vertex '%s': parallelism %u, as the "
			    "vertices that feed it\n",
			    job->v[v].id, (*par)[v]);
	free(bytes);
	return 0;
}
