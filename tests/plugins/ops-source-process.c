/* Refused: a source with a process, which nothing would call. */
#define TP_NAME "ops-source-process"
#define TP_OPERATORS
#define TP_OP0_PROCESS tp_map_process
#include "tp_plugin.h"
