/*
 * Loads: a scheduler table whose size ends 4 bytes into on_regions_reset,
 * which holds garbage. Half a pointer is no pointer: the loader must use
 * its default (on_start).
 */
#define TP_NAME "test-small-sched"
#define TP_SCHEDULER
#define TP_SCHED_SIZE (offsetof(struct sl_scheduler_ops, on_regions_reset) + 4)
#define TP_SCHED_ON_REGIONS_RESET \
	TP_GARBAGE(int (*)(       \
	    void *, const struct sl_sched_ctx *, const uint32_t *, uint32_t))
#include "tp_plugin.h"
