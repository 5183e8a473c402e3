/*
 * The plugin every file in tests/plugins/ builds, each with the one defect
 * (or none) that file is about: a file defines TP_NAME and the knobs below
 * that it needs, then includes this header. The ops are stubs returning
 * SL_ENOTSUP: these plugins exist to be loaded or refused, never to move
 * data.
 *
 * Counters (through host->counter_add), for the loader test to see what was
 * called: "tp.NAME.init", "tp.NAME.fini", "tp.NAME.on_start"; of an
 * operator library "tp.NAME.open", "tp.NAME.finish", "tp.NAME.process". And
 * "tp.NAME.reinit" when init runs while the image is initialised already
 * (no fini since the last init): the loader must never let that happen.
 */
#ifndef TP_PLUGIN_H
#define TP_PLUGIN_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/operator.h>
#include <sluice/scheduler.h>
#include <sluice/shuffle.h>

#define TP_END_OF(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))

/* A pointer no loader may ever call: members beyond a declared size. */
#define TP_GARBAGE(type) ((type)(uintptr_t)0x5a5a5a5a5a5a5a5aull)

/* TP_NAME names the counters; TP_DESC_NAME, if set, is the descriptor's
 * name instead (to test empty, NULL or duplicate names). */
#ifndef TP_NAME
#error "define TP_NAME before including tp_plugin.h"
#endif
#ifndef TP_DESC_NAME
#define TP_DESC_NAME TP_NAME
#endif
#ifndef TP_MAGIC
#define TP_MAGIC SL_PLUGIN_MAGIC
#endif
#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR SL_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR SL_ABI_MINOR
#endif
#ifndef TP_DESC_SIZE
#define TP_DESC_SIZE sizeof(struct sl_plugin)
#endif
/* TP_CAPS: the descriptor's caps; a shuffle declares pipelined unless told
 * otherwise. */
#ifndef TP_CAPS
#if defined(TP_SCHEDULER) || defined(TP_OPERATORS)
#define TP_CAPS 0
#else
#define TP_CAPS SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED)
#endif
#endif
/* TP_SCHEDULER: a scheduler plugin; TP_OPERATORS: an operator library;
 * otherwise a shuffle plugin. */
#ifndef TP_KIND
#ifdef TP_SCHEDULER
#define TP_KIND SL_PLUGIN_SCHEDULER
#elif defined(TP_OPERATORS)
#define TP_KIND SL_PLUGIN_OPERATORS
#else
#define TP_KIND SL_PLUGIN_SHUFFLE
#endif
#endif

/* Saved from init: a core function, valid for the whole process. */
static void (*tp_counter_add)(const char *name, int64_t delta);
/* Inits without a fini yet, in this image: 0 or 1 when the loader is right. */
static int tp_live;

static void
tp_count(const char *name)
{
	if (tp_counter_add != NULL)
		tp_counter_add(name, 1);
}

static int
tp_init(const struct sl_host *host)
{
	tp_counter_add = host->counter_add;
	tp_count("tp." TP_NAME ".init");
#ifndef TP_INIT_FAILS
	if (tp_live++ != 0)
		tp_count("tp." TP_NAME ".reinit");
#endif
	host->log(host, SL_LOG_DEBUG, "init, host ABI %u.%u", host->abi_major,
	    host->abi_minor);
#ifdef TP_INIT_FAILS
	/* The core's messages come through the table, never sl_strerror. */
	host->log(host, SL_LOG_DEBUG, "failing with '%s'",
	    host->strerror(-ECONNREFUSED));
	host->set_error("cannot reach the shuffle service at 192.0.2.1:7000");
	return -ECONNREFUSED;
#else
	return 0;
#endif
}

static void
tp_fini(void)
{
	tp_count("tp." TP_NAME ".fini");
	tp_live--;
}

#define TP_UNUSED __attribute__((unused))

#if defined(TP_OPERATORS)

/*
 * Two operators: #0 a source ("tp-gen" unless TP_OP0_NAME) that emits
 * TP_GEN_RECORDS records "0", "1", ... on output 0 and has its own finish,
 * and #1 a map ("tp-map" unless TP_OP1_NAME) that emits every record it is
 * given unchanged. Neither has commit, abort or close: the loader's
 * defaults. The TP_OP* knobs break one thing each.
 */
#define TP_GEN_RECORDS 3

static int
tp_op_open(void *state, const struct sl_task_ctx *ctx)
{
	tp_count("tp." TP_NAME ".open");
	return 0;
}

