/*
 * Reading the values of a job file: numbers, byte counts, durations,
 * names from a list, with the errors that name the place and the problem
 * ("job.json: vertices[3].parallelism: must be ..."). jobfile.c builds the
 * job from them.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/error.h"
#include "../common/units.h"
#include "../plan/restart.h"
#include "jobfile_impl.h"

int
jf_fail(const struct jf_ctx *c, int rv, const char *field, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	const char *dot = c->where[0] != '\0' && field != NULL ? "." : "";

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->where[0] == '\0' && field == NULL)
		return sli_err(rv, "%s: %s", c->origin, msg);
	return sli_err(rv, "%s: %s%s%s: %s", c->origin, c->where, dot,
	    field ? field : "", msg);
}

/* The C API has set the detail; put the place in front of it. */
int
jf_fail_api(const struct jf_ctx *c, int rv, const char *field)
{
	char saved[768];

	/* Copy first: the detail buffer is also where jf_fail() writes. */
	snprintf(saved, sizeof(saved), "%s", sl_errdetail());
	return jf_fail(c, rv, field, "%s", saved);
}

const char *
jf_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* A short rendering of a value as it was written: 2.5, "7", true. */
static const char *
show(const json_t *v, char *buf, size_t len)
{
	char *s;

	if (json_is_object(v) || json_is_array(v)) {
		snprintf(buf, len, "an %s", jf_type_name(v));
		return buf;
	}
	if ((s = json_dumps(v, JSON_ENCODE_ANY)) == NULL) {
		snprintf(buf, len, "a %s", jf_type_name(v));
		return buf;
	}
	if (strlen(s) >= len && len > 4)
		snprintf(buf, len, "%.*s...", (int)(len - 4), s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

/* Levenshtein distance, capped: anything over 2 is "not a typo". */
static unsigned
distance(const char *a, const char *b)
{
	unsigned row[65], prev, tmp;
	size_t la = strlen(a), lb = strlen(b);

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* A typo is within two edits, and is not most of the word. */
bool
jf_close_to(const char *typed, const char *known)
{
	unsigned d = distance(typed, known);

	return d <= 2 && d < strlen(known);
}

int
jf_check_keys(const struct jf_ctx *c, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach (obj, key, val) {
		const char *hint = NULL;
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		/* Unknown: only now is a guess worth its cost. */
		for (i = 0; allowed[i] != NULL && hint == NULL; i++)
			if (jf_close_to(key, allowed[i]))
				hint = allowed[i];
		return jf_fail(c, SL_EPARSE, NULL,
		    "unknown key '%.128s'%s%s%s%s", key,
		    c->where[0] == '\0' ? " at top level" : "",
		    hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
	}
	return 0;
}

/* obj[key] as a string. *out is NULL when the key is absent and optional. */
int
jf_get_string(const struct jf_ctx *c, json_t *obj, const char *key,
    bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		return jf_fail(c, SL_EPARSE, NULL, "missing field '%s'%s", key,
		    c->where[0] == '\0' ? " at top level" : "");
	}
	if (!json_is_string(v))
		return jf_fail(c, SL_EPARSE, key, "expected a string, got %s",
		    jf_type_name(v));
	*out = json_string_value(v);
	return 0;
}

/* One of names (NULL-terminated); the index, or an error listing them. */
int
jf_get_enum(const struct jf_ctx *c, json_t *obj, const char *key, bool required,
    const char *what, int (*parse)(const char *), const char *const *names,
    int *out)
{
	const char *s;
	char list[128] = "";
	int rv;

	if ((rv = jf_get_string(c, obj, key, required, &s)) != 0 || s == NULL)
		return rv;
	for (size_t i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = parse(s);
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", i ? ", " : "", names[i]);
	}
	return jf_fail(c, SL_EPARSE, key, "unknown %s '%.128s' (expected %s)",
	    what, s, list);
}

/* A decimal integer, optionally negative, nothing else ("4", "-1"; not
 * "+4", " 4", "4.0", ""); saturates, so that the range check refuses it. */
static bool
parse_decimal(const char *s, size_t len, long long *out)
{
	size_t i = s[0] == '-' ? 1 : 0;
	long long n = 0;

	if (i == len)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n > (LLONG_MAX - 9) / 10 ? LLONG_MAX
		                             : n * 10 + (s[i] - '0');
	}
	*out = s[0] == '-' ? -n : n;
	return true;
}

/*
 * A number, "auto", or a string holding a decimal number: "${p}" can only
 * ever give a string, so a string parallelism is read as its digits.
 */
int
jf_get_parallelism(const struct jf_ctx *c, json_t *obj, int32_t *out)
{
	json_t *v = json_object_get(obj, "parallelism");
	char buf[48];
	long long n;

	if (v == NULL)
		return jf_fail(
		    c, SL_EPARSE, NULL, "missing field 'parallelism'");
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (len == 4 && memcmp(s, "auto", 4) == 0) {
			*out = SL_PARALLELISM_AUTO;
			return 0;
		}
		if (!parse_decimal(s, len, &n))
			goto out_bad;
		if (n > SL_MAX_PARALLELISM)
			return jf_fail(c, SL_ERANGE, "parallelism",
			    "%.24s%s is above the limit of %d", s,
			    len > 24 ? "..." : "", SL_MAX_PARALLELISM);
	} else if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n > SL_MAX_PARALLELISM)
			return jf_fail(c, SL_ERANGE, "parallelism",
			    "%lld is above the limit of %d", n,
			    SL_MAX_PARALLELISM);
	} else {
		goto out_bad;
	}
	if (n < 1)
		goto out_bad;
	*out = (int32_t)n;
	return 0;

