/* Refused: an operator that is not a source, without process. */
#define TP_NAME "ops-no-process"
#define TP_OPERATORS
#define TP_OP1_PROCESS NULL
#include "tp_plugin.h"
