/*
 * Job files: JSON in, a job graph out, built through the public C API so
 * that a file and a C program get the same checks. Every error names the
 * origin, the place ("edges[2].to") and the problem. Variables (${name},
 * set by -D name=value) are substituted into the parsed document before
 * any of it is read, so every check sees the final values.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/error.h"
#include "../common/units.h"
#include "../plan/restart.h"
#include "exec.h"
#include "job.h"
#include "jobfile_impl.h"
#include "jobvars.h"

/*
 * The keys each kind of object may hold. A new key goes into its list here
 * and into the parser below; anything else is refused, so that a typo
 * ("vertexes", "paralellism") fails loudly instead of being ignored.
 */
static const char *const job_keys[] = { "name", "shuffle", "scheduler",
	"libraries", "vertices", "edges", "min_parallelism", "max_parallelism",
	"bytes_per_task", "skew_factor", "restart", "faults", NULL };
static const char *const vertex_keys[] = { "id", "operator", "parallelism",
	"config", "min_parallelism", "max_parallelism", "bytes_per_task",
	"skew_factor", NULL };
static const char *const edge_keys[] = { "from", "to", "distribution",
	"partitioner", "type", "shuffle", "compression", NULL };
/* Every key of "restart"; which of them a strategy takes is below. */
static const char *const restart_keys[] = { "strategy", "attempts", "delay",
	"initial", "max", "multiplier", "jitter", "reset_after", "failures",
	"interval", NULL };
static const char *const fault_keys[] = { "task", "attempt", "after_records",
	"action", NULL };

/* Far beyond any task's input, and below where parse_decimal saturates. */
#define MAX_AFTER_RECORDS UINT64_C(1000000000000000000)

/* Far beyond any sane job file; stops `sluice plan /dev/zero`. */
#define MAX_FILE_SIZE (64u << 20)

/*
 * "restart": {"strategy": ..., and that strategy's settings}. A setting of
 * another strategy is an error rather than ignored: "initial" under
 * fixed-delay means the writer believes in a backoff that will not happen.
 */