static TP_UNUSED int
tp_gen_run(void *state, const struct sl_task_ctx *ctx)
{
	for (int i = 0; i < TP_GEN_RECORDS; i++) {
		char v = (char)('0' + i);
		struct sl_record rec = { .value = &v, .value_len = 1 };
		int rc;

		if ((rc = ctx->emit(ctx, 0, &rec)) != 0)
			return rc;
	}
	return 0;
}

static int
tp_gen_finish(void *state, const struct sl_task_ctx *ctx)
{
	tp_count("tp." TP_NAME ".finish");
	return 0;
}

static TP_UNUSED int
tp_map_process(void *state, const struct sl_task_ctx *ctx, uint32_t in,
    const struct sl_record *rec)
{
	tp_count("tp." TP_NAME ".process");
	return ctx->emit(ctx, 0, rec);
}

#ifndef TP_OP0_NAME
#define TP_OP0_NAME "tp-gen"
#endif
#ifndef TP_OP0_CAPS
#define TP_OP0_CAPS SL_OPERATOR_SOURCE
#endif
#ifndef TP_OP0_OPEN
#define TP_OP0_OPEN tp_op_open
#endif
#ifndef TP_OP0_RUN
#define TP_OP0_RUN tp_gen_run
#endif
#ifndef TP_OP0_PROCESS
#define TP_OP0_PROCESS NULL
#endif
#ifndef TP_OP1_NAME
#define TP_OP1_NAME "tp-map"
#endif
#ifndef TP_OP1_SIZE
#define TP_OP1_SIZE sizeof(struct sl_operator_ops)
#endif
#ifndef TP_OP1_RUN
#define TP_OP1_RUN NULL
#endif
#ifndef TP_OP1_PROCESS
#define TP_OP1_PROCESS tp_map_process
#endif
#ifndef TP_OP1_STATE_SIZE
#define TP_OP1_STATE_SIZE 16
#endif
/* Optional ops of #1, NULL unless a file puts garbage beyond its size. */
#ifndef TP_OP1_FINISH
#define TP_OP1_FINISH NULL
#endif
#ifndef TP_OP1_ABORT
#define TP_OP1_ABORT NULL
#endif
#ifndef TP_OP1_CLOSE
#define TP_OP1_CLOSE NULL
#endif
#ifndef TP_LIB_SIZE
#define TP_LIB_SIZE sizeof(struct sl_operator_lib)
#endif
#ifndef TP_LIB_COUNT
#define TP_LIB_COUNT 2
#endif

static TP_UNUSED const struct sl_operator_ops tp_op0 = {
	.struct_size = sizeof(struct sl_operator_ops),
	.name = TP_OP0_NAME,
	.state_size = 16,
	.caps = TP_OP0_CAPS,
	.open = TP_OP0_OPEN,
	.run = TP_OP0_RUN,
	.process = TP_OP0_PROCESS,
	.finish = tp_gen_finish,
};

static TP_UNUSED const struct sl_operator_ops tp_op1 = {
	.struct_size = TP_OP1_SIZE,
	.name = TP_OP1_NAME,
	.state_size = TP_OP1_STATE_SIZE,
	.open = tp_op_open,
	.run = TP_OP1_RUN,
	.process = TP_OP1_PROCESS,
	.finish = TP_OP1_FINISH,
	.abort = TP_OP1_ABORT,
	.close = TP_OP1_CLOSE,
};

#ifndef TP_OP1_TABLE
#define TP_OP1_TABLE (&tp_op1)
#endif

static TP_UNUSED const struct sl_operator_ops *const tp_op_list[] = {
	&tp_op0,
	TP_OP1_TABLE,
};

#ifndef TP_LIB_OPS
#define TP_LIB_OPS tp_op_list
#endif

static TP_UNUSED const struct sl_operator_lib tp_ops = {
	.struct_size = TP_LIB_SIZE,
	.count = TP_LIB_COUNT,
	.ops = TP_LIB_OPS,
};

#elif defined(TP_SCHEDULER)

static TP_UNUSED int
tp_on_start(void *state, const struct sl_sched_ctx *ctx)
{
	tp_count("tp." TP_NAME ".on_start");
	return 0;
}

static int
tp_on_region_finished(void *state, const struct sl_sched_ctx *ctx, uint32_t r)
{
	return 0;
}

#ifndef TP_SCHED_SIZE
#define TP_SCHED_SIZE sizeof(struct sl_scheduler_ops)
#endif
#ifndef TP_SCHED_ON_START
#define TP_SCHED_ON_START tp_on_start
#endif
#ifndef TP_SCHED_ON_REGIONS_RESET
#define TP_SCHED_ON_REGIONS_RESET NULL
#endif

