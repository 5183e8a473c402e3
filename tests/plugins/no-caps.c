/* Refused: a shuffle that declares no partition type in its caps. */
#define TP_NAME "no-caps"
#define TP_CAPS 0
#include "tp_plugin.h"
