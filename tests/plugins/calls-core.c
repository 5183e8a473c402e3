/*
 * Not a plugin: compiled with -DSL_PLUGIN by a test that expects the
 * compiler to reject the call below. The core's sl_strerror is hidden from
 * plugin builds, so a plugin learns at compile time, not at load time
 * ("undefined symbol"), that it must use host->strerror.
 */
#include <sluice/plugin.h>

const char *calls_core(int err);

const char *
calls_core(int err)
{
	return sl_strerror(err);
}
