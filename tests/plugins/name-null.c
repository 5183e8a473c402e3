/* Refused: no name at all. */
#define TP_NAME "name-null"
#define TP_DESC_NAME NULL
#include "tp_plugin.h"
