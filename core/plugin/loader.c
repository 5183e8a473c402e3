/*
 * Loading plugins: open, check everything, copy into core-owned tables with
 * defaults; init later, once per shared object (sli_plugin_start). A plugin
 * is untrusted input until it passes; every refusal names the file and the
 * reason, and leaves nothing open.
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
#include "load_common.h"
#include "loader.h"

#ifndef SL_PLUGIN_SUBDIR
#error "SL_PLUGIN_SUBDIR must come from the build (core/CMakeLists.txt)"
#endif

/*
 * The smallest struct_size accepted for each table: up to its last required
 * member. Anything beyond is optional and gets a default, which is what lets
 * a plugin built against 1.0 load once later minors append members. For the
 * descriptor that is all of 1.0, since ops (its last member) is required.
 */
#define DESC_MIN END_OF(struct sl_plugin, ops)
#define SHUFFLE_MIN END_OF(struct sl_shuffle_ops, reader)
#define MASTER_MIN END_OF(struct sl_shuffle_master_ops, is_available)
#define WRITER_MIN END_OF(struct sl_shuffle_writer_ops, fini)
#define READER_MIN END_OF(struct sl_shuffle_reader_ops, fini)
#define SCHED_MIN END_OF(struct sl_scheduler_ops, on_region_finished)

/* The partition types this build knows, as shuffle capability bits. */
#define SHUFFLE_TYPE_CAPS                                   \
	(SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED) |      \
	    SL_SHUFFLE_CAP_TYPE(SL_PARTITION_BLOCKING) |    \
	    SL_SHUFFLE_CAP_TYPE(SL_PARTITION_HYBRID_FULL) | \
	    SL_SHUFFLE_CAP_TYPE(SL_PARTITION_HYBRID_SELECTIVE))

/*
 * The plugins alive in this process, whatever their state, so that a shared
 * object reached again (dlopen returns the handle it already gave) is never
 * checked or initialised a second time. One lock serialises loading,
 * starting and the last unref, so init and fini of one object never overlap
 * or repeat. Plugin code runs under it (entry, init, fini), which cannot
 * deadlock: a plugin has no way to reach the loader.
 */
static pthread_mutex_t loader_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sli_plugin *loaded;

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
	case SL_PLUGIN_OPERATORS:
		return "operators";
	}
	return "unknown";
}

/* Defaults for optional ops, so that callers never test for NULL. */

static int
master_init_default(
    void *state, const struct sl_host *host, const char *config_json)
{
	return 0;
}

static void
nothing(void *state)
{
}

static void
worker_lost_default(void *state, const char *location)
{
}

static uint64_t
losses_default(void *state)
{
	return 0;
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
		    "this shuffle master keeps no state, cannot restore %zu "
		    "bytes",
		    len);
	return 0;
}

static int
sched_init_default(
    void *state, const struct sl_host *host, const struct sl_sched_ctx *ctx)
{
	return 0;
}

