/* Refused: the magic is not SL_PLUGIN_MAGIC. */
#define TP_NAME "bad-magic"
#define TP_MAGIC 0xdeadbeefu
#include "tp_plugin.h"
