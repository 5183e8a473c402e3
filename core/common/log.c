#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Atomic: plugin threads may log before the main thread ever did. */
static atomic_int level = -1;

static const char *const names[] = { "error", "warning", "info", "debug" };

int
sli_log_level(void)
{
	int l = atomic_load(&level);

	if (l < 0) {
		const char *e = getenv("SLUICE_LOG");
		l = SL_LOG_WARN;
		for (int i = 0; e != NULL && i < 4; i++)
			if (strncmp(e, names[i], 4) == 0)
				l = i;
		atomic_store(&level, l);
	}
	return l;
}

void
sli_log_set_level(int l)
{
	atomic_store(&level,
	    l < SL_LOG_ERROR       ? SL_LOG_ERROR
	        : l > SL_LOG_DEBUG ? SL_LOG_DEBUG
	                           : l);
}

void
sli_vlog(int l, const char *tag, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (l > sli_log_level())
		return;
	if (l < 0 || l > SL_LOG_DEBUG)
		l = SL_LOG_ERROR;
	/* One write per line, so lines of threads and processes never mix. */
	n = snprintf(line, sizeof(line), "sluice%s%s: %s: ", tag ? ": " : "",
	    tag ? tag : "", names[l]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	strcat(line, "\n");
	fputs(line, stderr);
}

void
sli_log(int l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sli_vlog(l, NULL, fmt, ap);
	va_end(ap);
}
