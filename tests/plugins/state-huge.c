/* Refused: a writer state of 2 MiB per task. */
#define TP_NAME "state-huge"
#define TP_WRITER_STATE_SIZE ((size_t)2 << 20)
#include "tp_plugin.h"
