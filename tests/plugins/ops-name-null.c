/* Refused: operator #1 has no name. */
#define TP_NAME "ops-name-null"
#define TP_OPERATORS
#define TP_OP1_NAME NULL
#include "tp_plugin.h"