static int
set_restart(struct jf_ctx *c, sl_job *job, json_t *jr)
{
	/* by enum sl_restart_strategy; "strategy" is everyone's */
	static const char *const takes[][7] = {
		[SL_RESTART_NONE] = { NULL },
		[SL_RESTART_FIXED_DELAY] = { "attempts", "delay", NULL },
		[SL_RESTART_EXPONENTIAL_DELAY] = { "initial", "max",
		    "multiplier", "jitter", "reset_after", "attempts", NULL },
		[SL_RESTART_FAILURE_RATE] = { "failures", "interval", "delay",
		    NULL },
	};
	static const char *const names[] = { "none", "fixed-delay",
		"exponential-delay", "failure-rate", NULL };
	struct sl_restart_spec r = SL_RESTART_SPEC_INIT;
	const char *key, *field;
	json_t *val;
	int strategy = SL_RESTART_DEFAULT, rv;

	snprintf(c->where, sizeof(c->where), "restart");
	if (!json_is_object(jr))
		return jf_fail(c, SL_EPARSE, NULL, "expected an object, got %s",
		    jf_type_name(jr));
	if ((rv = jf_check_keys(c, jr, restart_keys)) != 0 ||
	    (rv = jf_get_enum(c, jr, "strategy", true, "strategy",
	         sli_restart_strategy_parse, names, &strategy)) != 0)
		return rv;
	json_object_foreach (jr, key, val) {
		const char *const *t = takes[strategy];
		char list[96] = "";
		size_t k;

		for (k = 0; t[k] != NULL && strcmp(t[k], key) != 0; k++)
			;
		if (t[k] != NULL || strcmp(key, "strategy") == 0)
			continue;
		for (k = 0; t[k] != NULL; k++)
			snprintf(list + strlen(list),
			    sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
			    t[k]);
		if (k == 0)
			return jf_fail(c, SL_EPARSE, key,
			    "strategy none takes no settings");
		return jf_fail(c, SL_EPARSE, key,
		    "not a setting of %s, which takes %s",
		    sli_restart_strategy_name((uint32_t)strategy), list);
	}
	r.strategy = (uint32_t)strategy;
	/* 0 attempts is a strategy of its own */
	if ((val = json_object_get(jr, "attempts")) != NULL &&
	    ((json_is_integer(val) && json_integer_value(val) == 0) ||
	        (json_is_string(val) &&
	            strcmp(json_string_value(val), "0") == 0)))
		return jf_fail(c, SL_EPARSE, "attempts",
		    "0 would never restart: say \"strategy\": \"none\"");
	if ((rv = jf_get_count(c, jr, "attempts", &r.attempts)) != 0 ||
	    (rv = jf_get_count(c, jr, "failures", &r.failures)) != 0 ||
	    (rv = jf_get_duration(c, jr, "delay", &r.delay_ms)) != 0 ||
	    (rv = jf_get_duration(c, jr, "initial", &r.initial_ms)) != 0 ||
	    (rv = jf_get_duration(c, jr, "max", &r.max_ms)) != 0 ||
	    (rv = jf_get_duration(c, jr, "reset_after", &r.reset_after_ms)) !=
	        0 ||
	    (rv = jf_get_duration(c, jr, "interval", &r.interval_ms)) != 0 ||
	    (rv = jf_get_real(c, jr, "multiplier", &r.multiplier)) != 0 ||
	    (rv = jf_get_real(c, jr, "jitter", &r.jitter)) != 0)
		return rv;
	/* The C API reads these values as "unset"; written, they are wrong. */
	if (json_object_get(jr, "multiplier") != NULL && r.multiplier == 0)
		return jf_fail(c, SL_EINVAL, "multiplier",
		    "must be a number of at least 1, got 0");
	if (json_object_get(jr, "jitter") != NULL && r.jitter < 0)
		return jf_fail(c, SL_EINVAL, "jitter",
		    "must be between 0 and 1 (a share of the backoff), got %g",
		    r.jitter);
	/* The ranges are the C API's; ask first, for the field's name. */
	if ((rv = sli_restart_resolve(&r, &r, &field)) != 0)
		return jf_fail_api(c, rv, field);
	if ((rv = sl_job_set_restart(job, &r)) != 0)
		return jf_fail_api(c, rv, NULL);
	return 0;
}

/* faults[i]: {"task": "count#1", "attempt": 0, "after_records": 1000,
 * "action": "fail"}. */
static int
add_fault(struct jf_ctx *c, sl_job *job, json_t *jf, size_t i)
{
	static const char *const actions[] = { "fail", "crash_worker", NULL };
	const char *task;
	uint64_t attempt = 0, after = 0;
	int action = 0, rv;

	snprintf(c->where, sizeof(c->where), "faults[%zu]", i);
	if (!json_is_object(jf))
		return jf_fail(c, SL_EPARSE, NULL, "expected an object, got %s",
		    jf_type_name(jf));
	if ((rv = jf_check_keys(c, jf, fault_keys)) != 0 ||
	    (rv = jf_get_string(c, jf, "task", true, &task)) != 0 ||
	    (rv = jf_get_enum(c, jf, "action", true, "action",
	         sli_fault_action_parse, actions, &action)) != 0 ||
	    (rv = jf_get_natural(c, jf, "attempt", UINT32_MAX, &attempt)) !=
	        0 ||
	    (rv = jf_get_natural(
	         c, jf, "after_records", MAX_AFTER_RECORDS, &after)) != 0)
		return rv;
	rv = sl_job_add_fault(job, task, (uint32_t)attempt, after,
	    sli_fault_action_name((uint32_t)action));
	if (rv == SL_EEXISTS || rv == SL_ENOTFOUND) {
		/* the C API got as far as the vertex: task is VERTEX#INDEX */
		const char *hash = strrchr(task, '#');
		char id[160];

		snprintf(id, sizeof(id), "%.*s", (int)(hash - task), task);
		if (rv == SL_EEXISTS) {
			/* added in file order, so the index is the place */
			const struct sli_fault *f = sli_job_fault(job,
			    (uint32_t)sli_job_find_vertex(job, id),
			    (uint32_t)strtoul(hash + 1, NULL, 10),
			    (uint32_t)attempt);

			return sli_err(rv,
			    "%s: %s repeats faults[%u]: the same task and "
			    "attempt",
			    c->origin, c->where,
			    f != NULL ? (unsigned)(f - job->faults) : 0);
		}
		for (uint32_t v = 0; v < job->nv; v++)
			if (jf_close_to(id, job->v[v].id))
				return jf_fail(c, rv, NULL,
				    "task '%.160s': unknown vertex '%s' (did "
				    "you mean '%s'?)",
				    task, id, job->v[v].id);
	}
	if (rv != 0)
		return jf_fail_api(c, rv, NULL);
	return 0;
}

