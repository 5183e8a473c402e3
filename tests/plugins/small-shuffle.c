/*
 * Loads: a master table that ends after release_partition, as if built
 * against an ABI without the optional ops, with garbage where is_available
 * would be. The loader must read only what was declared and use its default.
 */
#define TP_NAME "test-small-shuffle"
#define TP_MASTER_SIZE TP_END_OF(struct sl_shuffle_master_ops, release_partition)
#define TP_MASTER_IS_AVAILABLE TP_GARBAGE(bool (*)(void *, const void *, size_t))
#include "tp_plugin.h"
