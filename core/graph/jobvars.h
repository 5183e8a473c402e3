#ifndef SLI_JOBVARS_H
#define SLI_JOBVARS_H

#include <stddef.h>

#include <jansson.h>

#include "job.h"

/*
 * Variables. A definition is "NAME=VALUE" as given to -D; ${NAME} in any
 * string value of the document is replaced by VALUE, and $${ stands for a
 * literal ${. Substituting the parsed strings, not the text, means a value
 * holding quotes or backslashes needs no escaping and cannot change the
 * document's shape.
 */

#define MAX_VAR_NAME 128

struct sli_job_var {
	const char *name; /* points into the definition; not NUL-terminated */
	size_t nlen;
	const char *value; /* NUL-terminated */
	size_t vlen;
	size_t idx; /* in defs[], for messages */
};

/* Sorted by name, so that finding one and refusing repeats are O(log n)
 * each, however many definitions a program passes. */
struct sli_job_vars {
	struct sli_job_var *v;
	size_t n;
};

/* Parse defs[0..ndefs) ("NAME=VALUE", borrowed for the life of vs). */
int sli_job_vars_init(
    struct sli_job_vars *vs, const char *const *defs, size_t ndefs);
void sli_job_vars_fini(struct sli_job_vars *vs);

/* Substitute every string value of root in place; origin names the file in
 * messages; budget bounds the bytes substitution may make. */
int sli_job_vars_apply(const struct sli_job_vars *vars, json_t *root,
    const char *origin, size_t budget);

/*
 * sl_job_load_json_vars that also gives the document after substitution,
 * as compact JSON in *expanded (free with free()): what the coordinator
 * sends workers, so that they build the same graph without the -D values.
 */
int sli_job_load_expanded(const char *text, size_t len, const char *origin,
    const char *const *defs, size_t ndefs, sl_job **out, char **expanded);

/*
 * The expanded document *json with the parallelism of vertex v (file
 * order, as the job's indices) set to par[v] wherever par[v] is not 0 or
 * SLI_PAR_AT_RUN (those stay "auto"):
 * decisions made for "auto" vertices, so that workers build the same
 * graph. *json is replaced (free with free()).
 */
int sli_job_json_fix_parallelism(char **json, const uint32_t *par, uint32_t nv);

#endif
