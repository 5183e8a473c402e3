/*
 * What the bundled shuffle plugins share on their data path between
 * processes: frames (a u32 LE length, a msgpack map, then a payload),
 * decoded trusting nothing, and nng sockets (one req socket per server
 * dialled, a listener that reports the port it got). Compiled into each
 * plugin that uses it; each plugin keeps its own state.
 */
#ifndef SL_SHUFFLE_COMMON_NET_H
#define SL_SHUFFLE_COMMON_NET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <sluice/plugin.h>

/* ---- frames ---- */

/* A map key (a msgpack string); 0 or -1. */
int shc_pack_key(msgpack_packer *pk, const char *k);
/* Write the frame's length and its header map sb (4 + sb->size bytes). */
void shc_frame_header(const msgpack_sbuffer *sb, void *dst);
/* The header map of the frame buf (len bytes) into u, exactly its n bytes,
 * and what follows it: *payload, *plen. SL_EPARSE otherwise. */
int shc_unframe(const void *buf, size_t len, msgpack_unpacked *u,
    const unsigned char **payload, size_t *plen);
/* The value of a string key of map o, or NULL. */
const msgpack_object *shc_map_get(const msgpack_object *o, const char *key);
/* An unsigned integer key of o within lo..hi into *out. */
bool shc_get_u64(const msgpack_object *o, const char *key, uint64_t lo,
    uint64_t hi, uint64_t *out);
/* A peer's string s into dst (cap bytes), control characters replaced:
 * it is shown to users. */
void shc_copy_text(char *dst, size_t cap, const msgpack_object *s);

/* ---- sockets ---- */

/*
 * A req socket's connection to its one server, as its pipes tell
 * (nng_pipe_notify): nng redials a server that went away for as long as a
 * request waits, so without this a request to a dead server waits its
 * whole timeout. A request that has waited SHC_LOST_MS while the socket
 * had no pipe counts its server unreachable; a server that is connected
 * but slow still gets the request's whole timeout.
 */
#define SHC_LOST_MS 3000
/* How often a waiting request looks at its link. */
#define SHC_WATCH_MS 250

struct shc_link {
	atomic_int pipes;
	atomic_uint_least64_t down_ms; /* shc_now_ms when the last one went */
};

/* Monotonic milliseconds. */
uint64_t shc_now_ms(void);
/* Count s's pipes into l from now on (before s dials). l must outlive
 * s (nng_close). */
int shc_link_watch(struct shc_link *l, nng_socket s);
/* Whether a request waiting since since_ms finds l's server unreachable:
 * no pipe for SHC_LOST_MS, counted from since_ms at the earliest. */
bool shc_link_lost(const struct shc_link *l, uint64_t since_ms);

/*
 * Dial url with s, without waiting for the connection. tls+tcp:// URLs
 * check the server's certificate against the CA file
 * $SLUICE_SHUFFLE_TLS_CA (required) and the URL's host name. who names the
 * plugin in errors. 0, or SL_EINVAL (no usable CA file: the detail names
 * the variable), SL_EIO (a URL nng cannot dial); the detail through
 * host->set_error.
 */
int shc_dial(
    const struct sl_host *host, nng_socket s, const char *url, const char *who);
/* What to add to "URL is unreachable": nng's dialer says nothing of a
 * TLS handshake that failed, so for tls+tcp:// the likely cause. */
const char *shc_unreachable_hint(const char *url);

struct shc_peer;

/* The req sockets of one plugin, one per server URL, kept for the life of
 * the process: SHC_PEERS("memory", resend_ms, reconnect_max_ms, max_frame),
 * resend_ms -1 for never. */
struct shc_peers {
	pthread_mutex_t mtx;
	struct shc_peer *head;
	const char *who;
	int resend_ms;
	int reconnect_max_ms;
	size_t max_frame;
};
#define SHC_PEERS(who, resend, reconnect, max_frame)                     \
	{                                                                \
		PTHREAD_MUTEX_INITIALIZER, NULL, who, resend, reconnect, \
		    max_frame                                            \
	}

/* The socket for url, dialled (shc_dial, without waiting) when new. A
 * socket whose dial failed is not kept: the next call tries again. */
int shc_peer_get(struct shc_peers *ps, const struct sl_host *host,
    const char *url, nng_socket *out);
/* As shc_peer_get, and *link the socket's (valid until
 * shc_peers_close). */
int shc_peer_get_link(struct shc_peers *ps, const struct sl_host *host,
    const char *url, nng_socket *out, const struct shc_link **link);
/* Close every socket. */
void shc_peers_close(struct shc_peers *ps, const struct sl_host *host);

/* Listen on url with sock; bound (cap bytes) gets the URL to dial, with
 * the port a tcp://HOST:0 or tls+tcp://HOST:0 got. A tls+tcp:// listener
 * presents the certificate $SLUICE_SHUFFLE_TLS_CERT with the private key
 * $SLUICE_SHUFFLE_TLS_KEY (PEM files, both required). */
int shc_listen(const struct sl_host *host, nng_socket sock, const char *url,
    char *bound, size_t cap, const char *who);

#endif