static int
add_vertex(struct jf_ctx *c, sl_job *job, json_t *jv, size_t i)
{
	const char *id, *op;
	json_t *config;
	char *config_json = NULL;
	struct sl_adaptive_spec a;
	int32_t par = 0;
	int64_t dup;
	int rv;

	snprintf(c->where, sizeof(c->where), "vertices[%zu]", i);
	if (!json_is_object(jv))
		return jf_fail(c, SL_EPARSE, NULL, "expected an object, got %s",
		    jf_type_name(jv));
	if ((rv = jf_check_keys(c, jv, vertex_keys)) != 0 ||
	    (rv = jf_get_string(c, jv, "id", true, &id)) != 0 ||
	    (rv = jf_get_string(c, jv, "operator", true, &op)) != 0 ||
	    (rv = jf_get_parallelism(c, jv, &par)) != 0 ||
	    (rv = jf_get_adaptive(c, jv, &a)) != 0)
		return rv;
	/* Vertices are added in file order, so the index is the place. */
	if ((dup = sli_job_find_vertex(job, id)) >= 0)
		return jf_fail(c, SL_EEXISTS, "id",
		    "vertex '%s' is defined twice (first at vertices[%lld])",
		    id, (long long)dup);
	if ((config = json_object_get(jv, "config")) != NULL) {
		if (!json_is_object(config))
			return jf_fail(c, SL_EPARSE, "config",
			    "expected an object, got %s", jf_type_name(config));
		/* Sorted and compact: equal configs give equal strings. */
		config_json = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
		if (config_json == NULL)
			return jf_fail(c, SL_ENOMEM, "config", "out of memory");
	}
	rv = sl_job_add_vertex(job, id, op, par, config_json);
	free(config_json);
	if (rv != 0)
		return jf_fail_api(c, rv, NULL);
	if ((rv = sl_job_set_adaptive(job, id, &a)) != 0)
		return jf_fail_api(c, rv, "max_parallelism");
	/* with the job's: a vertex's bound may cross the job's other one */
	sli_job_adaptive(job, job->nv - 1, &a);
	if (a.min_parallelism > a.max_parallelism)
		return jf_fail(c, SL_EINVAL, "max_parallelism",
		    "min_parallelism %u (%s) is above max_parallelism %u (%s)",
		    a.min_parallelism,
		    job->v[job->nv - 1].adaptive.min_parallelism
		        ? "the vertex's"
		        : "the job's",
		    a.max_parallelism,
		    job->v[job->nv - 1].adaptive.max_parallelism
		        ? "the vertex's"
		        : "the job's");
	return 0;
}

