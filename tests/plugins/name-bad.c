/* Refused: a name with capitals and a space. */
#define TP_NAME "name-bad"
#define TP_DESC_NAME "Bad Name"
#include "tp_plugin.h"
