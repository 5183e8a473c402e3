/* Internal error helpers: setting the thread's error detail. */
#ifndef SLI_ERROR_H
#define SLI_ERROR_H

#include <stdarg.h>

#include <sluice/errors.h>

/* Set the calling thread's sl_errdetail() and return err, so that a failing
 * path reads: return sli_err(SL_EINVAL, "edge %u: ...", i); */
int sli_err(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sli_verr(const char *fmt, va_list ap);
void sli_err_clear(void);

#endif
