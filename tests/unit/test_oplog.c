/* The operation log's file and records (core/oplog, DESIGN §7). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sluice/errors.h>

#include "oplog/oplog.h"
#include "oplog/oplog_events.h"
#include "sl_test.h"
#include "sl_testutil.h"

static char root[512];

static const char *
path_of(const char *name)
{
	static char buf[4][700];
	static int k;
	char *b = buf[k++ % 4];

	if (root[0] == '\0')
		CU_ASSERT_PTR_NOT_NULL_FATAL(
		    sl_tmp_dir(root, sizeof(root), "sl-oplog"));
	snprintf(b, sizeof(buf[0]), "%s/%s", root, name);
	return b;
}

/* Record i: "record i" repeated i % 7 + 1 times. */
static size_t
payload(uint32_t i, char *buf, size_t cap)
{
	size_t n = 0;

	for (uint32_t r = 0; r < i % 7 + 1; r++)
		n += (size_t)snprintf(buf + n, cap - n, "record %u;", i);
	return n;
}

struct seen {
	uint32_t n;
	bool ok;
};

static int
check_record(void *arg, const void *p, size_t len, uint64_t off)
{
	struct seen *s = arg;
	char want[256];
	size_t wl = payload(s->n, want, sizeof(want));

	(void)off;
	if (len != wl || memcmp(p, want, len) != 0)
		s->ok = false;
	s->n++;
	return 0;
}

/* n records in a new log, synced every `every` appends. */
static void
write_log(const char *path, uint32_t n, uint32_t every)
{
	struct sli_oplog log;
	char buf[256];

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(sli_oplog_open(path, &log), 0);
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(
		    sli_oplog_append(&log, buf, payload(i, buf, sizeof(buf))),
		    0);
		if ((i + 1) % every == 0)
			CU_ASSERT_EQUAL(sli_oplog_sync(&log), 0);
	}
	CU_ASSERT_EQUAL(sli_oplog_close(&log), 0);
}

static struct sli_oplog_read
read_log(const char *path, struct seen *s)
{
	struct sli_oplog_read rd;

	*s = (struct seen) { .ok = true };
	CU_ASSERT_EQUAL(sli_oplog_read_file(path, check_record, s, &rd), 0);
	return rd;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Records come back whole and in order; appends between syncs share one
 * fdatasync (group commit); a log opened again appends after them. */
static void
test_roundtrip_and_group_commit(void)
{
	const char *p = path_of("a.log");
	struct sli_oplog log;
	struct seen s;
	struct sli_oplog_read rd;
	char buf[256];

	write_log(p, 1000, 100);
	rd = read_log(p, &s);
	CU_ASSERT_EQUAL(rd.end, SLI_OPLOG_CLEAN);
	CU_ASSERT_EQUAL(rd.records, 1000);
	CU_ASSERT_EQUAL(s.n, 1000);
	CU_ASSERT_TRUE(s.ok);
	CU_ASSERT_EQUAL((off_t)rd.good, file_size(p));

	CU_ASSERT_EQUAL_FATAL(sli_oplog_open(p, &log), 0);
	for (uint32_t i = 1000; i < 1500; i++)
		CU_ASSERT_EQUAL(
		    sli_oplog_append(&log, buf, payload(i, buf, sizeof(buf))),
		    0);
	CU_ASSERT_EQUAL(log.syncs, 0);
	CU_ASSERT_EQUAL(sli_oplog_sync(&log), 0);
	CU_ASSERT_EQUAL(sli_oplog_sync(&log), 0); /* nothing new: no sync */
	CU_ASSERT_EQUAL(log.syncs, 1);
	CU_ASSERT_EQUAL(sli_oplog_close(&log), 0);
	rd = read_log(p, &s);
	CU_ASSERT_EQUAL(rd.records, 1500);
	CU_ASSERT_TRUE(s.ok);

	/* empty and oversized records are refused */
	CU_ASSERT_EQUAL_FATAL(sli_oplog_open(p, &log), 0);
	CU_ASSERT_EQUAL(sli_oplog_append(&log, buf, 0), SL_ERANGE);
	CU_ASSERT_EQUAL(
	    sli_oplog_append(&log, buf, SLI_OPLOG_MAX_RECORD + 1), SL_ERANGE);
	CU_ASSERT_EQUAL(sli_oplog_close(&log), 0);
	CU_ASSERT_EQUAL(read_log(p, &s).records, 1500);
}

/* A log cut anywhere inside its last record reads as torn with the
 * records before it; opening it for appending cuts the tail off, and
 * records appended then follow the good ones. */
static void
test_torn_tail(void)
{
	const char *p = path_of("t.log");
	struct sli_oplog log;
	struct seen s;
	struct sli_oplog_read rd;
	char buf[256];
	off_t full, last;

	write_log(p, 50, 50);
	full = file_size(p);
	last = full - (off_t)(SLI_OPLOG_HEADER + payload(49, buf, sizeof(buf)));
	for (off_t cut = last + 1; cut < full; cut += 3) {
		write_log(p, 50, 50);
		CU_ASSERT_EQUAL_FATAL(truncate(p, cut), 0);
		rd = read_log(p, &s);
		CU_ASSERT_EQUAL(rd.end, SLI_OPLOG_TORN);
		CU_ASSERT_EQUAL(rd.records, 49);
		CU_ASSERT_EQUAL((off_t)rd.good, last);
		CU_ASSERT_TRUE(s.ok);
	}
	CU_ASSERT_EQUAL_FATAL(sli_oplog_open(p, &log), 0);
	CU_ASSERT_EQUAL(file_size(p), last);
	CU_ASSERT_EQUAL(
	    sli_oplog_append(&log, buf, payload(49, buf, sizeof(buf))), 0);
	CU_ASSERT_EQUAL(sli_oplog_close(&log), 0);
	rd = read_log(p, &s);
	CU_ASSERT_EQUAL(rd.end, SLI_OPLOG_CLEAN);
	CU_ASSERT_EQUAL(rd.records, 50);
	CU_ASSERT_TRUE(s.ok);
}

/* A byte flipped in a whole record (its length, checksum or payload)
 * stops the read there as corruption, the records before it good; the log
 * is not opened for appending. */
static void
test_corrupt_record(void)
{
	const char *p = path_of("c.log");
	struct sli_oplog log;
	struct seen s;
	struct sli_oplog_read rd;
	char buf[256];
	off_t at = 0;

	for (uint32_t i = 0; i < 20; i++)
		at += (off_t)(SLI_OPLOG_HEADER + payload(i, buf, sizeof(buf)));
	/* record 20: its checksum (4), its payload (12), its length's low
	 * byte made smaller (0) */
	for (int k = 0; k < 3; k++) {
		off_t off = at + (k == 0 ? 4 : k == 1 ? 12 : 0);
		unsigned char c;
		int fd;

		write_log(p, 40, 7);
		fd = open(p, O_RDWR);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(pread(fd, &c, 1, off), 1);
		c = k == 2 ? (unsigned char)(c - 1) : (unsigned char)(c ^ 0x40);
		CU_ASSERT_EQUAL(pwrite(fd, &c, 1, off), 1);
		close(fd);
		rd = read_log(p, &s);
		CU_ASSERT_EQUAL(rd.end, SLI_OPLOG_CORRUPT);
		CU_ASSERT_EQUAL(rd.records, 20);
		CU_ASSERT_EQUAL((off_t)rd.good, at);
		CU_ASSERT_TRUE(s.ok);
		CU_ASSERT_EQUAL(sli_oplog_open(p, &log), SL_EPARSE);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "record 21"));
	}
}

