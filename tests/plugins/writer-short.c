/* Refused: the writer table stops before its required fini. */
#define TP_NAME "writer-short"
#define TP_WRITER_SIZE offsetof(struct sl_shuffle_writer_ops, fini)
#include "tp_plugin.h"
