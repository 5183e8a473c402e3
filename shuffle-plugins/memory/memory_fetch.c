/*
 * Reading another process's partition (consumer side; docs/runtime.md). A
 * reader of a remote partition reads a local proxy part with the same key;
 * a fetch per subpartition fills the proxy's queue from the producer's
 * server (memory_server.c) and plays its writer.
 *
 * Credit: the subpartition may hold `credits` buffers here (queued or held
 * by the task). One fetch is in flight at a time and asks for as many
 * buffers as there is free credit; the server answers with what is ready,
 * at least one. A new fetch goes out once half the credit is free again
 * (or all of it), so buffers travel in batches, not one round trip each,
 * and a slow consumer stops asking: its producer's writer then waits for
 * credit, and nothing queues without bound.
 */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>

#include "memory.h"

/* Replies carry one batch of buffers; records larger than a buffer travel
 * alone in a buffer of their size (records.h), so allow large frames. */
#define NET_MAX_FRAME (256u << 20)

/* One req socket per producer server, kept for the life of the process.
 * A fetch is sent once: sent again after a lost connection it would ask
 * for buffers twice. */
static struct shc_peers peers = SHC_PEERS("memory", -1, 500, NET_MAX_FRAME);

void
mem_net_fini(const struct sl_host *host)
{
	shc_peers_close(&peers, host);
}

struct fetch {
	const struct sl_host *host;
	struct part *p; /* the proxy; the reader holds the reference */
	uint32_t sub;
	uint32_t credits;
	nng_socket sock;
	struct sl_bytes desc; /* of the remote partition */
	char url[256];
	nng_ctx ctx;
	nng_aio *aio;
	bool ctx_ok;
	bool sending; /* aio's phase; the callback's own */
	/* part->mtx */
	uint64_t next_seq; /* the next buffer to ask for */
	bool inflight;     /* a fetch is out */
	bool ended, failed, stopping;
	bool heard; /* the producer answered once: it has a stream for us */
	char err[300];
};

const char *
fetch_error(const struct fetch *f)
{
	return f->err;
}

/* A fetch (or close) message for f; NULL when out of memory. */
static nng_msg *
request_msg(const struct fetch *f, uint32_t op, uint64_t seq, uint32_t n)
{
	struct net_req q = { op, f->desc.data, f->desc.len, f->sub, seq, n,
		f->credits };
	msgpack_sbuffer sb;
	nng_msg *m = NULL;

	msgpack_sbuffer_init(&sb);
	if (net_req_encode(&sb, &q) == 0 && nng_msg_alloc(&m, 4 + sb.size) == 0)
		shc_frame_header(&sb, nng_msg_body(m));
	msgpack_sbuffer_destroy(&sb);
	return m;
}

/*
 * part->mtx held: whether to send the next fetch now, and for how many
 * buffers (*n). Only one is out at a time; it goes once half the credit
 * is free, or all of it.
 */
static bool
want_fetch_locked(struct fetch *f, uint32_t *n)
{
	uint32_t held = f->p->subs[f->sub].outstanding, room;

	if (f->inflight || f->ended || f->failed || f->stopping ||
	    held >= f->credits)
		return false;
	room = f->credits - held;
	if (held > 0 && room < (f->credits + 1) / 2)
		return false;
	*n = room < NET_MAX_BATCH ? room : NET_MAX_BATCH;
	f->inflight = true;
	return true;
}

static void fail_locked(struct fetch *f, const char *why);

/* No lock held. Send a fetch for n buffers from f->next_seq. */
static void
send_fetch(struct fetch *f, uint32_t n)
{
	nng_msg *m = request_msg(f, OP_FETCH, f->next_seq, n);

	if (m == NULL) {
		struct mreader *notify = NULL;
		struct slot *s;

		pthread_mutex_lock(&f->p->mtx);
		f->inflight = false;
		fail_locked(f, "out of memory");
		if ((s = f->p->subs[f->sub].reader) != NULL &&
		    slot_ready_locked(s))
			notify = slot_reader(s);
		pthread_mutex_unlock(&f->p->mtx);
		if (notify != NULL)
			reader_notify(notify);
		return;
	}
	f->sending = true;
	nng_aio_set_msg(f->aio, m);
	nng_ctx_send(f->ctx, f->aio);
}

/* part->mtx held. */
static void
fail_locked(struct fetch *f, const char *why)
{
	if (f->failed)
		return;
	snprintf(
	    f->err, sizeof(f->err), "producer at %.80s: %.200s", f->url, why);
	f->failed = true;
	f->p->subs[f->sub].rfailed = true;
}

/* part->mtx held: append the reply's buffers to the proxy's queue. */
static void
deliver_locked(struct fetch *f, const struct net_rep_in *r)
{
	struct sub *s = &f->p->subs[f->sub];
	const char *data = r->payload;

	for (uint32_t i = 0; i < r->count; i++) {
		struct node *n = f->host->alloc(sizeof(*n));
		void *b = f->host->alloc(r->lens[i] ? r->lens[i] : 1);

		if (n == NULL || b == NULL) {
			f->host->free(n);
			f->host->free(b);
			fail_locked(f, "out of memory");
			return;
		}
		memcpy(b, data, r->lens[i]);
		data += r->lens[i];
		*n = (struct node) { .data = b,
			.len = r->lens[i],
			.kind = r->kinds[i],
			.sub = f->sub,
			.part = f->p };
		if (s->tail != NULL)
			s->tail->next = n;
		else
			s->head = n;
		s->tail = n;
		s->outstanding++;
		f->next_seq++;
	}
	if (r->end)
		f->ended = s->ended = true;
}

