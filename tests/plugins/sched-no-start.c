/* Refused: a scheduler without the required on_start. */
#define TP_NAME "sched-no-start"
#define TP_SCHEDULER
#define TP_SCHED_ON_START NULL
#include "tp_plugin.h"
