/*
 * The remote plugin's master: localdisk's (ld_master.c: descriptors,
 * releases, snapshots), with every partition placed on the `sluice
 * shuffled` daemons the coordinator was given (`--shuffle-service`, the
 * master's configuration {"services": [URL...], "replicas": 1 | 2})
 * instead of its producer's worker: the descriptor's location is a
 * daemon's URL (and its replica another's), so a worker's loss takes
 * nothing with it.
 *
 * A thread pings every daemon once a second with the job's name, which
 * keeps the job's data from expiring there, and learns the bytes each
 * holds (placement: the fewest bytes) and whether it is still there. A
 * daemon with no connection for LOST_MS, or no answer for SILENT_MS, is
 * lost for the rest of the job: nothing more is placed on it, and its
 * partitions without a replica elsewhere are unavailable (losses() grows,
 * the coordinator reruns their producers).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "net.h"
#include "rs_frame.h"
#include "rs_plugin.h"

#define MAX_SERVICES 64
#define PING_MS 1000
#define SILENT_MS 30000         /* connected, but no answer that long */
#define MIN_ESTIMATE (1u << 20) /* a partition's bytes, before any known */

struct daemon {
	char *url;
	nng_socket sock;
	bool sock_open;
	struct shc_link link; /* its connection */
	/* the master's mtx */
	uint64_t bytes;   /* it held at its last answer */
	uint64_t placed;  /* partitions placed on it since that answer */
	uint64_t seen_ms; /* last answer, or last connected */
	bool lost;
};

struct rmaster {
	const struct sl_host *host;
	void *ld; /* ld_master_ops' state */
	struct daemon d[MAX_SERVICES];
	uint32_t n, replicas;
	char secret[256];
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	char job[256]; /* mtx: named at the first registration */
	uint64_t token;
	uint64_t placed_total;
	atomic_uint_fast64_t losses;
	uint64_t t0; /* init's shc_now_ms: no daemon is lost before it */
	bool stop, started, warned;
	pthread_t th;
};