static int
collect(void *arg, const void *p, size_t len, uint64_t off)
{
	(void)off;
	return json_array_append_new(arg, sli_oplog_record_json(p, len));
}

/* The records the coordinator writes, as `sluice log dump` shows them. */
static void
test_events(void)
{
	const char *p = path_of("e.log");
	struct sli_oplog log;
	uint32_t starts[3] = { 0, 4, 9 };
	uint64_t sb[2] = { 10, 20 };
	struct sli_oplog_output out = { 2, { "\x01\xab", 2 }, sb, 2 };
	const uint32_t rs[1][3] = { { 3, 1, 2 } };
	json_t *all = json_array(), *want;
	json_error_t jerr;

	unlink(p);
	CU_ASSERT_EQUAL_FATAL(sli_oplog_open(p, &log), 0);
	CU_ASSERT_EQUAL(sli_oplog_submitted(&log, 0, "wc-1", "wc.json",
	                    "{\"name\":\"wc\"}", 13),
	    0);
	CU_ASSERT_EQUAL(sli_oplog_decided(&log, 5, 3, "count", 3, starts), 0);
	CU_ASSERT_EQUAL(
	    sli_oplog_finished(&log, 7, 3, 1, 0, "worker-2", &out, 1), 0);
	CU_ASSERT_EQUAL(sli_oplog_reset(&log, 9, "worker lost", rs, 1), 0);
	CU_ASSERT_EQUAL(sli_oplog_ended(&log, 12, "FINISHED", ""), 0);
	CU_ASSERT_EQUAL(sli_oplog_close(&log), 0);
	CU_ASSERT_EQUAL(sli_oplog_read_file(p, collect, all, NULL), 0);
	want = json_loads(
	    "[{\"t\": \"submitted\", \"ms\": 0, \"job\": \"wc-1\", "
	    "\"origin\": \"wc.json\", \"json\": \"{\\\"name\\\":\\\"wc\\\"}\"},"
	    "{\"t\": \"decided\", \"ms\": 5, \"vertex\": 3, \"id\": \"count\", "
	    "\"parallelism\": 3, \"starts\": [0, 4, 9]},"
	    "{\"t\": \"finished\", \"ms\": 7, \"vertex\": 3, \"index\": 1, "
	    "\"attempt\": 0, \"worker\": \"worker-2\", \"outputs\": "
	    "[[2, \"01ab\", [10, 20]]]},"
	    "{\"t\": \"reset\", \"ms\": 9, \"cause\": \"worker lost\", "
	    "\"restarted\": [[3, 1, 2]]},"
	    "{\"t\": \"ended\", \"ms\": 12, \"state\": \"FINISHED\", "
	    "\"message\": \"\"}]",
	    0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (!json_equal(all, want)) {
		char *got = json_dumps(all, JSON_COMPACT);

		fprintf(stderr, "\n  got %s\n", got);
		free(got);
		CU_FAIL("records differ");
	}
	json_decref(want);
	json_decref(all);
	/* not msgpack: no record */
	CU_ASSERT_PTR_NULL(sli_oplog_record_json("\xc1", 1));
}

static const struct sl_test tests[] = {
	{ "records round trip; group commit", test_roundtrip_and_group_commit },
	{ "a torn tail is cut off", test_torn_tail },
	{ "a corrupt record stops the read", test_corrupt_record },
	{ "event records", test_events },
	{ NULL, NULL },
};

SL_TEST_MAIN("oplog", tests)
