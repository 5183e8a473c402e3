/* The error list's strings, and the thread's error detail. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local char detail[1024];

const char *
sl_strerror(int err)
{
	switch (err) {
#define XX(name, num, msg) \
	case SL_E##name:   \
		return msg;
		SL_ERRNO_MAP(XX)
#undef XX
	}
	if (err == 0)
		return "success";
	if (err < 0 && err > -1000) {
		/* Not strerror: its result may be a per-thread buffer or
		 * depend on the locale, and host->strerror promises plugins a
		 * static string from any thread. */
		const char *d = strerrordesc_np(-err);
		return d ? d : "unknown error";
	}
	return "unknown error";
}

const char *
sl_errname(int err)
{
	switch (err) {
#define XX(name, num, msg) \
	case SL_E##name:   \
		return "SL_E" #name;
		SL_ERRNO_MAP(XX)
#undef XX
	}
	if (err == 0)
		return "OK";
	if (err < 0 && err > -1000) {
		const char *n = strerrorname_np(-err);
		return n ? n : "EUNKNOWN";
	}
	return "EUNKNOWN";
}

const char *
sl_errdetail(void)
{
	return detail;
}

void
sli_verr(const char *fmt, va_list ap)
{
	char buf[sizeof(detail)];

	/* through a copy: callers wrap the detail in a new one
	 * (sli_err("...: %s", sl_errdetail())) */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	memcpy(detail, buf, sizeof(detail));
}

int
sli_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sli_verr(fmt, ap);
	va_end(ap);
	return err;
}

void
sli_err_clear(void)
{
	detail[0] = '\0';
}
