/*
 * Loading plugins: open, check everything, copy into core-owned tables with
 * defaults, then init. A plugin is untrusted input until it passes; every
 * refusal names the file and the reason, and leaves nothing open.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/error.h"
#include "../common/log.h"
#include "host.h"
#include "loader.h"

#ifndef SL_PLUGIN_SUBDIR
#error "SL_PLUGIN_SUBDIR must come from the build (core/CMakeLists.txt)"
#endif

#define END_OF(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))
/* Whether a table of the declared size holds member m entirely: a size
 * that ends inside a pointer must not hand us half of one. */
#define FITS(size, type, m) ((size_t)(size) >= END_OF(type, m))

/*
 * The smallest struct_size accepted for each table: up to its last required
 * member. Anything beyond is optional and gets a default, which is what lets
 * a plugin built against 1.0 load once later minors append members. For the
 * descriptor that is all of 1.0, since ops (its last member) is required.
 */
#define DESC_MIN END_OF(struct sl_plugin, ops)
#define SHUFFLE_MIN END_OF(struct sl_shuffle_ops, reader)
#define MASTER_MIN END_OF(struct sl_shuffle_master_ops, release_partition)
#define WRITER_MIN END_OF(struct sl_shuffle_writer_ops, fini)
#define READER_MIN END_OF(struct sl_shuffle_reader_ops, fini)
#define SCHED_MIN END_OF(struct sl_scheduler_ops, on_region_finished)

/* The core allocates each state zeroed, per partition and per task: a
 * larger size is a bug (or a units mix-up), not a plan. */
#define STATE_MAX ((size_t)1 << 20)

#define NAME_MAX_LEN 64

static int refuse(const char *path, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the detail "plugin PATH: REASON" and return err. */
static int
refuse(const char *path, int err, const char *fmt, ...)
{
	char reason[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return sli_err(err, "plugin %s: %s", path, reason);
}

const char *
sli_plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case SL_PLUGIN_SHUFFLE:
		return "shuffle";
	case SL_PLUGIN_SCHEDULER:
		return "scheduler";
	}
	return "unknown";
}

/* Defaults for optional ops, so that callers never test for NULL. */

static int
master_init_default(void *state, const struct sl_host *host,
    const char *config_json)
{
	return 0;
}

static void
nothing(void *state)
{
}

static bool
is_available_default(void *state, const void *desc, size_t len)
{
	return true;
}

static void
worker_lost_default(void *state, const char *location)
{
}

static int
snapshot_default(void *state, struct sl_bytes *out)
{
	out->data = NULL;
	out->len = 0;
	return 0;
}

static int
restore_default(void *state, const void *data, size_t len)
{
	/* A master without snapshot wrote an empty one; anything else comes
	 * from another plugin (or a version that kept state) and would be
	 * silently lost. */
	if (len != 0)
		return sli_err(SL_ENOTSUP,
		    "this shuffle master keeps no state, cannot restore %zu bytes",
		    len);
	return 0;
}

static int
sched_init_default(void *state, const struct sl_host *host,
    const struct sl_sched_ctx *ctx)
{
	return 0;
}

/*
 * on_regions_reset defaults to calling the plugin's own on_start, but an op
 * is given only (state, ctx): nothing in the call says which plugin it is
 * for. So a scheduler that leaves it out is bound to one of a fixed set of
 * trampolines, each calling the on_start stored in its slot. Slots are
 * shared by plugins with the same on_start (the same image opened twice)
 * and freed at unload.
 */
typedef int (*on_start_fn)(void *, const struct sl_sched_ctx *);
typedef int (*on_reset_fn)(void *, const struct sl_sched_ctx *,
    const uint32_t *, uint32_t);

#define NTHUNKS 16

static pthread_mutex_t thunks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	on_start_fn on_start; /* written under the lock while users == 0 */
	unsigned users;
} thunks[NTHUNKS];

#define RESET_THUNK(i)                                                         \
	static int reset_thunk_##i(void *state,                                \
	    const struct sl_sched_ctx *ctx, const uint32_t *regions,           \
	    uint32_t n)                                                        \
	{                                                                      \
		return thunks[i].on_start(state, ctx);                         \
	}
