/* Refused: a kind no host knows. */
#define TP_NAME "kind-7"
#define TP_KIND 7
#include "tp_plugin.h"
