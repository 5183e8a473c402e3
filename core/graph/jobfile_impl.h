/*
 * Reading a job file's values (jobfile_values.c) for the parser that
 * builds the job from them (jobfile.c): where an error is, and one reader
 * per kind of value, each failing with the place and the problem. The
 * jf_ prefix keeps these out of the core's other names.
 */
#ifndef SLI_JOBFILE_IMPL_H
#define SLI_JOBFILE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sluice/graph.h>

/* Where we are, for messages: "job.json: vertices[3].parallelism: ...". */
struct jf_ctx {
	const char *origin;
	char where[32]; /* "", "vertices[3]", "edges[12]", "restart" */
};

/* Only the allowed keys in obj; an unknown one is an error, with "did
 * you mean" for a near miss. */
int jf_check_keys(
    const struct jf_ctx *c, json_t *obj, const char *const *allowed);

/* A typo is within two edits, and is not most of the word. */
bool jf_close_to(const char *typed, const char *known);

int jf_fail(const struct jf_ctx *c, int rv, const char *field, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* The C API has set the detail; put the place in front of it. */
int jf_fail_api(const struct jf_ctx *c, int rv, const char *field);

/* The adaptive settings of obj (the job or a vertex). */
int jf_get_adaptive(
    const struct jf_ctx *c, json_t *obj, struct sl_adaptive_spec *a);

/* key: 1..SL_MAX_PARALLELISM, as a number or a string of digits (what a
 * variable gives); absent leaves *out 0. */
int jf_get_count(
    const struct jf_ctx *c, json_t *obj, const char *key, uint32_t *out);

/* key: milliseconds, as a number or a string ("250", "250ms", "1.5s",
 * "2m", "1h"); absent leaves *out alone (SL_RESTART_UNSET). */
int jf_get_duration(
    const struct jf_ctx *c, json_t *obj, const char *key, uint64_t *out);

/* One of names (NULL-terminated); the index, or an error listing them. */
int jf_get_enum(const struct jf_ctx *c, json_t *obj, const char *key,
    bool required, const char *what, int (*parse)(const char *),
    const char *const *names, int *out);

/* key: an integer 0..max, a number or a string of digits; absent leaves
 * *out alone. */
int jf_get_natural(const struct jf_ctx *c, json_t *obj, const char *key,
    uint64_t max, uint64_t *out);

/*
 * A number, "auto", or a string holding a decimal number: "${p}" can only
 * ever give a string, so a string parallelism is read as its digits.
 */
int jf_get_parallelism(const struct jf_ctx *c, json_t *obj, int32_t *out);

/* key: a number, or a string holding one in decimal ("1.5", "-2"); absent
 * leaves *out alone. The range is sli_restart_resolve's to check. */
int jf_get_real(
    const struct jf_ctx *c, json_t *obj, const char *key, double *out);

/* obj[key] as a string. *out is NULL when the key is absent and optional. */
int jf_get_string(const struct jf_ctx *c, json_t *obj, const char *key,
    bool required, const char **out);

/* "a string", "an integer", ... for messages. */
const char *jf_type_name(const json_t *v);

#endif
