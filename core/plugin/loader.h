/*
 * Finding, checking and loading plugins.
 *
 * A plugin is opened with dlopen(RTLD_NOW | RTLD_LOCAL), its entry
 * sl_plugin_entry is called, and the descriptor it returns is checked in
 * full (magic, ABI, sizes, kind, name, caps, required ops). The core copies
 * the descriptor and the ops tables into its own structs, with defaults for
 * optional ops the plugin left NULL or that lie beyond the struct_size it
 * declared, so callers never test for NULL. Only then, and only once per
 * loaded shared object, does the plugin's init run. Every refusal names the
 * file and the reason in sl_errdetail().
 *
 * One shared object, one struct sli_plugin: dlopen hands back the same
 * handle for every path that leads to one file (a symbolic link, a
 * directory listed twice), and a handle already held by a struct
 * sli_plugin of this process is never checked or initialised again. Opening
 * it again returns a new reference to that struct (whose path is the one
 * it was first opened by).
 */
#ifndef SLI_LOADER_H
#define SLI_LOADER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <sluice/operator.h>
#include <sluice/scheduler.h>
#include <sluice/shuffle.h>

enum sli_plugin_state {
	SLI_PLUGIN_LOADED = 0, /* checked and copied; init has not run */
	SLI_PLUGIN_READY = 1, /* init succeeded (or there is none): fini owed */
	SLI_PLUGIN_FAILED = 2, /* init failed: refused, fini never runs */
};

struct sli_plugin {
	char *path; /* as first opened */
	void *dl;
	/* The file's identity when it was opened, for refusing the same
	 * file reached by another path. */
	dev_t dev;
	ino_t ino;
	atomic_int refs;
	/* enum sli_plugin_state; changes only under the loader's lock. */
	int state;
	char *init_error; /* the refusal, kept for sharers, when FAILED */
	struct sli_plugin *next_loaded; /* the loader's list of live plugins */
	/* copy; members past the plugin's size zeroed. desc.ops still points
	 * at the plugin's own table: use ops below, which has defaults. */
	struct sl_plugin desc;
	char *name; /* copies of desc.name and desc.version */
	char *version;
	struct sl_host host; /* the table handed to this plugin */
	union {
		struct {
			struct sl_shuffle_master_ops master;
			struct sl_shuffle_writer_ops writer;
			struct sl_shuffle_reader_ops reader;
			/* both NULL when the plugin has no server */
			struct sl_shuffle_server_ops server;
		} shuffle;
		struct sl_scheduler_ops scheduler;
		/* core-owned copies of every operator's ops, in the
		 * library's order, defaults filled in: exactly one of run
		 * (sources) and process (the others) is set, every other
		 * op is never NULL. Malloc'd, freed with the plugin;
		 * v[i].name points into the plugin. */
		struct {
			struct sl_operator_ops *v;
			uint32_t n;
		} operators;
	} ops;
};

/*
 * Open and check one file, without calling its init: *out holds one
 * reference to a plugin that is LOADED, or, when the file's shared object
 * is already held by a plugin of this process, to that plugin, whatever its
 * state. No op of a plugin may be called before sli_plugin_start succeeded.
 * path must name a regular file; one without a '/' is taken relative to the
 * working directory, never searched for in the system's library path. On
 * failure nothing is left open and the detail says "plugin PATH: REASON".
 */
int sli_plugin_load(const char *path, struct sli_plugin **out);
/*
 * Run the plugin's init unless it ran already: 0 when the plugin is READY.
 * When init fails (now or before), the plugin is FAILED: the detail says
 * why, and the caller drops its reference. Serialised with every other
 * load, start and unload of the process.
 */
int sli_plugin_start(struct sli_plugin *p);
/* sli_plugin_load, then sli_plugin_start: on success *out holds one
 * reference to a READY plugin; on failure nothing is left. */
int sli_plugin_open(const char *path, struct sli_plugin **out);
void sli_plugin_ref(struct sli_plugin *p);
/* Drop a reference; at zero: fini (if init succeeded), dlclose, free. */
void sli_plugin_unref(struct sli_plugin *p);

const char *sli_plugin_kind_name(uint32_t kind);

/* A scheduler's on_regions_reset, or on_start where the plugin has none. */
static inline int
sli_plugin_sched_reset(const struct sli_plugin *p, void *state,
    const struct sl_sched_ctx *ctx, const uint32_t *regions, uint32_t n)
{
	const struct sl_scheduler_ops *ops = &p->ops.scheduler;

	return ops->on_regions_reset != NULL
	    ? ops->on_regions_reset(state, ctx, regions, n)
	    : ops->on_start(state, ctx);
}

/* The plugins one process has loaded: names unique, each file once. */
struct sli_plugin_set {
	struct sli_plugin **v;
	size_t n;
	size_t cap;
};

/*
 * Load every *.so in dir (sorted by name). A refused file is logged as a
 * warning with its reason and skipped; so is a duplicate: a plugin whose
 * name is already in the set, or a file the set already holds (the same
 * shared object, or the same device and inode), which the set refuses
 * before its init could run. A missing directory is not an error unless
 * must_exist. Returns the number loaded or a negative code.
 */
int sli_plugin_set_scan(
    struct sli_plugin_set *set, const char *dir, bool must_exist);
/*
 * Add one plugin from sli_plugin_load or sli_plugin_open. SL_EEXISTS with a
 * detail when the set holds its file or its name already: then init has
 * not run for the set's sake. Otherwise the plugin is started (init runs
 * unless it ran already) and, when that fails, refused with its reason. On
 * success the set takes the reference; on failure it stays with the
 * caller.
 */
int sli_plugin_set_add(struct sli_plugin_set *set, struct sli_plugin *p);
/* Make sure set holds the plugin at path (a job's operator library):
 * nothing to do when it holds that file already; otherwise opened and
 * added as sli_plugin_set_add says. */
int sli_plugin_set_need(struct sli_plugin_set *set, const char *path);
/* Find by kind and name; NULL when absent. No reference is taken. */
struct sli_plugin *sli_plugin_set_find(
    const struct sli_plugin_set *set, uint32_t kind, const char *name);
/* The operator called name in any operator library of the set (names are
 * unique across the set's libraries: sli_plugin_set_add refuses a library
 * that repeats one), with its library in *lib; NULL when absent. */
const struct sl_operator_ops *sli_operator_find(
    const struct sli_plugin_set *set, const char *name,
    struct sli_plugin **lib);
void sli_plugin_set_clear(struct sli_plugin_set *set);

/*
 * The plugin directories in search order: the bundled one beside the
 * executable (<exe>/../SL_PLUGIN_SUBDIR), each entry of SLUICE_PLUGIN_PATH,
 * then extra[0..nextra). Fills dirs (malloc'd strings in a malloc'd array,
 * free with sli_plugin_dirs_free).
 */
int sli_plugin_dirs(
    const char *const *extra, size_t nextra, char ***dirs, size_t *ndirs);
void sli_plugin_dirs_free(char **dirs, size_t n);

/* Load the bundled plugins, SLUICE_PLUGIN_PATH and extra dirs into set. */
int sli_plugin_set_load_default(
    struct sli_plugin_set *set, const char *const *extra, size_t nextra);

#endif