static int
get_vertex_ref(const struct jf_ctx *c, const sl_job *job, json_t *je,
    const char *key, const char **out)
{
	const char *hint = NULL;
	int rv;

	if ((rv = jf_get_string(c, je, key, true, out)) != 0)
		return rv;
	if (sli_job_find_vertex(job, *out) >= 0)
		return 0;
	for (uint32_t v = 0; v < job->nv && hint == NULL; v++)
		if (jf_close_to(*out, job->v[v].id))
			hint = job->v[v].id;
	if (hint != NULL)
		return jf_fail(c, SL_ENOTFOUND, key,
		    "unknown vertex '%.128s' (did you mean '%s'?)", *out, hint);
	return jf_fail(c, SL_ENOTFOUND, key, "unknown vertex '%.128s'", *out);
}

static int
add_edge(struct jf_ctx *c, sl_job *job, json_t *je, size_t i)
{
	/* The names a file may use; "none" is the C API's, not the file's. */
	static const char *const dists[] = { "pointwise", "all_to_all",
		"broadcast", NULL };
	static const char *const parts[] = { "hash", "range", "round_robin",
		NULL };
	static const char *const types[] = { "pipelined", "blocking",
		"hybrid_full", "hybrid_selective", NULL };
	static const char *const codecs[] = { "none", "lz4", "zstd", NULL };
	struct sl_edge_spec s = { .partitioner = SL_PARTITIONER_NONE };
	int rv;

	snprintf(c->where, sizeof(c->where), "edges[%zu]", i);
	if (!json_is_object(je))
		return jf_fail(c, SL_EPARSE, NULL, "expected an object, got %s",
		    jf_type_name(je));
	if ((rv = jf_check_keys(c, je, edge_keys)) != 0 ||
	    (rv = get_vertex_ref(c, job, je, "from", &s.from)) != 0 ||
	    (rv = get_vertex_ref(c, job, je, "to", &s.to)) != 0 ||
	    (rv = jf_get_enum(c, je, "distribution", true, "distribution",
	         sl_distribution_parse, dists, &s.distribution)) != 0 ||
	    (rv = jf_get_enum(c, je, "partitioner", false, "partitioner",
	         sl_partitioner_parse, parts, &s.partitioner)) != 0 ||
	    (rv = jf_get_enum(c, je, "type", true, "type",
	         sl_partition_type_parse, types, &s.type)) != 0 ||
	    (rv = jf_get_string(c, je, "shuffle", false, &s.shuffle)) != 0 ||
	    (rv = jf_get_enum(c, je, "compression", false, "compression",
	         sl_compression_parse, codecs, &s.compression)) != 0)
		return rv;
	/* The C API refuses these too, but cannot say which field is wrong. */
	if (s.partitioner != SL_PARTITIONER_NONE &&
	    s.distribution != SL_DIST_ALL_TO_ALL)
		return jf_fail(c, SL_EINVAL, "partitioner",
		    "only all_to_all edges take a partitioner, this one is %s",
		    sl_distribution_name(s.distribution));
	if (s.shuffle != NULL && (rv = sli_check_plugin_name(s.shuffle)) != 0)
		return jf_fail_api(c, rv, "shuffle");
	if ((rv = sl_job_add_edge(job, &s)) == SL_EEXISTS) {
		/* Edges are added in file order, so the index is the place. */
		int64_t dup = sli_job_find_edge(job,
		    (uint32_t)sli_job_find_vertex(job, s.from),
		    (uint32_t)sli_job_find_vertex(job, s.to), s.distribution,
		    s.partitioner == SL_PARTITIONER_NONE &&
		            s.distribution == SL_DIST_ALL_TO_ALL
		        ? SL_PARTITIONER_HASH
		        : s.partitioner,
		    s.type, s.shuffle);

		return sli_err(rv,
		    "%s: %s repeats edges[%lld]: the same from, to, "
		    "distribution, partitioner, type and shuffle",
		    c->origin, c->where, (long long)dup);
	}
	if (rv != 0)
		return jf_fail_api(c, rv, NULL);
	return 0;
}

/* Fixed parallelisms that already exceed SL_MAX_TASKS can never plan;
 * say so now rather than at the first plan. */
