/* Refused: a library of no operators. */
#define TP_NAME "ops-count-0"
#define TP_OPERATORS
#define TP_LIB_COUNT 0
#include "tp_plugin.h"
