/*
 * The remote shuffle plugin (docs/remote-shuffle.md): partitions pushed to
 * `sluice shuffled` daemons, which store them in localdisk's format and
 * serve localdisk's fetches. Its descriptors are localdisk's, located at a
 * daemon; its reader is localdisk's, built to fetch every partition.
 */
#ifndef SL_RS_PLUGIN_H
#define SL_RS_PLUGIN_H

#include <sluice/shuffle.h>

#include "localdisk.h"

/* Bytes of blocks a writer gathers before it pushes them, batches it
 * lets wait for an answer before write blocks (back pressure), and of
 * those, how many it has on the wire to a daemon at once. */
#define RS_BATCH_BYTES (1u << 20)
#define RS_IN_FLIGHT 4
#define RS_ON_WIRE 2

extern const struct sl_shuffle_master_ops rs_master_ops;
extern const struct sl_shuffle_writer_ops rs_writer_ops;

#endif
