/* Refused: built for ABI 2.0. */
#define TP_NAME "abi-major-2"
#define TP_ABI_MAJOR 2
#define TP_ABI_MINOR 0
#include "tp_plugin.h"
