/*
 * Helpers of the shuffle conformance suite: the plugin under test, its
 * roles opened the way the core opens them, record streams that can be
 * checked for order and exactly-once delivery, and threads that write and
 * read them. Threads never call CUnit (it is not thread-safe): they record
 * their first failure in a message that the main thread asserts on.
 */
#ifndef SL_CONFORMANCE_H
#define SL_CONFORMANCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sluice/shuffle.h>

#include "plugin/loader.h"

#define CONF_BUFFER_SIZE (32 * 1024)
#define CONF_MAX_RECORD 3000
#define CONF_MAX_SUBS 16
/* How long anything may take before the plugin counts as hung. Sanitizer
 * builds are slow, so this is generous. */
#define CONF_TIMEOUT_MS 20000

extern struct sli_plugin *conf_plugin;
extern const struct sl_host *conf_host;
extern const struct sl_shuffle_master_ops *conf_mops;
extern const struct sl_shuffle_writer_ops *conf_wops;
extern const struct sl_shuffle_reader_ops *conf_rops;
/* The partition type the tests register (a type the plugin declares). */
extern uint32_t conf_type;

/* A job id not used before in this process, so tests never meet. */
void conf_job_id(char *buf, size_t len);

/* A first-failure message shared by threads. */
struct conf_err {
	pthread_mutex_t mu;
	char msg[512];
};
void conf_err_init(struct conf_err *e);
void conf_err_set(struct conf_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool conf_err_ok(struct conf_err *e); /* false, after printing, if set */
void conf_err_fini(struct conf_err *e);

/* notify target: counts calls, lets a thread wait for the next one. */
struct conf_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t count;
};
void conf_waiter_init(struct conf_waiter *w);
void conf_waiter_fini(struct conf_waiter *w);
void conf_waiter_notify(void *arg);
uint64_t conf_waiter_count(struct conf_waiter *w);
/* Wait until count moves past seen; false after timeout_ms. */
bool conf_waiter_wait(struct conf_waiter *w, uint64_t seen, int timeout_ms);

/* Roles, opened like the core does: zeroed state of state_size; a failed
 * open is followed by fini only, and the state freed (NULL returned). */
void *conf_master_new(void);
void conf_master_free(void *m);
void *conf_writer_open(const struct sl_bytes *desc, int *rv);
void conf_writer_free(void *w);
void *conf_reader_open(const struct sl_bytes *descs, uint32_t n, uint32_t lo,
    uint32_t hi, uint32_t credits, struct conf_waiter *wt, int *rv);
void conf_reader_free(void *r);
int conf_register(void *m, const char *job, uint32_t edge, uint32_t producer,
    uint32_t attempt, uint32_t nsub, struct sl_bytes *desc);

/* The records producer p writes to subpartition s: how many, and the
 * length and bytes of the k-th. */
uint32_t conf_rec_count(uint32_t p, uint32_t s);
uint32_t conf_rec_len(uint32_t p, uint32_t s, uint32_t k);
void conf_rec_fill(uint32_t p, uint32_t s, uint32_t k, uint8_t *dst);

/* A buffer from the host allocator holding len bytes of pattern. */
void *conf_buf_new(size_t len);

/* Back pressure probe: buffers written (write returned) and released (the
 * reader is about to release) per subpartition; the writer checks the gap
 * after every write. */
struct conf_bp {
	uint32_t credits;
	atomic_uint written[CONF_MAX_SUBS];
	atomic_uint released[CONF_MAX_SUBS];
	atomic_uint max_gap;
};

struct conf_producer {
	pthread_t thread;
	void *w;
	uint32_t id; /* producer index: selects the records */
	uint32_t nsub;
	bool event_first;    /* an SL_BUFFER_EVENT starts each subpartition */
	uint32_t fail_after; /* >0: write this many buffers, then fail() */
	struct conf_bp *bp;
	struct conf_err *err;
	int rv; /* of the last write or finish */
};
void *conf_producer_main(void *arg);

struct conf_consumer {
	pthread_t thread;
	void *r;
	struct conf_waiter wt;
	uint32_t lo, hi;
	uint32_t ninputs;
	const uint32_t *producer_of; /* input index -> producer index */
	bool event_first;
	unsigned delay_us; /* sleep before each release: a slow reader */
	struct conf_bp *bp;
	struct conf_err *err;
	/* results */
	int rv;         /* what ended the loop: SL_EEOF when all went well */
	uint32_t input; /* out->input with that result */
	uint64_t records;
	uint32_t *seq; /* [input][sub - lo]: records seen so far */
};
void *conf_consumer_main(void *arg);
/* After the consumer saw SL_EEOF: every record arrived? */
void conf_consumer_check_complete(struct conf_consumer *c);

/* Start a thread; join with the suite's timeout (false: it hangs). */
void conf_start(pthread_t *t, void *(*fn)(void *), void *arg);
bool conf_join(pthread_t t, int timeout_ms);

#endif
