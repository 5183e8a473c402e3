/* Loads: a shuffle plugin with only the required ops, all stubs. */
#define TP_NAME "test-shuffle"
#include "tp_plugin.h"
