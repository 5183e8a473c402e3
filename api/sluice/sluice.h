/* sluice: everything public in one include. */
#ifndef SLUICE_H
#define SLUICE_H

#include "errors.h"
#include "graph.h"
#include "plugin.h"
#include "scheduler.h"
#include "shuffle.h"

#define SLUICE_VERSION "0.1.0"

#endif /* SLUICE_H */
