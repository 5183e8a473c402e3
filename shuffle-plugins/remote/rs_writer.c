/*
 * The remote plugin's writer: a task's buffers go, in batches numbered
 * from 0, to the daemon its descriptor names; finish commits them. A
 * thread of the writer's pushes the batches, one at a time, while the task
 * fills the next; at most RS_IN_FLIGHT wait, then write blocks (back
 * pressure from a slow daemon). A push whose answer is late is sent again
 * by the req socket; the daemon drops a batch it has (exactly once).
 * The daemon's secret comes from SLUICE_SHUFFLE_SECRET.
 */
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "net.h"
#include "rs_frame.h"
#include "rs_plugin.h"
#include "rs_store.h"

#define RS_RESEND_MS 2000  /* an answer not here by then: sent again */
#define RS_REPLY_MS 120000 /* none at all by then: the daemon is gone */

struct batch {
	struct batch *next;
	uint64_t seq;
	bool commit; /* the commit after seq batches, not blocks */
	unsigned char *p;
	size_t len, cap;
};

struct rwriter {
	const struct sl_host *host;
	struct ld_desc d;
	bool decoded;
	struct sl_bytes desc;
	char secret[256];
	nng_socket sock;
	bool sock_open;
	struct batch *fill; /* being filled by write */
	uint64_t seq;       /* of the next batch */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct batch *head, *tail; /* to push, in order */
	uint32_t waiting;          /* queued or being pushed */
	bool stop, closed, committed;
	int err;
	char why[300];
	pthread_t th;
	bool started;
};

/* mtx held: the first error stays */
static void
fail_with(struct rwriter *w, int err, const char *why)
{
	if (w->err == 0) {
		w->err = err;
		snprintf(w->why, sizeof(w->why), "%s", why);
	}
	pthread_cond_broadcast(&w->cv);
}

/* One request, answered: 0, or the daemon's or the network's error. */
static int
send_one(struct rwriter *w, const struct batch *b, char *why, size_t cap)
{
	struct rs_req q = { .op = b->commit ? RS_OP_COMMIT : RS_OP_PUSH,
		.desc = w->desc.data,
		.desc_len = w->desc.len,
		.seq = b->seq };
	struct rs_rep rep;
	msgpack_sbuffer sb;
	nng_msg *m = NULL;
	int nrv, rv = 0;

	snprintf(q.secret, sizeof(q.secret), "%s", w->secret);
	msgpack_sbuffer_init(&sb);
	if (rs_req_encode(&sb, &q) != 0 ||
	    nng_msg_alloc(&m, 4 + sb.size + b->len) != 0) {
		msgpack_sbuffer_destroy(&sb);
		snprintf(why, cap, "out of memory");
		return SL_ENOMEM;
	}
	shc_frame_header(&sb, nng_msg_body(m));
	if (b->len > 0)
		memcpy((char *)nng_msg_body(m) + 4 + sb.size, b->p, b->len);
	msgpack_sbuffer_destroy(&sb);
	if ((nrv = nng_sendmsg(w->sock, m, 0)) != 0) {
		nng_msg_free(m);
	} else if ((nrv = nng_recvmsg(w->sock, &m, 0)) == 0) {
		if (rs_rep_decode(nng_msg_body(m), nng_msg_len(m), &rep) != 0) {
			snprintf(why, cap, "a malformed answer");
			rv = SL_EIO;
		} else if (rep.st != LD_ST_DATA) {
			snprintf(why, cap, "%s", rep.err);
			rv = SL_EIO;
		}
		nng_msg_free(m);
	}
	if (nrv != 0) {
		snprintf(why, cap, "%s", nng_strerror(nrv));
		rv = SL_EIO;
	}
	return rv;
}

static void *
pusher(void *arg)
{
	struct rwriter *w = arg;

	pthread_mutex_lock(&w->mtx);
	for (;;) {
		struct batch *b;
		char why[300];
		int rv;

		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->stop)
			break;
		b = w->head;
		pthread_mutex_unlock(&w->mtx);
		rv = w->err == 0 ? send_one(w, b, why, sizeof(why)) : 0;
		pthread_mutex_lock(&w->mtx);
		if (rv != 0)
			fail_with(w, rv, why);
		else if (b->commit && w->err == 0)
			w->committed = true;
		w->head = b->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->waiting--;
		free(b->p);
		free(b);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

static int
writer_open(
    void *state, const struct sl_host *host, const void *desc, size_t len)
{
	struct rwriter *w = state;
	const char *secret = getenv("SLUICE_SHUFFLE_SECRET");
	char url[600];
	int rv;

	w->host = host;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rv = ld_desc_decode(host, desc, len, &w->d)) != 0)
		return rv;
	w->decoded = true;
	if (w->d.location == NULL || w->d.location[0] == '\0') {
		host->set_error("remote: a descriptor without its service");
		return SL_EINVAL;
	}
	if ((w->desc.data = malloc(len)) == NULL)
		return SL_ENOMEM;
	memcpy(w->desc.data, desc, len);
	w->desc.len = len;
	snprintf(w->secret, sizeof(w->secret), "%s", secret ? secret : "");
	snprintf(url, sizeof(url), "%s", w->d.location);
	if (nng_req0_open(&w->sock) != 0) {
		host->set_error("remote: cannot open a socket");
		return SL_ENOMEM;
	}
	w->sock_open = true;
	nng_socket_set_ms(w->sock, NNG_OPT_REQ_RESENDTIME, RS_RESEND_MS);
	nng_socket_set_ms(w->sock, NNG_OPT_RECVTIMEO, RS_REPLY_MS);
	nng_socket_set_ms(w->sock, NNG_OPT_SENDTIMEO, RS_REPLY_MS);
	nng_socket_set_ms(w->sock, NNG_OPT_RECONNMAXT, 1000);
	if (nng_dial(w->sock, url, NULL, NNG_FLAG_NONBLOCK) != 0) {
		host->set_error("remote: cannot dial the service at %s", url);
		return SL_EIO;
	}
	if (pthread_create(&w->th, NULL, pusher, w) != 0)
		return SL_ENOMEM;
	w->started = true;
	return 0;
}

