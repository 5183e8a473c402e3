#ifndef SLI_UNITS_H
#define SLI_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes: digits, then optionally k, m, g or t (powers of 1024, either
 * case), optionally followed by "i" and/or "b" ("64m", "1GiB", "4096").
 * false for anything else, or when it overflows 64 bits. */
bool sli_parse_bytes(const char *s, uint64_t *out);

/* Milliseconds: digits, optionally a fraction (".5"), then a unit: ms, s,
 * m or min, h, right after the number or after one space ("250ms", "1.5s",
 * "2 min", "1h"). Bare digits are milliseconds ("250"). false for anything
 * else, for a value that is not a whole number of milliseconds ("0.5ms",
 * "1.0001s"), and when it overflows 64 bits. */
bool sli_parse_duration_ms(const char *s, uint64_t *out);

/* ms as people read it, in the largest unit that keeps it exact: "250 ms",
 * "1.5 s", "60 s", "2 min", "1 h" (minutes from 2 on: "90 s", not
 * "1.5 min"). sli_parse_duration_ms reads it back. */
void sli_format_duration_ms(uint64_t ms, char *buf, size_t cap);

#endif
