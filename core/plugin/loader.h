/*
 * Finding, checking and loading plugins.
 *
 * A plugin is opened with dlopen(RTLD_NOW | RTLD_LOCAL), its entry
 * sl_plugin_entry is called, and the descriptor it returns is checked in
 * full (magic, ABI, sizes, kind, name, required ops) before init runs. The
 * core copies the descriptor and the ops tables into its own structs, with
 * defaults for optional ops the plugin left NULL or that lie beyond the
 * struct_size it declared, so callers never test for NULL. Every refusal
 * names the file and the reason in sl_errdetail().
 */
#ifndef SLI_LOADER_H
#define SLI_LOADER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <sluice/scheduler.h>
#include <sluice/shuffle.h>

struct sli_plugin {
	char *path;
	void *dl;
	atomic_int refs;
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
		} shuffle;
		struct sl_scheduler_ops scheduler;
	} ops;
};

/*
 * Open and check one file, then call its init. On success *out holds one
 * reference. On failure nothing is left open and the detail says
 * "plugin PATH: REASON".
 */
int sli_plugin_open(const char *path, struct sli_plugin **out);
void sli_plugin_ref(struct sli_plugin *p);
/* Drop a reference; at zero: fini, dlclose, free. */
void sli_plugin_unref(struct sli_plugin *p);

const char *sli_plugin_kind_name(uint32_t kind);

/* A scheduler's on_regions_reset, or on_start where the plugin has none. */
static inline int
sli_sched_reset(const struct sli_plugin *p, void *state,
    const struct sl_sched_ctx *ctx, const uint32_t *regions, uint32_t n)
{
	const struct sl_scheduler_ops *ops = &p->ops.scheduler;

	return ops->on_regions_reset != NULL
	    ? ops->on_regions_reset(state, ctx, regions, n)
	    : ops->on_start(state, ctx);
}

/* The plugins one process has loaded, names unique. */
struct sli_plugin_set {
	struct sli_plugin **v;
	size_t n;
	size_t cap;
};

/*
 * Load every *.so in dir (sorted by name). A refused file is logged as a
 * warning with its reason and skipped; so is a plugin whose name is already
 * in the set (a duplicate). A missing directory is not an error unless
 * must_exist. Returns the number loaded or a negative code.
 */
int sli_plugin_set_scan(
    struct sli_plugin_set *set, const char *dir, bool must_exist);
/* Add one opened plugin (the set takes the reference); SL_EEXISTS with a
 * detail when its name is taken. */
int sli_plugin_set_add(struct sli_plugin_set *set, struct sli_plugin *p);
/* Find by kind and name; NULL when absent. No reference is taken. */
struct sli_plugin *sli_plugin_set_find(
    const struct sli_plugin_set *set, uint32_t kind, const char *name);
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