static TP_UNUSED const struct sl_scheduler_ops tp_ops = {
	.struct_size = TP_SCHED_SIZE,
	.state_size = 8,
	.on_start = TP_SCHED_ON_START,
	.on_region_finished = tp_on_region_finished,
	.on_regions_reset = TP_SCHED_ON_REGIONS_RESET,
};

#else /* a shuffle plugin */

static int
tp_register(
    void *state, const struct sl_partition_spec *spec, struct sl_bytes *desc)
{
	return SL_ENOTSUP;
}

static TP_UNUSED int
tp_release_partition(void *state, const void *desc, size_t len)
{
	return SL_ENOTSUP;
}

static int
tp_writer_open(
    void *state, const struct sl_host *host, const void *desc, size_t len)
{
	return SL_ENOTSUP;
}

static int
tp_write(void *state, uint32_t sub, struct sl_buffer *buf)
{
	return SL_ENOTSUP;
}

static TP_UNUSED int
tp_finish(void *state)
{
	return SL_ENOTSUP;
}

static void
tp_fail(void *state)
{
}

static void
tp_state_fini(void *state)
{
}

static int
tp_reader_open(
    void *state, const struct sl_host *host, const struct sl_reader_spec *spec)
{
	return SL_ENOTSUP;
}

static int
tp_next(void *state, struct sl_buffer *out)
{
	return SL_EEOF;
}

static void
tp_release(void *state, struct sl_buffer *buf)
{
}

#ifndef TP_SHUFFLE_SIZE
#define TP_SHUFFLE_SIZE sizeof(struct sl_shuffle_ops)
#endif
#ifndef TP_MASTER_SIZE
#define TP_MASTER_SIZE sizeof(struct sl_shuffle_master_ops)
#endif
#ifndef TP_WRITER_SIZE
#define TP_WRITER_SIZE sizeof(struct sl_shuffle_writer_ops)
#endif
#ifndef TP_MASTER_RELEASE
#define TP_MASTER_RELEASE tp_release_partition
#endif
#ifndef TP_MASTER_WORKER_LOST
#define TP_MASTER_WORKER_LOST NULL
#endif
#ifndef TP_WRITER_FINISH
#define TP_WRITER_FINISH tp_finish
#endif
#ifndef TP_WRITER_STATE_SIZE
#define TP_WRITER_STATE_SIZE 16
#endif

static TP_UNUSED bool
tp_is_available(void *state, const void *desc, size_t len)
{
	(void)state;
	(void)desc;
	return len > 0;
}

/* Only the required ops: the loader fills in the rest. */
static TP_UNUSED const struct sl_shuffle_master_ops tp_master = {
	.struct_size = TP_MASTER_SIZE,
	.state_size = 16,
	.register_partition = tp_register,
	.release_partition = TP_MASTER_RELEASE,
	.is_available = tp_is_available,
	.worker_lost = TP_MASTER_WORKER_LOST,
};

static TP_UNUSED const struct sl_shuffle_writer_ops tp_writer = {
	.struct_size = TP_WRITER_SIZE,
	.state_size = TP_WRITER_STATE_SIZE,
	.open = tp_writer_open,
	.write = tp_write,
	.finish = TP_WRITER_FINISH,
	.fail = tp_fail,
	.fini = tp_state_fini,
};

static TP_UNUSED const struct sl_shuffle_reader_ops tp_reader = {
	.struct_size = sizeof(struct sl_shuffle_reader_ops),
	.state_size = 16,
	.open = tp_reader_open,
	.next = tp_next,
	.release = tp_release,
	.fini = tp_state_fini,
};

static TP_UNUSED const struct sl_shuffle_ops tp_ops = {
	.struct_size = TP_SHUFFLE_SIZE,
	.master = &tp_master,
	.writer = &tp_writer,
	.reader = &tp_reader,
};

#endif /* TP_OPERATORS, TP_SCHEDULER */

#ifndef TP_OPS
#define TP_OPS (&tp_ops)
#endif

static const struct sl_plugin tp_desc = {
	.magic = TP_MAGIC,
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.struct_size = TP_DESC_SIZE,
	.kind = TP_KIND,
	.name = TP_DESC_NAME,
	.version = "0.0.1-test",
	.caps = TP_CAPS,
	.init = tp_init,
	.fini = tp_fini,
	.ops = TP_OPS,
};

SL_PLUGIN_DEFINE(tp_desc)

#endif /* TP_PLUGIN_H */
