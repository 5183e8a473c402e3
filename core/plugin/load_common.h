/*
 * What loader.c shares with the checks of one kind that live in a file of
 * their own (load_operators.c). Internal to core/plugin.
 */
#ifndef SLI_LOAD_COMMON_H
#define SLI_LOAD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "loader.h"

#define END_OF(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))
/* Whether a table of the declared size holds member m entirely: a size
 * that ends inside a pointer must not hand us half of one. */
#define FITS(size, type, m) ((size_t)(size) >= END_OF(type, m))

/* The core allocates each state zeroed, per partition and per task: a
 * larger size is a bug (or a units mix-up), not a plan. */
#define STATE_MAX ((size_t)1 << 20)

#define NAME_MAX_LEN 64

/* Copy the bytes a plugin declared, at most our own size, and zero the
 * rest: members it does not know of read as NULL. */
static inline void
copy_declared(void *dst, size_t ours, const void *src, uint32_t declared)
{
	size_t n = declared < ours ? declared : ours;

	memcpy(dst, src, n);
	memset((char *)dst + n, 0, ours - n);
}

/* 1 to NAME_MAX_LEN characters of [a-z0-9_-]: plugin and operator names.
 * Reads at most one character past the limit, so that a name that is not
 * terminated where it should be is refused rather than scanned on. */
static inline bool
valid_name(const char *s)
{
	size_t n = 0;

	for (; *s && n <= NAME_MAX_LEN; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '_' || *s == '-'))
			return false;
	return n >= 1 && n <= NAME_MAX_LEN;
}

/*
 * Check p's operator library (p->desc.ops, kind SL_PLUGIN_OPERATORS) and
 * copy every operator's table into p->ops.operators, with defaults. On
 * failure the detail says "plugin PATH: REASON" and p->ops.operators is
 * left empty; on success the array is p's, freed with it.
 */
int sli_load_operators(struct sli_plugin *p);

#endif
