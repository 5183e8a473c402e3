/*
 * Vertex configs of the builtin operators: a JSON object whose keys each
 * operator lists. A key no operator knows is refused rather than ignored,
 * so that a typo ("max_entires") fails the job instead of silently
 * running with the default.
 */
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "builtin.h"

char *
bi_strdup(const struct sl_host *host, const char *s)
{
	size_t n = strlen(s) + 1;
	char *c = host->alloc(n);

	if (c != NULL)
		memcpy(c, s, n);
	return c;
}

static int
refuse(struct bi_config *c, const char *key, const char *why)
{
	c->host->set_error("%s: config: '%s' %s", c->op, key, why);
	return SL_EINVAL;
}

int
bi_config_open(struct bi_config *c, const struct sl_task_ctx *ctx,
    const char *op, const char *const *known)
{
	return bi_config_parse(c, ctx->host, ctx->config_json, op, known);
}

int
bi_config_parse(struct bi_config *c, const struct sl_host *host,
    const char *config_json, const char *op, const char *const *known)
{
	const char *text = config_json != NULL ? config_json : "{}";
	json_error_t jerr;
	json_t *root;
	const char *key;
	json_t *val;

	c->host = host;
	c->op = op;
	c->root = NULL;
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		c->host->set_error(
		    "%s: config: line %d: %s", op, jerr.line, jerr.text);
		return SL_EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		c->host->set_error("%s: config: not a JSON object", op);
		return SL_EINVAL;
	}
	json_object_foreach (root, key, val) {
		const char *const *k = known;

		while (*k != NULL && strcmp(*k, key) != 0)
			k++;
		if (*k == NULL) {
			/* key lives in root */
			c->host->set_error(
			    "%s: config: unknown key '%s'", op, key);
			json_decref(root);
			return SL_EINVAL;
		}
	}
	c->root = root;
	return 0;
}

void
bi_config_close(struct bi_config *c)
{
	json_decref(c->root);
	c->root = NULL;
}

bool
bi_config_has(const struct bi_config *c, const char *key)
{
	return json_object_get(c->root, key) != NULL;
}

/* The value of key, or NULL when absent (then an error if required). */
static json_t *
get(struct bi_config *c, const char *key, bool required, int *rv)
{
	json_t *v = json_object_get(c->root, key);

	*rv = 0;
	if (v == NULL && required)
		*rv = refuse(c, key, "is missing");
	return v;
}

int
bi_config_string(
    struct bi_config *c, const char *key, bool required, char **out)
{
	int rv;
	json_t *v = get(c, key, required, &rv);
	char *s;

	if (v == NULL)
		return rv;
	if (!json_is_string(v))
		return refuse(c, key, "must be a string");
	if (json_string_length(v) == 0)
		return refuse(c, key, "must not be empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return refuse(c, key, "must not contain NUL");
	if ((s = bi_strdup(c->host, json_string_value(v))) == NULL) {
		c->host->set_error("%s: out of memory", c->op);
		return SL_ENOMEM;
	}
	*out = s;
	return 0;
}

int
bi_config_u64(struct bi_config *c, const char *key, bool required, uint64_t min,
    uint64_t max, uint64_t *out)
{
	int rv;
	json_t *v = get(c, key, required, &rv);
	json_int_t i;

	if (v == NULL)
		return rv;
	if (!json_is_integer(v))
		return refuse(c, key, "must be an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max) {
		c->host->set_error("%s: config: '%s' is %lld, not in "
		                   "[%llu, %llu]",
		    c->op, key, (long long)i, (unsigned long long)min,
		    (unsigned long long)max);
		return SL_EINVAL;
	}
	*out = (uint64_t)i;
	return 0;
}

int
bi_config_bool(struct bi_config *c, const char *key, bool *out)
{
	int rv;
	json_t *v = get(c, key, false, &rv);

	if (v == NULL)
		return rv;
	if (!json_is_boolean(v))
		return refuse(c, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int
bi_config_choice(struct bi_config *c, const char *key, bool required,
    const char *const *choices, int *out)
{
	int rv;
	json_t *v = get(c, key, required, &rv);
	char list[256] = "";

	if (v == NULL)
		return rv;
	if (json_is_string(v)) {
		for (int i = 0; choices[i] != NULL; i++) {
			if (strcmp(choices[i], json_string_value(v)) == 0) {
				*out = i;
				return 0;
			}
		}
	}
	for (int i = 0; choices[i] != NULL; i++) {
		size_t n = strlen(list);
		snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
		    i > 0 ? ", " : "", choices[i]);
	}
	c->host->set_error(
	    "%s: config: '%s' must be one of %s", c->op, key, list);
	return SL_EINVAL;
}

int
bi_path_size(const struct sl_host *host, const char *config_json,
    const char *op, const char *const *known, uint64_t *bytes)
{
	struct bi_config cfg;
	struct stat st;
	char *path = NULL;
	int rv;

	if ((rv = bi_config_parse(&cfg, host, config_json, op, known)) != 0)
		return rv;
	rv = bi_config_string(&cfg, "path", true, &path);
	bi_config_close(&cfg);
	if (rv != 0)
		return rv;
	if (stat(path, &st) != 0) {
		host->set_error("%s: %s: %s", op, path, strerror(errno));
		rv = -errno;
	} else {
		*bytes = (uint64_t)st.st_size;
	}
	host->free(path);
	return rv;
}
