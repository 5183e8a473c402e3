/* The file a generator (gen-words, gen-records) writes: made as FILE.tmp and
 * renamed into place once whole, so a failed or killed run never leaves a
 * short FILE behind, with a progress line on stderr for large outputs. */
#ifndef SLI_GEN_FILE_H
#define SLI_GEN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sli_gen_file {
	const char *cmd;  /* "gen-words": begins every message */
	const char *path; /* the file to make */
	char tmp[4096];   /* path.tmp, written, then renamed to path */
	int fd;
	bool tty;      /* stderr is a terminal: redraw the progress line */
	bool progress; /* a large output: commit clears the line */
	double last;   /* when the progress line was last shown */
};

/* Create (or truncate) path.tmp. cmd and path are kept, not copied. 0, or 1
 * after saying why (nothing to undo). */
int sli_gen_file_open(
    struct sli_gen_file *f, const char *cmd, const char *path);

/* Write all n bytes of buf. 0, or 1 after saying why, with the temporary
 * file closed and removed (no abort needed). */
int sli_gen_file_write(struct sli_gen_file *f, const void *buf, size_t n);

/* "done of total unit" on stderr, every 2 s (a quarter of a second on a
 * terminal, redrawn in place), when total is 10 000 000 or more. */
void sli_gen_file_progress(
    struct sli_gen_file *f, uint64_t done, uint64_t total, const char *unit);

/* Clear the progress line, sync, close and rename into place. 0, or 1 after
 * saying why, with the temporary file removed. */
int sli_gen_file_commit(struct sli_gen_file *f);

/* Close and remove the temporary file, for a failure of the caller's own
 * between open and commit. */
void sli_gen_file_abort(struct sli_gen_file *f);

/* What both generators take and use: a decimal count (digits only), and
 * splitmix64, the seed's mixer. */
bool sli_gen_parse_count(const char *s, uint64_t *out);
uint64_t sli_gen_splitmix(uint64_t *s);

#endif
