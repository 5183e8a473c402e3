/* The remote shuffle plugin (rs_plugin.h): its descriptor and ops. */
#include "rs_plugin.h"

static const struct sl_shuffle_ops ops = {
	.struct_size = sizeof(struct sl_shuffle_ops),
	.master = &rs_master_ops,
	.writer = &rs_writer_ops,
	.reader = &ld_reader_ops,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SHUFFLE,
	.name = "remote",
	.version = "0.1.0",
	.caps = SL_SHUFFLE_CAP_TYPE(SL_PARTITION_BLOCKING) |
	    SL_SHUFFLE_CAP_SURVIVES_WORKER,
	.ops = &ops,
	.init = ld_plugin_init,
	.fini = ld_plugin_fini,
};

SL_PLUGIN_DEFINE(plugin)