/* Check and copy one ops table; *declared is its struct_size. */
static int
copy_table(const struct sli_plugin *p, const char *what, const void *src,
    void *dst, size_t ours, size_t min, uint32_t *declared)
{
	uint32_t size;

	if (src == NULL)
		return refuse(
		    p->path, SL_EPLUGIN, "%s ops table is missing", what);
	/* Every table starts with its struct_size. */
	memcpy(&size, src, sizeof(size));
	if (size < min)
		return refuse(p->path, SL_EABI,
		    "%s ops table is %" PRIu32
		    " bytes, ABI %d.0 needs at least %zu",
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

#define REQUIRE(p, t, what, op)                                  \
	do {                                                     \
		if ((t)->op == NULL)                             \
			return refuse((p)->path, SL_EPLUGIN,     \
			    "%s op '%s' is missing", what, #op); \
	} while (0)

#define DEFAULT(t, declared, type, op, fn)                        \
	do {                                                      \
		if (!FITS(declared, type, op) || (t)->op == NULL) \
			(t)->op = (fn);                           \
	} while (0)

static int
load_shuffle(struct sli_plugin *p)
{
	struct sl_shuffle_ops top;
	struct sl_shuffle_master_ops *m = &p->ops.shuffle.master;
	struct sl_shuffle_writer_ops *w = &p->ops.shuffle.writer;
	struct sl_shuffle_reader_ops *r = &p->ops.shuffle.reader;
	uint32_t ts = 0, ms = 0, ws = 0, rs = 0;
	int rc;

	/* Unknown bits are fine (a later minor may define them); no type at
	 * all is a shuffle that could serve no partition. */
	if ((p->desc.caps & SHUFFLE_TYPE_CAPS) == 0)
		return refuse(p->path, SL_EPLUGIN,
		    "declares no partition type (caps 0x%" PRIx64
		    " has no SL_SHUFFLE_CAP_TYPE bit)",
		    p->desc.caps);
	if ((rc = copy_table(p, "shuffle", p->desc.ops, &top, sizeof(top),
	         SHUFFLE_MIN, &ts)) != 0 ||
	    (rc = copy_table(p, "shuffle master", top.master, m, sizeof(*m),
	         MASTER_MIN, &ms)) != 0 ||
	    (rc = copy_table(p, "shuffle writer", top.writer, w, sizeof(*w),
	         WRITER_MIN, &ws)) != 0 ||
	    (rc = copy_table(p, "shuffle reader", top.reader, r, sizeof(*r),
	         READER_MIN, &rs)) != 0)
		return rc;
	if (FITS(ts, struct sl_shuffle_ops, server) && top.server != NULL) {
		struct sl_shuffle_server_ops *sv = &p->ops.shuffle.server;
		uint32_t ss = 0;

		if ((rc = copy_table(p, "shuffle server", top.server, sv,
		         sizeof(*sv),
		         END_OF(struct sl_shuffle_server_ops, stop), &ss)) != 0)
			return rc;
		if (sv->start == NULL || sv->stop == NULL)
			return refuse(p->path, SL_EPLUGIN,
			    "shuffle server: start and stop are both "
			    "required");
	}

	REQUIRE(p, m, "shuffle master", register_partition);
	REQUIRE(p, m, "shuffle master", release_partition);
	REQUIRE(p, m, "shuffle master", is_available);
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

	DEFAULT(m, ms, struct sl_shuffle_master_ops, init, master_init_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, fini, nothing);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, worker_lost,
	    worker_lost_default);
	DEFAULT(
	    m, ms, struct sl_shuffle_master_ops, snapshot, snapshot_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, restore, restore_default);
	DEFAULT(m, ms, struct sl_shuffle_master_ops, losses, losses_default);
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
	uint32_t ss = 0;
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
	/* on_regions_reset stays NULL when absent: its default, on_start,
	 * needs the plugin, which an op is not given; sli_plugin_sched_reset()
	 * in loader.h applies it. */
	if (!FITS(ss, struct sl_scheduler_ops, on_regions_reset))
		s->on_regions_reset = NULL;
	/* absent: the strategy cannot run jobs decided while they run */
	if (!FITS(ss, struct sl_scheduler_ops, on_parallelism_needed))
		s->on_parallelism_needed = NULL;
	s->struct_size = sizeof(*s);
	return 0;
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
		return refuse(p->path, SL_EABI,
		    "ABI %u.%u, this build speaks %d.x", d->abi_major,
		    d->abi_minor, SL_ABI_MAJOR);
	if (d->abi_minor > SL_ABI_MINOR)
		return refuse(p->path, SL_EABI,
		    "ABI %u.%u is newer than this build's %d.%d", d->abi_major,
		    d->abi_minor, SL_ABI_MAJOR, SL_ABI_MINOR);
	if (d->struct_size < DESC_MIN)
		return refuse(p->path, SL_EABI,
		    "descriptor is %" PRIu32
		    " bytes, ABI %d.0 needs at least %zu",
		    d->struct_size, SL_ABI_MAJOR, DESC_MIN);
	copy_declared(&p->desc, sizeof(p->desc), d, d->struct_size);
	p->desc.struct_size = sizeof(p->desc);

	if (p->desc.kind != SL_PLUGIN_SHUFFLE &&
	    p->desc.kind != SL_PLUGIN_SCHEDULER &&
	    p->desc.kind != SL_PLUGIN_OPERATORS)
		return refuse(
		    p->path, SL_EPLUGIN, "unknown kind %" PRIu32, p->desc.kind);
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

	if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) == 0 ||
	    es == NULL)
		return false;
	return ELF64_ST_TYPE(es->st_info) == STT_OBJECT ||
	    ELF64_ST_TYPE(es->st_info) == STT_TLS;
}

