/* Refused: the array's second operator table is NULL. */
#define TP_NAME "ops-entry-null"
#define TP_OPERATORS
#define TP_OP1_TABLE NULL
#include "tp_plugin.h"
