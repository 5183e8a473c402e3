/*
 * The localdisk writer: buffers go to the partition's files (ld_file.c);
 * nothing is visible to readers before finish, and a failed or abandoned
 * writer leaves nothing. write never waits for a reader: a blocking
 * partition is read after it is written.
 */
#include <string.h>

#include "ld_file.h"
#include "localdisk.h"

struct lwriter {
	const struct sl_host *host;
	struct ld_desc d;
	bool decoded;
	bool announced;
	struct ld_writer *f;
	bool finished;
	bool done; /* finished or failed */
};

static int
writer_open(
    void *state, const struct sl_host *host, const void *desc, size_t len)
{
	struct lwriter *w = state;
	int rv;

	w->host = host;
	if ((rv = ld_desc_decode(host, desc, len, &w->d)) != 0)
		return rv;
	w->decoded = true;
	rv = ld_open_writer(host, &w->d, LD_SPILL_BYTES, &w->f);
	if (rv == 0 && (rv = ld_table_writing(host, &w->d)) == 0)
		w->announced = true;
	return rv;
}

static int
writer_write(void *state, uint32_t subpartition, struct sl_buffer *buf)
{
	struct lwriter *w = state;

	if (w->f == NULL || w->done) {
		w->host->set_error("localdisk: write after finish or fail");
		return SL_ESTATE;
	}
	return ld_writer_add(w->f, subpartition, buf);
}

static int
writer_finish(void *state)
{
	struct lwriter *w = state;
	int rv;

	if (w->f == NULL || w->done) {
		w->host->set_error("localdisk: finish after finish or fail");
		return SL_ESTATE;
	}
	if ((rv = ld_writer_finish(w->f)) != 0)
		return rv;
	w->finished = w->done = true;
	(void)ld_served_add(w->host, &w->d); /* else left until released */
	ld_table_settle(&w->d, LD_FINISHED);
	return 0;
}

static void
writer_fail(void *state)
{
	struct lwriter *w = state;

	if (!w->decoded)
		return;
	w->done = true;
	/* An unfinished writer's files are temporary: freeing removes them.
	 * A finished one (its commit failed afterwards) is removed too. */
	ld_writer_free(w->f);
	w->f = NULL;
	if (w->finished) {
		ld_served_release(w->host, &w->d);
		ld_remove(w->host, &w->d);
	}
	if (w->announced)
		ld_table_settle(&w->d, LD_FAILED);
}

static void
writer_fini(void *state)
{
	struct lwriter *w = state;

	if (!w->decoded)
		return;
	if (!w->done)
		writer_fail(w);
	ld_writer_free(w->f);
	w->f = NULL;
	if (w->announced)
		ld_table_forget(w->host, &w->d);
	ld_desc_clear(w->host, &w->d);
	w->decoded = false;
}

const struct sl_shuffle_writer_ops ld_writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = sizeof(struct lwriter),
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.fini = writer_fini,
};
