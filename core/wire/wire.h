/*
 * The control-plane messages between workers, the coordinator and clients,
 * and their msgpack codec. docs/wire-protocol.md is the format: every
 * message is one msgpack map {"v": SLI_WIRE_VERSION, "t": type, ...}.
 *
 * Decoding trusts nothing: the bytes come from another process, maybe on
 * another host. sli_wire_decode runs sl_msgpack_check first, then checks
 * every field's presence, msgpack type and range, and copies what it keeps,
 * so a decoded message owns all its memory and outlives the input. Fields
 * it does not know are skipped (a later minor revision may add some).
 *
 * Whatever sli_wire_encode accepts, sli_wire_decode accepts, and decoding
 * then re-encoding gives the same bytes: the encoder checks the same rules
 * (SL_EINVAL) instead of sending what the peer would refuse.
 */
#ifndef SLI_WIRE_H
#define SLI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/graph.h>
#include <sluice/shuffle.h>

#define SLI_WIRE_VERSION 1

/* Largest encoded message, both ways. A DEPLOY carries one descriptor per
 * producer of each input edge; the job text travels in it too. Transports
 * should refuse longer frames before they reach the decoder. */
#define SLI_WIRE_MAX (64u << 20)

/* Sane limits, checked both ways. */
#define SLI_WIRE_MAX_NAME 1024       /* bytes of an id, a host, a URL, a def */
#define SLI_WIRE_MAX_DEFS 4096       /* SUBMIT.defs */
#define SLI_WIRE_MAX_JOBS 65536      /* JOBS.jobs */
#define SLI_WIRE_MAX_HELD (1u << 20) /* HELLO.data[].held */

/* Message types. The numbers are the wire's: never renumbered, new types
 * are appended. XX(NAME, number, lower-case member of struct sli_msg). */
#define SLI_MSG_TYPES(XX)             \
	XX(HELLO, 1, hello)           \
	XX(HEARTBEAT, 2, heartbeat)   \
	XX(TASK_STATE, 3, task_state) \
	XX(WELCOME, 4, welcome)       \
	XX(DEPLOY, 5, deploy)         \
	XX(CANCEL, 6, cancel)         \
	XX(SHUTDOWN, 7, shutdown)     \
	XX(SUBMIT, 8, submit)         \
	XX(SUBMITTED, 9, submitted)   \
	XX(ERROR, 10, error)          \
	XX(STATUS, 11, status)        \
	XX(JOBS, 12, jobs)            \
	XX(OK, 13, ok)

enum sli_msg_type {
#define SLI__MSG_ENUM(name, num, member) SLI_MSG_##name = num,
	SLI_MSG_TYPES(SLI__MSG_ENUM)
#undef SLI__MSG_ENUM
};

/* States of a task (TASK_STATE) and of a job (JOBS). Wire numbers. */
enum sli_wire_state {
	SLI_WIRE_RUNNING = 1,
	SLI_WIRE_FINISHED = 2,
	SLI_WIRE_FAILED = 3,
	SLI_WIRE_CANCELLED = 4,
};

/*
 * Strings are NUL-terminated UTF-8 without NUL bytes inside. "Name"
 * fields (worker, job) are 1..SLI_WIRE_MAX_NAME bytes; host, data_url and
 * defs are 0..SLI_WIRE_MAX_NAME; texts (error, message) have no limit of
 * their own, and the encoder replaces invalid UTF-8 in them with U+FFFD
 * rather than fail to report an error. After decoding no string pointer is
 * NULL; when encoding NULL stands for "" (names must not be empty).
 */

/* A finished partition a worker's shuffle plugin holds. */
struct sli_wire_part {
	char *job; /* name */
	uint32_t edge, producer, attempt;
};

/* Where one shuffle plugin of a worker serves its partitions, and which it
 * holds (a coordinator that restarted keeps what survived, DESIGN §7). */