RESET_THUNK(0)
RESET_THUNK(1)
RESET_THUNK(2)
RESET_THUNK(3)
RESET_THUNK(4)
RESET_THUNK(5)
RESET_THUNK(6)
RESET_THUNK(7)
RESET_THUNK(8)
RESET_THUNK(9)
RESET_THUNK(10)
RESET_THUNK(11)
RESET_THUNK(12)
RESET_THUNK(13)
RESET_THUNK(14)
RESET_THUNK(15)
#undef RESET_THUNK

static const on_reset_fn reset_thunks[NTHUNKS] = {reset_thunk_0,
    reset_thunk_1, reset_thunk_2, reset_thunk_3, reset_thunk_4, reset_thunk_5,
    reset_thunk_6, reset_thunk_7, reset_thunk_8, reset_thunk_9, reset_thunk_10,
    reset_thunk_11, reset_thunk_12, reset_thunk_13, reset_thunk_14,
    reset_thunk_15};

static int
bind_reset_thunk(struct sli_plugin *p)
{
	on_start_fn fn = p->ops.scheduler.on_start;
	int slot = -1;

	pthread_mutex_lock(&thunks_lock);
	for (int i = 0; i < NTHUNKS && slot < 0; i++)
		if (thunks[i].users > 0 && thunks[i].on_start == fn)
			slot = i;
	for (int i = 0; i < NTHUNKS && slot < 0; i++)
		if (thunks[i].users == 0)
			slot = i;
	if (slot >= 0) {
		thunks[slot].on_start = fn;
		thunks[slot].users++;
		p->ops.scheduler.on_regions_reset = reset_thunks[slot];
	}
	pthread_mutex_unlock(&thunks_lock);
	if (slot < 0)
		return refuse(p->path, SL_EPLUGIN,
		    "more than %d loaded schedulers rely on the default on_regions_reset",
		    NTHUNKS);
	return 0;
}

static void
unbind_reset_thunk(struct sli_plugin *p)
{
	if (p->desc.kind != SL_PLUGIN_SCHEDULER)
		return;
	for (int i = 0; i < NTHUNKS; i++) {
		if (p->ops.scheduler.on_regions_reset != reset_thunks[i])
			continue;
		pthread_mutex_lock(&thunks_lock);
		if (--thunks[i].users == 0)
			thunks[i].on_start = NULL;
		pthread_mutex_unlock(&thunks_lock);
		return;
	}
}

/* Copy the bytes a plugin declared, at most our own size, and zero the
 * rest: members it does not know of read as NULL. */
static void
copy_declared(void *dst, size_t ours, const void *src, uint32_t declared)
{
	size_t n = declared < ours ? declared : ours;

	memcpy(dst, src, n);
	memset((char *)dst + n, 0, ours - n);
}

/* Check and copy one ops table; *declared is its struct_size. */
static int
copy_table(const struct sli_plugin *p, const char *what, const void *src,
    void *dst, size_t ours, size_t min, uint32_t *declared)
{
	uint32_t size;

	if (src == NULL)
		return refuse(p->path, SL_EPLUGIN, "%s ops table is missing",
		    what);
	/* Every table starts with its struct_size. */
	memcpy(&size, src, sizeof(size));
	if (size < min)
		return refuse(p->path, SL_EABI,
		    "%s ops table is %" PRIu32 " bytes, ABI %d.0 needs at least %zu",
		    what, size, SL_ABI_MAJOR, min);
	copy_declared(dst, ours, src, size);
	*declared = size;
	return 0;
}

static int
check_state_size(const struct sli_plugin *p, const char *what, size_t size)
{
	if (size > STATE_MAX)
		return refuse(p->path, SL_EPLUGIN,
		    "%s state_size %zu is above the limit of %zu bytes", what,
		    size, STATE_MAX);
	return 0;
}

