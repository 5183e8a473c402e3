/* Refused: two operators of one name in one library. */
#define TP_NAME "ops-name-dup"
#define TP_OPERATORS
#define TP_OP1_NAME "tp-gen"
#include "tp_plugin.h"
