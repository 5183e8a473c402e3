/*
 * The memory plugin's server (producer side; docs/runtime.md): each worker
 * serves its partitions at one URL (server_start). A remote reader's stream
 * is one subpartition of one partition; the server opens an ordinary reader
 * of this plugin on it and plays the consumer: it answers a fetch of n
 * buffers with what is ready (at least one, or the end), copying each into
 * the reply and releasing it at once, so the writer gets its credit back.
 * Frames: memory_frame.c.
 *
 * One thread serves every stream: requests, readers' notifications and
 * closed connections come to it as events. nng's callbacks only queue.
 */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "memory.h"

static pthread_mutex_t net_mtx = PTHREAD_MUTEX_INITIALIZER;
static char own_url[512]; /* this process's server, "" when none */

/* Only a process that serves partitions (a worker) reads from others:
 * in one process (sluice run --in-process, tests) every partition is here,
 * whatever its descriptor says, and nothing is ever dialled. */
bool
mem_is_remote(const struct mem_desc *d)
{
	bool remote;

	if (d->location == NULL || d->location[0] == '\0')
		return false;
	pthread_mutex_lock(&net_mtx);
	remote = own_url[0] != '\0' && strcmp(d->location, own_url) != 0;
	pthread_mutex_unlock(&net_mtx);
	return remote;
}

struct sreq;

struct stream {
	struct stream *next;
	struct sl_bytes desc; /* host->alloc'd copy */
	struct mem_desc key;
	uint32_t sub;
	uint32_t pipe;
	void *reader; /* mem_reader_ops state; NULL once ended */
	uint64_t sent;
	bool ended;
	bool failed;
	bool queued; /* on the server's event list */
	struct stream *qnext;
	struct sreq *waiting; /* by seq */
};

struct sreq {
	struct sreq *next; /* waiting list or free list */
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	nng_msg *msg; /* received, until handled */
	uint64_t seq; /* the fetch: buffers seq.. */
	uint32_t n;   /* ..at most n of them */
	uint32_t pipe;
	struct sreq *qnext; /* event list */
};

static struct {
	const struct sl_host *host;
	nng_socket sock;
	bool running;
	pthread_t th;
	pthread_mutex_t mtx; /* events, free list */
	pthread_cond_t cv;
	bool stop;
	bool listening; /* a ctx is receiving the next request */
	struct sreq *rq_head, *rq_tail; /* received requests */
	struct stream *sq_head;         /* notified streams */
	uint32_t *closed_pipes;
	uint32_t nclosed, capclosed;
	struct sreq *free_reqs;
	struct sreq *all_reqs[4096];
	uint32_t nreqs;
	/* server thread only */
	struct stream *streams;
} srv = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void sreq_cb(void *arg);

/* srv.mtx held: a ctx receiving the next request. */
static void
listen_one_locked(void)
{
	struct sreq *r = srv.free_reqs;

	if (r != NULL) {
		srv.free_reqs = r->next;
	} else {
		/* At the cap, requests queue in the socket until a reply
		 * goes out and its ctx listens again (sreq_cb). */
		if (srv.nreqs == sizeof(srv.all_reqs) / sizeof(srv.all_reqs[0]))
			return;
		if ((r = srv.host->alloc(sizeof(*r))) == NULL)
			return;
		memset(r, 0, sizeof(*r));
		if (nng_ctx_open(&r->ctx, srv.sock) != 0 ||
		    nng_aio_alloc(&r->aio, sreq_cb, r) != 0) {
			srv.host->free(r);
			return;
		}
		srv.all_reqs[srv.nreqs++] = r;
	}
	r->sending = false;
	srv.listening = true;
	nng_ctx_recv(r->ctx, r->aio);
}

static void
sreq_cb(void *arg)
{
	struct sreq *r = arg;
	int rv = nng_aio_result(r->aio);

	pthread_mutex_lock(&srv.mtx);
	if (r->sending) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(r->aio));
		r->sending = false;
		r->next = srv.free_reqs;
		srv.free_reqs = r;
		if (!srv.listening && !srv.stop)
			listen_one_locked();
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	if (rv != 0) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !srv.stop)
			nng_ctx_recv(r->ctx, r->aio);
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	srv.listening = false;
	r->msg = nng_aio_get_msg(r->aio);
	r->pipe = nng_pipe_id(nng_msg_get_pipe(r->msg));
	r->qnext = NULL;
	if (srv.rq_tail != NULL)
		srv.rq_tail->qnext = r;
	else
		srv.rq_head = r;
	srv.rq_tail = r;
	if (!srv.stop)
		listen_one_locked();
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
}

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	pthread_mutex_lock(&srv.mtx);
	if (srv.nclosed == srv.capclosed) {
		uint32_t cap = srv.capclosed ? srv.capclosed * 2 : 16;
		uint32_t *n = srv.host->alloc(cap * sizeof(*n));

		if (n == NULL) {
			pthread_mutex_unlock(&srv.mtx);
			return;
		}
		if (srv.nclosed > 0)
			memcpy(n, srv.closed_pipes, srv.nclosed * sizeof(*n));
		srv.host->free(srv.closed_pipes);
		srv.closed_pipes = n;
		srv.capclosed = cap;
	}
	srv.closed_pipes[srv.nclosed++] = nng_pipe_id(p);
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
}

