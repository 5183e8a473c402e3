/*
 * The remote shuffle service's partitions (docs/remote-shuffle.md): what a
 * `sluice shuffled` daemon keeps of each partition attempt writers push to
 * it. Batches of blocks are numbered from 0 per attempt; a batch is
 * appended when it is the one expected, acknowledged and dropped when it
 * came before (a retry whose answer was lost), refused when it skips one.
 * A commit names how many batches there were: the attempt's files are
 * then finished (localdisk's format, ld_file.c, under localdisk's paths)
 * and only then readable. Thread-safe; one lock (the socket's threads take
 * turns, the disk is the bound).
 */
#ifndef SL_RS_STORE_H
#define SL_RS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/plugin.h>

#include "localdisk.h"

/* A batch's block: u32 LE subpartition, u32 LE kind, u32 LE length, then
 * the bytes. */
#define RS_BLOCK_HEADER 12
#define RS_MAX_BATCH (16u << 20) /* bytes of blocks in one push */

struct rs_store;

int rs_store_open(const struct sl_host *host, struct rs_store **out);
/* Remove what was not committed, free the rest (files stay). */
void rs_store_close(struct rs_store *s);

/*
 * Batch seq of d's attempt: blocks (len bytes, as above). *next gets the
 * batch expected after. 0: appended, or a duplicate dropped; SL_EPARSE: a
 * malformed batch (nothing of it appended); SL_EINVAL: seq skips a batch,
 * or the attempt was committed and seq is new; SL_EIO: the disk. The
 * detail goes to host->set_error.
 */
int rs_store_push(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    const unsigned char *blocks, size_t len, uint64_t *next);
/* Commit d's attempt after batches 0..nbatches-1. Idempotent; SL_EINVAL
 * when nbatches is not what was pushed, SL_EIO from the disk. */
int rs_store_commit(
    struct rs_store *s, const struct ld_desc *d, uint64_t nbatches);
/* Drop d's attempt, committed or not, and its files. */
void rs_store_release(struct rs_store *s, const struct ld_desc *d);

#endif
