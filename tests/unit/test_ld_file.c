/*
 * The localdisk partition files (shuffle-plugins/localdisk/ld_file.c),
 * compiled in: buffers come back per subpartition in the order written,
 * across several spilled runs and for any subpartition range; a range is
 * one extent per run; a failed writer leaves nothing under the final
 * names; a full disk is an error that says so; damage anywhere is
 * SL_EUNREADABLE, never data.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "ld_file.h"
#include "sl_test.h"
#include "test_host.h"
#include "sl_testutil.h"

static char root[256];

static const char *
path(const char *name)
{
	static char bufs[4][600];
	static int k;
	char *b = bufs[k++ % 4];

	sl_tmp_dir(root, sizeof(root), "sl-ld-file");
	snprintf(b, 600, "%s/%s", root, name);
	return b;
}

/* Buffer i of subpartition s: its length and bytes follow from (s, i). */
static size_t
len_of(uint32_t s, uint32_t i)
{
	return (s * 7919u + i * 104729u) % 3000u + (i % 5 == 0 ? 0 : 1);
}

static void
fill(unsigned char *b, size_t n, uint32_t s, uint32_t i)
{
	for (size_t k = 0; k < n; k++)
		b[k] = (unsigned char)(s * 31 + i * 7 + k);
}

static uint32_t codec; /* of the partitions written next */

/* Write `per` buffers to each of nsub subpartitions, interleaved, spilling
 * every spill bytes. */
static void
write_partition(const char *name, uint32_t nsub, uint32_t per, size_t spill)
{
	char data[600], index[600];
	struct ld_writer *w;

	snprintf(data, sizeof(data), "%s.data", path(name));
	snprintf(index, sizeof(index), "%s.index", path(name));
	CU_ASSERT_EQUAL_FATAL(
	    ld_writer_open(&host, data, index, nsub, spill, &w), 0);
	CU_ASSERT_EQUAL_FATAL(ld_writer_compress(w, codec), 0);
	for (uint32_t i = 0; i < per; i++)
		for (uint32_t s = 0; s < nsub; s++) {
			size_t n = len_of(s, i);
			struct sl_buffer b = { .len = n,
				.kind =
				    i == 3 ? SL_BUFFER_EVENT : SL_BUFFER_DATA };

			b.data = malloc(n ? n : 1);
			fill(b.data, n, s, i);
			CU_ASSERT_EQUAL_FATAL(ld_writer_add(w, s, &b), 0);
			CU_ASSERT_PTR_NULL(b.data);
		}
	CU_ASSERT_EQUAL_FATAL(ld_writer_finish(w), 0);
	ld_writer_free(w);
}

/* Read lo..hi back: per subpartition, buffers 0..per-1 in order. */
static void
check_range(const char *name, uint32_t lo, uint32_t hi, uint32_t per)
{
	char data[600], index[600];
	uint32_t next[64] = { 0 };
	struct ld_reader *r;
	struct sl_buffer b;
	int rv;

	snprintf(data, sizeof(data), "%s.data", path(name));
	snprintf(index, sizeof(index), "%s.index", path(name));
	CU_ASSERT_EQUAL_FATAL(
	    ld_reader_open(&host, data, index, lo, hi, &r), 0);
	while ((rv = ld_reader_next(r, &b)) == 0) {
		uint32_t s = b.subpartition, i;
		unsigned char want[3100];

		CU_ASSERT_FATAL(s >= lo && s <= hi);
		i = next[s]++;
		CU_ASSERT_EQUAL(b.len, len_of(s, i));
		CU_ASSERT_EQUAL(
		    b.kind, i == 3 ? SL_BUFFER_EVENT : SL_BUFFER_DATA);
		fill(want, b.len, s, i);
		CU_ASSERT(memcmp(b.data, want, b.len) == 0);
		free(b.data);
	}
	CU_ASSERT_EQUAL(rv, SL_EEOF);
	for (uint32_t s = lo; s <= hi; s++)
		CU_ASSERT_EQUAL(next[s], per);
	ld_reader_free(r);
}

static void
test_round_trip(void)
{
	/* one run (no spill before finish), then many runs */
	write_partition("one", 5, 40, 64u << 20);
	write_partition("many", 5, 40, 20000);
	for (int k = 0; k < 2; k++) {
		const char *n = k ? "many" : "one";

		check_range(n, 0, 4, 40);
		check_range(n, 0, 0, 40);
		check_range(n, 1, 3, 40);
		check_range(n, 4, 4, 40);
	}
	/* nothing written: every range is empty */
	write_partition("empty", 3, 0, 1000);
	check_range("empty", 0, 2, 0);
}

