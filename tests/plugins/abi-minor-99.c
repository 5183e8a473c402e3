/* Refused: built for ABI 1.99, newer than the host. */
#define TP_NAME "abi-minor-99"
#define TP_ABI_MINOR 99
#include "tp_plugin.h"
