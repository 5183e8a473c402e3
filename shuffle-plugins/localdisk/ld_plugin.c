/* The localdisk plugin: its descriptor and ops (the pieces are in the
 * other files, which the remote plugin compiles in too). */
#include "localdisk.h"

static const struct sl_shuffle_ops ops = {
	.struct_size = sizeof(struct sl_shuffle_ops),
	.master = &ld_master_ops,
	.writer = &ld_writer_ops,
	.reader = &ld_reader_ops,
	.server = &ld_server_ops,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SHUFFLE,
	.name = "localdisk",
	.version = "0.1.0",
	.caps = SL_SHUFFLE_CAP_TYPE(SL_PARTITION_BLOCKING),
	.ops = &ops,
	.init = ld_plugin_init,
	.fini = ld_plugin_fini,
};

SL_PLUGIN_DEFINE(plugin)
