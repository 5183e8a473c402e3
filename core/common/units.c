/*
 * Sizes and durations as people write them: "64m", "1GiB", "4096";
 * "250ms", "1.5s", "2m", "1h".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

bool
sli_parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		return false;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/* Whole milliseconds: the unit's size times digits[.fraction], exactly. */
bool
sli_parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "min", 60000 },
		{ "h", 3600000 },
	};
	uint64_t whole = 0, frac = 0, scale = 1, unit = 0;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (whole > (UINT64_MAX - d) / 10)
			return false;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		/* Whole milliseconds need at most 7 places (of an hour);
		 * 9 leave room for trailing zeros and keep frac * unit
		 * far inside 64 bits. */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale >= UINT64_C(1000000000))
				return false;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (*p == '\0') {
		/* bare digits are milliseconds (what a variable gives for a
		 * number); "1.5" alone reads too easily as seconds */
		if (scale > 1)
			return false;
		unit = 1;
	} else {
		/* "1 s" as well as "1s": the first is how durations print */
		if (*p == ' ')
			p++;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(p, units[i].name) == 0)
				unit = units[i].ms;
		if (unit == 0)
			return false;
	}
	/* frac / scale of a unit must come to whole milliseconds. */
	if ((frac * unit) % scale != 0 || whole > UINT64_MAX / unit ||
	    whole * unit > UINT64_MAX - frac * unit / scale)
		return false;
	*out = whole * unit + frac * unit / scale;
	return true;
}

void
sli_format_duration_ms(uint64_t ms, char *buf, size_t cap)
{
	unsigned long long v = (unsigned long long)ms;

	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, cap, "%llu h", v / 3600000);
	else if (ms >= 120000 && ms % 60000 == 0)
		snprintf(buf, cap, "%llu min", v / 60000);
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, cap, "%llu s", v / 1000);
	else if (ms >= 1000 && ms % 100 == 0)
		snprintf(buf, cap, "%llu.%01llu s", v / 1000, v % 1000 / 100);
	else if (ms >= 1000 && ms % 10 == 0)
		snprintf(buf, cap, "%llu.%02llu s", v / 1000, v % 1000 / 10);
	else if (ms >= 1000)
		snprintf(buf, cap, "%llu.%03llu s", v / 1000, v % 1000);
	else
		snprintf(buf, cap, "%llu ms", v);
}
