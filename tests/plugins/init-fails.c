/* Refused: init fails (and says why); fini must not be called. */
#define TP_NAME "init-fails"
#define TP_INIT_FAILS
#include "tp_plugin.h"
