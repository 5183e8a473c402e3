/* Refused: the shuffle ops table stops before its reader member. */
#define TP_NAME "shuffle-short"
#define TP_SHUFFLE_SIZE offsetof(struct sl_shuffle_ops, reader)
#include "tp_plugin.h"
