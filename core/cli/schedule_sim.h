/* sluice plan schedule: run a scheduler strategy plugin against a job whose
 * regions finish one after another, and record what it deployed when. */
#ifndef SLI_SCHEDULE_SIM_H
#define SLI_SCHEDULE_SIM_H

#include <stddef.h>

#include <jansson.h>

#include "plan/regions.h"

/*
 * Load the plugins (bundled, SLUICE_PLUGIN_PATH, plugin_dirs), find the
 * scheduler named `scheduler`, and simulate: on_start, then repeatedly the
 * earliest deployed region finishes and on_region_finished is called,
 * until every region finished. *out: {"scheduler", "slots", "events":
 * [{"deploy": R, "tasks": [...]}, {"finish": R}, ...]}.
 * Fails when the strategy stops with regions never deployed.
 */
int sli_schedule_simulate(const struct sli_exec *x, const struct sli_regions *r,
    const char *scheduler, uint32_t slots, const char *const *plugin_dirs,
    size_t ndirs, json_t **out);

#endif
