/* Refused: a shared object with some function, but no sl_plugin_entry. */
#include <sluice/plugin.h>

SL_PLUGIN_EXPORT int tp_not_a_plugin(void);

SL_PLUGIN_EXPORT int
tp_not_a_plugin(void)
{
	return 42;
}
