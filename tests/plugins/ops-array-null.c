/* Refused: a count, but no array. */
#define TP_NAME "ops-array-null"
#define TP_OPERATORS
#define TP_LIB_OPS NULL
#include "tp_plugin.h"
