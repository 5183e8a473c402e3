/*
 * nng sockets of the shuffle plugins' data path between processes
 * (net.h): the req sockets a reader dials, their links, and a server's
 * listener; TLS for tls+tcp:// URLs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#define ENV_CA "SLUICE_SHUFFLE_TLS_CA"
#define ENV_CERT "SLUICE_SHUFFLE_TLS_CERT"
#define ENV_KEY "SLUICE_SHUFFLE_TLS_KEY"

/* ---- links ---- */

uint64_t
shc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Counted from ADD_PRE: nng reports REM_POST for every pipe that saw
 * ADD_PRE, also one refused before ADD_POST, so the count never goes
 * below 0. */
static void
link_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct shc_link *l = arg;

	(void)p;
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&l->pipes, 1);
		return;
	}
	/* the time first: whoever sees no pipe sees when it went */
	atomic_store(&l->down_ms, shc_now_ms());
	atomic_fetch_sub(&l->pipes, 1);
}

int
shc_link_watch(struct shc_link *l, nng_socket s)
{
	atomic_init(&l->pipes, 0);
	atomic_init(&l->down_ms, shc_now_ms());
	if (nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, link_cb, l) != 0 ||
	    nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, link_cb, l) != 0)
		return SL_EIO;
	return 0;
}

bool
shc_link_lost(const struct shc_link *l, uint64_t since_ms)
{
	uint64_t from, now;

	if (atomic_load(&l->pipes) > 0)
		return false;
	from = atomic_load(&l->down_ms);
	if (from < since_ms)
		from = since_ms;
	now = shc_now_ms();
	return now > from && now - from >= SHC_LOST_MS;
}

const char *
shc_unreachable_hint(const char *url)
{
	return strncmp(url, "tls+", 4) == 0
	    ? " (or its certificate is not one $SLUICE_SHUFFLE_TLS_CA "
	      "trusts for that host name)"
	    : "";
}

/* ---- dialling ---- */

static bool
is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0 ||
	    strncmp(url, "tls+tcp4://", 11) == 0 ||
	    strncmp(url, "tls+tcp6://", 11) == 0;
}

