/*
 * Request and reply over nng, delivered on a libuv loop: the control plane
 * between workers, the coordinator and clients (DESIGN §1). Every message is
 * one core/wire message; a server answers each request with exactly one
 * reply. nng's own threads never call into the caller: they post to the
 * loop (struct sli_loopq), and every callback below runs on the loop thread.
 *
 *   server  a rep0 socket listening at a URL, with a pool of contexts so
 *           that several requests are in flight at once; a request that
 *           does not decode is answered with ERROR by the server itself.
 *   client  a req0 socket dialing a URL (it redials when the peer goes
 *           away); each call completes exactly once, with a reply, a
 *           timeout, or SL_ECLOSED when the client is closed first.
 */
#ifndef SLI_NET_RPC_H
#define SLI_NET_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "wire/wire.h"

/* Work handed to a loop thread from other threads. */
struct sli_loopq_item;

struct sli_loopq {
	uv_async_t async;
	uv_mutex_t mtx;
	struct sli_loopq_item *head, *tail;
};

int sli_loopq_init(struct sli_loopq *q, uv_loop_t *loop);
/* Any thread: run fn(arg) on the loop thread soon. */
int sli_loopq_post(struct sli_loopq *q, void (*fn)(void *), void *arg);
/* Loop thread: run what is queued now. */
void sli_loopq_drain(struct sli_loopq *q);
/* Loop thread, also from a posted function: drain, then close the handle
 * (the loop must run once more for the close to complete). Nothing may be
 * posted after. */
void sli_loopq_close(struct sli_loopq *q);

struct sli_rpc_server;
struct sli_rpc_req; /* one request waiting for its reply */

/* Loop thread. m is the decoded request, freed after the call returns;
 * pipe identifies the connection it came on. The handler answers with
 * sli_rpc_reply, now or later. */
typedef void (*sli_rpc_handler)(
    void *arg, struct sli_rpc_req *req, const struct sli_msg *m, uint32_t pipe);

/* Connections opened and closed (pipe ids as given to the handler). */
typedef void (*sli_rpc_pipe_fn)(void *arg, uint32_t pipe, bool up);

/*
 * Listen at url (tcp://HOST:0 picks a port; sli_rpc_server_url then says
 * which). SL_EIO with a detail naming the URL when it cannot listen.
 */
int sli_rpc_listen(struct sli_loopq *q, const char *url, sli_rpc_handler h,
    sli_rpc_pipe_fn pipe_fn, void *arg, struct sli_rpc_server **out);
/* The URL peers dial: the one given, with the port bound for tcp://:0. */
const char *sli_rpc_server_url(const struct sli_rpc_server *s);
/* Loop thread. Answer req with m (ERROR when m cannot be encoded). */
void sli_rpc_reply(struct sli_rpc_req *req, const struct sli_msg *m);
/* Answer req with ERROR {message}. */
void sli_rpc_reply_error(struct sli_rpc_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Loop thread. Stops listening; requests not yet answered are dropped. */
void sli_rpc_server_close(struct sli_rpc_server *s);

struct sli_rpc_client;

/* Loop thread. rv is 0 with the reply (freed after the call returns),
 * SL_ETIMEDOUT, SL_EIO, SL_EPARSE (a reply that does not decode) or
 * SL_ECLOSED; sl_errdetail() says more. */
typedef void (*sli_rpc_done)(void *arg, int rv, const struct sli_msg *reply);

int sli_rpc_dial(struct sli_loopq *q, const char *url, sli_rpc_pipe_fn pipe_fn,
    void *arg, struct sli_rpc_client **out);
/* Loop thread. Send m; done is called once. timeout_ms <= 0: none. */
int sli_rpc_call(struct sli_rpc_client *c, const struct sli_msg *m,
    int timeout_ms, sli_rpc_done done, void *arg);
/* Loop thread. Calls still pending complete with SL_ECLOSED. */
void sli_rpc_client_close(struct sli_rpc_client *c);

/*
 * Outside any loop (the CLI's submit and status): dial url, send m, wait up
 * to timeout_ms for the reply. A reply of type ERROR is returned as
 * SL_EIO with its message as the detail. *reply is freed with
 * sli_msg_free.
 */
int sli_rpc_call_sync(const char *url, const struct sli_msg *m, int timeout_ms,
    struct sli_msg *reply);

#endif
