/*
 * libFuzzer target: any bytes as a job file. Loading must fail cleanly or
 * give a graph that plans: regions, a failover, and readiness through to
 * the end, without a crash, a leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sluice/graph.h>

#include "graph/exec.h"
#include "plan/failover.h"
#include "plan/regions.h"
#include "plan/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep each input cheap: parallelisms up to a million are valid, but a
 * fuzzer that plans them learns nothing more. */
#define MAX_TASKS 4096

static void
plan(const sl_job *job)
{
	struct sli_exec x;
	struct sli_regions r;
	struct sli_sched s;
	uint32_t *par = calloc(sl_job_vertex_count(job) + 1, sizeof(*par));
	uint64_t total = 0;

	if (par == NULL)
		return;
	/* "auto" vertices plan with parallelism 3. */
	for (uint32_t v = 0; v < job->nv; v++) {
		par[v] = job->v[v].parallelism == SL_PARALLELISM_AUTO
		    ? 3
		    : (uint32_t)job->v[v].parallelism;
		total += par[v];
	}
	if (total > MAX_TASKS || sli_exec_build(job, par, &x) != 0) {
		free(par);
		return;
	}
	if (sli_regions_build(&x, &r) == 0) {
		uint8_t *restart = calloc(r.n + 1, 1);
		uint32_t *tasks = NULL, n = 0, failed = x.ntasks - 1;

		if (restart != NULL &&
		    sli_failover_regions(&x, &r, &failed, 1, NULL, restart) ==
		        0 &&
		    sli_failover_tasks(&x, &r, restart, NULL, &tasks, &n) == 0)
			free(tasks);
		free(restart);
		/* Deploy and finish whatever is ready until nothing is. */
		if (sli_sched_init(&s, &x, &r, 8) == 0) {
			struct sl_sched_ctx ctx;
			uint32_t ready;

			sli_sched_ctx_init(&ctx, &s);
			while (ctx.ready(&ctx, &ready, 1) > 0 &&
			    sli_sched_deploy(&s, ready) == 0)
				sli_sched_finish(&s, ready);
			sli_sched_fini(&s);
		}
		sli_regions_free(&r);
	}
	sli_exec_free(&x);
	free(par);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sl_job *job;

	/* Definitions for the example jobs' variables, so that substitution
	 * is fuzzed too. */
	static const char *const defs[] = { "input=/dev/null",
		"output=/tmp/x" };

	if (sl_job_load_json_vars(
	        (const char *)data, size, "fuzz", defs, 2, &job) == 0) {
		plan(job);
		sl_job_free(job);
	}
	return 0;
}
