/* The process's logger: lines on stderr, "sluice: warning: ...". The level
 * comes from SLUICE_LOG (error, warn, info, debug; default warn). */
#ifndef SLI_LOG_H
#define SLI_LOG_H

#include <stdarg.h>

#include <sluice/plugin.h> /* enum sl_log_level */

void sli_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sli_vlog(int level, const char *tag, const char *fmt, va_list ap);
void sli_log_set_level(int level);
int sli_log_level(void);

#define sli_warn(...) sli_log(SL_LOG_WARN, __VA_ARGS__)
#define sli_info(...) sli_log(SL_LOG_INFO, __VA_ARGS__)
#define sli_debug(...) sli_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
