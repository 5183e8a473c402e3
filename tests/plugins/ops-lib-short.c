/* Refused: the library table stops before ops. */
#define TP_NAME "ops-lib-short"
#define TP_OPERATORS
#define TP_LIB_SIZE offsetof(struct sl_operator_lib, ops)
#include "tp_plugin.h"
