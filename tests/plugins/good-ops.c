/*
 * Loads: an operator library of a source (tp-gen) and a map (tp-map)
 * with only the ops they need.
 */
#define TP_NAME "test-ops"
#define TP_OPERATORS
#include "tp_plugin.h"
