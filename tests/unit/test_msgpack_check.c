/* sl_msgpack_check: accepts what msgpack-c packs, refuses truncations,
 * trailing bytes and counts the input cannot hold. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/msgpack_check.h>

#include "sl_test.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* A random object of every msgpack kind, nested up to depth. */
static void
pack_random(msgpack_packer *pk, int depth)
{
	static const char blob[300] = "x";
	uint64_t kind = rnd(depth > 0 ? 12 : 10);

	switch (kind) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		msgpack_pack_true(pk);
		break;
	case 2:
		msgpack_pack_uint64(pk, rnd(UINT64_MAX));
		break;
	case 3:
		msgpack_pack_int64(pk, -(int64_t)rnd(1ull << 40));
		break;
	case 4:
		msgpack_pack_uint8(pk, (uint8_t)rnd(256));
		break;
	case 5:
		msgpack_pack_double(pk, 1.5);
		break;
	case 6:
		msgpack_pack_float(pk, 2.5f);
		break;
	case 7: {
		size_t n = rnd(300);
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, blob, n);
		break;
	}
	case 8: {
		size_t n = rnd(70000) % (rnd(2) ? 300 : 70000);
		char *b = calloc(1, n + 1);
		msgpack_pack_bin(pk, n);
		msgpack_pack_bin_body(pk, b, n);
		free(b);
		break;
	}
	case 9: {
		size_t n = rnd(20);
		msgpack_pack_ext(pk, n, 7);
		msgpack_pack_ext_body(pk, blob, n);
		break;
	}
	case 10: {
		size_t n = rnd(rnd(4) ? 5 : 40);
		msgpack_pack_array(pk, n);
		for (size_t i = 0; i < n; i++)
			pack_random(pk, depth - 1);
		break;
	}
	default: {
		size_t n = rnd(rnd(4) ? 5 : 20);
		msgpack_pack_map(pk, n);
		for (size_t i = 0; i < 2 * n; i++)
			pack_random(pk, depth - 1);
		break;
	}
	}
}

static void
test_accepts_packed_and_refuses_prefixes(void)
{
	for (int round = 0; round < 300; round++) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		char *more;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		pack_random(&pk, 3);
		CU_ASSERT_EQUAL(sl_msgpack_check(sb.data, sb.size), 0);
		/* Every strict prefix is truncated (checking a sample of
		 * lengths keeps large binaries quick). */
		for (size_t cut = 0; cut < sb.size; cut += 1 + cut / 16)
			CU_ASSERT_EQUAL(
			    sl_msgpack_check(sb.data, cut), SL_EPARSE);
		/* A trailing byte is a second object: refused. */
		more = malloc(sb.size + 1);
		memcpy(more, sb.data, sb.size);
		more[sb.size] = 0;
		CU_ASSERT_EQUAL(sl_msgpack_check(more, sb.size + 1), SL_EPARSE);
		free(more);
		msgpack_sbuffer_destroy(&sb);
	}
}

static void
test_refuses_impossible_counts(void)
{
	/* map32 of 2^32-1 entries, array32, str32 and bin32 of 4 GiB: a few
	 * bytes each, refused without reading further. */
	static const unsigned char map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff,
		0x01 };
	static const unsigned char arr32[] = { 0xdd, 0x40, 0x00, 0x00, 0x00,
		0xc0 };
	static const unsigned char str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff,
		'a' };
	static const unsigned char bin32[] = { 0xc6, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char arr16[] = { 0xdc, 0x00, 0x03, 0xc0, 0xc0 };
	static const unsigned char never[] = { 0xc1 };
	static const unsigned char ok[] = { 0x92, 0xc0, 0xa1, 'x' };

	CU_ASSERT_EQUAL(sl_msgpack_check(map32, sizeof(map32)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(arr32, sizeof(arr32)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(str32, sizeof(str32)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(bin32, sizeof(bin32)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(arr16, sizeof(arr16)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(never, sizeof(never)), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(NULL, 0), SL_EPARSE);
	CU_ASSERT_EQUAL(sl_msgpack_check(ok, sizeof(ok)), 0);
}

/* What the check accepts, msgpack-c decodes whole. */
static void
test_agrees_with_msgpack_c(void)
{
	unsigned char buf[24];

	for (int round = 0; round < 200000; round++) {
		size_t n = 1 + rnd(sizeof(buf));
		msgpack_unpacked u;
		size_t off = 0;

		for (size_t i = 0; i < n; i++)
			buf[i] =
			    (unsigned char)(rnd(3) ? rnd(256) : rnd(16) | 0x90);
		if (sl_msgpack_check(buf, n) != 0)
			continue;
		msgpack_unpacked_init(&u);
		CU_ASSERT_EQUAL(
		    msgpack_unpack_next(&u, (const char *)buf, n, &off),
		    MSGPACK_UNPACK_SUCCESS);
		CU_ASSERT_EQUAL(off, n);
		msgpack_unpacked_destroy(&u);
	}
}

static const struct sl_test tests[] = {
	{ "accepts what msgpack-c packs, refuses truncation",
	    test_accepts_packed_and_refuses_prefixes },
	{ "refuses counts the input cannot hold",
	    test_refuses_impossible_counts },
	{ "what it accepts msgpack-c decodes whole",
	    test_agrees_with_msgpack_c },
	{ NULL, NULL },
};

SL_TEST_MAIN("msgpack_check", tests)
