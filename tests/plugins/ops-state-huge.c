/* Refused: a state of 2 MiB per task. */
#define TP_NAME "ops-state-huge"
#define TP_OPERATORS
#define TP_OP1_STATE_SIZE ((size_t)2 << 20)
#include "tp_plugin.h"
