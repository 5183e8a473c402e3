/* Refused: the required master op release_partition is NULL. */
#define TP_NAME "master-no-release"
#define TP_MASTER_RELEASE NULL
#include "tp_plugin.h"
