/* Refused: the required writer op finish is NULL. */
#define TP_NAME "writer-no-finish"
#define TP_WRITER_FINISH NULL
#include "tp_plugin.h"
