/*
 * rpc.h over nng's req0/rep0 with contexts and asynchronous I/O. Every nng
 * callback only moves the message to the loop (sli_loopq_post); decoding,
 * handlers and completions run there.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/error.h"
#include "common/log.h"
#include "rpc.h"

/* Requests a server works on at once. */
#define SERVER_CTXS 16

static int
nng_fail(int nrv, const char *what, const char *url)
{
	return sli_err(nrv == NNG_ENOMEM ? SL_ENOMEM : SL_EIO, "%s %s: %s",
	    what, url, nng_strerror(nrv));
}

static int
msg_to_nng(const struct sli_msg *m, nng_msg **out)
{
	void *data;
	size_t len;
	int rv;

	if ((rv = sli_wire_encode(m, &data, &len)) != 0)
		return rv;
	rv = nng_msg_alloc(out, len);
	if (rv == 0)
		memcpy(nng_msg_body(*out), data, len);
	free(data);
	return rv == 0 ? 0 : SL_ENOMEM;
}

/* ---- server ---- */

struct sli_rpc_req {
	struct sli_rpc_server *s;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	bool busy;    /* delivered to the handler and not answered yet */
	nng_msg *msg; /* received, on its way to the loop */
};

struct sli_rpc_server {
	struct sli_loopq *q;
	nng_socket sock;
	nng_listener l;
	sli_rpc_handler h;
	sli_rpc_pipe_fn pipe_fn;
	void *arg;
	bool closing; /* loop thread */
	char url[512];
	struct sli_rpc_req reqs[SERVER_CTXS];
};

struct pipe_ev {
	sli_rpc_pipe_fn fn;
	void *arg;
	bool *closing;
	uint32_t pipe;
	bool up;
};

static void
pipe_ev_run(void *a)
{
	struct pipe_ev *ev = a;

	if (!*ev->closing)
		ev->fn(ev->arg, ev->pipe, ev->up);
	free(ev);
}

static void
post_pipe_ev(struct sli_loopq *q, sli_rpc_pipe_fn fn, void *arg, bool *closing,
    nng_pipe p, bool up)
{
	struct pipe_ev *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return;
	*ev = (struct pipe_ev) { fn, arg, closing, nng_pipe_id(p), up };
	if (sli_loopq_post(q, pipe_ev_run, ev) != 0)
		free(ev);
}

static void
server_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct sli_rpc_server *s = arg;

	post_pipe_ev(s->q, s->pipe_fn, s->arg, &s->closing, p,
	    ev == NNG_PIPE_EV_ADD_POST);
}

static void
req_deliver(void *arg)
{
	struct sli_rpc_req *r = arg;
	struct sli_rpc_server *s = r->s;
	nng_msg *msg = r->msg;
	struct sli_msg m;
	uint32_t pipe;
	int rv;

	r->msg = NULL;
	if (s->closing) {
		nng_msg_free(msg);
		return;
	}
	pipe = nng_pipe_id(nng_msg_get_pipe(msg));
	rv = sli_wire_decode(nng_msg_body(msg), nng_msg_len(msg), &m);
	nng_msg_free(msg);
	r->busy = true;
	if (rv != 0) {
		sli_rpc_reply_error(r, "bad request: %s", sl_errdetail());
		return;
	}
	s->h(s->arg, r, &m, pipe);
	sli_msg_free(&m);
}

static void
req_cb(void *arg)
{
	struct sli_rpc_req *r = arg;
	int rv = nng_aio_result(r->aio);

	if (r->sending) {
		r->sending = false;
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(r->aio));
		if (rv == NNG_ECLOSED)
			return;
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv != 0) {
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	r->msg = nng_aio_get_msg(r->aio);
	if (sli_loopq_post(r->s->q, req_deliver, r) != 0) {
		nng_msg_free(r->msg);
		r->msg = NULL;
		nng_ctx_recv(r->ctx, r->aio);
	}
}

void
sli_rpc_reply(struct sli_rpc_req *r, const struct sli_msg *m)
{
	nng_msg *msg;
	int rv;

	if (!r->busy || r->s->closing)
		return;
	r->busy = false;
	if ((rv = msg_to_nng(m, &msg)) != 0) {
		struct sli_msg e = { .type = SLI_MSG_ERROR };

		e.error.message = (char *)sl_errdetail();
		if (msg_to_nng(&e, &msg) != 0) {
			nng_ctx_recv(r->ctx, r->aio);
			return;
		}
	}
	r->sending = true;
	nng_aio_set_msg(r->aio, msg);
	nng_ctx_send(r->ctx, r->aio);
}

void
sli_rpc_reply_error(struct sli_rpc_req *r, const char *fmt, ...)
{
	struct sli_msg e = { .type = SLI_MSG_ERROR };
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e.error.message = buf;
	sli_rpc_reply(r, &e);
}

