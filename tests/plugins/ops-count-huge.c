/*
 * Refused: a count above the limit (and beyond the array, which the
 * loader must not read).
 */
#define TP_NAME "ops-count-huge"
#define TP_OPERATORS
#define TP_LIB_COUNT 4097
#include "tp_plugin.h"