#define REQUIRE(p, t, what, op)                                                \
	do {                                                                   \
		if ((t)->op == NULL)                                           \
			return refuse((p)->path, SL_EPLUGIN,                   \
			    "%s op '%s' is missing", what, #op);               \
	} while (0)

#define DEFAULT(t, declared, type, op, fn)                                     \
	do {                                                                   \
		if (!FITS(declared, type, op) || (t)->op == NULL)              \
			(t)->op = (fn);                                        \
	} while (0)

static int
load_shuffle(struct sli_plugin *p)
{
	struct sl_shuffle_ops top;
	struct sl_shuffle_master_ops *m = &p->ops.shuffle.master;
	struct sl_shuffle_writer_ops *w = &p->ops.shuffle.writer;
	struct sl_shuffle_reader_ops *r = &p->ops.shuffle.reader;
	uint32_t ts, ms, ws, rs;
	int rc;

	if ((rc = copy_table(p, "shuffle", p->desc.ops, &top, sizeof(top),
		 SHUFFLE_MIN, &ts)) != 0 ||
	    (rc = copy_table(p, "shuffle master", top.master, m, sizeof(*m),
		 MASTER_MIN, &ms)) != 0 ||
	    (rc = copy_table(p, "shuffle writer", top.writer, w, sizeof(*w),
		 WRITER_MIN, &ws)) != 0 ||
	    (rc = copy_table(p, "shuffle reader", top.reader, r, sizeof(*r),
		 READER_MIN, &rs)) != 0)
		return rc;

	REQUIRE(p, m, "shuffle master", register_partition);
	REQUIRE(p, m, "shuffle master", release_partition);
	REQUIRE(p, w, "shuffle writer", open);
	REQUIRE(p, w, "shuffle writer", write);
	REQUIRE(p, w, "shuffle writer", finish);
	REQUIRE(p, w, "shuffle writer", fail);
	REQUIRE(p, w, "shuffle writer", fini);
	REQUIRE(p, r, "shuffle reader", open);
	REQUIRE(p, r, "shuffle reader", next);
	REQUIRE(p, r, "shuffle reader", release);
	REQUIRE(p, r, "shuffle reader", fini);
	if ((rc = check_state_size(p, "shuffle master", m->state_size)) != 0 ||
	    (rc = check_state_size(p, "shuffle writer", w->state_size)) != 0 ||
	    (rc = check_state_size(p, "shuffle reader", r->state_size)) != 0)
		return rc;

	/* shuffle.h marks neither master init nor fini required or optional;
	 * a master without state needs neither, so both get defaults. */
	DEFAULT(m, ms, struct sl_shuffle_master_ops, init, master_init_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, fini, nothing);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, is_available,
	    is_available_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, worker_lost,
	    worker_lost_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, snapshot, snapshot_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, restore, restore_default);
	DEFAULT(w, ws, struct sl_shuffle_writer_ops, close, nothing);
	DEFAULT(r, rs, struct sl_shuffle_reader_ops, close, nothing);
	/* The copies are complete tables of this build now. */
	m->struct_size = sizeof(*m);
	w->struct_size = sizeof(*w);
	r->struct_size = sizeof(*r);
	return 0;
}

static int
load_scheduler(struct sli_plugin *p)
{
	struct sl_scheduler_ops *s = &p->ops.scheduler;
	uint32_t ss;
	int rc;

	if ((rc = copy_table(p, "scheduler", p->desc.ops, s, sizeof(*s),
		 SCHED_MIN, &ss)) != 0)
		return rc;
	REQUIRE(p, s, "scheduler", on_start);
	REQUIRE(p, s, "scheduler", on_region_finished);
	if ((rc = check_state_size(p, "scheduler", s->state_size)) != 0)
		return rc;
	DEFAULT(s, ss, struct sl_scheduler_ops, init, sched_init_default);
	DEFAULT(s, ss, struct sl_scheduler_ops, fini, nothing);
	s->struct_size = sizeof(*s);
	/* Last, so that a refusal above leaves no slot to give back. */
	if (!FITS(ss, struct sl_scheduler_ops, on_regions_reset) ||
	    s->on_regions_reset == NULL)
		return bind_reset_thunk(p);
	return 0;
}

