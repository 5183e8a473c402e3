/* Refused: an operator library without its table. */
#define TP_NAME "ops-lib-missing"
#define TP_OPERATORS
#define TP_OPS NULL
#include "tp_plugin.h"