int
sli_rpc_listen(struct sli_loopq *q, const char *url, sli_rpc_handler h,
    sli_rpc_pipe_fn pipe_fn, void *arg, struct sli_rpc_server **out)
{
	struct sli_rpc_server *s = calloc(1, sizeof(*s));
	int nrv, port;

	if (s == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	s->q = q;
	s->h = h;
	s->pipe_fn = pipe_fn;
	s->arg = arg;
	if ((nrv = nng_rep0_open(&s->sock)) != 0) {
		free(s);
		return nng_fail(nrv, "listen on", url);
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, SLI_WIRE_MAX);
	if (pipe_fn != NULL) {
		nng_pipe_notify(
		    s->sock, NNG_PIPE_EV_ADD_POST, server_pipe_cb, s);
		nng_pipe_notify(
		    s->sock, NNG_PIPE_EV_REM_POST, server_pipe_cb, s);
	}
	for (int i = 0; i < SERVER_CTXS; i++) {
		struct sli_rpc_req *r = &s->reqs[i];

		r->s = s;
		if ((nrv = nng_ctx_open(&r->ctx, s->sock)) != 0 ||
		    (nrv = nng_aio_alloc(&r->aio, req_cb, r)) != 0)
			goto fail;
	}
	if ((nrv = nng_listener_create(&s->l, s->sock, url)) != 0 ||
	    (nrv = nng_listener_start(s->l, 0)) != 0)
		goto fail;
	snprintf(s->url, sizeof(s->url), "%s", url);
	if (strncmp(url, "tcp://", 6) == 0 &&
	    nng_listener_get_int(s->l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		const char *colon = strrchr(url, ':');

		snprintf(s->url, sizeof(s->url), "%.*s:%d", (int)(colon - url),
		    url, port);
	}
	for (int i = 0; i < SERVER_CTXS; i++)
		nng_ctx_recv(s->reqs[i].ctx, s->reqs[i].aio);
	*out = s;
	return 0;
fail:
	nng_close(s->sock);
	for (int i = 0; i < SERVER_CTXS; i++)
		if (s->reqs[i].aio != NULL)
			nng_aio_free(s->reqs[i].aio);
	free(s);
	return nng_fail(nrv, "listen on", url);
}

const char *
sli_rpc_server_url(const struct sli_rpc_server *s)
{
	return s->url;
}

void
sli_rpc_server_close(struct sli_rpc_server *s)
{
	if (s == NULL)
		return;
	s->closing = true;
	nng_close(s->sock);
	for (int i = 0; i < SERVER_CTXS; i++)
		nng_aio_stop(s->reqs[i].aio);
	/* Deliveries and pipe events already posted see `closing`. */
	sli_loopq_drain(s->q);
	for (int i = 0; i < SERVER_CTXS; i++)
		nng_aio_free(s->reqs[i].aio);
	free(s);
}

/* ---- client ---- */

struct call {
	struct sli_rpc_client *c;
	struct call *prev, *next; /* pending, loop thread */
	nng_ctx ctx;
	nng_aio *aio;
	sli_rpc_done done;
	void *arg;
	int nrv;
};

struct sli_rpc_client {
	struct sli_loopq *q;
	nng_socket sock;
	sli_rpc_pipe_fn pipe_fn;
	void *arg;
	bool closing;
	struct call *pending;
	char url[512];
};

static void
client_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct sli_rpc_client *c = arg;

	post_pipe_ev(c->q, c->pipe_fn, c->arg, &c->closing, p,
	    ev == NNG_PIPE_EV_ADD_POST);
}

static void
call_finish(void *arg)
{
	struct call *k = arg;
	struct sli_rpc_client *c = k->c;
	struct sli_msg m;
	nng_msg *msg = NULL;
	int rv = 0;

	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		c->pending = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;

	if (k->nrv == 0)
		msg = nng_aio_get_msg(k->aio);
	if (c->closing || k->nrv == NNG_ECLOSED || k->nrv == NNG_ECANCELED)
		rv = sli_err(SL_ECLOSED, "%s: connection closed", c->url);
	else if (k->nrv == NNG_ETIMEDOUT)
		rv = sli_err(SL_ETIMEDOUT, "%s: no reply in time", c->url);
	else if (k->nrv != 0)
		rv = sli_err(SL_EIO, "%s: %s", c->url, nng_strerror(k->nrv));
	else
		rv = sli_wire_decode(nng_msg_body(msg), nng_msg_len(msg), &m);
	if (msg != NULL)
		nng_msg_free(msg);
	k->done(k->arg, rv, rv == 0 ? &m : NULL);
	if (rv == 0)
		sli_msg_free(&m);
	nng_ctx_close(k->ctx);
	nng_aio_free(k->aio);
	free(k);
}

static void
call_cb(void *arg)
{
	struct call *k = arg;
	int rv = nng_aio_result(k->aio);

	if (rv == 0 && nng_aio_get_msg(k->aio) == NULL) {
		/* the send finished: now wait for the reply */
		nng_ctx_recv(k->ctx, k->aio);
		return;
	}
	if (rv != 0 && nng_aio_get_msg(k->aio) != NULL) {
		nng_msg_free(nng_aio_get_msg(k->aio));
		nng_aio_set_msg(k->aio, NULL);
	}
	k->nrv = rv;
	/* The loop frees k; if posting fails there is nothing to do but
	 * leak it rather than call back on the wrong thread. */
	(void)sli_loopq_post(k->c->q, call_finish, k);
}

int
sli_rpc_dial(struct sli_loopq *q, const char *url, sli_rpc_pipe_fn pipe_fn,
    void *arg, struct sli_rpc_client **out)
{
	struct sli_rpc_client *c = calloc(1, sizeof(*c));
	int nrv;

	if (c == NULL)
		return sli_err(SL_ENOMEM, "out of memory");
	c->q = q;
	c->pipe_fn = pipe_fn;
	c->arg = arg;
	snprintf(c->url, sizeof(c->url), "%s", url);
	if ((nrv = nng_req0_open(&c->sock)) != 0) {
		free(c);
		return nng_fail(nrv, "dial", url);
	}
	/* A request is sent once: a reply that takes long is not a reason to
	 * send it again (DEPLOY twice would run a task twice). */
	nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, SLI_WIRE_MAX);
	if (pipe_fn != NULL) {
		nng_pipe_notify(
		    c->sock, NNG_PIPE_EV_ADD_POST, client_pipe_cb, c);
		nng_pipe_notify(
		    c->sock, NNG_PIPE_EV_REM_POST, client_pipe_cb, c);
	}
	if ((nrv = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(c->sock);
		free(c);
		return nng_fail(nrv, "dial", url);
	}
	*out = c;
	return 0;
}

int
sli_rpc_call(struct sli_rpc_client *c, const struct sli_msg *m, int timeout_ms,
    sli_rpc_done done, void *arg)
{
	struct call *k;
	nng_msg *msg;
	int rv;

	if (c->closing)
		return sli_err(SL_ECLOSED, "%s: connection closed", c->url);
	if ((rv = msg_to_nng(m, &msg)) != 0)
		return rv;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		nng_msg_free(msg);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	k->c = c;
	k->done = done;
	k->arg = arg;
	if (nng_ctx_open(&k->ctx, c->sock) != 0 ||
	    nng_aio_alloc(&k->aio, call_cb, k) != 0) {
		nng_msg_free(msg);
		free(k);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	if ((k->next = c->pending) != NULL)
		k->next->prev = k;
	c->pending = k;
	nng_aio_set_timeout(k->aio,
	    timeout_ms > 0 ? (nng_duration)timeout_ms : NNG_DURATION_INFINITE);
	nng_aio_set_msg(k->aio, msg);
	nng_ctx_send(k->ctx, k->aio);
	return 0;
}

void
sli_rpc_client_close(struct sli_rpc_client *c)
{
	if (c == NULL)
		return;
	c->closing = true;
	nng_close(c->sock);
	for (struct call *k = c->pending; k != NULL; k = k->next)
		nng_aio_stop(k->aio);
	/* Every pending call has posted its completion by now. */
	sli_loopq_drain(c->q);
	free(c);
}

int
sli_rpc_call_sync(const char *url, const struct sli_msg *m, int timeout_ms,
    struct sli_msg *reply)
{
	nng_socket sock;
	nng_msg *msg;
	int nrv, rv;

	memset(reply, 0, sizeof(*reply));
	if ((nrv = nng_req0_open(&sock)) != 0)
		return nng_fail(nrv, "dial", url);
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, SLI_WIRE_MAX);
	if ((nrv = nng_dial(sock, url, NULL, 0)) != 0) {
		nng_close(sock);
		if (nrv == NNG_ECONNREFUSED || nrv == NNG_ENOENT)
			return sli_err(SL_EIO,
			    "cannot reach a coordinator at %s: %s (is it "
			    "running?)",
			    url, nng_strerror(nrv));
		return nng_fail(nrv, "dial", url);
	}
	if ((rv = msg_to_nng(m, &msg)) != 0) {
		nng_close(sock);
		return rv;
	}
	if ((nrv = nng_sendmsg(sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		nng_close(sock);
		return nng_fail(nrv, "send to", url);
	}
	if ((nrv = nng_recvmsg(sock, &msg, 0)) != 0) {
		nng_close(sock);
		if (nrv == NNG_ETIMEDOUT)
			return sli_err(SL_ETIMEDOUT,
			    "%s: no reply within %d ms", url, timeout_ms);
		return nng_fail(nrv, "receive from", url);
	}
	rv = sli_wire_decode(nng_msg_body(msg), nng_msg_len(msg), reply);
	nng_msg_free(msg);
	nng_close(sock);
	if (rv == 0 && reply->type == SLI_MSG_ERROR) {
		rv = sli_err(SL_EIO, "%s", reply->error.message);
		sli_msg_free(reply);
	}
	return rv;
}
