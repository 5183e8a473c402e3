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

/* The socket for url, dialled (without waiting) when new. */
int shc_peer_get(struct shc_peers *ps, const struct sl_host *host,
    const char *url, nng_socket *out);
/* Close every socket. */
void shc_peers_close(struct shc_peers *ps, const struct sl_host *host);

/* Listen on url with sock; bound (cap bytes) gets the URL to dial, with
 * the port a tcp://HOST:0 got. */
int shc_listen(const struct sl_host *host, nng_socket sock, const char *url,
    char *bound, size_t cap, const char *who);

#endif