/* One ping of d, answered or not; mtx not held. */
static void
ping(struct rmaster *m, struct daemon *d)
{
	struct rs_req q = { .op = RS_OP_PING };
	struct rs_rep rep;
	msgpack_sbuffer sb;
	nng_msg *msg = NULL;
	bool ok = false;

	pthread_mutex_lock(&m->mtx);
	snprintf(q.job, sizeof(q.job), "%s", m->job);
	q.token = m->token;
	if (q.job[0] == '\0') {
		/* nothing to name yet: a connection is all to judge by */
		d->seen_ms = shc_now_ms();
		pthread_mutex_unlock(&m->mtx);
		return;
	}
	pthread_mutex_unlock(&m->mtx);
	snprintf(q.secret, sizeof(q.secret), "%s", m->secret);
	msgpack_sbuffer_init(&sb);
	if (rs_req_encode(&sb, &q) == 0 &&
	    nng_msg_alloc(&msg, 4 + sb.size) == 0) {
		shc_frame_header(&sb, nng_msg_body(msg));
		if (nng_sendmsg(d->sock, msg, 0) != 0)
			nng_msg_free(msg);
		else if (nng_recvmsg(d->sock, &msg, 0) == 0) {
			ok = rs_rep_decode(nng_msg_body(msg), nng_msg_len(msg),
			         &rep) == 0 &&
			    rep.st == LD_ST_DATA;
			if (!ok)
				m->host->log(m->host, SL_LOG_WARN,
				    "remote: the shuffle service at %s: %s",
				    d->url,
				    rep.err[0] ? rep.err
				               : "a malformed answer");
			nng_msg_free(msg);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	pthread_mutex_lock(&m->mtx);
	if (ok) {
		d->bytes = rep.bytes;
		d->placed = 0;
		d->seen_ms = shc_now_ms();
	}
	pthread_mutex_unlock(&m->mtx);
}

/* mtx held: d is lost once unconnected for SHC_LOST_MS, or connected
 * and silent for SILENT_MS. */
static void
judge(struct rmaster *m, struct daemon *d, uint64_t now)
{
	const char *why = NULL;

	if (d->lost)
		return;
	if (shc_link_lost(&d->link, m->t0))
		why = "no connection for 3 s";
	else if (now - d->seen_ms > SILENT_MS)
		why = "no answer for 30 s";
	if (why == NULL)
		return;
	d->lost = true;
	atomic_fetch_add(&m->losses, 1);
	m->host->log(m->host, SL_LOG_WARN,
	    "remote: the shuffle service at %s is lost (%s): its partitions "
	    "without a replica are made again",
	    d->url, why);
}

static void *
pinger(void *arg)
{
	struct rmaster *m = arg;

	pthread_mutex_lock(&m->mtx);
	while (!m->stop) {
		struct timespec until;
		uint64_t now;

		for (uint32_t i = 0; i < m->n && !m->stop; i++) {
			if (m->d[i].lost)
				continue;
			pthread_mutex_unlock(&m->mtx);
			ping(m, &m->d[i]);
			pthread_mutex_lock(&m->mtx);
		}
		now = shc_now_ms();
		for (uint32_t i = 0; i < m->n; i++)
			judge(m, &m->d[i], now);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)PING_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (!m->stop)
			pthread_cond_timedwait(&m->cv, &m->mtx, &until);
	}
	pthread_mutex_unlock(&m->mtx);
	return NULL;
}

static int
daemon_open(struct rmaster *m, struct daemon *d, const char *url)
{
	const struct sl_host *host = m->host;

	if ((d->url = host->alloc(strlen(url) + 1)) == NULL)
		return SL_ENOMEM;
	strcpy(d->url, url);
	d->seen_ms = shc_now_ms();
	if (nng_req0_open(&d->sock) != 0) {
		host->set_error("remote: cannot open a socket");
		return SL_ENOMEM;
	}
	d->sock_open = true;
	/* a ping is answered within a second or counts as not answered */
	nng_socket_set_ms(d->sock, NNG_OPT_RECVTIMEO, PING_MS);
	nng_socket_set_ms(d->sock, NNG_OPT_SENDTIMEO, PING_MS);
	nng_socket_set_ms(d->sock, NNG_OPT_REQ_RESENDTIME, PING_MS);
	nng_socket_set_ms(d->sock, NNG_OPT_RECONNMAXT, 500);
	if (shc_link_watch(&d->link, d->sock) != 0) {
		host->set_error("remote: cannot watch a socket");
		return SL_ENOMEM;
	}
	return shc_dial(host, d->sock, url, "remote");
}

static int
master_init(void *state, const struct sl_host *host, const char *config_json)
{
	struct rmaster *m = state;
	const char *secret = getenv("SLUICE_SHUFFLE_SECRET");
	json_t *cfg, *sv;
	json_int_t replicas;
	int rv = 0;

	m->host = host;
	pthread_mutex_init(&m->mtx, NULL);
	pthread_cond_init(&m->cv, NULL);
	atomic_init(&m->losses, 0);
	m->t0 = shc_now_ms();
	snprintf(m->secret, sizeof(m->secret), "%s", secret ? secret : "");
	cfg = config_json != NULL ? json_loads(config_json, 0, NULL) : NULL;
	sv = json_object_get(cfg, "services");
	replicas = json_integer_value(json_object_get(cfg, "replicas"));
	m->replicas = replicas == 2 ? 2 : 1;
	for (size_t i = 0;
	     i < json_array_size(sv) && m->n < MAX_SERVICES && rv == 0; i++) {
		const char *url = json_string_value(json_array_get(sv, i));

		if (url != NULL && url[0] != '\0')
			rv = daemon_open(m, &m->d[m->n++], url);
	}
	json_decref(cfg);
	if (rv != 0)
		return rv;
	if (m->n == 0) {
		host->set_error("remote: no shuffle service given (start "
		                "`sluice shuffled` and pass its URL with "
		                "--shuffle-service to sluice coordinator or "
		                "sluice run)");
		return SL_EINVAL;
	}
	if ((m->ld = host->alloc(ld_master_ops.state_size)) == NULL)
		return SL_ENOMEM;
	memset(m->ld, 0, ld_master_ops.state_size);
	if ((rv = ld_master_ops.init(m->ld, host, NULL)) != 0)
		return rv;
	if (pthread_create(&m->th, NULL, pinger, m) != 0)
		return SL_ENOMEM;
	m->started = true;
	return 0;
}

static void
master_fini(void *state)
{
	struct rmaster *m = state;

	if (m->host == NULL)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->mtx);
		m->stop = true;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mtx);
		pthread_join(m->th, NULL);
	}
	if (m->ld != NULL) {
		ld_master_ops.fini(m->ld);
		m->host->free(m->ld);
	}
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->d[i].sock_open)
			nng_close(m->d[i].sock);
		m->host->free(m->d[i].url);
	}
	pthread_mutex_destroy(&m->mtx);
	pthread_cond_destroy(&m->cv);
}

/* mtx held: the live daemon with the fewest bytes, counting its last
 * answer's and an estimate of the partitions placed since; UINT32_MAX
 * when none (but skip). */
