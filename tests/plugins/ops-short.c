/* Refused: operator #1's table stops before its process. */
#define TP_NAME "ops-short"
#define TP_OPERATORS
#define TP_OP1_SIZE offsetof(struct sl_operator_ops, process)
#include "tp_plugin.h"
