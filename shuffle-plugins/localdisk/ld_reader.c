/*
 * The localdisk reader: reads a subpartition range of each partition, one
 * partition after the other. A partition whose files this host sees (its
 * writer ran here, or on a host sharing the directory) is read from them
 * (ld_file.c): next reads the disk or the page cache itself, a short wait
 * for I/O, never a wait for another task. A partition written by another
 * process whose files are not here is fetched from that process's server
 * (ld_fetch.c). A partition of this process not written yet is waited for
 * through the table of partitions written here (the scheduler opens
 * readers of a blocking edge only after their producers finished, so
 * across processes the files are there).
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ld_file.h"
#include "localdisk.h"

/* Built into the remote plugin, every partition is a service's, fetched
 * from it (its files are the daemon's, never this process's). */
#ifdef LD_REMOTE_SERVICE
#define LD_FETCH_ALWAYS 1
#else
#define LD_FETCH_ALWAYS 0
#endif

struct lreader;

struct linput {
	struct lreader *owner;
	struct ld_desc d;
	bool decoded;
	char *data, *index;
	struct ld_reader *r;
	struct ld_waiter w;
	bool waiting;
	bool missing;         /* written here, its files gone */
	struct sl_bytes desc; /* of a remote input, until it is opened */
	struct ld_remote *rm;
};

struct lreader {
	const struct sl_host *host;
	void (*notify)(void *arg);
	void *notify_arg;
	uint32_t lo, hi;
	struct linput *in;
	uint32_t n;
	uint32_t cur;
	atomic_bool closed;
};

static void
input_notify(void *arg)
{
	struct linput *in = arg;

	if (in->owner->notify != NULL)
		in->owner->notify(in->owner->notify_arg);
}

static int
reader_open(
    void *state, const struct sl_host *host, const struct sl_reader_spec *spec)
{
	struct lreader *r = state;
	int rv;

	r->host = host;
	atomic_init(&r->closed, false);
	if (spec == NULL || spec->sub_lo > spec->sub_hi ||
	    (spec->num_descriptors > 0 && spec->descriptors == NULL)) {
		host->set_error("localdisk: bad reader spec");
		return SL_EINVAL;
	}
	r->notify = spec->notify;
	r->notify_arg = spec->notify_arg;
	r->lo = spec->sub_lo;
	r->hi = spec->sub_hi;
	if (spec->num_descriptors == 0)
		return 0;
	if ((r->in = host->alloc(sizeof(*r->in) * spec->num_descriptors)) ==
	    NULL)
		return SL_ENOMEM;
	memset(r->in, 0, sizeof(*r->in) * spec->num_descriptors);
	for (uint32_t i = 0; i < spec->num_descriptors; i++) {
		struct linput *in = &r->in[i];

		r->n++;
		in->owner = r;
		if ((rv = ld_desc_decode(host, spec->descriptors[i].data,
		         spec->descriptors[i].len, &in->d)) != 0)
			return rv;
		in->decoded = true;
		if (r->hi >= in->d.nsub) {
			host->set_error("localdisk: input %u has %u "
			                "subpartitions, cannot read up to %u",
			    i, in->d.nsub, r->hi);
			return SL_ERANGE;
		}
		if ((rv = ld_paths(
		         host, &in->d, false, &in->data, &in->index)) != 0)
			return rv;
		if (!LD_FETCH_ALWAYS && access(in->index, F_OK) == 0)
			continue;
		if (LD_FETCH_ALWAYS &&
		    (in->d.location == NULL || in->d.location[0] == '\0')) {
			host->set_error("remote: input %u: a descriptor "
			                "without its service",
			    i);
			return SL_EINVAL;
		}
		if (LD_FETCH_ALWAYS || ld_is_remote(&in->d)) {
			/* opened when reached: one partition fetched at a
			 * time keeps memory bounded */
			const struct sl_bytes *b = &spec->descriptors[i];

			if ((in->desc.data = host->alloc(b->len)) == NULL)
				return SL_ENOMEM;
			memcpy(in->desc.data, b->data, b->len);
			in->desc.len = b->len;
		} else if (ld_serving() && !ld_table_has_writer(&in->d)) {
			/* A worker opens a reader of a blocking partition
			 * once its producer finished: written here and gone
			 * (removed, or a worker that restarted). */
			in->missing = true;
		} else {
			in->w.notify = input_notify;
			in->w.arg = in;
			(void)ld_table_wait(host, &in->d, &in->w);
			in->waiting = true;
		}
	}
	return 0;
}