struct sli_wire_service {
	char *plugin;   /* name */
	char *url;      /* str */
	uint32_t lists; /* 1: held is every partition it holds; 0: unknown */
	struct sli_wire_part *held;
	uint32_t nheld; /* <= SLI_WIRE_MAX_HELD */
};

/* worker -> coordinator, first on a new connection. */
struct sli_wire_hello {
	char *worker;   /* the worker's id, unique in the cluster */
	uint32_t slots; /* >= 1: tasks it runs at once */
	char *ctl_url;  /* where it takes DEPLOY, CANCEL and SHUTDOWN */
	uint32_t pid;
	char *host;
	/* its shuffle plugins' data servers; ndata <= SLI_WIRE_MAX_DEFS */
	struct sli_wire_service *data;
	uint32_t ndata;
};

struct sli_wire_heartbeat {
	char *worker;
	uint32_t running; /* tasks running now */
};

/* One array of uint64 (TASK_STATE.sub_bytes holds one per output edge). */
struct sli_wire_u64s {
	uint64_t *v;
	uint32_t n; /* <= SL_MAX_PARALLELISM */
};

struct sli_wire_task_state {
	char *job;
	uint32_t vertex; /* < SL_MAX_VERTICES */
	uint32_t index;  /* < SL_MAX_PARALLELISM */
	uint32_t attempt;
	uint32_t state; /* enum sli_wire_state */
	char *error;    /* text; "" unless FAILED */
	uint64_t records_in, records_out, bytes_in, bytes_out;
	/* Per output edge in the vertex's order, bytes per subpartition
	 * (struct sli_task_output.sub_bytes); nsub_bytes <= SL_MAX_EDGES. */
	struct sli_wire_u64s *sub_bytes;
	uint32_t nsub_bytes;
	/* FAILED reading a partition that is not there or not what it should
	 * be: its edge and producer index (struct sli_task_metrics); else
	 * both UINT32_MAX. */
	uint32_t bad_edge, bad_producer;
};

struct sli_wire_welcome {
	char *worker;          /* the id the coordinator registered */
	uint32_t heartbeat_ms; /* >= 1 */
};

/* One incoming edge of a deployed task: struct sli_task_input. */
struct sli_wire_input {
	uint32_t edge;   /* < SL_MAX_EDGES */
	uint32_t sub_lo; /* inclusive, sub_lo <= sub_hi < SL_MAX_PARALLELISM */
	uint32_t sub_hi;
	/* One per producer partition read, in producer order;
	 * ndescs <= SL_MAX_PARALLELISM; an empty one has data NULL. */
	struct sl_bytes *descs;
	uint32_t ndescs;
	uint32_t first;    /* struct sli_task_input.first */
	uint32_t partials; /* 0 or 1: struct sli_task_input.partials */
};

/* One outgoing edge of a deployed task: struct sli_task_output. */
struct sli_wire_output {
	uint32_t edge;              /* < SL_MAX_EDGES */
	uint32_t num_subpartitions; /* 1..SL_MAX_PARALLELISM */
	struct sl_bytes desc;
};

/* A task chained to a deployed one (operator chaining: same index and
 * attempt, run in its thread): its vertex and its outgoing edges. */
struct sli_wire_chained {
	uint32_t vertex;                 /* < SL_MAX_VERTICES */
	struct sli_wire_output *outputs; /* its out edges, in order */
	uint32_t noutputs;               /* <= SL_MAX_EDGES */
};