/* A stream's reader calls this from any thread: queue the stream. */
static void
stream_notify(void *arg)
{
	struct stream *st = arg;

	pthread_mutex_lock(&srv.mtx);
	if (!st->queued) {
		st->queued = true;
		st->qnext = srv.sq_head;
		srv.sq_head = st;
		pthread_cond_signal(&srv.cv);
	}
	pthread_mutex_unlock(&srv.mtx);
}

/* Send r's reply: the buffers b[0..count) (released by the caller after),
 * the end, or an error. */
static void
reply(struct sreq *r, uint32_t st, bool end, const struct sl_buffer *b,
    uint32_t count, const char *err)
{
	uint32_t kinds[NET_MAX_BATCH];
	uint64_t lens[NET_MAX_BATCH];
	struct net_rep rep = { st, end, count, kinds, lens, err };
	msgpack_sbuffer sb;
	nng_msg *m = NULL;
	size_t plen = 0;

	for (uint32_t i = 0; i < count; i++) {
		kinds[i] = b[i].kind;
		lens[i] = b[i].len;
		plen += b[i].len;
	}
	msgpack_sbuffer_init(&sb);
	if (net_rep_encode(&sb, &rep) == 0 &&
	    nng_msg_alloc(&m, 4 + sb.size + plen) == 0) {
		char *p = (char *)nng_msg_body(m) + 4 + sb.size;

		shc_frame_header(&sb, nng_msg_body(m));
		for (uint32_t i = 0; i < count; i++) {
			memcpy(p, b[i].data, b[i].len);
			p += b[i].len;
		}
	}
	msgpack_sbuffer_destroy(&sb);
	if (m == NULL) {
		/* No memory for the reply: drop it; the reader's task is
		 * cancelled when its job fails. */
		pthread_mutex_lock(&srv.mtx);
		r->next = srv.free_reqs;
		srv.free_reqs = r;
		if (!srv.listening && !srv.stop)
			listen_one_locked();
		pthread_mutex_unlock(&srv.mtx);
		return;
	}
	pthread_mutex_lock(&srv.mtx);
	r->sending = true;
	pthread_mutex_unlock(&srv.mtx);
	nng_aio_set_msg(r->aio, m);
	nng_ctx_send(r->ctx, r->aio);
}

static void
stream_close_reader(struct stream *st)
{
	if (st->reader == NULL)
		return;
	mem_reader_ops.fini(st->reader);
	srv.host->free(st->reader);
	st->reader = NULL;
	/* A notify may have queued it; it stays valid (streams are freed
	 * only after the event list is drained of them). */
}

/* Answer what can be answered, in seq order: a fetch gets what is ready,
 * up to its n, as soon as there is one buffer or the end. */
static void
pump(struct stream *st)
{
	struct sl_buffer b[NET_MAX_BATCH];
	char why[256];

	while (st->waiting != NULL) {
		struct sreq *r = st->waiting;
		uint32_t k = 0;
		int rv = 0;

		if (st->failed) {
			st->waiting = r->next;
			reply(r, ST_ERROR, false, NULL, 0,
			    "memory: partition unreadable at its producer");
			continue;
		}
		if (r->seq < st->sent || (st->ended && r->seq > st->sent)) {
			st->waiting = r->next;
			snprintf(why, sizeof(why),
			    "memory: buffer %llu of subpartition %u asked for "
			    "again (a request repeated after a lost "
			    "connection): data lost",
			    (unsigned long long)r->seq, st->sub);
			reply(r, ST_ERROR, false, NULL, 0, why);
			st->failed = true;
			continue;
		}
		if (st->ended) {
			st->waiting = r->next;
			reply(r, ST_DATA, true, NULL, 0, NULL);
			continue;
		}
		if (r->seq > st->sent)
			return; /* the fetch for `sent` is still on its way */
		while (k < r->n &&
		    (rv = mem_reader_ops.next(st->reader, &b[k])) == 0)
			k++;
		if (rv == SL_EAGAIN && k == 0)
			return; /* the reader's notify brings us back */
		if (rv == SL_EEOF)
			st->ended = true;
		else if (rv != 0 && rv != SL_EAGAIN)
			st->failed = true;
		if (k > 0 || st->ended) {
			st->waiting = r->next;
			st->sent += k;
			reply(r, ST_DATA, st->ended, b, k, NULL);
			for (uint32_t i = 0; i < k; i++)
				mem_reader_ops.release(st->reader, &b[i]);
		}
		if (st->ended || st->failed)
			stream_close_reader(st);
	}
}