static uint32_t
least_loaded(const struct rmaster *m, uint32_t skip)
{
	uint64_t held = 0, est, best_score = UINT64_MAX;
	uint32_t best = UINT32_MAX;

	for (uint32_t i = 0; i < m->n; i++)
		held += m->d[i].bytes;
	est = m->placed_total > 0 ? held / m->placed_total : 0;
	if (est < MIN_ESTIMATE)
		est = MIN_ESTIMATE;
	for (uint32_t i = 0; i < m->n; i++) {
		uint64_t score = m->d[i].bytes + m->d[i].placed * est;

		if (!m->d[i].lost && i != skip && score < best_score) {
			best_score = score;
			best = i;
		}
	}
	return best;
}

/* The job the pings name, from the first descriptor seen: registered,
 * or asked about by a coordinator recovering the job. */
static void
note_job(struct rmaster *m, const struct ld_desc *d)
{
	pthread_mutex_lock(&m->mtx);
	if (m->job[0] == '\0') {
		snprintf(m->job, sizeof(m->job), "%s", d->job);
		m->token = d->token;
	}
	pthread_mutex_unlock(&m->mtx);
}

static int
master_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *desc)
{
	struct rmaster *m = state;
	struct sl_partition_spec s = *spec;
	struct ld_desc d;
	struct sl_bytes one = { 0 };
	uint32_t first, second = UINT32_MAX;
	int rv;

	pthread_mutex_lock(&m->mtx);
	if ((first = least_loaded(m, UINT32_MAX)) == UINT32_MAX) {
		pthread_mutex_unlock(&m->mtx);
		m->host->set_error("remote: every shuffle service given is "
		                   "lost (none answers)");
		return SL_EIO;
	}
	if (m->replicas > 1 &&
	    (second = least_loaded(m, first)) == UINT32_MAX && !m->warned) {
		m->warned = true;
		m->host->log(m->host, SL_LOG_WARN,
		    "remote: one shuffle service left: partitions get no "
		    "replica");
	}
	m->d[first].placed++;
	if (second != UINT32_MAX)
		m->d[second].placed++;
	m->placed_total++;
	pthread_mutex_unlock(&m->mtx);

	s.producer_location = m->d[first].url;
	if ((rv = ld_master_ops.register_partition(m->ld, &s, &one)) != 0)
		return rv;
	if ((rv = ld_desc_decode(m->host, one.data, one.len, &d)) != 0) {
		m->host->free(one.data);
		return rv;
	}
	note_job(m, &d);
	if (second == UINT32_MAX) {
		ld_desc_clear(m->host, &d);
		*desc = one;
		return 0;
	}
	/* the same descriptor, naming the replica's daemon too */
	m->host->free(one.data);
	if ((d.replica = m->host->alloc(strlen(m->d[second].url) + 1)) ==
	    NULL) {
		ld_desc_clear(m->host, &d);
		return SL_ENOMEM;
	}
	strcpy(d.replica, m->d[second].url);
	rv = ld_desc_encode(m->host, &d, desc);
	ld_desc_clear(m->host, &d);
	return rv;
}

static int
master_release(void *state, const void *desc, size_t len)
{
	struct rmaster *m = state;

	return ld_master_ops.release_partition(m->ld, desc, len);
}

/* mtx held: whether url names a daemon not lost */
static bool
live(const struct rmaster *m, const char *url)
{
	for (uint32_t i = 0; url != NULL && i < m->n; i++)
		if (strcmp(m->d[i].url, url) == 0)
			return !m->d[i].lost;
	return false;
}

/* localdisk's answer (released?), and a daemon holding it still there. */
static bool
master_is_available(void *state, const void *desc, size_t len)
{
	struct rmaster *m = state;
	struct ld_desc d;
	bool ok;

	if (!ld_master_ops.is_available(m->ld, desc, len))
		return false;
	if (ld_desc_decode(m->host, desc, len, &d) != 0)
		return false;
	note_job(m, &d);
	pthread_mutex_lock(&m->mtx);
	ok = live(m, d.location) || live(m, d.replica);
	pthread_mutex_unlock(&m->mtx);
	ld_desc_clear(m->host, &d);
	return ok;
}

static uint64_t
master_losses(void *state)
{
	struct rmaster *m = state;

	return atomic_load(&m->losses);
}

/* A worker lost takes no partition: they are the daemons'. */
static void
master_worker_lost(void *state, const char *location)
{
	(void)state;
	(void)location;
}

static int
master_snapshot(void *state, struct sl_bytes *out)
{
	struct rmaster *m = state;

	return ld_master_ops.snapshot(m->ld, out);
}

static int
master_restore(void *state, const void *data, size_t len)
{
	struct rmaster *m = state;

	return ld_master_ops.restore(m->ld, data, len);
}

const struct sl_shuffle_master_ops rs_master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = sizeof(struct rmaster),
	.init = master_init,
	.fini = master_fini,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	.worker_lost = master_worker_lost,
	.snapshot = master_snapshot,
	.restore = master_restore,
	.losses = master_losses,
};
