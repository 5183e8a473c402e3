/* Refused: an empty name. */
#define TP_NAME "name-empty"
#define TP_DESC_NAME ""
#include "tp_plugin.h"
