/*
 * Checking an operator library (kind SL_PLUGIN_OPERATORS): one table that
 * lists named operators, each with an ops table of its own. A job's
 * library is as untrusted as any plugin, and it is one shared object for
 * many operators, so each operator is checked as a plugin would be and
 * every refusal says which one: "operator 'NAME' (#I): ..." once its name
 * is known to be good, "operator #I: ..." before (I indexes the library's
 * ops array, from 0).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "load_common.h"

/* Up to its one required member, ops. */
#define LIB_MIN END_OF(struct sl_operator_lib, ops)
/* run and process are both members of 1.0, and which one must be set (and
 * which NULL) depends on the caps: a table must hold both to say. */
#define OPERATOR_MIN END_OF(struct sl_operator_ops, process)
/* Far more than a job brings; a larger count is garbage, which must not
 * make the loader allocate or read that much. */
#define OPERATORS_MAX 4096

static int refuse_at(const struct sli_plugin *p, const char *who, int err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the detail "plugin PATH: WHO REASON" and return err. */
static int
refuse_at(
    const struct sli_plugin *p, const char *who, int err, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return sli_err(err, "plugin %s: %s%s", p->path, who, reason);
}

/* Defaults for the optional ops, so that a task never tests for NULL. */

static int
step_default(void *state, const struct sl_task_ctx *ctx)
{
	return 0;
}

static void
abort_default(void *state, const struct sl_task_ctx *ctx)
{
}

static void
close_default(void *state)
{
}

/* "operator 'NAME' (#I): " when the table declares a good name, else
 * "operator #I: ". */
static void
who_is(char *who, size_t len, uint32_t i, uint32_t size,
    const struct sl_operator_ops *o)
{
	if (FITS(size, struct sl_operator_ops, name) && o->name != NULL &&
	    valid_name(o->name))
		snprintf(
		    who, len, "operator '%s' (#%" PRIu32 "): ", o->name, i);
	else
		snprintf(who, len, "operator #%" PRIu32 ": ", i);
}

/* Check operator i, src, and copy it into *o with defaults. */
static int
load_operator(const struct sli_plugin *p, uint32_t i,
    const struct sl_operator_ops *src, struct sl_operator_ops *o)
{
	/* "operator '" + 64 + "' (#4095): " */
	char who[96];
	uint32_t size;

	if (src == NULL) {
		who_is(who, sizeof(who), i, 0, NULL);
		return refuse_at(p, who, SL_EPLUGIN,
		    "ops table is missing (ops[%" PRIu32 "] is NULL)", i);
	}
	size = src->struct_size;
	who_is(who, sizeof(who), i, size, src);
	if (size < OPERATOR_MIN)
		return refuse_at(p, who, SL_EABI,
		    "ops table is %" PRIu32
		    " bytes, ABI %d.0 needs at least %zu",
		    size, SL_ABI_MAJOR, (size_t)OPERATOR_MIN);
	copy_declared(o, sizeof(*o), src, size);
	if (o->name == NULL)
		return refuse_at(p, who, SL_EPLUGIN, "no name (name is NULL)");
	if (!valid_name(o->name))
		return refuse_at(p, who, SL_EPLUGIN,
		    "name '%.80s' is not 1 to %d characters of a-z 0-9 _ -",
		    o->name, NAME_MAX_LEN);

	if (o->open == NULL)
		return refuse_at(p, who, SL_EPLUGIN, "op 'open' is missing");
	/* Exactly one of run and process: a task decides by the caps which
	 * one to call, and must never meet NULL or call the wrong one. */
	if (o->caps & SL_OPERATOR_SOURCE) {
		if (o->run == NULL)
			return refuse_at(p, who, SL_EPLUGIN,
			    "op 'run' is missing (required of a source)");
		if (o->process != NULL)
			return refuse_at(p, who, SL_EPLUGIN,
			    "op 'process' is set, but a source has no inputs "
			    "(it must be NULL)");
	} else {
		if (o->process == NULL)
			return refuse_at(p, who, SL_EPLUGIN,
			    "op 'process' is missing (required of an operator "
			    "that is not a source)");
		if (o->run != NULL)
			return refuse_at(p, who, SL_EPLUGIN,
			    "op 'run' is set, but only a source (caps "
			    "SL_OPERATOR_SOURCE) runs (it must be NULL)");
	}
	if (o->state_size > STATE_MAX)
		return refuse_at(p, who, SL_EPLUGIN,
		    "state_size %zu is above the limit of %zu bytes",
		    o->state_size, STATE_MAX);

	/* copy_declared zeroed what lies beyond the declared size. */
	if (o->finish == NULL)
		o->finish = step_default;
	if (o->commit == NULL)
		o->commit = step_default;
	if (o->abort == NULL)
		o->abort = abort_default;
	if (o->close == NULL)
		o->close = close_default;
	/* The copy is a complete table of this build now. name still points
	 * into the plugin, which outlives every use of the copy. */
	o->struct_size = sizeof(*o);
	return 0;
}

int
sli_load_operators(struct sli_plugin *p)
{
	const struct sl_operator_lib *src = p->desc.ops;
	struct sl_operator_lib lib;
	struct sl_operator_ops *v;
	int rc;

	if (src == NULL)
		return refuse_at(p, "", SL_EPLUGIN,
		    "operator library table is missing (ops is NULL)");
	if (src->struct_size < LIB_MIN)
		return refuse_at(p, "", SL_EABI,
		    "operator library table is %" PRIu32
		    " bytes, ABI %d.0 needs at least %zu",
		    src->struct_size, SL_ABI_MAJOR, (size_t)LIB_MIN);
	copy_declared(&lib, sizeof(lib), src, src->struct_size);
	if (lib.count == 0)
		return refuse_at(p, "", SL_EPLUGIN,
		    "operator library lists no operators (count is 0)");
	if (lib.count > OPERATORS_MAX)
		return refuse_at(p, "", SL_EPLUGIN,
		    "operator library count %" PRIu32
		    " is above the limit of %d",
		    lib.count, OPERATORS_MAX);
	if (lib.ops == NULL)
		return refuse_at(p, "", SL_EPLUGIN,
		    "operator library has no operators (its ops array is "
		    "NULL)");

	if ((v = calloc(lib.count, sizeof(*v))) == NULL)
		return refuse_at(p, "", SL_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < lib.count; i++)
		if ((rc = load_operator(p, i, lib.ops[i], &v[i])) != 0)
			goto out_free_ops;
	/* Quadratic, but over a few operators, once per load. */
	for (uint32_t i = 1; i < lib.count; i++)
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(v[i].name, v[j].name) == 0) {
				char who[96];

				who_is(who, sizeof(who), i, v[i].struct_size,
				    &v[i]);
				rc = refuse_at(p, who, SL_EPLUGIN,
				    "name already used by operator #%" PRIu32,
				    j);
				goto out_free_ops;
			}
	p->ops.operators.v = v;
	p->ops.operators.n = lib.count;
	return 0;

out_free_ops:
	free(v);
	return rc;
}