static bool
valid_name(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
			*s == '_' || *s == '-'))
			return false;
	return n >= 1 && n <= NAME_MAX_LEN;
}

/* Check the descriptor the entry returned and copy it into p->desc. */
static int
check_descriptor(struct sli_plugin *p, const struct sl_plugin *d)
{
	/* magic, ABI and struct_size sit at the same place in every ABI, so
	 * they can be read before anything else is trusted. */
	if (d->magic != SL_PLUGIN_MAGIC)
		return refuse(p->path, SL_EPLUGIN,
		    "bad magic 0x%08" PRIx32 ", expected 0x%08" PRIx32
		    " (not a sluice plugin?)",
		    d->magic, (uint32_t)SL_PLUGIN_MAGIC);
	if (d->abi_major != SL_ABI_MAJOR)
		return refuse(p->path, SL_EABI, "ABI %u.%u, this build speaks %d.x",
		    d->abi_major, d->abi_minor, SL_ABI_MAJOR);
	if (d->abi_minor > SL_ABI_MINOR)
		return refuse(p->path, SL_EABI,
		    "ABI %u.%u is newer than this build's %d.%d", d->abi_major,
		    d->abi_minor, SL_ABI_MAJOR, SL_ABI_MINOR);
	if (d->struct_size < DESC_MIN)
		return refuse(p->path, SL_EABI,
		    "descriptor is %" PRIu32 " bytes, ABI %d.0 needs at least %zu",
		    d->struct_size, SL_ABI_MAJOR, DESC_MIN);
	copy_declared(&p->desc, sizeof(p->desc), d, d->struct_size);
	p->desc.struct_size = sizeof(p->desc);

	if (p->desc.kind != SL_PLUGIN_SHUFFLE &&
	    p->desc.kind != SL_PLUGIN_SCHEDULER)
		return refuse(p->path, SL_EPLUGIN, "unknown kind %" PRIu32,
		    p->desc.kind);
	if (p->desc.name == NULL)
		return refuse(p->path, SL_EPLUGIN, "no name (name is NULL)");
	if (!valid_name(p->desc.name))
		return refuse(p->path, SL_EPLUGIN,
		    "name '%.80s' is not 1 to %d characters of a-z 0-9 _ -",
		    p->desc.name, NAME_MAX_LEN);
	if ((p->name = strdup(p->desc.name)) == NULL ||
	    (p->version = strdup(p->desc.version ? p->desc.version : "")) ==
		NULL)
		return refuse(p->path, SL_ENOMEM, "out of memory");
	/* Point at our copies: they outlive nothing, but they are known to
	 * be valid strings. */
	p->desc.name = p->name;
	p->desc.version = p->version;
	return 0;
}

/*
 * The entry must be a function: calling into a data object (an old-style
 * exported descriptor) would jump into data. dladdr1 reports the ELF symbol
 * type; when it cannot tell, the plugin gets the benefit of the doubt.
 */
static bool
entry_is_data(void *sym)
{
	Dl_info info;
	const ElfW(Sym) *es = NULL;

	if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) == 0 || es == NULL)
		return false;
	return ELF64_ST_TYPE(es->st_info) == STT_OBJECT ||
	    ELF64_ST_TYPE(es->st_info) == STT_TLS;
}

static void
free_plugin(struct sli_plugin *p)
{
	if (p == NULL)
		return;
	free(p->path);
	free(p->name);
	free(p->version);
	free(p);
}

