/*
 * Loads: an operator table (#1) that ends after process, its last
 * required op, as if built before the optional ops existed, with garbage
 * where they would be. The loader must read only what was declared and
 * use its defaults.
 */
#define TP_NAME "test-ops-small"
#define TP_OPERATORS
#define TP_OP0_NAME "small-gen"
#define TP_OP1_NAME "small-map"
#define TP_OP1_SIZE TP_END_OF(struct sl_operator_ops, process)
#define TP_OP1_FINISH TP_GARBAGE(int (*)(void *, const struct sl_task_ctx *))
#define TP_OP1_ABORT TP_GARBAGE(void (*)(void *, const struct sl_task_ctx *))
#define TP_OP1_CLOSE TP_GARBAGE(void (*)(void *))
#include "tp_plugin.h"
