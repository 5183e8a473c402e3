/* Loads: caps bits this build does not know are ignored (a later minor may
 * define them), as long as one partition type is declared. */
#define TP_NAME "test-caps-unknown"
#define TP_CAPS                                                             \
	(SL_SHUFFLE_CAP_TYPE(SL_PARTITION_BLOCKING) | (UINT64_C(1) << 40) | \
	    (UINT64_C(1) << 63))
#include "tp_plugin.h"
