/*
 * Checking untrusted msgpack before decoding it.
 *
 * A msgpack decoder allocates for the element counts an input declares, so
 * five bytes that claim a map of 2^32 entries make it ask for tens of
 * gigabytes. Every decoder of bytes from elsewhere (descriptors, wire
 * messages, log records) first runs sl_msgpack_check, which walks the
 * encoding without allocating and refuses counts that the remaining bytes
 * cannot hold (every element takes at least one byte). Decoding what it
 * accepts allocates at most a small multiple of its length.
 *
 * Header-only and standard C only, so plugins use it without linking
 * anything of sluice.
 */
#ifndef SLUICE_MSGPACK_CHECK_H
#define SLUICE_MSGPACK_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

static inline uint64_t
sl__msgpack_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Whether buf holds exactly one well-formed msgpack object whose declared
 * lengths and counts fit in len bytes. Returns 0 or SL_EPARSE.
 */
static inline int
sl_msgpack_check(const void *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t pos = 0;
	uint64_t pending = 1; /* objects still to read */

	while (pending > 0) {
		unsigned b;
		uint64_t skip = 0, items = 0; /* payload bytes, child objects */
		size_t hdr = 0;               /* length bytes after the tag */

		if (pos >= len)
			return SL_EPARSE;
		b = p[pos++];
		pending--;
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			/* fixint, nil, bool: the tag is all */
		} else if (b <= 0x8f) {
			items = 2 * (uint64_t)(b & 0x0f);
		} else if (b <= 0x9f) {
			items = b & 0x0f;
		} else if (b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4:
			case 0xd9:
				hdr = 1;
				break; /* bin8, str8 */
			case 0xc5:
			case 0xda:
				hdr = 2;
				break; /* bin16, str16 */
			case 0xc6:
			case 0xdb:
				hdr = 4;
				break; /* bin32, str32 */
			case 0xc7:
				hdr = 1;
				skip = 1;
				break; /* ext8 + type */
			case 0xc8:
				hdr = 2;
				skip = 1;
				break;
			case 0xc9:
				hdr = 4;
				skip = 1;
				break;
			case 0xca:
			case 0xce:
			case 0xd2:
				skip = 4;
				break;
			case 0xcb:
			case 0xcf:
			case 0xd3:
				skip = 8;
				break;
			case 0xcc:
			case 0xd0:
				skip = 1;
				break;
			case 0xcd:
			case 0xd1:
				skip = 2;
				break;
			case 0xd4:
				skip = 2;
				break; /* fixext: type + data */
			case 0xd5:
				skip = 3;
				break;
			case 0xd6:
				skip = 5;
				break;
			case 0xd7:
				skip = 9;
				break;
			case 0xd8:
				skip = 17;
				break;
			case 0xdc:
			case 0xdd:
			case 0xde:
			case 0xdf: {
				size_t n = (b == 0xdc || b == 0xde) ? 2 : 4;

				if (len - pos < n)
					return SL_EPARSE;
				items = sl__msgpack_be(p + pos, n);
				if (b >= 0xde)
					items *= 2;
				pos += n;
				break;
			}
			default: /* 0xc1 is never used */
				return SL_EPARSE;
			}
		}
		if (hdr > 0) {
			if (len - pos < hdr)
				return SL_EPARSE;
			skip += sl__msgpack_be(p + pos, hdr);
			pos += hdr;
		}
		if (skip > len - pos)
			return SL_EPARSE;
		pos += (size_t)skip;
		pending += items;
		if (pending > len - pos)
			return SL_EPARSE;
	}
	return pos == len ? 0 : SL_EPARSE;
}

#endif /* SLUICE_MSGPACK_CHECK_H */
