/* Refused: the entry returns no descriptor. */
#include <stddef.h>

#include <sluice/plugin.h>

SL_PLUGIN_EXPORT const struct sl_plugin *sl_plugin_entry(void);

SL_PLUGIN_EXPORT const struct sl_plugin *
sl_plugin_entry(void)
{
	return NULL;
}