static void
free_plugin(struct sli_plugin *p)
{
	if (p == NULL)
		return;
	/* Only a library that passed its checks holds an array; kind alone
	 * says which member of the union is live. */
	if (p->desc.kind == SL_PLUGIN_OPERATORS)
		free(p->ops.operators.v);
	free(p->path);
	free(p->name);
	free(p->version);
	free(p->init_error);
	free(p);
}

/*
 * Stat path and say what dlopen is to be given: a regular file, by a path
 * with a '/' in it, since a bare name makes dlopen search the system's
 * library path ("libc.so.6" would load libc) instead of the working
 * directory.
 */
static int
file_to_open(const char *path, struct stat *st, char **dlpath)
{
	int n;

	if (stat(path, st) != 0) {
		int err = errno;

		return refuse(path, -err, "cannot open: %s", sl_strerror(-err));
	}
	if (S_ISDIR(st->st_mode))
		return refuse(
		    path, SL_EPLUGIN, "is a directory, not a plugin file");
	if (!S_ISREG(st->st_mode))
		return refuse(path, SL_EPLUGIN,
		    "is not a regular file (a plugin is a shared object)");
	n = strchr(path, '/') != NULL ? asprintf(dlpath, "%s", path)
	                              : asprintf(dlpath, "./%s", path);
	if (n < 0) {
		*dlpath = NULL;
		return refuse(path, SL_ENOMEM, "out of memory");
	}
	return 0;
}

/* Find and check the entry of p->dl, and copy the descriptor and tables. */
static int
check_object(struct sli_plugin *p)
{
	sl_plugin_entry_fn entry;
	const struct sl_plugin *d;
	void *sym;
	int rc;

	if ((sym = dlsym(p->dl, SL_PLUGIN_ENTRY_SYMBOL)) == NULL)
		return refuse(p->path, SL_EPLUGIN,
		    "no %s function (not a sluice plugin?)",
		    SL_PLUGIN_ENTRY_SYMBOL);
	if (entry_is_data(sym))
		return refuse(p->path, SL_EPLUGIN,
		    "%s is data, not a function (use SL_PLUGIN_DEFINE)",
		    SL_PLUGIN_ENTRY_SYMBOL);
	/* POSIX promises a function's address survives the trip through
	 * void *; copying the bits avoids the cast ISO C leaves undefined. */
	memcpy(&entry, &sym, sizeof(entry));
	if ((d = entry()) == NULL)
		return refuse(p->path, SL_EPLUGIN, "%s returned NULL",
		    SL_PLUGIN_ENTRY_SYMBOL);
	if ((rc = check_descriptor(p, d)) != 0)
		return rc;
	switch (p->desc.kind) {
	case SL_PLUGIN_SHUFFLE:
		return load_shuffle(p);
	case SL_PLUGIN_SCHEDULER:
		return load_scheduler(p);
	default: /* check_descriptor let no other kind through */
		return sli_load_operators(p);
	}
}

/* The live plugin holding the shared object dl, or NULL. Needs the lock. */
static struct sli_plugin *
find_loaded(const void *dl)
{
	for (struct sli_plugin *q = loaded; q != NULL; q = q->next_loaded)
		if (q->dl == dl)
			return q;
	return NULL;
}

static void
unlink_loaded(struct sli_plugin *p)
{
	for (struct sli_plugin **q = &loaded; *q != NULL;
	     q = &(*q)->next_loaded)
		if (*q == p) {
			*q = p->next_loaded;
			return;
		}
}

