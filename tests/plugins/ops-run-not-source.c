/* Refused: an operator that is not a source, with a run. */
#define TP_NAME "ops-run-not-source"
#define TP_OPERATORS
#define TP_OP1_RUN tp_gen_run
#include "tp_plugin.h"