struct sli_wire_deploy {
	char *job;
	/* The job as submitted, after -D substitution, so the worker builds
	 * the same graph. Bytes (NUL-terminated after decoding, the
	 * terminator not counted), not checked here: the JSON parser does. */
	char *job_json;
	size_t job_json_len;
	uint32_t vertex; /* < SL_MAX_VERTICES */
	uint32_t index;  /* < SL_MAX_PARALLELISM */
	uint32_t attempt;
	struct sli_wire_input *inputs;   /* the vertex's in edges, in order */
	uint32_t ninputs;                /* <= SL_MAX_EDGES */
	struct sli_wire_output *outputs; /* its out edges, in order */
	uint32_t noutputs;               /* <= SL_MAX_EDGES */
	/* The tasks chained after it, in chain order; nchain <
	 * SL_MAX_VERTICES. */
	struct sli_wire_chained *chain;
	uint32_t nchain;
	/* A split hot subpartition (struct sli_task_spec.partial and
	 * config_json): 0 or 1, and the merging configuration, "" for the
	 * vertex's own. */
	uint32_t partial;
	char *config;
};

struct sli_wire_cancel {
	char *job;
	uint32_t vertex, index, attempt; /* ranges as in DEPLOY */
};

/* client -> coordinator. */
struct sli_wire_submit {
	char *job_json; /* as in DEPLOY */
	size_t job_json_len;
	char **defs;    /* "NAME=VALUE" as given to -D */
	uint32_t ndefs; /* <= SLI_WIRE_MAX_DEFS */
};

struct sli_wire_submitted {
	char *job; /* the id the coordinator gave the job */
};

struct sli_wire_error {
	char *message; /* text */
};

struct sli_wire_job {
	char *job;
	uint32_t state; /* enum sli_wire_state */
	char *message;  /* text */
};

struct sli_wire_jobs {
	struct sli_wire_job *jobs;
	uint32_t njobs; /* <= SLI_WIRE_MAX_JOBS */
};

/* SHUTDOWN, STATUS and OK carry nothing. */
struct sli_wire_empty {
	char unused;
};

struct sli_msg {
	uint32_t type; /* enum sli_msg_type */
	union {
		struct sli_wire_hello hello;
		struct sli_wire_heartbeat heartbeat;
		struct sli_wire_task_state task_state;
		struct sli_wire_welcome welcome;
		struct sli_wire_deploy deploy;
		struct sli_wire_cancel cancel;
		struct sli_wire_empty shutdown;
		struct sli_wire_submit submit;
		struct sli_wire_submitted submitted;
		struct sli_wire_error error;
		struct sli_wire_empty status;
		struct sli_wire_jobs jobs;
		struct sli_wire_empty ok;
	};
};

/*
 * Encode m into a malloc'd buffer: *data (free with free()) and *len.
 * m stays the caller's. SL_EINVAL (detail naming the field, e.g.
 * "DEPLOY.inputs[0]: sub_lo 4 > sub_hi 2") when m breaks a rule the decoder
 * checks, or its type is unknown; SL_ERANGE when the encoding would exceed
 * SLI_WIRE_MAX; SL_ENOMEM. On failure *data and *len are untouched.
 */
int sli_wire_encode(const struct sli_msg *m, void **data, size_t *len);

/*
 * Decode one message of exactly len bytes into *out, which the caller
 * then owns and frees with sli_msg_free. data stays the caller's and may
 * be freed at once. 0; SL_EPARSE with a detail naming the field and the
 * problem, e.g. "DEPLOY.inputs[2].descriptors[0]: expected binary, got
 * int" or "message: version 2, this build speaks version 1"; SL_ENOMEM. On
 * failure *out is zeroed and owns nothing.
 */
int sli_wire_decode(const void *data, size_t len, struct sli_msg *out);

/* Free what m owns and zero it. m may be zeroed, or partly filled by a
 * failed decode; NULL is fine. */
void sli_msg_free(struct sli_msg *m);

/* Whether a and b hold the same message (what the wire would carry: an
 * encoder's NULL string equals ""). */
bool sli_msg_equal(const struct sli_msg *a, const struct sli_msg *b);

/* "HELLO", ...; "?" for a number that is no type. Static. */
const char *sli_msg_type_name(int t);

/* "RUNNING", ...; "?" otherwise. Static. */
const char *sli_wire_state_name(int s);

#endif