int
sli_plugin_load(const char *path, struct sli_plugin **out)
{
	struct sli_plugin *p, *q;
	struct stat st;
	char *dlpath;
	void *dl;
	int rc;

	if (path == NULL || out == NULL)
		return sli_err(SL_EINVAL, "sli_plugin_load: no path");
	if ((rc = file_to_open(path, &st, &dlpath)) != 0)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->path = strdup(path)) == NULL) {
		rc = refuse(path, SL_ENOMEM, "out of memory");
		goto out_free;
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;

	pthread_mutex_lock(&loader_lock);
	if ((dl = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();
		rc = refuse(path, SL_EPLUGIN, "cannot load: %s",
		    e != NULL ? e : "dlopen failed");
		goto out_unlock;
	}
	/* Another path to a shared object this process holds: it was
	 * checked, and its init must not run again. */
	if ((q = find_loaded(dl)) != NULL) {
		dlclose(dl); /* q holds a dlopen reference of its own */
		atomic_fetch_add_explicit(&q->refs, 1, memory_order_relaxed);
		pthread_mutex_unlock(&loader_lock);
		free_plugin(p);
		free(dlpath);
		*out = q;
		return 0;
	}
	p->dl = dl;
	if ((rc = check_object(p)) != 0)
		goto out_dlclose;
	sli_host_init(&p->host, p->name);
	atomic_init(&p->refs, 1);
	p->state = SLI_PLUGIN_LOADED;
	p->next_loaded = loaded;
	loaded = p;
	pthread_mutex_unlock(&loader_lock);
	free(dlpath);
	*out = p;
	return 0;

out_dlclose:
	dlclose(p->dl);
out_unlock:
	pthread_mutex_unlock(&loader_lock);
out_free:
	free_plugin(p);
	free(dlpath);
	return rc;
}

int
sli_plugin_start(struct sli_plugin *p)
{
	char why[512];
	int rc = 0;

	pthread_mutex_lock(&loader_lock);
	switch (p->state) {
	case SLI_PLUGIN_READY:
		break;
	case SLI_PLUGIN_FAILED:
		/* Someone else's start of this object failed: same answer. */
		rc = sli_err(SL_EPLUGIN, "%s",
		    p->init_error != NULL ? p->init_error
		                          : "plugin init failed");
		break;
	default:
		if (p->desc.init == NULL) {
			p->state = SLI_PLUGIN_READY;
			break;
		}
		/* A stale detail must not pass for the plugin's reason. */
		sli_err_clear();
		if ((rc = p->desc.init(&p->host)) == 0) {
			p->state = SLI_PLUGIN_READY;
			break;
		}
		/* The detail is about to be overwritten with ours. */
		snprintf(why, sizeof(why), "%s", sl_errdetail());
		rc = refuse(p->path, SL_EPLUGIN, "init failed with %s: %s",
		    sl_errname(rc), why[0] ? why : "(no detail)");
		/* init undid its own work: fini is never called. */
		p->state = SLI_PLUGIN_FAILED;
		p->init_error = strdup(sl_errdetail());
		break;
	}
	pthread_mutex_unlock(&loader_lock);
	return rc;
}

int
sli_plugin_open(const char *path, struct sli_plugin **out)
{
	struct sli_plugin *p;
	int rc;

	if ((rc = sli_plugin_load(path, &p)) != 0)
		return rc;
	if ((rc = sli_plugin_start(p)) != 0) {
		sli_plugin_unref(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
sli_plugin_ref(struct sli_plugin *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void
sli_plugin_unref(struct sli_plugin *p)
{
	int n;

	if (p == NULL)
		return;
	/* Not the last reference: no lock, objects come and go often. */
	n = atomic_load_explicit(&p->refs, memory_order_relaxed);
	while (n > 1)
		if (atomic_compare_exchange_weak_explicit(&p->refs, &n, n - 1,
		        memory_order_acq_rel, memory_order_relaxed))
			return;
	/*
	 * Perhaps the last: decide under the lock, so that a load of the same
	 * object either took its reference before (and we stop here) or finds
	 * it gone and inits afresh only after our fini returned.
	 */
	pthread_mutex_lock(&loader_lock);
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) {
		pthread_mutex_unlock(&loader_lock);
		return;
	}
	unlink_loaded(p);
	if (p->state == SLI_PLUGIN_READY && p->desc.fini != NULL)
		p->desc.fini();
	dlclose(p->dl);
	pthread_mutex_unlock(&loader_lock);
	free_plugin(p);
}