int
sli_plugin_open(const char *path, struct sli_plugin **out)
{
	struct sli_plugin *p;
	sl_plugin_entry_fn entry;
	const struct sl_plugin *d;
	void *sym;
	int rc;

	if (path == NULL || out == NULL)
		return sli_err(SL_EINVAL, "sli_plugin_open: no path");
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->path = strdup(path)) == NULL) {
		rc = refuse(path, SL_ENOMEM, "out of memory");
		goto out_free;
	}
	if ((p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();
		rc = refuse(path, SL_EPLUGIN, "cannot load: %s",
		    e != NULL ? e : "dlopen failed");
		goto out_free;
	}
	if ((sym = dlsym(p->dl, SL_PLUGIN_ENTRY_SYMBOL)) == NULL) {
		rc = refuse(path, SL_EPLUGIN,
		    "no %s function (not a sluice plugin?)",
		    SL_PLUGIN_ENTRY_SYMBOL);
		goto out_dlclose;
	}
	if (entry_is_data(sym)) {
		rc = refuse(path, SL_EPLUGIN,
		    "%s is data, not a function (use SL_PLUGIN_DEFINE)",
		    SL_PLUGIN_ENTRY_SYMBOL);
		goto out_dlclose;
	}
	/* POSIX promises a function's address survives the trip through
	 * void *; copying the bits avoids the cast ISO C leaves undefined. */
	memcpy(&entry, &sym, sizeof(entry));
	if ((d = entry()) == NULL) {
		rc = refuse(path, SL_EPLUGIN, "%s returned NULL",
		    SL_PLUGIN_ENTRY_SYMBOL);
		goto out_dlclose;
	}
	if ((rc = check_descriptor(p, d)) != 0)
		goto out_dlclose;
	rc = p->desc.kind == SL_PLUGIN_SHUFFLE ? load_shuffle(p)
					       : load_scheduler(p);
	if (rc != 0)
		goto out_dlclose;

	sli_host_init(&p->host, p->name);
	atomic_init(&p->refs, 1);
	if (p->desc.init != NULL) {
		/* A stale detail must not pass for the plugin's reason. */
		sli_err_clear();
		if ((rc = p->desc.init(&p->host)) != 0) {
			char why[512];

			/* The detail is about to be overwritten with ours. */
			snprintf(why, sizeof(why), "%s", sl_errdetail());
			rc = refuse(path, SL_EPLUGIN, "init failed with %s: %s",
			    sl_errname(rc), why[0] ? why : "(no detail)");
			/* init undid its own work: fini is not called. */
			goto out_unbind;
		}
	}
	*out = p;
	return 0;

out_unbind:
	unbind_reset_thunk(p);
out_dlclose:
	dlclose(p->dl);
out_free:
	free_plugin(p);
	return rc;
}

void
sli_plugin_ref(struct sli_plugin *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void
sli_plugin_unref(struct sli_plugin *p)
{
	if (p == NULL ||
	    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (p->desc.fini != NULL)
		p->desc.fini();
	unbind_reset_thunk(p);
	dlclose(p->dl);
	free_plugin(p);
}

/* The plugin set. */

struct sli_plugin *
sli_plugin_set_find(const struct sli_plugin_set *set, uint32_t kind,
    const char *name)
{
	/* Linear: a process loads a handful of plugins, once. */
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i]->desc.kind == kind &&
		    strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}

int
sli_plugin_set_add(struct sli_plugin_set *set, struct sli_plugin *p)
{
	/* Names are unique across kinds: plugin.h promises it, and a name
	 * alone is what users write. */
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, p->name) == 0)
			return sli_err(SL_EEXISTS,
			    "plugin %s: a plugin named '%s' is already loaded from %s",
			    p->path, p->name, set->v[i]->path);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		void *v = realloc(set->v, cap * sizeof(*set->v));

		if (v == NULL)
			return sli_err(SL_ENOMEM, "plugin %s: out of memory",
			    p->path);
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = p;
	return 0;
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
		return sli_err(-err, "plugin directory %s: %s", dir,
		    strerror(err));
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

		rc = sli_err(-err, "plugin directory %s: %s", dir,
		    strerror(err));
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
sli_plugin_set_scan(struct sli_plugin_set *set, const char *dir,
    bool must_exist)
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
		if (sli_plugin_open(path, &p) != 0) {
			sli_log(SL_LOG_WARN, "%s", sl_errdetail());
		} else if (sli_plugin_set_add(set, p) != 0) {
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
sli_plugin_dirs(const char *const *extra, size_t nextra, char ***dirs,
    size_t *ndirs)
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
sli_plugin_set_load_default(struct sli_plugin_set *set,
    const char *const *extra, size_t nextra)
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
