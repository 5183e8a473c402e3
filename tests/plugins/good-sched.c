/* Loads: a scheduler with only the required ops. */
#define TP_NAME "test-sched"
#define TP_SCHEDULER
#include "tp_plugin.h"
