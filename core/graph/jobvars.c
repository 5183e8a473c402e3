/*
 * Job file variables: ${NAME} in string values, set with -D NAME=VALUE.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "jobvars.h"

static bool
name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    ch == '_';
}

static bool
var_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAX_VAR_NAME || !name_start(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_start(s[i]) && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* jansson's rule for strings: no overlong forms, no surrogates, nothing
 * past U+10FFFF. A value that broke it could not be put in a string. */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], more;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, cp = c & 0x07;
		else
			return false;
		if (n - i <= more)
			return false;
		for (unsigned k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += more + 1;
	}
	return true;
}

static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if (d != 0)
		return d;
	return alen < blen ? -1 : alen > blen;
}

/* By name, then by place in defs[], so that repeats sit together in the
 * order they were given. */
static int
var_cmp(const void *pa, const void *pb)
{
	const struct sli_job_var *a = pa, *b = pb;
	int d = name_cmp(a->name, a->nlen, b->name, b->nlen);

	if (d != 0)
		return d;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static const struct sli_job_var *
vars_find(const struct sli_job_vars *vs, const char *name, size_t nlen)
{
	size_t lo = 0, hi = vs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = name_cmp(name, nlen, vs->v[mid].name, vs->v[mid].nlen);

		if (d == 0)
			return &vs->v[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
sli_job_vars_fini(struct sli_job_vars *vs)
{
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

/* Check and index the definitions; nothing is copied, so defs must
 * outlive vs. On failure nothing is left to free. */
int
sli_job_vars_init(
    struct sli_job_vars *vs, const char *const *defs, size_t ndefs)
{
	vs->v = NULL;
	vs->n = 0;
	if (ndefs == 0)
		return 0;
	if (defs == NULL)
		return sli_err(SL_EINVAL,
		    "%zu variable definitions but no array of them", ndefs);
	if ((vs->v = calloc(ndefs, sizeof(*vs->v))) == NULL)
		return sli_err(SL_ENOMEM, "variables: out of memory");
	for (size_t i = 0; i < ndefs; i++) {
		const char *d = defs[i], *eq;
		struct sli_job_var *v = &vs->v[i];

		if (d == NULL) {
			sli_job_vars_fini(vs);
			return sli_err(
			    SL_EINVAL, "variable definition %zu is NULL", i);
		}
		if ((eq = strchr(d, '=')) == NULL) {
			sli_job_vars_fini(vs);
			return sli_err(
			    SL_EINVAL, "-D '%.200s': expected NAME=VALUE", d);
		}
		if (!var_name_ok(d, (size_t)(eq - d))) {
			sli_job_vars_fini(vs);
			return sli_err(SL_EINVAL,
			    "-D '%.200s': bad variable name '%.*s': use 1 to "
			    "%d characters, a letter or _ then letters, "
			    "digits, _ . -",
			    d, (int)(eq - d > 200 ? 200 : eq - d), d,
			    MAX_VAR_NAME);
		}
		*v = (struct sli_job_var) { .name = d,
			.nlen = (size_t)(eq - d),
			.value = eq + 1,
			.vlen = strlen(eq + 1),
			.idx = i };
		if (!utf8_ok((const unsigned char *)v->value, v->vlen)) {
			int rv = sli_err(SL_EINVAL,
			    "-D %.*s: the value is not valid UTF-8",
			    (int)v->nlen, d);

			sli_job_vars_fini(vs);
			return rv;
		}
	}
	vs->n = ndefs;
	qsort(vs->v, vs->n, sizeof(*vs->v), var_cmp);
	for (size_t i = 1; i < vs->n; i++) {
		const struct sli_job_var *a = &vs->v[i - 1], *b = &vs->v[i];

		if (name_cmp(a->name, a->nlen, b->name, b->nlen) == 0) {
			int rv = sli_err(SL_EEXISTS,
			    "-D %.*s is given twice ('%.200s', then "
			    "'%.200s')",
			    (int)a->nlen, a->name, defs[a->idx], defs[b->idx]);

			sli_job_vars_fini(vs);
			return rv;
		}
	}
	return 0;
}

/* A walk over the document: where we are, for messages, and how many
 * bytes substitution may still make. */
struct subst {
	const char *origin;
	const struct sli_job_vars *vars;
	char path[256]; /* "vertices[0].config.path"; cut if longer */
	size_t plen;
	size_t budget; /* over the strings that use a variable */
	size_t limit;  /* the budget at the start, for messages */
	size_t edits;  /* ${NAME} and $${ in the string last measured */
	bool used;     /* and whether one of them was a variable */
};

/* Append to the path; returns the length to go back to. */
static size_t path_push(struct subst *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct subst *st, const char *fmt, ...)
{
	size_t old = st->plen, room = sizeof(st->path) - st->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(st->path + st->plen, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		st->plen += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

static int subst_fail(const struct subst *st, int rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
subst_fail(const struct subst *st, int rv, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sli_err(rv, "%s: %s: %s", st->origin, st->path, msg);
}

/*
 * Expand s[0..len): with dst NULL, check it and measure the result into
 * *outlen; with dst, write the result there (after a measuring pass, so
 * without errors). Scanned left to right: "$${" gives "${", "${NAME}" the
 * value, and any other '$' stays.
 */
/* The string as written in the file, quoted, cut to fit buf. */
static const char *
show(const json_t *str, char *buf, size_t len)
{
	char *s = json_dumps(str, JSON_ENCODE_ANY);

	if (s == NULL)
		snprintf(buf, len, "a string");
	else if (strlen(s) >= len && len > 4)
		snprintf(buf, len, "%.*s...", (int)(len - 4), s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

static int
expand(struct subst *st, json_t *str, char *dst, size_t *outlen)
{
	const char *s = json_string_value(str);
	size_t len = json_string_length(str), i = 0, n = 0;
	char buf[72];

	st->edits = 0;
	st->used = false;
	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		size_t lit = d != NULL ? (size_t)(d - (s + i)) : len - i;
		const struct sli_job_var *v;
		const char *name, *end;
		size_t nlen;

		if (dst != NULL)
			memcpy(dst + n, s + i, lit);
		n += lit;
		i += lit;
		if (d == NULL)
			break;
		if (len - i >= 3 && s[i + 1] == '$' && s[i + 2] == '{') {
			if (dst != NULL)
				memcpy(dst + n, "${", 2);
			n += 2;
			i += 3;
			st->edits++;
			continue;
		}
		if (len - i < 2 || s[i + 1] != '{') {
			if (dst != NULL)
				dst[n] = '$';
			n++;
			i++;
			continue;
		}
		name = s + i + 2;
		if ((end = memchr(name, '}', len - i - 2)) == NULL)
			return subst_fail(st, SL_EPARSE,
			    "unterminated '${' in %s: close it with '}', or "
			    "write a literal '${' as '$${'",
			    show(str, buf, sizeof(buf)));
		nlen = (size_t)(end - name);
		if (!var_name_ok(name, nlen))
			return subst_fail(st, SL_EPARSE,
			    "bad variable name '%.*s' in %s: use 1 to %d "
			    "characters, a letter or _ then letters, digits, "
			    "_ . - (a literal '${' is written '$${')",
			    (int)(nlen > 64 ? 64 : nlen), name,
			    show(str, buf, sizeof(buf)), MAX_VAR_NAME);
		if ((v = vars_find(st->vars, name, nlen)) == NULL)
			return subst_fail(st, SL_ENOTFOUND,
			    "unknown variable '%.*s': set it with -D "
			    "%.*s=VALUE",
			    (int)nlen, name, (int)nlen, name);
		if (dst != NULL)
			memcpy(dst + n, v->value, v->vlen);
		else if (n > st->budget || v->vlen > st->budget - n)
			return subst_fail(st, SL_ERANGE,
			    "the strings that use variables come to more than "
			    "%zu MiB in all",
			    st->limit >> 20);
		n += v->vlen;
		i = (size_t)(end - s) + 1;
		st->edits++;
		st->used = true;
	}
	*outlen = n;
	return 0;
}

static int
subst_string(struct subst *st, json_t *str)
{
	size_t len = 0;
	char *out;
	int rv;

	/* Most strings have no '$' at all. */
	if (memchr(json_string_value(str), '$', json_string_length(str)) ==
	    NULL)
		return 0;
	if ((rv = expand(st, str, NULL, &len)) != 0)
		return rv;
	if (st->edits == 0)
		return 0;
	if (st->used)
		st->budget -= len < st->budget ? len : st->budget;
	if ((out = malloc(len + 1)) == NULL)
		return subst_fail(st, SL_ENOMEM, "out of memory");
	expand(st, str, out, &len);
	/* The template and every value are valid UTF-8, and so is the
	 * result: only memory can fail here. */
	rv = json_string_setn(str, out, len);
	free(out);
	return rv != 0 ? subst_fail(st, SL_ENOMEM, "out of memory") : 0;
}

/* Depth is bounded by jansson's parser (2048 levels). */
static int
subst_value(struct subst *st, json_t *v)
{
	const char *key;
	json_t *item;
	size_t i, old;
	int rv;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		/* Keys stay as written: they are the schema, not data. */
		json_object_foreach (v, key, item) {
			old = path_push(st, "%s%s", st->plen ? "." : "", key);
			rv = subst_value(st, item);
			st->plen = old;
			st->path[old] = '\0';
			if (rv != 0)
				return rv;
		}
		return 0;
	case JSON_ARRAY:
		json_array_foreach (v, i, item) {
			old = path_push(st, "[%zu]", i);
			rv = subst_value(st, item);
			st->plen = old;
			st->path[old] = '\0';
			if (rv != 0)
				return rv;
		}
		return 0;
	case JSON_STRING:
		return subst_string(st, v);
	default:
		return 0;
	}
}

int
sli_job_vars_apply(const struct sli_job_vars *vars, json_t *root,
    const char *origin, size_t budget)
{
	struct subst st = { .origin = origin,
		.vars = vars,
		.budget = budget,
		.limit = budget };

	return subst_value(&st, root);
}
