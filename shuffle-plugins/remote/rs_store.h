/*
 * The remote shuffle service's partitions (docs/remote-shuffle.md): what a
 * `sluice shuffled` daemon keeps of each partition attempt writers push to
 * it. Batches of blocks are numbered from 0 per attempt; a batch is
 * appended when it is the one expected, acknowledged and dropped when it
 * came before (a retry whose answer was lost), refused when it skips one.
 * A commit names how many batches there were: the attempt's files are
 * then finished (localdisk's format, ld_file.c, under localdisk's paths)
 * and only then readable.
 *
 * The memory tier (rs_tier.c): a push is answered once its batch is in
 * memory, queued for its attempt's writer; RS_FEEDERS threads of the
 * store hand queued batches to the writers (ld_file.c: sorted into runs,
 * checksummed, written), one attempt on one thread at a time, in order.
 * The batch's bytes are the writer's without a copy (lent: a received
 * message stays whole until its last block is written). The tier holds the
 * batches queued and those in a writer's run not yet written; while it is over
 * its limit a push waits before it is queued (the caller's answer waits
 * with it: back pressure), unless its attempt has nothing queued, so that
 * every attempt always moves (its run is written at LD_SPILL_BYTES: with
 * many attempts the tier may exceed the limit by one run being sorted per
 * attempt). A commit waits until its attempt's batches are all in its
 * writer, then finishes the files on the caller's thread.
 *
 * Thread-safe. One lock for the table, the queues and the counts (held
 * for no disk work: creating an attempt's file aside), one per attempt
 * for its writer (a run written, a commit's fsync).
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
#define RS_MAX_BATCH (16u << 20)         /* bytes of blocks in one push */
#define RS_MEMORY_DEFAULT (256ull << 20) /* the memory tier's limit */
#define RS_FEEDERS 2       /* threads handing batches to the writers */
#define RS_REORDER_MS 5000 /* a push waits this long for those before it */

struct rs_store;

/* A store, its feeders started; SL_ENOMEM. */
int rs_store_open(const struct sl_host *host, struct rs_store **out);
/* Stop the feeders, remove what was not committed, free the rest
 * (committed files stay). No call may be under way. */
void rs_store_close(struct rs_store *s);
/* The memory tier's limit, bytes (above; 0: RS_MEMORY_DEFAULT). */
void rs_store_set_memory(struct rs_store *s, uint64_t limit);
/* The bytes in the memory tier now: batches not yet written. */
uint64_t rs_store_memory(struct rs_store *s);
/* Whether the feeders hand batches to the writers: false holds every
 * batch in the memory tier (tests: what waits when it is full). */
void rs_store_feed(struct rs_store *s, bool on);

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
 * Batch seq of d's attempt: blocks (len bytes, as above), owned by owner
 * and given back with release(owner). Blocks the caller while the memory
 * tier is full (above), and, when up to `out` batches before seq have not
 * arrived (its writer sent them before it, another thread has them), for
 * at most RS_REORDER_MS until they have. *next gets the batch expected
 * after. 0: queued
 * (or a duplicate dropped), and owner is the store's; else owner stays
 * the caller's: SL_EPARSE: a malformed batch (nothing of it appended);
 * SL_EINVAL: seq skips a batch, or a commit of the attempt began and seq
 * is new, or the attempt was released meanwhile; SL_EBUSY: a new attempt
 * while the data dir is over its watermark; SL_EIO: the disk failed the
 * attempt (its files are removed; every push and commit of it says so
 * until it is released). The detail goes to host->set_error, the disk's
 * naming the data dir ("remote: data dir DIR: write ...: No space left on
 * device").
 */
int rs_store_push_owned(struct rs_store *s, const struct ld_desc *d,
    uint64_t seq, uint32_t out, const unsigned char *blocks, size_t len,
    void (*release)(void *owner), void *owner, uint64_t *next);
/* rs_store_push_owned of a copy of blocks (the caller's), out 0. */
int rs_store_push(struct rs_store *s, const struct ld_desc *d, uint64_t seq,
    const unsigned char *blocks, size_t len, uint64_t *next);
/* Commit d's attempt after batches 0..nbatches-1: waits until they are
 * all in its writer, then writes the rest, fsyncs and renames (ld_file.h).
 * Idempotent; SL_EINVAL when nbatches is not what was pushed (or the
 * attempt was released meanwhile), SL_EIO from the disk. */
int rs_store_commit(
    struct rs_store *s, const struct ld_desc *d, uint64_t nbatches);
/* Drop d's attempt, committed or not, its files and its batches in the
 * memory tier. Waits for a run being written or a commit under way. */
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