static void
test_refusals(void)
{
	char data[600], index[600];
	struct ld_writer *w;
	struct ld_reader *r;
	struct sl_buffer b = { .len = 4 };

	snprintf(data, sizeof(data), "%s", path("ref.data"));
	snprintf(index, sizeof(index), "%s", path("ref.index"));
	CU_ASSERT_EQUAL_FATAL(
	    ld_writer_open(&host, data, index, 2, 100, &w), 0);
	b.data = malloc(4);
	CU_ASSERT_EQUAL(ld_writer_add(w, 2, &b), SL_ERANGE);
	CU_ASSERT_PTR_NOT_NULL(b.data); /* still the caller's */
	free(b.data);
	/* not finished: the temporary file goes, nothing is visible */
	ld_writer_free(w);
	CU_ASSERT_EQUAL(access(data, F_OK), -1);
	CU_ASSERT_EQUAL(access(index, F_OK), -1);
	{
		char tmp[700];

		snprintf(tmp, sizeof(tmp), "%s.tmp", data);
		CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
	}
	CU_ASSERT_EQUAL(
	    ld_reader_open(&host, data, index, 0, 0, &r), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "ref.index"));

	write_partition("r2", 2, 3, 100);
	snprintf(data, sizeof(data), "%s.data", path("r2"));
	snprintf(index, sizeof(index), "%s.index", path("r2"));
	CU_ASSERT_EQUAL(
	    ld_reader_open(&host, data, index, 1, 2, &r), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "2 subpartitions"));
}

/* Flip one byte at off of file; the reader must not return data past it. */
static void
flip(const char *file, off_t off)
{
	unsigned char c;
	int fd = open(file, O_RDWR);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static int
read_all(const char *name, uint32_t lo, uint32_t hi)
{
	char data[600], index[600];
	struct ld_reader *r;
	struct sl_buffer b;
	int rv;

	snprintf(data, sizeof(data), "%s.data", path(name));
	snprintf(index, sizeof(index), "%s.index", path(name));
	if ((rv = ld_reader_open(&host, data, index, lo, hi, &r)) != 0)
		return rv;
	while ((rv = ld_reader_next(r, &b)) == 0)
		free(b.data);
	ld_reader_free(r);
	return rv;
}

static void
test_damage(void)
{
	char data[600], index[600];
	struct stat st;
	uint64_t seed = 5;

	write_partition("dmg", 4, 30, 30000);
	snprintf(data, sizeof(data), "%s.data", path("dmg"));
	snprintf(index, sizeof(index), "%s.index", path("dmg"));
	CU_ASSERT_EQUAL(read_all("dmg", 0, 3), SL_EEOF);
	CU_ASSERT_EQUAL_FATAL(stat(data, &st), 0);
	/* any byte of the data file: a header or a payload */
	for (int k = 0; k < 40; k++) {
		off_t off = (off_t)(sl_rng_next(&seed) % (uint64_t)st.st_size);

		flip(data, off);
		CU_ASSERT_EQUAL(read_all("dmg", 0, 3), SL_EUNREADABLE);
		flip(data, off);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "dmg.data"));
	/* the index */
	flip(index, 20);
	CU_ASSERT_EQUAL(read_all("dmg", 0, 3), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "damaged index"));
	flip(index, 20);
	/* a data file cut short */
	CU_ASSERT_EQUAL(truncate(data, st.st_size - 10), 0);
	CU_ASSERT_EQUAL(read_all("dmg", 0, 3), SL_EUNREADABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "does not fit"));
}

static off_t
file_size(const char *name)
{
	char data[600];
	struct stat st;

	snprintf(data, sizeof(data), "%s.data", path(name));
	CU_ASSERT_EQUAL_FATAL(stat(data, &st), 0);
	return st.st_size;
}

/*
 * Compressed partitions (lz4, zstd) read back the same, in less space;
 * damage is caught by the checksum, and a block whose checksum holds but
 * whose bytes do not decompress (a bug, or damage before the checksum was
 * taken) is unreadable too, never data.
 */
