/*
 * sluice plugin ABI: the descriptor every plugin exports and the host table
 * the core hands it.
 *
 * Rules (docs/plugin-abi.md says more):
 *  - A plugin exports exactly one symbol, sl_plugin_entry, a function that
 *    returns a pointer to a static, constant descriptor. Use SL_PLUGIN_DEFINE
 *    and build with -fvisibility=hidden.
 *  - Plugins never link against the core: everything they need from the
 *    host comes through struct sl_host. Plugin builds define SL_PLUGIN
 *    (sluice_add_plugin and the sluice-plugin.pc Cflags do), which hides
 *    the core's own functions, such as sl_strerror, from them.
 *  - Structs in this ABI only ever grow at the end. Each starts with (or
 *    carries) struct_size, and every member added after ABI 1.0 is marked
 *    with the minor version that added it. The host reads only the members
 *    that fit in the struct_size a plugin declares and uses defaults for the
 *    rest, so a plugin built against 1.0 loads in every 1.x host.
 *  - A host refuses a plugin whose ABI major differs from its own, or whose
 *    ABI minor is newer than its own.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_PLUGIN_MAGIC 0x534c5550u /* "SLUP" */
#define SL_ABI_MAJOR 1
#define SL_ABI_MINOR 4

#define SL_PLUGIN_ENTRY_SYMBOL "sl_plugin_entry"

enum sl_plugin_kind {
	SL_PLUGIN_SHUFFLE = 1,   /* ops: const struct sl_shuffle_ops * */
	SL_PLUGIN_SCHEDULER = 2, /* ops: const struct sl_scheduler_ops * */
	SL_PLUGIN_OPERATORS = 3, /* ops: const struct sl_operator_lib * */
};

enum sl_log_level {
	SL_LOG_ERROR = 0,
	SL_LOG_WARN = 1,
	SL_LOG_INFO = 2,
	SL_LOG_DEBUG = 3,
};

/* printf-style checking where the compiler offers it. */
#if defined(__GNUC__)
#define SL_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SL_PRINTF_LIKE(fmt, args)
#endif

/*
 * The host table: the only way a plugin reaches the core. The core makes one
 * per loaded plugin; it is valid from init() until after fini() returns, so a
 * plugin may keep the pointer. Every function is thread-safe.
 */
struct sl_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;

	/* The core's allocator. Memory a plugin hands to the core (e.g. a
	 * shuffle descriptor) must come from here. Never NULL when size > 0
	 * unless memory is exhausted. */
	void *(*alloc)(size_t size);
	void *(*realloc)(void *ptr, size_t size);
	void (*free)(void *ptr);

	/* Log a line through the core's logger, tagged with plugin_name.
	 * Pass this table as the first argument. */
	void (*log)(const struct sl_host *host, int level, const char *fmt, ...)
	    SL_PRINTF_LIKE(3, 4);

	/* Set the calling thread's error detail (sl_errdetail()) for the code
	 * about to be returned. */
	void (*set_error)(const char *fmt, ...) SL_PRINTF_LIKE(1, 2);

	/* Human-readable message for a code of errors.h or a -errno value,
	 * e.g. for a log line. Never NULL; the string is static. (Plugins
	 * must not call the core's sl_strerror: they do not link against
	 * it.) */
	const char *(*strerror)(int err);

	/* Monotonic clock in nanoseconds. */
	uint64_t (*now_ns)(void);

	/* Add delta to a named counter of the process's metrics
	 * ("shuffle_memory_bytes_written"). Names are copied. */
	void (*counter_add)(const char *name, int64_t delta);

	/* The name of the plugin this table was made for. */
	const char *plugin_name;
};

/*
 * Failed init, the one rule for every op that starts something:
 *  - the plugin's own init (below) fails: the plugin is refused and its fini
 *    is NOT called, so init undoes its own work before it returns;
 *  - a role's init or open fails (shuffle master init, writer and reader
 *    open, scheduler init): the core calls that role's fini and nothing
 *    else, and fini must cope with the half-made state (the core allocated
 *    it zeroed, so "pointer still NULL, nothing to free" works).
 */

/*
 * The descriptor. Returned by sl_plugin_entry(); must stay valid and
 * unchanged while the plugin is loaded.
 */
struct sl_plugin {
	uint32_t magic;       /* SL_PLUGIN_MAGIC */
	uint16_t abi_major;   /* SL_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;   /* SL_ABI_MINOR the plugin was built with */
	uint32_t struct_size; /* sizeof(struct sl_plugin) at build time */
	uint32_t kind;        /* enum sl_plugin_kind */
	const char *name;     /* unique among loaded plugins: [a-z0-9_-]+ */
	const char *version;  /* free-form, e.g. "0.1.0" */
	/*
	 * Capability bits; what they mean depends on kind (shuffle.h
	 * defines the shuffle's, and a shuffle must declare at least one
	 * partition type). Bits this host does not know are ignored, not
	 * refused, so that a later minor can define new ones.
	 */
	uint64_t caps;

	/*
	 * Called once after loading, when every check passed, before any
	 * other op, on the thread that loads plugins. Returns 0 or a negative
	 * code (and should set_error why); on failure the plugin is refused
	 * and fini is NOT called, so init must undo its own work. However
	 * many paths lead to one shared object (a symbolic link, a directory
	 * listed twice), the core calls init once while it is loaded: init
	 * and fini strictly alternate. May be NULL.
	 */
	int (*init)(const struct sl_host *host);
	/* Called once before unloading, after every object of the plugin was
	 * released, and only after an init that succeeded. May be NULL. */
	void (*fini)(void);

	/* Kind-specific ops table; see shuffle.h and scheduler.h. */
	const void *ops;
};

typedef const struct sl_plugin *(*sl_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define SL_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SL_PLUGIN_EXPORT
#endif

/*
 * SL_PLUGIN_DEFINE(desc): export desc (a static const struct sl_plugin) as
 * the plugin's entry. Use it once, at file scope. In C++ the entry gets C
 * linkage, so its name is not mangled and the loader finds it.
 */
#ifdef __cplusplus
#define SL_PLUGIN_DEFINE(desc)                                          \
	extern "C" {                                                    \
	SL_PLUGIN_EXPORT const struct sl_plugin *sl_plugin_entry(void); \
	SL_PLUGIN_EXPORT const struct sl_plugin *sl_plugin_entry(void)  \
	{                                                               \
		return &(desc);                                         \
	}                                                               \
	}
#else
#define SL_PLUGIN_DEFINE(desc)                                          \
	SL_PLUGIN_EXPORT const struct sl_plugin *sl_plugin_entry(void); \
	SL_PLUGIN_EXPORT const struct sl_plugin *sl_plugin_entry(void)  \
	{                                                               \
		return &(desc);                                         \
	}
#endif

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_PLUGIN_H */