static struct stream *
stream_find(const struct mem_desc *key, uint32_t sub)
{
	for (struct stream *st = srv.streams; st != NULL; st = st->next)
		if (st->sub == sub && mem_desc_same_key(&st->key, key))
			return st;
	return NULL;
}

static void
stream_free(struct stream *st)
{
	struct stream **pp = &srv.streams;

	while (*pp != st)
		pp = &(*pp)->next;
	*pp = st->next;
	stream_close_reader(st);
	pthread_mutex_lock(&srv.mtx);
	if (st->queued) {
		struct stream **q = &srv.sq_head;

		while (*q != st)
			q = &(*q)->qnext;
		*q = st->qnext;
	}
	pthread_mutex_unlock(&srv.mtx);
	while (st->waiting != NULL) {
		struct sreq *r = st->waiting;

		st->waiting = r->next;
		reply(r, ST_ERROR, false, NULL, 0, "memory: stream closed");
	}
	srv.host->free(st->desc.data);
	mem_desc_clear(srv.host, &st->key);
	srv.host->free(st);
}

static struct stream *
stream_open(const struct net_req *q, uint32_t pipe, char *why, size_t cap)
{
	uint32_t sub = q->sub, credits = q->credits;
	struct sl_reader_spec spec;
	struct stream *st;
	int rv;

	if ((st = srv.host->alloc(sizeof(*st))) == NULL) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memset(st, 0, sizeof(*st));
	st->sub = sub;
	st->pipe = pipe;
	if ((st->desc.data = srv.host->alloc(q->desc_len)) == NULL) {
		srv.host->free(st);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memcpy(st->desc.data, q->desc, q->desc_len);
	st->desc.len = q->desc_len;
	if (mem_desc_decode(srv.host, st->desc.data, st->desc.len, &st->key) !=
	    0) {
		srv.host->free(st->desc.data);
		srv.host->free(st);
		snprintf(why, cap, "bad descriptor");
		return NULL;
	}
	st->next = srv.streams;
	srv.streams = st;
	if ((st->reader = srv.host->alloc(mem_reader_ops.state_size)) == NULL) {
		stream_free(st);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	memset(st->reader, 0, mem_reader_ops.state_size);
	spec = (struct sl_reader_spec) {
		.struct_size = sizeof(spec),
		.descriptors = &st->desc,
		.num_descriptors = 1,
		.sub_lo = sub,
		.sub_hi = sub,
		.notify = stream_notify,
		.notify_arg = st,
		.credits = credits,
	};
	if ((rv = mem_reader_ops.open(st->reader, srv.host, &spec)) != 0) {
		snprintf(
		    why, cap, "cannot open subpartition %u: error %d", sub, rv);
		stream_free(st);
		return NULL;
	}
	return st;
}

static void
handle_request(struct sreq *r)
{
	struct net_req q;
	struct stream *st;
	struct mem_desc key;
	char why[256];

	if (net_req_decode(nng_msg_body(r->msg), nng_msg_len(r->msg), &q) !=
	        0 ||
	    mem_desc_decode(srv.host, q.desc, q.desc_len, &key) != 0) {
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_ERROR, false, NULL, 0, "memory: malformed request");
		return;
	}
	st = stream_find(&key, q.sub);
	mem_desc_clear(srv.host, &key);
	if (q.op == OP_CLOSE) {
		if (st != NULL)
			stream_free(st);
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_DATA, true, NULL, 0, NULL);
		return;
	}
	if (st == NULL &&
	    (st = stream_open(&q, r->pipe, why, sizeof(why))) == NULL) {
		nng_msg_free(r->msg);
		r->msg = NULL;
		reply(r, ST_ERROR, false, NULL, 0, why);
		return;
	}
	r->seq = q.seq;
	r->n = q.n;
	nng_msg_free(r->msg); /* q pointed into it: done with q */
	r->msg = NULL;
	{
		struct sreq **pp = &st->waiting;

		while (*pp != NULL && (*pp)->seq < r->seq)
			pp = &(*pp)->next;
		r->next = *pp;
		*pp = r;
	}
	pump(st);
}