static int
dial_tls(
    const struct sl_host *host, nng_socket s, const char *url, const char *who)
{
	const char *ca = getenv(ENV_CA);
	nng_dialer d;
	nng_url *u;
	int nrv;

	if (ca == NULL || ca[0] == '\0') {
		host->set_error("%s: %s is a TLS URL, but " ENV_CA
		                " is not set (set it to the file of the "
		                "certificate authority that signed the "
		                "service's certificate)",
		    who, url);
		return SL_EINVAL;
	}
	if (access(ca, R_OK) != 0) {
		host->set_error(
		    "%s: " ENV_CA "=%s: %s", who, ca, strerror(errno));
		return SL_EINVAL;
	}
	if ((nrv = nng_url_parse(&u, url)) != 0) {
		host->set_error(
		    "%s: cannot dial %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	if ((nrv = nng_dialer_create(&d, s, url)) != 0) {
		nng_url_free(u);
		host->set_error(
		    "%s: cannot dial %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	if ((nrv = nng_dialer_set_string(d, NNG_OPT_TLS_CA_FILE, ca)) != 0) {
		host->set_error("%s: " ENV_CA "=%s: not a CA certificate "
		                "file (%s)",
		    who, ca, nng_strerror(nrv));
		nng_url_free(u);
		nng_dialer_close(d);
		return SL_EINVAL;
	}
	/* the certificate must be the CA's, and be the URL's host's */
	if ((nrv = nng_dialer_set_int(
	         d, NNG_OPT_TLS_AUTH_MODE, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (nrv = nng_dialer_set_string(
	         d, NNG_OPT_TLS_SERVER_NAME, u->u_hostname)) != 0 ||
	    (nrv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		host->set_error(
		    "%s: cannot dial %s: %s", who, url, nng_strerror(nrv));
		nng_url_free(u);
		nng_dialer_close(d);
		return SL_EIO;
	}
	nng_url_free(u);
	return 0;
}

int
shc_dial(
    const struct sl_host *host, nng_socket s, const char *url, const char *who)
{
	int nrv;

	if (is_tls(url))
		return dial_tls(host, s, url, who);
	if ((nrv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		host->set_error(
		    "%s: cannot dial %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	return 0;
}

/* ---- a plugin's req sockets ---- */

struct shc_peer {
	struct shc_peer *next;
	char *url;
	nng_socket sock;
	struct shc_link link;
};

/* A socket for url, dialled; NULL after saying why. */
static struct shc_peer *
peer_new(
    struct shc_peers *ps, const struct sl_host *host, const char *url, int *rv)
{
	struct shc_peer *p = host->alloc(sizeof(*p));
	int nrv;

	*rv = SL_ENOMEM;
	if (p == NULL) {
		host->set_error("%s: out of memory", ps->who);
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	if ((p->url = host->alloc(strlen(url) + 1)) == NULL) {
		host->free(p);
		host->set_error("%s: out of memory", ps->who);
		return NULL;
	}
	strcpy(p->url, url);
	if ((nrv = nng_req0_open(&p->sock)) != 0) {
		host->set_error("%s: cannot connect to %s: %s", ps->who, url,
		    nng_strerror(nrv));
		host->free(p->url);
		host->free(p);
		*rv = SL_EIO;
		return NULL;
	}
	nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
	    ps->resend_ms < 0 ? NNG_DURATION_INFINITE : ps->resend_ms);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, ps->reconnect_max_ms);
	nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, ps->max_frame);
	if ((*rv = shc_link_watch(&p->link, p->sock)) != 0)
		host->set_error("%s: cannot connect to %s", ps->who, url);
	else
		*rv = shc_dial(host, p->sock, url, ps->who);
	if (*rv != 0) {
		nng_close(p->sock);
		host->free(p->url);
		host->free(p);
		return NULL;
	}
	return p;
}

int
shc_peer_get_link(struct shc_peers *ps, const struct sl_host *host,
    const char *url, nng_socket *out, const struct shc_link **link)
{
	struct shc_peer *p;
	int rv = 0;

	pthread_mutex_lock(&ps->mtx);
	for (p = ps->head; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0)
			break;
	if (p == NULL && (p = peer_new(ps, host, url, &rv)) != NULL) {
		p->next = ps->head;
		ps->head = p;
	}
	if (p != NULL) {
		*out = p->sock;
		if (link != NULL)
			*link = &p->link;
	}
	pthread_mutex_unlock(&ps->mtx);
	return rv;
}

int
shc_peer_get(struct shc_peers *ps, const struct sl_host *host, const char *url,
    nng_socket *out)
{
	return shc_peer_get_link(ps, host, url, out, NULL);
}

void
shc_peers_close(struct shc_peers *ps, const struct sl_host *host)
{
	pthread_mutex_lock(&ps->mtx);
	while (ps->head != NULL) {
		struct shc_peer *p = ps->head;

		ps->head = p->next;
		nng_close(p->sock); /* no pipe callback after it returns */
		host->free(p->url);
		host->free(p);
	}
	pthread_mutex_unlock(&ps->mtx);
}

/* ---- listening ---- */

/* The file named by $var, NUL-terminated, host->alloc'd; NULL after
 * saying why. */
static char *
read_env_file(const struct sl_host *host, const char *var, const char *who,
    const char *url)
{
	const char *path = getenv(var);
	const char *why = NULL;
	char *buf = NULL;
	struct stat st;
	FILE *f;

	if (path == NULL || path[0] == '\0') {
		host->set_error("%s: cannot listen on %s: %s is not set (the "
		                "service's TLS certificate and private key "
		                "files: " ENV_CERT ", " ENV_KEY
		                "; sluice shuffled sets them from --tls-cert "
		                "and --tls-key)",
		    who, url, var);
		return NULL;
	}
	if ((f = fopen(path, "r")) == NULL) {
		host->set_error(
		    "%s: %s=%s: %s", who, var, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		why = "not a file";
	else if (st.st_size > (1 << 20))
		why = "larger than 1 MiB";
	else if ((buf = host->alloc((size_t)st.st_size + 1)) == NULL)
		why = "out of memory";
	else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		why = "cannot read it";
	fclose(f);
	if (why != NULL) {
		host->set_error("%s: %s=%s: %s", who, var, path, why);
		host->free(buf);
		return NULL;
	}
	buf[st.st_size] = '\0';
	return buf;
}

/* The listener l presents $SLUICE_SHUFFLE_TLS_CERT and _KEY. */
static int
listen_tls(const struct sl_host *host, nng_listener l, const char *url,
    const char *who)
{
	char *cert = read_env_file(host, ENV_CERT, who, url), *key = NULL;
	nng_tls_config *cfg = NULL;
	int nrv, rv = SL_EINVAL;

	if (cert == NULL ||
	    (key = read_env_file(host, ENV_KEY, who, url)) == NULL)
		goto out;
	if ((nrv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		host->set_error(
		    "%s: cannot listen on %s: %s", who, url, nng_strerror(nrv));
		rv = SL_EIO;
		goto out;
	}
	if ((nrv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		host->set_error("%s: cannot listen on %s: " ENV_CERT
		                "=%s and " ENV_KEY
		                "=%s are not a PEM certificate and "
		                "its unencrypted private key (%s)",
		    who, url, getenv(ENV_CERT), getenv(ENV_KEY),
		    nng_strerror(nrv));
		goto out;
	}
	if ((nrv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		host->set_error(
		    "%s: cannot listen on %s: %s", who, url, nng_strerror(nrv));
		rv = SL_EIO;
		goto out;
	}
	rv = 0;
out:
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the listener holds it */
	host->free(cert);
	host->free(key);
	return rv;
}

int
shc_listen(const struct sl_host *host, nng_socket sock, const char *url,
    char *bound, size_t cap, const char *who)
{
	nng_listener l;
	int nrv, port, rv;

	if ((nrv = nng_listener_create(&l, sock, url)) != 0) {
		host->set_error(
		    "%s: cannot listen on %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	if (is_tls(url) && (rv = listen_tls(host, l, url, who)) != 0) {
		nng_listener_close(l);
		return rv;
	}
	if ((nrv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		host->set_error(
		    "%s: cannot listen on %s: %s", who, url, nng_strerror(nrv));
		return SL_EIO;
	}
	snprintf(bound, cap, "%s", url);
	if ((strncmp(url, "tcp://", 6) == 0 || is_tls(url)) &&
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		const char *colon = strrchr(url, ':');

		snprintf(bound, cap, "%.*s:%d", (int)(colon - url), url, port);
	}
	return 0;
}
