/* Loads, but is refused by a set that already has test-sched. */
#define TP_NAME "dup-sched"
#define TP_DESC_NAME "test-sched"
#define TP_SCHEDULER
#include "tp_plugin.h"