static void *
server_thread(void *arg)
{
	pthread_mutex_lock(&srv.mtx);
	for (;;) {
		struct sreq *r;
		struct stream *st;

		if ((r = srv.rq_head) != NULL) {
			if ((srv.rq_head = r->qnext) == NULL)
				srv.rq_tail = NULL;
			pthread_mutex_unlock(&srv.mtx);
			handle_request(r);
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if ((st = srv.sq_head) != NULL) {
			srv.sq_head = st->qnext;
			st->queued = false;
			pthread_mutex_unlock(&srv.mtx);
			if (st->reader != NULL)
				pump(st);
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if (srv.nclosed > 0) {
			uint32_t pipe = srv.closed_pipes[--srv.nclosed];

			pthread_mutex_unlock(&srv.mtx);
			/* The consumer's connection is gone: give its
			 * subpartitions up, so the writer does not wait for
			 * credit that never comes. */
			for (struct stream *s = srv.streams, *n; s != NULL;
			     s = n) {
				n = s->next;
				if (s->pipe == pipe)
					stream_free(s);
			}
			pthread_mutex_lock(&srv.mtx);
			continue;
		}
		if (srv.stop)
			break;
		pthread_cond_wait(&srv.cv, &srv.mtx);
	}
	pthread_mutex_unlock(&srv.mtx);
	while (srv.streams != NULL)
		stream_free(srv.streams);
	return NULL;
}

static int
server_start(
    const struct sl_host *host, const char *url, char *bound, size_t cap)
{
	int nrv, rv;

	if (srv.running) {
		host->set_error("memory: server already started");
		return SL_ESTATE;
	}
	srv.host = host;
	if ((nrv = nng_rep0_open(&srv.sock)) != 0) {
		host->set_error("memory: %s", nng_strerror(nrv));
		return SL_EIO;
	}
	nng_socket_set_size(srv.sock, NNG_OPT_RECVMAXSZ, 1u << 20);
	nng_pipe_notify(srv.sock, NNG_PIPE_EV_REM_POST, pipe_cb, NULL);
	if ((rv = shc_listen(host, srv.sock, url, bound, cap, "memory")) != 0) {
		nng_close(srv.sock);
		return rv;
	}
	srv.stop = false;
	if (pthread_create(&srv.th, NULL, server_thread, NULL) != 0) {
		nng_close(srv.sock);
		host->set_error("memory: cannot start the server thread");
		return SL_ENOMEM;
	}
	pthread_mutex_lock(&srv.mtx);
	listen_one_locked();
	pthread_mutex_unlock(&srv.mtx);
	pthread_mutex_lock(&net_mtx);
	snprintf(own_url, sizeof(own_url), "%s", bound);
	pthread_mutex_unlock(&net_mtx);
	srv.running = true;
	return 0;
}

static void
server_stop(void)
{
	if (!srv.running)
		return;
	pthread_mutex_lock(&srv.mtx);
	srv.stop = true;
	pthread_cond_signal(&srv.cv);
	pthread_mutex_unlock(&srv.mtx);
	pthread_join(srv.th, NULL);
	/* Streams are gone; no reply is sent any more. */
	nng_close(srv.sock);
	for (uint32_t i = 0; i < srv.nreqs; i++) {
		nng_aio_stop(srv.all_reqs[i]->aio);
		nng_aio_free(srv.all_reqs[i]->aio);
		srv.host->free(srv.all_reqs[i]);
	}
	/* Requests received and never handled. */
	for (struct sreq *r = srv.rq_head; r != NULL; r = r->qnext)
		nng_msg_free(r->msg);
	srv.rq_head = srv.rq_tail = NULL;
	srv.free_reqs = NULL;
	srv.nreqs = 0;
	srv.listening = false;
	srv.host->free(srv.closed_pipes);
	srv.closed_pipes = NULL;
	srv.nclosed = srv.capclosed = 0;
	srv.running = false;
	pthread_mutex_lock(&net_mtx);
	own_url[0] = '\0';
	pthread_mutex_unlock(&net_mtx);
}

const struct sl_shuffle_server_ops mem_server_ops = {
	.struct_size = sizeof(struct sl_shuffle_server_ops),
	.start = server_start,
	.stop = server_stop,
};
