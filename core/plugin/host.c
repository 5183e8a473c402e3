/*
 * The host table (struct sl_host): everything a plugin may ask of the core.
 * Plugins never link against core symbols, so each of these is reached only
 * through the function pointers filled in here.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/error.h"
#include "../common/log.h"
#include "host.h"

static void *
host_alloc(size_t size)
{
	return malloc(size);
}

static void *
host_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size);
}

static void
host_free(void *ptr)
{
	free(ptr);
}

static void
host_log(const struct sl_host *host, int level, const char *fmt, ...)
{
	/* "plugin " and a name of at most 64 characters (the loader checks
	 * it); a longer name from a hand-made table is only cut short. */
	char tag[80];
	va_list ap;

	snprintf(tag, sizeof(tag), "plugin %s",
	    host != NULL && host->plugin_name != NULL ? host->plugin_name
	                                              : "?");
	va_start(ap, fmt);
	sli_vlog(level, tag, fmt, ap);
	va_end(ap);
}

static void
host_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sli_verr(fmt, ap);
	va_end(ap);
}

static uint64_t
host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Process-wide named counters. Plugins add to them from data-plane threads
 * (bytes written per buffer), so lookups are hashed rather than linear; one
 * mutex is enough while the metrics stay a handful of names. Open
 * addressing with linear probing, at most half full, never shrinks: names
 * live as long as the process.
 */
struct counter {
	char *name; /* NULL: free slot */
	int64_t value;
};

static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter *counters;
static size_t counters_cap; /* a power of two, or 0 */
static size_t counters_used;

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

/* The slot holding name, or the free slot where it belongs. Needs the lock
 * and a table with room. */
static struct counter *
counter_slot(struct counter *tab, size_t cap, const char *name)
{
	size_t i = (size_t)hash_name(name) & (cap - 1);

	while (tab[i].name != NULL && strcmp(tab[i].name, name) != 0)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static int
counters_grow(void)
{
	size_t cap = counters_cap ? counters_cap * 2 : 64;
	struct counter *tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < counters_cap; i++)
		if (counters[i].name != NULL)
			*counter_slot(tab, cap, counters[i].name) = counters[i];
	free(counters);
	counters = tab;
	counters_cap = cap;
	return 0;
}

static void
host_counter_add(const char *name, int64_t delta)
{
	struct counter *c;

	if (name == NULL)
		return;
	pthread_mutex_lock(&counters_lock);
	/* Metrics are best effort: without memory for a new name the update
	 * is dropped rather than failing the plugin's data path. */
	if ((counters_used + 1) * 2 > counters_cap && counters_grow() != 0)
		goto out_unlock;
	c = counter_slot(counters, counters_cap, name);
	if (c->name == NULL) {
		if ((c->name = strdup(name)) == NULL)
			goto out_unlock;
		counters_used++;
	}
	/* Wrap rather than overflow: a counter is not worth undefined
	 * behaviour. */
	c->value = (int64_t)((uint64_t)c->value + (uint64_t)delta);
out_unlock:
	pthread_mutex_unlock(&counters_lock);
}

int64_t
sli_counter_get(const char *name)
{
	int64_t v = 0;

	if (name == NULL)
		return 0;
	pthread_mutex_lock(&counters_lock);
	if (counters_cap > 0) {
		struct counter *c = counter_slot(counters, counters_cap, name);
		if (c->name != NULL)
			v = c->value;
	}
	pthread_mutex_unlock(&counters_lock);
	return v;
}

void
sli_host_init(struct sl_host *h, const char *name)
{
	memset(h, 0, sizeof(*h));
	h->struct_size = sizeof(*h);
	h->abi_major = SL_ABI_MAJOR;
	h->abi_minor = SL_ABI_MINOR;
	h->alloc = host_alloc;
	h->realloc = host_realloc;
	h->free = host_free;
	h->log = host_log;
	h->set_error = host_set_error;
	h->strerror = sl_strerror;
	h->now_ns = host_now_ns;
	h->counter_add = host_counter_add;
	h->plugin_name = name;
}
