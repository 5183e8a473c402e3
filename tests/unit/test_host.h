/*
 * The host table a plugin's pieces get when a unit test compiles them in:
 * malloc for memory, the last error's detail kept in `detail` (per
 * thread), logging dropped.
 */
#ifndef SL_TEST_HOST_H
#define SL_TEST_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <sluice/plugin.h>

static _Thread_local char detail[1024];

static void *
t_alloc(size_t n)
{
	return malloc(n);
}

static void *
t_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void
t_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

static void
t_log(const struct sl_host *h, int level, const char *fmt, ...)
{
	(void)h;
	(void)level;
	(void)fmt;
}

static const struct sl_host host = {
	.struct_size = sizeof(struct sl_host),
	.log = t_log,
	.alloc = t_alloc,
	.realloc = t_realloc,
	.free = free,
	.set_error = t_set_error,
};

#endif
