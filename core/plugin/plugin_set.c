/*
 * The plugin set: the plugins a process loaded, found in the plugin
 * directories (plugins.d/README.md). Names are unique and each file is
 * there once; a refused or duplicate file is reported and skipped, never
 * fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/error.h"
#include "../common/log.h"
#include "loader.h"

#ifndef SL_PLUGIN_SUBDIR
#error "SL_PLUGIN_SUBDIR must come from the build (core/CMakeLists.txt)"
#endif

struct sli_plugin *
sli_plugin_set_find(
    const struct sli_plugin_set *set, uint32_t kind, const char *name)
{
	/* Linear: a process loads a handful of plugins, once. */
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i]->desc.kind == kind &&
		    strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}

/* The operator called name in library q, or NULL. */
static const struct sl_operator_ops *
lib_find(const struct sli_plugin *q, const char *name)
{
	if (q->desc.kind != SL_PLUGIN_OPERATORS)
		return NULL;
	for (uint32_t i = 0; i < q->ops.operators.n; i++)
		if (strcmp(q->ops.operators.v[i].name, name) == 0)
			return &q->ops.operators.v[i];
	return NULL;
}

const struct sl_operator_ops *
sli_operator_find(
    const struct sli_plugin_set *set, const char *name, struct sli_plugin **lib)
{
	const struct sl_operator_ops *o;

	for (size_t i = 0; i < set->n; i++)
		if ((o = lib_find(set->v[i], name)) != NULL) {
			if (lib != NULL)
				*lib = set->v[i];
			return o;
		}
	if (lib != NULL)
		*lib = NULL;
	return NULL;
}

/* The member of set that is p's file, or NULL. */
static const struct sli_plugin *
same_file(const struct sli_plugin_set *set, const struct sli_plugin *p)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct sli_plugin *q = set->v[i];

		if (q == p || q->dl == p->dl ||
		    (q->dev == p->dev && q->ino == p->ino))
			return q;
	}
	return NULL;
}

/*
 * Whether the set may take p, which was opened as path (p->path, or another
 * way to the same file): refused when the set holds the same shared object
 * or the same file, a plugin of the same name, or (p being an operator
 * library) a library with an operator of the same name as one of p's. Runs
 * before p's init, so a duplicate is never initialised for nothing.
 */
static int
check_duplicate(
    const struct sli_plugin_set *set, const char *path, struct sli_plugin *p)
{
	const struct sli_plugin *q = same_file(set, p);

	if (q != NULL)
		return sli_err(SL_EEXISTS,
		    "plugin %s: already loaded as '%s' from %s (the same "
		    "file)",
		    path, q->name, q->path);
	/* Names are unique across kinds: plugin.h promises it, and a name
	 * alone is what users write. */
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, p->name) == 0)
			return sli_err(SL_EEXISTS,
			    "plugin %s: a plugin named '%s' is already loaded "
			    "from %s",
			    path, p->name, set->v[i]->path);
	if (p->desc.kind != SL_PLUGIN_OPERATORS)
		return 0;
	/* A vertex names its operator alone, not the library: two of one
	 * name would make the job mean whichever loaded first. */
	for (uint32_t k = 0; k < p->ops.operators.n; k++) {
		const char *op = p->ops.operators.v[k].name;

		for (size_t i = 0; i < set->n; i++)
			if (lib_find(set->v[i], op) != NULL)
				return sli_err(SL_EEXISTS,
				    "plugin %s: operator '%s' is already "
				    "provided by operator library '%s' from %s",
				    path, op, set->v[i]->name, set->v[i]->path);
	}
	return 0;
}

/* sli_plugin_set_add, with the path p was opened by for the messages. */
static int
add_as(struct sli_plugin_set *set, const char *path, struct sli_plugin *p)
{
	int rc;

	if ((rc = check_duplicate(set, path, p)) != 0)
		return rc;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		void *v = realloc(set->v, cap * sizeof(*set->v));

		if (v == NULL)
			return sli_err(
			    SL_ENOMEM, "plugin %s: out of memory", path);
		set->v = v;
		set->cap = cap;
	}
	/* Last, so that a refusal above never ran init. */
	if ((rc = sli_plugin_start(p)) != 0)
		return rc;
	set->v[set->n++] = p;
	return 0;
}

int
sli_plugin_set_add(struct sli_plugin_set *set, struct sli_plugin *p)
{
	return add_as(set, p->path, p);
}

int
sli_plugin_set_need(struct sli_plugin_set *set, const char *path)
{
	struct sli_plugin *p;
	int rc;

	if ((rc = sli_plugin_open(path, &p)) != 0)
		return rc;
	if (same_file(set, p) != NULL) {
		sli_plugin_unref(p);
		return 0;
	}
	if ((rc = sli_plugin_set_add(set, p)) != 0)
		sli_plugin_unref(p);
	return rc;
}

void
sli_plugin_set_clear(struct sli_plugin_set *set)
{
	/* Newest first, the reverse of loading. */
	while (set->n > 0)
		sli_plugin_unref(set->v[--set->n]);
	free(set->v);
	set->v = NULL;
	set->cap = 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_so(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* Names of the *.so entries of dir, sorted. */
static int
list_so(const char *dir, bool must_exist, char ***names, size_t *count)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	*names = NULL;
	*count = 0;
	if ((d = opendir(dir)) == NULL) {
		int err = errno;

		if (!must_exist && (err == ENOENT || err == ENOTDIR))
			return 0;
		return sli_err(
		    -err, "plugin directory %s: %s", dir, strerror(err));
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (!is_so(e->d_name))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			void *nv = realloc(v, c * sizeof(*v));

			if (nv == NULL) {
				rc = sli_err(SL_ENOMEM, "out of memory");
				goto out_free_names;
			}
			v = nv;
			cap = c;
		}
		if ((v[n] = strdup(e->d_name)) == NULL) {
			rc = sli_err(SL_ENOMEM, "out of memory");
			goto out_free_names;
		}
		n++;
	}
	if (errno != 0) {
		int err = errno;

		rc = sli_err(
		    -err, "plugin directory %s: %s", dir, strerror(err));
		goto out_free_names;
	}
	closedir(d);
	/* Sorted, so that which of two same-named plugins wins does not
	 * depend on the file system's order. */
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;

out_free_names:
	while (n > 0)
		free(v[--n]);
	free(v);
	closedir(d);
	return rc;
}

