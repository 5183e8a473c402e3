/*
 * Loads, but is refused by a set that already has test-ops: it
 * provides tp-map too.
 */
#define TP_NAME "dup-ops"
#define TP_OPERATORS
#define TP_OP0_NAME "dup-gen"
#include "tp_plugin.h"