static int
check_tasks(struct jf_ctx *c, const sl_job *job)
{
	uint64_t total = 0;
	uint32_t nauto = 0;

	for (uint32_t v = 0; v < job->nv; v++) {
		if (job->v[v].parallelism == SL_PARALLELISM_AUTO)
			nauto++;
		else
			total += (uint64_t)job->v[v].parallelism;
	}
	if (total <= SL_MAX_TASKS)
		return 0;
	c->where[0] = '\0';
	return jf_fail(c, SL_ERANGE, "vertices",
	    "%u vertices with %llu tasks in all%s; at most %d", job->nv,
	    (unsigned long long)total,
	    nauto ? " (not counting the \"auto\" ones)" : "", SL_MAX_TASKS);
}

/* An array under key; *out NULL when absent and optional. */
static int
get_array(const struct jf_ctx *c, json_t *root, const char *key, bool required,
    json_t **out)
{
	*out = json_object_get(root, key);
	if (*out == NULL)
		return required ? jf_fail(c, SL_EPARSE, NULL,
		                      "missing field '%s' at top level", key)
		                : 0;
	if (!json_is_array(*out))
		return jf_fail(c, SL_EPARSE, key, "expected an array, got %s",
		    jf_type_name(*out));
	return 0;
}

static int
build(struct jf_ctx *c, json_t *root, sl_job **out)
{
	const char *name, *shuffle, *scheduler;
	json_t *vertices, *edges, *libs, *faults, *restart, *item;
	struct sl_adaptive_spec adaptive;
	sl_job *job = NULL;
	size_t i;
	int rv;

	if (!json_is_object(root))
		return jf_fail(c, SL_EPARSE, NULL,
		    "expected a JSON object at top level, got %s",
		    jf_type_name(root));
	/* Check everything at top level before the first vertex, so that a
	 * misspelt key is reported as such and not as what it left out. */
	if ((rv = jf_check_keys(c, root, job_keys)) != 0 ||
	    (rv = jf_get_string(c, root, "name", true, &name)) != 0 ||
	    (rv = jf_get_string(c, root, "shuffle", false, &shuffle)) != 0 ||
	    (rv = jf_get_string(c, root, "scheduler", false, &scheduler)) !=
	        0 ||
	    (rv = get_array(c, root, "vertices", true, &vertices)) != 0 ||
	    (rv = get_array(c, root, "edges", false, &edges)) != 0 ||
	    (rv = get_array(c, root, "libraries", false, &libs)) != 0 ||
	    (rv = get_array(c, root, "faults", false, &faults)) != 0 ||
	    (rv = jf_get_adaptive(c, root, &adaptive)) != 0)
		return rv;
	if (json_array_size(vertices) == 0)
		return jf_fail(c, SL_EPARSE, "vertices",
		    "empty: a job needs at least one vertex");

	if ((rv = sl_job_new(name, &job)) != 0)
		return jf_fail_api(c, rv, "name");
	if (shuffle != NULL &&
	    (rv = sl_job_set_default_shuffle(job, shuffle)) != 0) {
		rv = jf_fail_api(c, rv, "shuffle");
		goto out_free_job;
	}
	if (scheduler != NULL &&
	    (rv = sl_job_set_scheduler(job, scheduler)) != 0) {
		rv = jf_fail_api(c, rv, "scheduler");
		goto out_free_job;
	}
	if ((rv = sl_job_set_adaptive(job, NULL, &adaptive)) != 0) {
		rv = jf_fail_api(c, rv, "max_parallelism");
		goto out_free_job;
	}
	json_array_foreach (libs, i, item) {
		char key[32];

		snprintf(key, sizeof(key), "libraries[%zu]", i);
		if (!json_is_string(item)) {
			rv = jf_fail(c, SL_EPARSE, key,
			    "expected a string, got %s", jf_type_name(item));
			goto out_free_job;
		}
		if ((rv = sl_job_add_library(job, json_string_value(item))) !=
		    0) {
			rv = jf_fail_api(c, rv, key);
			goto out_free_job;
		}
	}
	if ((restart = json_object_get(root, "restart")) != NULL &&
	    (rv = set_restart(c, job, restart)) != 0)
		goto out_free_job;
	json_array_foreach (vertices, i, item) {
		if ((rv = add_vertex(c, job, item, i)) != 0)
			goto out_free_job;
	}
	if ((rv = check_tasks(c, job)) != 0)
		goto out_free_job;
	json_array_foreach (edges, i, item) {
		if ((rv = add_edge(c, job, item, i)) != 0)
			goto out_free_job;
	}
	/* Cycles are looked for once, over the whole graph. */
	c->where[0] = '\0';
	if ((rv = sl_job_validate(job)) != 0) {
		rv = jf_fail_api(c, rv, "edges");
		goto out_free_job;
	}
	json_array_foreach (faults, i, item) {
		if ((rv = add_fault(c, job, item, i)) != 0)
			goto out_free_job;
	}
	*out = job;
	return 0;

out_free_job:
	sl_job_free(job);
	return rv;
}

