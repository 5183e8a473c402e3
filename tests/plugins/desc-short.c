/* Refused: the descriptor declares less than the 1.0 size. */
#define TP_NAME "desc-short"
#define TP_DESC_SIZE offsetof(struct sl_plugin, ops)
#include "tp_plugin.h"
