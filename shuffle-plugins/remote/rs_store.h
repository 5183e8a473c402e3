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
 *
 * Bytes held: a committed attempt counts its files' size, an attempt
 * being written the bytes of the blocks pushed to it so far (most of them
 * still in its writer's memory); a release, a failed attempt or a dropped
 * job takes its bytes off.
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
 * The data dir (localdisk's base directory, absolute; copied), named in
 * errors from the disk, and the watermark: while its file system is more
 * than max_use % used (statvfs), a new attempt (its batch 0) is refused;
 * batches of attempts begun go on. 100: never refused; 0: always. May be
 * called at any time; until it is, nothing is refused.
 */
void rs_store_set_disk(struct rs_store *s, const char *dir, uint32_t max_use);
/* The percentage (0..100, rounded up, as df's) of the file system of dir
 * in use into *pct; -errno when statvfs fails. */
int rs_disk_used(const char *dir, uint32_t *pct);
/* The bytes held, all attempts (above). */
uint64_t rs_store_bytes(struct rs_store *s);

/*
 * Batch seq of d's attempt: blocks (len bytes, as above). *next gets the
 * batch expected after. 0: appended, or a duplicate dropped; SL_EPARSE: a
 * malformed batch (nothing of it appended); SL_EINVAL: seq skips a batch,
 * or the attempt was committed and seq is new; SL_EBUSY: a new attempt
 * while the data dir is over its watermark; SL_EIO: the disk (the attempt
 * is then dropped, its files removed). The detail goes to host->set_error,
 * the disk's naming the data dir ("remote: data dir DIR: write ...: No
 * space left on device").
 */
int rs_store_push(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    const unsigned char *blocks, size_t len, uint64_t *next);
/* Commit d's attempt after batches 0..nbatches-1. Idempotent; SL_EINVAL
 * when nbatches is not what was pushed, SL_EIO from the disk. */
int rs_store_commit(
    struct rs_store *s, const struct ld_desc *d, uint64_t nbatches);
/* Drop d's attempt, committed or not, and its files. */
void rs_store_release(struct rs_store *s, const struct ld_desc *d);

/* Take in d's attempt, committed by an earlier daemon on this data dir
 * (its files found complete; bytes their size): released, dropped and
 * counted as one committed here. A commit of it again is taken, a new
 * batch refused. SL_EEXISTS when the store has d's attempt already. */
int rs_store_adopt(struct rs_store *s, const struct ld_desc *d, uint64_t bytes);
/* Drop every attempt of the job whose directory is that of (job, token)
 * (ld_paths), committed or not, and their files. How many there were, and
 * their bytes into *bytes. */
uint32_t rs_store_drop_job(
    struct rs_store *s, const char *job, uint64_t token, uint64_t *bytes);
/* The directory of (job, token)'s partitions, under the data dir, into
 * dir (cap bytes): ld_paths', so that it is where localdisk puts them. */
int rs_job_dir(const struct sl_host *host, const char *job, uint64_t token,
    char *dir, size_t cap);

#endif