static void
test_compression(void)
{
	const char *names[] = { "plain", "lz4", "zstd" };
	off_t size[3];

	for (uint32_t c = 0; c < 3; c++) {
		codec = c;
		write_partition(names[c], 5, 40, 20000);
		size[c] = file_size(names[c]);
		check_range(names[c], 0, 4, 40);
		check_range(names[c], 1, 3, 40);
	}
	codec = SL_COMPRESSION_NONE;
	/* fill()'s bytes repeat every 256: both codecs shrink them */
	CU_ASSERT(size[1] < size[0] / 4);
	CU_ASSERT(size[2] < size[0] / 4);
	CU_ASSERT_EQUAL(read_all("lz4", 0, 4), SL_EEOF);
	{
		char data[600];
		uint64_t seed = 9;

		snprintf(data, sizeof(data), "%s.data", path("zstd"));
		for (int k = 0; k < 20; k++) {
			off_t off =
			    (off_t)(sl_rng_next(&seed) % (uint64_t)size[2]);

			flip(data, off);
			CU_ASSERT_EQUAL(read_all("zstd", 0, 4), SL_EUNREADABLE);
			flip(data, off);
		}
		CU_ASSERT_EQUAL(read_all("zstd", 0, 4), SL_EEOF);
	}

	/* a compressed block's stored raw length changed, and its checksum
	 * made to match */
	for (uint32_t c = 1; c < 3; c++) {
		char data[600];
		size_t n, alln;
		unsigned char *b, *all;
		XXH3_state_t st;

		snprintf(data, sizeof(data), "%s.data", path(names[c]));
		b = all = (unsigned char *)sl_read_file(data, &alln);
		n = alln;
		CU_ASSERT_FATAL(b != NULL && n > 40);
		/* the first compressed block (small ones are stored raw) */
		while (b[13] == 0) {
			size_t len = (size_t)b[8] | (size_t)b[9] << 8 |
			    (size_t)b[10] << 16;

			CU_ASSERT_FATAL(LD_BLOCK_HEADER + len < n);
			b += LD_BLOCK_HEADER + len;
			n -= LD_BLOCK_HEADER + len;
		}
		CU_ASSERT_EQUAL_FATAL(b[13], c); /* the kind's codec byte */
		/* the raw length: a changed literal would decompress to
		 * other bytes, which only the checksum can catch */
		b[LD_BLOCK_HEADER] ^= 0x01;
		XXH3_64bits_reset(&st);
		XXH3_64bits_update(&st, b, 16);
		XXH3_64bits_update(&st, b + LD_BLOCK_HEADER,
		    (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16);
		{
			uint64_t h = XXH3_64bits_digest(&st);

			for (int i = 0; i < 8; i++)
				b[16 + i] = (unsigned char)(h >> (8 * i));
		}
		b = all;
		n = alln;
		sl_write_file(data, b, n);
		free(b);
		CU_ASSERT_EQUAL(read_all(names[c], 0, 4), SL_EUNREADABLE);
		CU_ASSERT_PTR_NOT_NULL(strstr(detail, "does not decompress"));
	}
}

/* The temporary data file made a link to /dev/full: every write fails
 * with ENOSPC, as on a full disk. */
static void
test_full_disk(void)
{
	char data[600], index[600], tmp[700];
	struct ld_writer *w;
	int rv = 0;

	snprintf(data, sizeof(data), "%s", path("full.data"));
	snprintf(index, sizeof(index), "%s", path("full.index"));
	snprintf(tmp, sizeof(tmp), "%s.tmp", data);
	CU_ASSERT_EQUAL_FATAL(symlink("/dev/full", tmp), 0);
	CU_ASSERT_EQUAL_FATAL(
	    ld_writer_open(&host, data, index, 2, 1000, &w), 0);
	for (int i = 0; i < 10 && rv == 0; i++) {
		struct sl_buffer b = { .len = 800 };

		b.data = calloc(1, 800);
		rv = ld_writer_add(w, (uint32_t)i % 2, &b);
		free(b.data); /* NULL when taken */
	}
	if (rv == 0)
		rv = ld_writer_finish(w);
	CU_ASSERT_EQUAL(rv, SL_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(detail, "No space left on device"));
	ld_writer_free(w);
	CU_ASSERT_EQUAL(access(data, F_OK), -1);
	CU_ASSERT_EQUAL(access(index, F_OK), -1);
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		sl_rm_rf(root);
}

static const struct sl_test tests[] = {
	{ "round trip: runs, ranges, order", test_round_trip },
	{ "refusals; an unfinished writer leaves nothing", test_refusals },
	{ "a flipped byte or a cut file is unreadable", test_damage },
	{ "a full disk is an error that says so", test_full_disk },
	{ "lz4 and zstd: smaller, the same, damage caught", test_compression },
	{ "cleanup", cleanup },
	{ NULL, NULL },
};

SL_TEST_MAIN("ld-file", tests)