/* mtx held: queue b, waiting while RS_IN_FLIGHT wait (back pressure) */
static int
enqueue(struct rwriter *w, struct batch *b)
{
	while (w->waiting >= RS_IN_FLIGHT && w->err == 0 && !w->closed)
		pthread_cond_wait(&w->cv, &w->mtx);
	if (w->closed || w->err != 0) {
		free(b->p);
		free(b);
		if (w->closed)
			return SL_ECLOSED;
		w->host->set_error("remote: %s: %s", w->d.location, w->why);
		return w->err;
	}
	b->next = NULL;
	if (w->tail != NULL)
		w->tail->next = b;
	else
		w->head = b;
	w->tail = b;
	w->waiting++;
	pthread_cond_broadcast(&w->cv);
	return 0;
}

/* The batch being filled, queued. */
static int
flush(struct rwriter *w)
{
	struct batch *b = w->fill;
	int rv;

	if (b == NULL)
		return 0;
	w->fill = NULL;
	b->seq = w->seq++;
	pthread_mutex_lock(&w->mtx);
	rv = enqueue(w, b);
	pthread_mutex_unlock(&w->mtx);
	return rv;
}

static int
writer_write(void *state, uint32_t sub, struct sl_buffer *buf)
{
	struct rwriter *w = state;
	struct batch *b = w->fill;
	uint32_t h[3];

	if (sub >= w->d.nsub) {
		w->host->set_error(
		    "remote: subpartition %u of %u", sub, w->d.nsub);
		return SL_ERANGE;
	}
	if (buf->len > RS_MAX_BATCH - RS_BLOCK_HEADER) {
		w->host->set_error("remote: a buffer of %zu bytes", buf->len);
		return SL_ERANGE;
	}
	if (b != NULL && b->len + RS_BLOCK_HEADER + buf->len > RS_MAX_BATCH) {
		int rv = flush(w);

		if (rv != 0)
			return rv;
		b = NULL;
	}
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return SL_ENOMEM;
		w->fill = b;
	}
	if (b->len + RS_BLOCK_HEADER + buf->len > b->cap) {
		size_t cap = b->len + RS_BLOCK_HEADER + buf->len;
		unsigned char *p;

		if (cap < RS_BATCH_BYTES + RS_BLOCK_HEADER)
			cap = RS_BATCH_BYTES + RS_BLOCK_HEADER;
		if ((p = realloc(b->p, cap)) == NULL)
			return SL_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	h[0] = htole32(sub);
	h[1] = htole32(buf->kind);
	h[2] = htole32((uint32_t)buf->len);
	memcpy(b->p + b->len, h, sizeof(h));
	memcpy(b->p + b->len + RS_BLOCK_HEADER, buf->data, buf->len);
	b->len += RS_BLOCK_HEADER + buf->len;
	w->host->free(buf->data);
	buf->data = NULL;
	return b->len >= RS_BATCH_BYTES ? flush(w) : 0;
}

static int
writer_finish(void *state)
{
	struct rwriter *w = state;
	struct batch *c;
	int rv;

	if ((rv = flush(w)) != 0)
		return rv;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SL_ENOMEM;
	c->commit = true;
	c->seq = w->seq;
	pthread_mutex_lock(&w->mtx);
	if ((rv = enqueue(w, c)) == 0) {
		while (w->waiting > 0 && w->err == 0 && !w->closed)
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->closed)
			rv = SL_ECLOSED;
		else if (w->err != 0 || !w->committed) {
			w->host->set_error("remote: %s: %s", w->d.location,
			    w->err != 0 ? w->why : "not committed");
			rv = w->err != 0 ? w->err : SL_EIO;
		}
	}
	pthread_mutex_unlock(&w->mtx);
	return rv;
}

/* Discard: the daemon drops what it has of this attempt. */
static void
writer_fail(void *state)
{
	struct rwriter *w = state;

	if (w->decoded && w->desc.data != NULL && w->d.location != NULL)
		ld_remote_release_partition(w->host, w->d.location, &w->desc);
}

static void
writer_close(void *state)
{
	struct rwriter *w = state;

	pthread_mutex_lock(&w->mtx);
	w->closed = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

static void
writer_fini(void *state)
{
	struct rwriter *w = state;

	if (w->host == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mtx);
		w->stop = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mtx);
		if (w->sock_open)
			nng_close(w->sock); /* a push waiting ends */
		w->sock_open = false;
		pthread_join(w->th, NULL);
	}
	if (w->sock_open)
		nng_close(w->sock);
	while (w->head != NULL) {
		struct batch *b = w->head;

		w->head = b->next;
		free(b->p);
		free(b);
	}
	if (w->fill != NULL) {
		free(w->fill->p);
		free(w->fill);
	}
	free(w->desc.data);
	if (w->decoded)
		ld_desc_clear(w->host, &w->d);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cv);
}

const struct sl_shuffle_writer_ops rs_writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = sizeof(struct rwriter),
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.close = writer_close,
	.fini = writer_fini,
};
