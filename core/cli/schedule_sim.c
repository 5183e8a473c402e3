/* Simulated execution for `sluice plan schedule`: the real strategy plugin,
 * the real readiness rules, regions that finish in the order deployed. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "plan/schedule.h"
#include "plugin/loader.h"
#include "schedule_sim.h"

struct sim {
	struct sli_sched s; /* first: the ctx's core pointer is this */
	const struct sli_exec *x;
	json_t *events;
	uint32_t *fifo; /* deployed, not yet finished, in deploy order */
	uint32_t head, tail;
	int err;
};

static int
sim_deploy(const struct sl_sched_ctx *ctx, uint32_t r)
{
	struct sim *sim = ctx->core;
	const struct sli_regions *rg = sim->s.r;
	char name[192];
	json_t *tasks, *ev;
	int rv;

	if ((rv = sli_sched_deploy(&sim->s, r)) != 0)
		return rv;
	sim->fifo[sim->tail++] = r;
	tasks = json_array();
	for (uint32_t k = rg->start[r]; tasks != NULL && k < rg->start[r + 1];
	     k++) {
		sli_task_name(sim->x, rg->tasks[k], name, sizeof(name));
		json_array_append_new(tasks, json_string(name));
	}
	ev = json_pack("{s:i,s:o,s:i}", "deploy", (json_int_t)r, "tasks", tasks,
	    "slots", (json_int_t)sim->s.slots[r]);
	if (ev == NULL || json_array_append_new(sim->events, ev) != 0)
		sim->err = SL_ENOMEM;
	return 0;
}

static int
run(struct sim *sim, const struct sli_plugin *p, void *state,
    struct sl_sched_ctx *ctx)
{
	const struct sl_scheduler_ops *ops = &p->ops.scheduler;
	int rv;

	if ((rv = ops->on_start(state, ctx)) != 0)
		return sli_err(rv, "scheduler '%s': on_start: %s", p->name,
		    sl_strerror(rv));
	while (sim->head < sim->tail && sim->err == 0) {
		uint32_t r = sim->fifo[sim->head++];

		if ((rv = sli_sched_finish(&sim->s, r)) != 0)
			return rv;
		if (json_array_append_new(sim->events,
		        json_pack("{s:i}", "finish", (json_int_t)r)) != 0)
			return sli_err(SL_ENOMEM, "out of memory");
		if ((rv = ops->on_region_finished(state, ctx, r)) != 0)
			return sli_err(rv,
			    "scheduler '%s': on_region_finished(%u): %s",
			    p->name, r, sl_strerror(rv));
	}
	if (sim->err != 0)
		return sli_err(sim->err, "out of memory");
	if (sim->tail < sim->s.r->n)
		return sli_err(SL_ESTATE,
		    "scheduler '%s' stopped with %u of %u regions never "
		    "deployed "
		    "(%u of them ready)",
		    p->name, sim->s.r->n - sim->tail, sim->s.r->n,
		    sim->s.nready);
	return 0;
}

int
sli_schedule_simulate(const struct sli_exec *x, const struct sli_regions *r,
    const char *scheduler, uint32_t slots, const char *const *plugin_dirs,
    size_t ndirs, json_t **out)
{
	struct sli_plugin_set set = { 0 };
	struct sli_plugin *p;
	struct sl_sched_ctx ctx;
	struct sim sim = { 0 };
	void *state = NULL;
	int rv;

	if ((rv = sli_plugin_set_load_default(&set, plugin_dirs, ndirs)) < 0)
		goto out;
	if ((p = sli_plugin_set_find(&set, SL_PLUGIN_SCHEDULER, scheduler)) ==
	    NULL) {
		rv = sli_err(SL_ENOTFOUND,
		    "no scheduler plugin named '%s' "
		    "(`sluice plugins` lists them)",
		    scheduler);
		goto out;
	}
	if ((rv = sli_sched_init(&sim.s, x, r, slots)) != 0)
		goto out;
	sim.x = x;
	sim.events = json_array();
	sim.fifo = malloc((r->n + 1) * sizeof(*sim.fifo));
	state = calloc(1, p->ops.scheduler.state_size + 1);
	if (sim.events == NULL || sim.fifo == NULL || state == NULL) {
		rv = sli_err(SL_ENOMEM, "out of memory");
		goto out_sched;
	}
	sli_sched_ctx_init(&ctx, &sim.s);
	ctx.core = &sim;
	ctx.deploy = sim_deploy;
	if ((rv = p->ops.scheduler.init(state, &p->host, &ctx)) != 0) {
		/* A role's fini copes with a half-made state (plugin.h). */
		p->ops.scheduler.fini(state);
		rv = sli_err(
		    rv, "scheduler '%s': init: %s", p->name, sl_strerror(rv));
		goto out_sched;
	}
	rv = run(&sim, p, state, &ctx);
	p->ops.scheduler.fini(state);
	if (rv == 0) {
		*out = json_pack("{s:s,s:i,s:i,s:O}", "scheduler", p->name,
		    "slots", (json_int_t)slots, "regions", (json_int_t)r->n,
		    "events", sim.events);
		if (*out == NULL)
			rv = sli_err(SL_ENOMEM, "out of memory");
	}
out_sched:
	free(state);
	free(sim.fifo);
	json_decref(sim.events);
	sli_sched_fini(&sim.s);
out:
	sli_plugin_set_clear(&set);
	return rv;
}
