/* Refused: the source has no open. */
#define TP_NAME "ops-no-open"
#define TP_OPERATORS
#define TP_OP0_OPEN NULL
#include "tp_plugin.h"