int
sli_plugin_set_scan(
    struct sli_plugin_set *set, const char *dir, bool must_exist)
{
	char **names;
	size_t n;
	int loaded = 0, rc;

	if ((rc = list_so(dir, must_exist, &names, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct sli_plugin *p;
		struct stat st;
		char *path;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			rc = sli_err(SL_ENOMEM, "out of memory");
			break;
		}
		/* A directory or a dangling link named x.so is not ours to
		 * complain about. */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		/* Load and check, then let the set refuse a duplicate before
		 * init could run. */
		if (sli_plugin_load(path, &p) != 0) {
			sli_log(SL_LOG_WARN, "%s", sl_errdetail());
		} else if (add_as(set, path, p) != 0) {
			/* A file seen again (a directory listed twice, a
			 * link) is no conflict, so not worth a warning on
			 * every run; two files of one name are. */
			if (same_file(set, p) != NULL)
				sli_debug("%s", sl_errdetail());
			else
				sli_log(SL_LOG_WARN, "%s", sl_errdetail());
			sli_plugin_unref(p);
		} else {
			sli_debug("plugin %s: loaded %s plugin '%s' %s", path,
			    sli_plugin_kind_name(p->desc.kind), p->name,
			    p->version);
			loaded++;
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc != 0 ? rc : loaded;
}

/* Plugin directories. */

static int
push_dir(char ***v, size_t *n, size_t *cap, char *dir)
{
	if (dir == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		char **nv = realloc(*v, c * sizeof(**v));

		if (nv == NULL) {
			free(dir);
			return sli_err(SL_ENOMEM, "out of memory");
		}
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = dir;
	return 0;
}

/*
 * <prefix>/SL_PLUGIN_SUBDIR for the executable <prefix>/bin/x, or NULL in
 * *out when the executable cannot be found (no /proc). /proc/self/exe is
 * already free of symbolic links, so dropping two components is the same
 * as appending "/..": build/bin/x -> build/lib/sluice/plugins.d.
 */
static int
bundled_dir(char **out)
{
	char exe[PATH_MAX];
	ssize_t len;

	*out = NULL;
	if (SL_PLUGIN_SUBDIR[0] == '/') /* an absolute CMAKE_INSTALL_LIBDIR */
		return (*out = strdup(SL_PLUGIN_SUBDIR)) != NULL
		    ? 0
		    : sli_err(SL_ENOMEM, "out of memory");
	len = readlink("/proc/self/exe", exe, sizeof(exe));
	if (len <= 0 || (size_t)len >= sizeof(exe)) {
		sli_debug("no bundled plugins: cannot find the executable");
		return 0;
	}
	exe[len] = '\0';
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(exe, '/');

		if (slash == NULL)
			return 0;
		*slash = '\0';
	}
	if (asprintf(out, "%s/%s", exe, SL_PLUGIN_SUBDIR) < 0) {
		*out = NULL;
		return sli_err(SL_ENOMEM, "out of memory");
	}
	return 0;
}

void
sli_plugin_dirs_free(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

int
sli_plugin_dirs(
    const char *const *extra, size_t nextra, char ***dirs, size_t *ndirs)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	const char *env;
	char *bundled;
	int rc;

	if ((rc = bundled_dir(&bundled)) != 0)
		return rc;
	if (bundled != NULL && (rc = push_dir(&v, &n, &cap, bundled)) != 0)
		goto out_free;
	if ((env = getenv("SLUICE_PLUGIN_PATH")) != NULL) {
		for (const char *s = env; *s;) {
			size_t len = strcspn(s, ":");

			/* "a::b" and a trailing ':' name no directory. */
			if (len > 0 &&
			    (rc = push_dir(&v, &n, &cap, strndup(s, len))) != 0)
				goto out_free;
			s += len;
			if (*s == ':')
				s++;
		}
	}
	for (size_t i = 0; i < nextra; i++)
		if ((rc = push_dir(&v, &n, &cap, strdup(extra[i]))) != 0)
			goto out_free;
	*dirs = v;
	*ndirs = n;
	return 0;

out_free:
	sli_plugin_dirs_free(v, n);
	return rc;
}

int
sli_plugin_set_load_default(
    struct sli_plugin_set *set, const char *const *extra, size_t nextra)
{
	char **dirs;
	size_t n;
	int rc, total = 0;

	if ((rc = sli_plugin_dirs(extra, nextra, &dirs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		/* The extra dirs come last; they were asked for by name, so
		 * they must exist. The others are searched if present. */
		bool explicit = i >= n - nextra;
		int r = sli_plugin_set_scan(set, dirs[i], explicit);

		if (r < 0 && explicit) {
			rc = r;
			break;
		}
		if (r < 0)
			sli_log(SL_LOG_WARN, "%s", sl_errdetail());
		else
			total += r;
	}
	sli_plugin_dirs_free(dirs, n);
	return rc != 0 ? rc : total;
}
