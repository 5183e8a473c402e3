/*
 * The on-disk layout of one blocking result partition (issue 4's localdisk
 * shuffle, DESIGN §6): one data file and one index file per partition,
 * never a file per subpartition.
 *
 * The writer keeps the buffers it is given, grouped by subpartition, and
 * when they reach `spill_bytes` writes them out as a *run*: every buffer of
 * subpartition 0, then of 1, ... each as one block. A run is so sorted by
 * subpartition, and a reader of subpartitions lo..hi reads, per run, one
 * sequential extent. finish writes the last run, fsyncs the data, writes
 * the index (the extent of every subpartition in every run) and fsyncs it,
 * then renames both into place, data first: an index under its final name
 * means a complete partition, and a failed or killed writer leaves only
 * temporary files.
 *
 * Block: a 24-byte header (magic "SLDB", subpartition, payload length, kind,
 * then XXH3-64 of those 16 bytes and the payload), then the payload. The
 * kind's second byte names the codec of a compressed block (enum
 * sl_compression), whose payload is the raw length (u32 LE) then the
 * codec's bytes; the checksum covers what is stored. Index:
 * "SLDI", version, subpartitions, runs, then runs x subpartitions extents
 * (offset, length: u64 LE each), then XXH3-64 of everything before it.
 * A reader checks every checksum and every length against the index and
 * the file, and reports damage as SL_EUNREADABLE with the place: never
 * returns bad bytes as data.
 */
#ifndef SL_LD_FILE_H
#define SL_LD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/shuffle.h>

#define LD_BLOCK_HEADER 24
#define LD_MAX_BLOCK (256u << 20)

struct ld_writer;
struct ld_reader;

/*
 * Open a writer of nsub subpartitions whose files will be data_path and
 * index_path (written as PATH.tmp first). 0, or a code with host->set_error
 * (the file cannot be created: SL_EIO with strerror).
 */
int ld_writer_open(const struct sl_host *host, const char *data_path,
    const char *index_path, uint32_t nsub, size_t spill_bytes,
    struct ld_writer **out);
/* Compress blocks from now on with codec (enum sl_compression); a block
 * that compression would not shrink is stored as it is. */
int ld_writer_compress(struct ld_writer *w, uint32_t codec);
/* Take buf->data (host->alloc'd; set to NULL on success) for subpartition
 * sub. May write a run. SL_ERANGE for a bad sub, SL_EIO on a write error
 * ("No space left on device"). */
int ld_writer_add(struct ld_writer *w, uint32_t sub, struct sl_buffer *buf);
/*
 * Bytes lent to a writer instead of given (a remote shuffle daemon's
 * received batches: no copy per block). The writer calls done(lend) once
 * per block added with it, when it no longer needs that block's bytes:
 * written to the file, copied (compressed), or dropped (a failure, or
 * ld_writer_free). Called on the thread calling into the writer.
 */
struct ld_lend {
	void (*done)(struct ld_lend *lend);
};
/* As ld_writer_add, for len bytes at data lent by lend (above). Whatever
 * it returns, lend->done is called once for the block: within, when the
 * writer did not take it, else later. */
int ld_writer_add_lent(struct ld_writer *w, uint32_t sub, const void *data,
    size_t len, uint32_t kind, struct ld_lend *lend);
/* From now on, have the kernel start writing each run to the disk as soon
 * as it is written (sync_file_range), without waiting for it: finish's
 * fsync then finds little left to write, and the disk works while the
 * next run is gathered. */
void ld_writer_write_behind(struct ld_writer *w);
/* Write the rest, fsync, write the index, rename both into place. */
int ld_writer_finish(struct ld_writer *w);
/* Bytes written to the data file so far, per subpartition (payloads). */
uint64_t ld_writer_bytes(const struct ld_writer *w, uint32_t sub);
/* Free everything; a writer not finished removes its temporary files. */
void ld_writer_free(struct ld_writer *w);

/*
 * Open the finished partition at data_path/index_path to read
 * subpartitions lo..hi. SL_EUNREADABLE (with the reason) when a file is
 * missing, the index is damaged or does not fit the data file.
 */
int ld_reader_open(const struct sl_host *host, const char *data_path,
    const char *index_path, uint32_t lo, uint32_t hi, struct ld_reader **out);
/* The next block, in run order and, within a run, subpartition order:
 * 0 with out->data (host->alloc'd, the caller's), len, kind, subpartition;
 * SL_EEOF at the end; SL_EUNREADABLE for a damaged block. */
int ld_reader_next(struct ld_reader *r, struct sl_buffer *out);
void ld_reader_free(struct ld_reader *r);

/*
 * Serving a reader in another process (ld_server.c). A position is a run
 * and an offset within the run's extent of lo..hi; (0, 0) is the start.
 * seek: SL_ERANGE when the position is not in the partition. tell: the
 * position, false when nothing follows it. raw: copy whole blocks, as they
 * are on disk and unchecked (the reader checks them), into dst: 0 with
 * *got bytes, or with *got 0 and *need the size of the next block when it
 * alone is larger than cap; SL_EEOF at the end; SL_EUNREADABLE.
 */
int ld_reader_seek(struct ld_reader *r, uint32_t run, uint64_t pos);
bool ld_reader_tell(struct ld_reader *r, uint32_t *run, uint64_t *pos);
int ld_reader_raw(struct ld_reader *r, unsigned char *dst, size_t cap,
    size_t *got, size_t *need);

/*
 * Check the block at p, avail bytes before its extent ends, for a reader
 * of lo..hi: its header and checksum. 0 with out->data pointing at the
 * payload inside p, out->len, kind and subpartition, and *size (header and
 * payload); SL_EUNREADABLE with *why.
 */
int ld_block_parse(const unsigned char *p, size_t avail, uint32_t lo,
    uint32_t hi, struct sl_buffer *out, size_t *size, const char **why);
/*
 * A block from ld_block_parse whose kind names a codec: decompressed into
 * a new buffer (host->alloc'd; the old one freed when owned), kind
 * cleared of the codec. 0 (also for a block stored as it is),
 * SL_EUNREADABLE with *why, or SL_ENOMEM.
 */
int ld_block_inflate(const struct sl_host *host, struct sl_buffer *b,
    bool owned, const char **why);

#endif
