/* Refused: a source without run. */
#define TP_NAME "ops-source-no-run"
#define TP_OPERATORS
#define TP_OP0_RUN NULL
#include "tp_plugin.h"
