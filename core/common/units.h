#ifndef SLI_UNITS_H
#define SLI_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes: digits, then optionally k, m, g or t (powers of 1024, either
 * case), optionally followed by "i" and/or "b" ("64m", "1GiB", "4096").
 * false for anything else, or when it overflows 64 bits. */
bool sli_parse_bytes(const char *s, uint64_t *out);

#endif
