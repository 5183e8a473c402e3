/*
 * Loads: a master table that ends after is_available, its last required
 * op, as if built against an ABI without the optional ops, with garbage
 * where worker_lost would be. The loader must read only what was declared
 * and use its default.
 */
#define TP_NAME "test-small-shuffle"
#define TP_MASTER_SIZE TP_END_OF(struct sl_shuffle_master_ops, is_available)
#define TP_MASTER_WORKER_LOST TP_GARBAGE(void (*)(void *, const char *))
#include "tp_plugin.h"
