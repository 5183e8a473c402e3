/*
 * nng sockets of the shuffle plugins' data path between processes
 * (net.h): the req sockets a reader dials, and a server's listener.
 */
#include <stdio.h>
#include <string.h>

#include "net.h"

#include <nng/protocol/reqrep0/req.h>

struct shc_peer {
	struct shc_peer *next;
	char *url;
	nng_socket sock;
};

int
shc_peer_get(struct shc_peers *ps, const struct sl_host *host, const char *url,
    nng_socket *out)
{
	struct shc_peer *p;
	int nrv = 0;

	pthread_mutex_lock(&ps->mtx);
	for (p = ps->head; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0)
			break;
	if (p == NULL && (p = host->alloc(sizeof(*p))) != NULL) {
		memset(p, 0, sizeof(*p));
		if ((p->url = host->alloc(strlen(url) + 1)) == NULL ||
		    (nrv = nng_req0_open(&p->sock)) != 0) {
			host->free(p->url);
			host->free(p);
			p = NULL;
		} else {
			strcpy(p->url, url);
			nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
			    ps->resend_ms < 0 ? NNG_DURATION_INFINITE
			                      : ps->resend_ms);
			nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
			nng_socket_set_ms(
			    p->sock, NNG_OPT_RECONNMAXT, ps->reconnect_max_ms);
			nng_socket_set_size(
			    p->sock, NNG_OPT_RECVMAXSZ, ps->max_frame);
			nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK);
			p->next = ps->head;
			ps->head = p;
		}
	}
	if (p != NULL)
		*out = p->sock;
	pthread_mutex_unlock(&ps->mtx);
	if (p == NULL) {
		host->set_error("%s: cannot connect to %s: %s", ps->who, url,
		    nrv ? nng_strerror(nrv) : "out of memory");
		return nrv ? SL_EIO : SL_ENOMEM;
	}
	return 0;
}

void
shc_peers_close(struct shc_peers *ps, const struct sl_host *host)
{
	pthread_mutex_lock(&ps->mtx);
	while (ps->head != NULL) {
		struct shc_peer *p = ps->head;

		ps->head = p->next;
		nng_close(p->sock);
		host->free(p->url);
		host->free(p);
	}
	pthread_mutex_unlock(&ps->mtx);
}

int
shc_listen(const struct sl_host *host, nng_socket sock, const char *url,
    char *bound, size_t cap, const char *who)
{
	nng_listener l;
	int nrv, port;

	if ((nrv = nng_listener_create(&l, sock, url)) != 0 ||
	    (nrv = nng_listener_start(l, 0)) != 0) {
		host->set_error(
		    "%s: cannot listen on %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	snprintf(bound, cap, "%s", url);
	if (strncmp(url, "tcp://", 6) == 0 &&
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		const char *colon = strrchr(url, ':');

		snprintf(bound, cap, "%.*s:%d", (int)(colon - url), url, port);
	}
	return 0;
}