/* Parse, substitute, build. */
static int
load_text(struct jf_ctx *c, const char *text, size_t len,
    const struct sli_job_vars *vars, sl_job **out, char **expanded)
{
	json_error_t jerr;
	json_t *root;
	size_t k;
	int rv;

	/* jansson's message for this ("'[' or '{' expected near end of
	 * file") hides the simple cause. */
	for (k = 0; k < len; k++)
		if (text[k] != ' ' && text[k] != '\t' && text[k] != '\r' &&
		    text[k] != '\n')
			break;
	if (k == len)
		return jf_fail(
		    c, SL_EPARSE, NULL, "empty input: expected a JSON object");
	/* DECODE_ANY: a top-level "x" or [] gets our clearer message below. */
	root = json_loadb(
	    text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		if (jerr.line >= 1 && jerr.column >= 0)
			return sli_err(SL_EPARSE,
			    "%s:%d:%d: JSON syntax error: %s", c->origin,
			    jerr.line, jerr.column, jerr.text);
		return sli_err(SL_EPARSE, "%s: JSON syntax error: %s",
		    c->origin, jerr.text);
	}
	/* Anything but an object is refused by build(), which says so. */
	rv = json_is_object(root)
	    ? sli_job_vars_apply(vars, root, c->origin, MAX_FILE_SIZE)
	    : 0;
	if (rv == 0)
		rv = build(c, root, out);
	if (rv == 0 && expanded != NULL &&
	    (*expanded = json_dumps(root, JSON_COMPACT)) == NULL) {
		sl_job_free(*out);
		*out = NULL;
		rv = sli_err(SL_ENOMEM, "%s: out of memory", c->origin);
	}
	json_decref(root);
	return rv;
}

int
sl_job_load_json_vars(const char *text, size_t len, const char *origin,
    const char *const *defs, size_t ndefs, sl_job **out)
{
	struct jf_ctx c = { .origin = origin != NULL ? origin : "<json>" };
	struct sli_job_vars vs;
	int rv;

	if (text == NULL || out == NULL)
		return sli_err(
		    SL_EINVAL, "%s: no text or no place for the job", c.origin);
	if ((rv = sli_job_vars_init(&vs, defs, ndefs)) != 0)
		return rv;
	rv = load_text(&c, text, len, &vs, out, NULL);
	sli_job_vars_fini(&vs);
	return rv;
}

int
sli_job_load_expanded(const char *text, size_t len, const char *origin,
    const char *const *defs, size_t ndefs, sl_job **out, char **expanded)
{
	struct jf_ctx c = { .origin = origin != NULL ? origin : "<json>" };
	struct sli_job_vars vs;
	int rv;

	if ((rv = sli_job_vars_init(&vs, defs, ndefs)) != 0)
		return rv;
	rv = load_text(&c, text, len, &vs, out, expanded);
	sli_job_vars_fini(&vs);
	return rv;
}

int
sl_job_load_json(const char *text, size_t len, const char *origin, sl_job **out)
{
	return sl_job_load_json_vars(text, len, origin, NULL, 0, out);
}