out_bad:
	return jf_fail(c, SL_EPARSE, "parallelism",
	    "must be a positive integer or \"auto\", got %s",
	    show(v, buf, sizeof(buf)));
}

/* key: 1..SL_MAX_PARALLELISM, as a number or a string of digits (what a
 * variable gives); absent leaves *out 0. */
int
jf_get_count(
    const struct jf_ctx *c, json_t *obj, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	long long n = 0;
	char buf[48];

	*out = 0;
	if (v == NULL)
		return 0;
	if ((json_is_integer(v) && (n = json_integer_value(v)) >= 1) ||
	    (json_is_string(v) &&
	        parse_decimal(
	            json_string_value(v), json_string_length(v), &n) &&
	        n >= 1)) {
		if (n > SL_MAX_PARALLELISM)
			return jf_fail(c, SL_ERANGE, key,
			    "%lld is above the limit of %d", n,
			    SL_MAX_PARALLELISM);
		*out = (uint32_t)n;
		return 0;
	}
	return jf_fail(c, SL_EPARSE, key, "must be a positive integer, got %s",
	    show(v, buf, sizeof(buf)));
}

/* key: a positive byte count, a number or a string such as "64m" (powers
 * of 1024); absent leaves *out 0. */
static int
get_bytes(const struct jf_ctx *c, json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char buf[48];

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 1) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && sli_parse_bytes(json_string_value(v), out) &&
	    *out >= 1)
		return 0;
	return jf_fail(c, SL_EPARSE, key,
	    "must be a positive byte count (4096, \"64m\", \"1g\"), got %s",
	    show(v, buf, sizeof(buf)));
}

/* "skew_factor": 0 (never split) or a multiple of bytes_per_task. */
static int
get_skew(const struct jf_ctx *c, json_t *obj, uint32_t *out)
{
	json_t *v = json_object_get(obj, "skew_factor");
	long long n = -1;
	char buf[48];

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v) &&
	    !parse_decimal(json_string_value(v), json_string_length(v), &n))
		n = -1;
	if (n >= 0 && n < 1000000) {
		*out = n == 0 ? SL_SKEW_NEVER : (uint32_t)n;
		return 0;
	}
	return jf_fail(c, SL_EPARSE, "skew_factor",
	    "must be 0 (never split a hot subpartition) or how many times "
	    "bytes_per_task a task may read before it is split, below "
	    "1000000; got %s",
	    show(v, buf, sizeof(buf)));
}

/* The adaptive settings of obj (the job or a vertex). */
int
jf_get_adaptive(const struct jf_ctx *c, json_t *obj, struct sl_adaptive_spec *a)
{
	int rv;

	if ((rv = jf_get_count(
	         c, obj, "min_parallelism", &a->min_parallelism)) != 0 ||
	    (rv = jf_get_count(
	         c, obj, "max_parallelism", &a->max_parallelism)) != 0 ||
	    (rv = get_bytes(c, obj, "bytes_per_task", &a->bytes_per_task)) !=
	        0 ||
	    (rv = get_skew(c, obj, &a->skew_factor)) != 0)
		return rv;
	return 0;
}

/* key: an integer 0..max, a number or a string of digits; absent leaves
 * *out alone. */
int
jf_get_natural(const struct jf_ctx *c, json_t *obj, const char *key,
    uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	long long n = -1;
	char buf[48];

	if (v == NULL)
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v) &&
	    !parse_decimal(json_string_value(v), json_string_length(v), &n))
		n = -1;
	if ((json_is_integer(v) || json_is_string(v)) && n >= 0) {
		if ((unsigned long long)n > max)
			return jf_fail(c, SL_ERANGE, key,
			    "%s is above the limit of %llu",
			    show(v, buf, sizeof(buf)), (unsigned long long)max);
		*out = (uint64_t)n;
		return 0;
	}
	return jf_fail(c, SL_EPARSE, key,
	    "must be an integer, 0 or more, got %s", show(v, buf, sizeof(buf)));
}

/* key: milliseconds, as a number or a string ("250", "250ms", "1.5s",
 * "2m", "1h"); absent leaves *out alone (SL_RESTART_UNSET). */
int
jf_get_duration(
    const struct jf_ctx *c, json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char buf[48];

	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) &&
	    sli_parse_duration_ms(json_string_value(v), out))
		return 0;
	return jf_fail(c, SL_EPARSE, key,
	    "must be a duration: milliseconds (250) or a string such as "
	    "\"250ms\", \"1.5s\", \"2m\", \"1h\"; got %s",
	    show(v, buf, sizeof(buf)));
}

/* key: a number, or a string holding one in decimal ("1.5", "-2"); absent
 * leaves *out alone. The range is sli_restart_resolve's to check. */
int
jf_get_real(const struct jf_ctx *c, json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);
	char buf[48];

	if (v == NULL)
		return 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v), *p = s + (*s == '-');
		size_t digits = strspn(p, "0123456789");

		if (digits > 0 && p[digits] == '.')
			digits += 1 + strspn(p + digits + 1, "0123456789");
		if (digits > 0 && p[digits] == '\0' && p[digits - 1] != '.' &&
		    digits < 64) {
			*out = strtod(s, NULL);
			return 0;
		}
	}
	return jf_fail(c, SL_EPARSE, key, "must be a number, got %s",
	    show(v, buf, sizeof(buf)));
}
