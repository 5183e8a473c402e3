/* Refused: operator #1's name has characters names cannot have. */
#define TP_NAME "ops-name-bad"
#define TP_OPERATORS
#define TP_OP1_NAME "Map!"
#include "tp_plugin.h"