/* The whole file into a NUL-terminated buffer owned by the caller. */
static int
read_file(const char *path, char **out, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rv = errno;
		return sli_err(-rv, "%s: %s", path, strerror(rv));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rv = sli_err(-EISDIR, "%s: %s", path, strerror(EISDIR));
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *p;

			if (len >= MAX_FILE_SIZE) {
				rv =
				    sli_err(SL_ERANGE, "%s: larger than %u MiB",
				        path, MAX_FILE_SIZE >> 20);
				goto out_free_buf;
			}
			if ((p = realloc(buf, ncap)) == NULL) {
				rv = sli_err(
				    SL_ENOMEM, "%s: out of memory", path);
				goto out_free_buf;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rv = errno;
			rv = sli_err(-rv, "%s: %s", path, strerror(rv));
			goto out_free_buf;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;

out_free_buf:
	free(buf);
out_close:
	close(fd);
	return rv;
}

int
sl_job_load_file_vars(
    const char *path, const char *const *defs, size_t ndefs, sl_job **out)
{
	struct jf_ctx c = { .origin = path };
	struct sli_job_vars vs;
	char *text = NULL;
	size_t len = 0;
	int rv;

	if (path == NULL || out == NULL)
		return sli_err(SL_EINVAL, "no job file path");
	/* The definitions first: they do not depend on the file. */
	if ((rv = sli_job_vars_init(&vs, defs, ndefs)) != 0)
		return rv;
	if ((rv = read_file(path, &text, &len)) == 0) {
		rv = load_text(&c, text, len, &vs, out, NULL);
		free(text);
	}
	sli_job_vars_fini(&vs);
	return rv;
}

int
sl_job_load_file(const char *path, sl_job **out)
{
	return sl_job_load_file_vars(path, NULL, 0, out);
}

/*
 * A fault on a task above what an "auto" vertex got can never strike, and
 * the document with the parallelism written in would fail to load because
 * of it (a fixed parallelism checks fault indices): leave it out.
 */
static void
drop_idle_faults(json_t *root, json_t *vs, const uint32_t *par, uint32_t nv)
{
	json_t *fs = json_object_get(root, "faults");
	size_t i = 0;

	while (json_is_array(fs) && i < json_array_size(fs)) {
		const char *task = json_string_value(
		    json_object_get(json_array_get(fs, i), "task"));
		const char *hash = task != NULL ? strrchr(task, '#') : NULL;
		bool idle = false;

		for (uint32_t v = 0; hash != NULL && v < nv; v++) {
			const char *id = json_string_value(
			    json_object_get(json_array_get(vs, v), "id"));

			if (id != NULL && strlen(id) == (size_t)(hash - task) &&
			    memcmp(id, task, (size_t)(hash - task)) == 0) {
				idle = par[v] != 0 &&
				    par[v] != SLI_PAR_AT_RUN &&
				    strtoul(hash + 1, NULL, 10) >= par[v];
				break;
			}
		}
		if (idle)
			json_array_remove(fs, i);
		else
			i++;
	}
}

int
sli_job_json_fix_parallelism(char **json, const uint32_t *par, uint32_t nv)
{
	json_t *root = json_loads(*json, 0, NULL), *vs;
	char *out;

	if (root == NULL ||
	    !json_is_array(vs = json_object_get(root, "vertices")) ||
	    json_array_size(vs) != nv) {
		json_decref(root);
		return sli_err(SL_EINVAL, "not the expanded job");
	}
	for (uint32_t v = 0; v < nv; v++)
		if (par[v] != 0 && par[v] != SLI_PAR_AT_RUN &&
		    json_object_set_new(json_array_get(vs, v), "parallelism",
		        json_integer(par[v])) != 0) {
			json_decref(root);
			return sli_err(SL_ENOMEM, "out of memory");
		}
	drop_idle_faults(root, vs, par, nv);
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (out == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	free(*json);
	*json = out;
	return 0;
}
