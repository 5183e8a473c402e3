/*
 * An operator library a job brings along: two small operators that show the
 * whole operator ABI (api/sluice/operator.h).
 *
 *   grep      keeps the records whose value (or key, "field": "key")
 *             contains "pattern"; counts what it drops in
 *             "records_dropped".
 *   throttle  passes records on at most "bytes_per_second" of keys and
 *             values per task: a slow stage, for trying back pressure.
 *
 * A job names the library by its absolute path, which the coordinator and
 * every worker load:
 *
 *   {"name": "grep-words",
 *    "libraries": ["${ops}"],
 *    "vertices": [ ..., {"id": "only-sluice", "operator": "grep",
 *                        "config": {"pattern": "sluice", "field": "key"}}],
 *    ...}
 *
 *   sluice run job.json -D ops=$PWD/build/example-ops.so ...
 *
 * Build: the CMakeLists.txt beside this file, with the installed
 * sluice-plugin.pc (the sluice build also builds it, into
 * build/examples/example-ops.so).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sluice/operator.h>

/* ---- grep ---- */

struct grep {
	char *pattern;
	size_t len;
	bool on_key;
	int64_t dropped;
};

static int
grep_open(void *state, const struct sl_task_ctx *ctx)
{
	struct grep *g = state;
	json_error_t jerr;
	json_t *cfg = json_loads(ctx->config_json, 0, &jerr), *v;
	const char *key, *field = "value";

	if (cfg == NULL) {
		ctx->host->set_error("grep: config: %s", jerr.text);
		return SL_EPARSE;
	}
	json_object_foreach (cfg, key, v) {
		if (strcmp(key, "pattern") != 0 && strcmp(key, "field") != 0) {
			ctx->host->set_error(
			    "grep: config: unknown key '%s'", key);
			json_decref(cfg);
			return SL_EINVAL;
		}
	}
	v = json_object_get(cfg, "pattern");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		ctx->host->set_error(
		    "grep: config: 'pattern' must be a non-empty string");
		json_decref(cfg);
		return SL_EINVAL;
	}
	if (json_is_string(json_object_get(cfg, "field")))
		field = json_string_value(json_object_get(cfg, "field"));
	if (strcmp(field, "key") != 0 && strcmp(field, "value") != 0) {
		ctx->host->set_error("grep: config: 'field' is \"key\" or "
		                     "\"value\", not \"%s\"",
		    field);
		json_decref(cfg);
		return SL_EINVAL;
	}
	g->on_key = strcmp(field, "key") == 0;
	g->len = json_string_length(v);
	/* The operator's own memory: malloc. (host->alloc is for memory
	 * handed to the core.) */
	g->pattern = malloc(g->len);
	if (g->pattern == NULL) {
		json_decref(cfg);
		return SL_ENOMEM;
	}
	memcpy(g->pattern, json_string_value(v), g->len);
	json_decref(cfg);
	return 0;
}

static bool
contains(const void *hay, size_t n, const char *needle, size_t m)
{
	const char *h = hay;

	for (size_t i = 0; i + m <= n; i++)
		if (h[i] == needle[0] && memcmp(h + i, needle, m) == 0)
			return true;
	return false;
}

static int
grep_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct grep *g = state;
	const void *b = g->on_key ? rec->key : rec->value;
	size_t n = g->on_key ? rec->key_len : rec->value_len;

	(void)in;
	if (!contains(b, n, g->pattern, g->len)) {
		g->dropped++;
		return 0;
	}
	for (uint32_t out = 0; out < ctx->num_outputs; out++) {
		int rv = ctx->emit(ctx, out, rec);

		if (rv != 0)
			return rv;
	}
	return 0;
}

static int
grep_finish(void *state, const struct sl_task_ctx *ctx)
{
	struct grep *g = state;

	ctx->count(ctx, "records_dropped", g->dropped);
	return 0;
}

static void
grep_close(void *state)
{
	struct grep *g = state;

	free(g->pattern);
	g->pattern = NULL;
}

/* ---- throttle ---- */

struct throttle {
	double rate; /* bytes per second */
	double start;
	uint64_t bytes;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
throttle_open(void *state, const struct sl_task_ctx *ctx)
{
	struct throttle *t = state;
	json_error_t jerr;
	json_t *cfg = json_loads(ctx->config_json, 0, &jerr);
	json_t *v =
	    cfg != NULL ? json_object_get(cfg, "bytes_per_second") : NULL;

	if (cfg == NULL || !json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_object_size(cfg) != 1) {
		ctx->host->set_error(
		    "throttle: config: needs exactly "
		    "\"bytes_per_second\", a positive integer");
		json_decref(cfg);
		return SL_EINVAL;
	}
	t->rate = (double)json_integer_value(v);
	t->start = now();
	json_decref(cfg);
	return 0;
}

static int
throttle_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	struct throttle *t = state;
	double due;

	(void)in;
	t->bytes += rec->key_len + rec->value_len;
	/* Sleep until the bytes so far are due, in steps short enough that a
	 * cancel is noticed soon. */
	while ((due = t->start + (double)t->bytes / t->rate - now()) > 0 &&
	    !ctx->cancelled(ctx)) {
		double step = due < 0.05 ? due : 0.05;
		struct timespec ts = { 0, (long)(step * 1e9) };

		nanosleep(&ts, NULL);
	}
	if (ctx->cancelled(ctx))
		return SL_ECLOSED;
	for (uint32_t out = 0; out < ctx->num_outputs; out++) {
		int rv = ctx->emit(ctx, out, rec);

		if (rv != 0)
			return rv;
	}
	return 0;
}

static const struct sl_operator_ops grep_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "grep",
	.state_size = sizeof(struct grep),
	.open = grep_open,
	.process = grep_process,
	.finish = grep_finish,
	.close = grep_close,
};

static const struct sl_operator_ops throttle_ops = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = "throttle",
	.state_size = sizeof(struct throttle),
	.open = throttle_open,
	.process = throttle_process,
};

static const struct sl_operator_ops *const all_ops[] = { &grep_ops,
	&throttle_ops };

static const struct sl_operator_lib lib = {
	.struct_size = sizeof(struct sl_operator_lib),
	.count = sizeof(all_ops) / sizeof(all_ops[0]),
	.ops = all_ops,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_OPERATORS,
	.name = "example-ops",
	.version = "1.0.0",
	.ops = &lib,
};

SL_PLUGIN_DEFINE(plugin)
