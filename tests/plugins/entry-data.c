/*
 * Refused: sl_plugin_entry is the descriptor itself, not a function that
 * returns it. Calling it would jump into data.
 */
#include <stddef.h>

#include <sluice/plugin.h>

SL_PLUGIN_EXPORT extern const struct sl_plugin sl_plugin_entry;

SL_PLUGIN_EXPORT const struct sl_plugin sl_plugin_entry = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SCHEDULER,
	.name = "entry-data",
};