static void
fetch_cb(void *arg)
{
	struct fetch *f = arg;
	struct part *p = f->p;
	struct mreader *notify = NULL;
	struct net_rep_in r;
	int rv = nng_aio_result(f->aio);
	nng_msg *m = NULL;
	bool again;
	uint32_t n = 0;
	struct slot *s;

	if (f->sending && rv == 0) {
		f->sending = false;
		nng_aio_set_msg(f->aio, NULL); /* the socket's now */
		nng_ctx_recv(f->ctx, f->aio);
		return;
	}
	f->sending = false;
	if (rv != 0 && nng_aio_get_msg(f->aio) != NULL)
		nng_msg_free(nng_aio_get_msg(f->aio)); /* an unsent fetch */
	else if (rv == 0)
		m = nng_aio_get_msg(f->aio);
	/* the aio holds only messages nobody took (fetch_stop) */
	nng_aio_set_msg(f->aio, NULL);
	pthread_mutex_lock(&p->mtx);
	f->inflight = false;
	if (f->stopping) {
		pthread_mutex_unlock(&p->mtx);
		if (m != NULL)
			nng_msg_free(m);
		return;
	}
	f->heard = true;
	if (rv != 0)
		fail_locked(f, nng_strerror(rv));
	else if (net_rep_decode(nng_msg_body(m), nng_msg_len(m), &r) != 0)
		fail_locked(f, "malformed reply");
	else if (r.st != ST_DATA)
		fail_locked(f, r.err[0] ? r.err : "error");
	else
		deliver_locked(f, &r);
	again = want_fetch_locked(f, &n);
	if ((s = p->subs[f->sub].reader) != NULL && slot_ready_locked(s))
		notify = slot_reader(s);
	pthread_mutex_unlock(&p->mtx);
	if (m != NULL)
		nng_msg_free(m);
	if (notify != NULL)
		reader_notify(notify);
	if (again)
		send_fetch(f, n);
}

void
fetch_credit(struct fetch *f)
{
	uint32_t n = 0;
	bool again;

	pthread_mutex_lock(&f->p->mtx);
	again = want_fetch_locked(f, &n);
	pthread_mutex_unlock(&f->p->mtx);
	if (again)
		send_fetch(f, n);
}

int
fetch_start(const struct sl_host *host, struct part *p, uint32_t sub,
    uint32_t credits, struct fetch **out)
{
	struct fetch *f;
	uint32_t n = 0;
	bool go;
	int rv;

	if ((f = host->alloc(sizeof(*f))) == NULL)
		return SL_ENOMEM;
	memset(f, 0, sizeof(*f));
	f->host = host;
	f->p = p;
	f->sub = sub;
	f->credits = credits < NET_MAX_CREDITS ? credits : NET_MAX_CREDITS;
	snprintf(f->url, sizeof(f->url), "%s", p->desc.location);
	if ((rv = shc_peer_get(&peers, host, p->desc.location, &f->sock)) !=
	        0 ||
	    (rv = mem_desc_encode(host, &p->desc, &f->desc)) != 0) {
		host->free(f);
		return rv;
	}
	f->ctx_ok = nng_ctx_open(&f->ctx, f->sock) == 0;
	if (!f->ctx_ok || nng_aio_alloc(&f->aio, fetch_cb, f) != 0) {
		f->aio = NULL;
		fetch_stop(f);
		host->set_error("memory: out of memory");
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&p->mtx);
	go = want_fetch_locked(f, &n);
	pthread_mutex_unlock(&p->mtx);
	if (go)
		send_fetch(f, n);
	*out = f;
	return 0;
}

void
fetch_stop(struct fetch *f)
{
	bool tell;
	nng_msg *m;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->p->mtx);
	f->stopping = true;
	tell = !f->ended && f->heard;
	pthread_mutex_unlock(&f->p->mtx);
	if (f->aio != NULL) {
		nng_aio_stop(f->aio);
		/* a fetch sent by a callback as the aio stopped: the stopped
		 * aio refused it without a callback */
		if (nng_aio_get_msg(f->aio) != NULL)
			nng_msg_free(nng_aio_get_msg(f->aio));
		nng_aio_free(f->aio);
	}
	if (f->ctx_ok)
		nng_ctx_close(f->ctx);
	/* Tell the producer to let the subpartition go (its writer must not
	 * wait for credit from a reader that left). Best effort: queued on a
	 * connection that is up (the producer answered), the answer not
	 * waited for. */
	if (tell && (m = request_msg(f, OP_CLOSE, 0, 1)) != NULL) {
		nng_ctx ctx;
		nng_aio *aio;

		if (nng_ctx_open(&ctx, f->sock) != 0) {
			nng_msg_free(m);
		} else {
			if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
				nng_msg_free(m);
			} else {
				nng_aio_set_timeout(aio, 200);
				nng_aio_set_msg(aio, m);
				nng_ctx_send(ctx, aio);
				nng_aio_wait(aio);
				if (nng_aio_result(aio) != 0)
					nng_msg_free(m);
				nng_aio_free(aio);
			}
			nng_ctx_close(ctx);
		}
	}
	f->host->free(f->desc.data);
	f->host->free(f);
}