/* Input i failed: say so, every time asked. */
static int
unreadable(
    struct lreader *r, struct sl_buffer *out, uint32_t i, const char *why)
{
	out->input = i;
	r->host->set_error("localdisk: input %u: %s", i, why);
	return SL_EUNREADABLE;
}

static int
reader_next(void *state, struct sl_buffer *out)
{
	struct lreader *r = state;
	int rv;

	if (atomic_load(&r->closed))
		return SL_ECLOSED;
	while (r->cur < r->n) {
		struct linput *in = &r->in[r->cur];

		if (in->waiting) {
			enum ld_state s = ld_table_state(&in->d);

			if (s == LD_WRITING)
				return SL_EAGAIN;
			ld_table_unwait(r->host, &in->d, &in->w);
			in->waiting = false;
			if (s == LD_FAILED) {
				/* stays failed: no reader, no wait */
				return unreadable(
				    r, out, r->cur, "failed by its writer");
			}
		}
		if (in->missing)
			return unreadable(r, out, r->cur,
			    "its files are missing (written on this worker, "
			    "then removed or lost)");
		if (in->desc.data != NULL) {
			/* its writer in this process (a test, an in-process
			 * run): fetched once it committed */
			if (in->rm == NULL && LD_FETCH_ALWAYS &&
			    ld_table_has_writer(&in->d)) {
				in->w.notify = input_notify;
				in->w.arg = in;
				if (ld_table_wait(r->host, &in->d, &in->w) ==
				    LD_WRITING) {
					in->waiting = true;
					return SL_EAGAIN;
				}
				ld_table_unwait(r->host, &in->d, &in->w);
				if (ld_table_state(&in->d) == LD_FAILED)
					return unreadable(r, out, r->cur,
					    "failed by its writer");
			}
			if (in->rm == NULL &&
			    (rv = ld_remote_open_at(r->host, &in->desc,
			         in->d.location, in->d.replica, r->lo, r->hi,
			         input_notify, in, &in->rm)) != 0) {
				out->input = r->cur;
				return rv;
			}
			rv = ld_remote_next(in->rm, out);
			if (rv == SL_EEOF) {
				r->cur++;
				continue;
			}
			out->input = r->cur;
			return rv;
		}
		if (in->r == NULL &&
		    (rv = ld_reader_open(r->host, in->data, in->index, r->lo,
		         r->hi, &in->r)) != 0) {
			out->input = r->cur;
			return rv; /* the detail names the file */
		}
		rv = ld_reader_next(in->r, out);
		if (rv == 0) {
			out->input = r->cur;
			out->plugin_private = NULL;
			return 0;
		}
		if (rv != SL_EEOF) {
			out->input = r->cur;
			return rv;
		}
		r->cur++;
	}
	return SL_EEOF;
}

static void
reader_release(void *state, struct sl_buffer *buf)
{
	struct lreader *r = state;

	if (buf == NULL)
		return;
	/* in a fetched reply: its input's, as next set it */
	if (buf->plugin_private != NULL && buf->input < r->n) {
		ld_remote_release(r->in[buf->input].rm, buf);
		return;
	}
	r->host->free(buf->data);
	buf->data = NULL;
}

static void
reader_close(void *state)
{
	struct lreader *r = state;

	atomic_store(&r->closed, true);
	if (r->notify != NULL)
		r->notify(r->notify_arg);
}

static void
reader_fini(void *state)
{
	struct lreader *r = state;

	for (uint32_t i = 0; i < r->n; i++) {
		struct linput *in = &r->in[i];

		if (in->waiting)
			ld_table_unwait(r->host, &in->d, &in->w);
		ld_reader_free(in->r);
		ld_remote_free(in->rm);
		r->host->free(in->desc.data);
		r->host->free(in->data);
		r->host->free(in->index);
		if (in->decoded)
			ld_desc_clear(r->host, &in->d);
	}
	if (r->host != NULL)
		r->host->free(r->in);
	r->in = NULL;
	r->n = 0;
}

const struct sl_shuffle_reader_ops ld_reader_ops = {
	.struct_size = sizeof(struct sl_shuffle_reader_ops),
	.state_size = sizeof(struct lreader),
	.open = reader_open,
	.next = reader_next,
	.release = reader_release,
	.close = reader_close,
	.fini = reader_fini,
};
