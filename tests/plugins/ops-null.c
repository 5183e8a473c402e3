/* Refused: no ops table. */
#define TP_NAME "ops-null"
#define TP_OPS NULL
#include "tp_plugin.h"
