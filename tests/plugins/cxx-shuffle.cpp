/*
 * Loads: a shuffle plugin written in C++. SL_PLUGIN_DEFINE must give the
 * entry C linkage (g++ would otherwise mangle sl_plugin_entry and the loader
 * would not find it), and the public headers must compile as C++. The role
 * state is a C++ object built in the zeroed memory the core hands over and
 * destroyed in fini; nothing throws across the boundary (noexcept).
 *
 * Counters: "tp.test-cxx.init", "tp.test-cxx.fini", "tp.test-cxx.ctor"
 * (the static object's constructor ran when the object was loaded).
 */
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include <sluice/scheduler.h>
#include <sluice/shuffle.h>

namespace {

void (*counter_add)(const char *, int64_t);
bool constructed;

/* A static object with a constructor: the C++ runtime runs it at dlopen. */
struct loaded_flag {
	loaded_flag() noexcept
	{
		constructed = true;
	}
};
loaded_flag flag;

class writer {
    public:
	int write(uint32_t sub) noexcept
	{
		written_.fetch_add(1, std::memory_order_relaxed);
		return sub == 0 ? SL_ENOTSUP : SL_ERANGE;
	}

    private:
	std::atomic<uint64_t> written_ { 0 };
};

static_assert(sizeof(writer) <= 64, "state_size below");

int
plugin_init(const struct sl_host *host) noexcept
{
	counter_add = host->counter_add;
	counter_add("tp.test-cxx.init", 1);
	if (constructed)
		counter_add("tp.test-cxx.ctor", 1);
	return 0;
}

void
plugin_fini() noexcept
{
	counter_add("tp.test-cxx.fini", 1);
}

int
master_register(
    void *, const struct sl_partition_spec *, struct sl_bytes *) noexcept
{
	return SL_ENOTSUP;
}

int
master_release(void *, const void *, size_t) noexcept
{
	return 0;
}

bool
master_is_available(void *, const void *, size_t) noexcept
{
	return false;
}

int
writer_open(void *state, const struct sl_host *, const void *, size_t) noexcept
{
	new (state) writer();
	return 0;
}

int
writer_write(void *state, uint32_t sub, struct sl_buffer *) noexcept
{
	return static_cast<writer *>(state)->write(sub);
}

int
writer_finish(void *) noexcept
{
	return 0;
}

void
writer_fail(void *) noexcept
{
}

/* Safe after a failed open too: open only fails before it builds. */
void
writer_fini(void *state) noexcept
{
	static_cast<writer *>(state)->~writer();
}

int
reader_open(
    void *, const struct sl_host *, const struct sl_reader_spec *) noexcept
{
	return SL_ENOTSUP;
}

int
reader_next(void *, struct sl_buffer *) noexcept
{
	return SL_EEOF;
}

void
reader_release(void *, struct sl_buffer *) noexcept
{
}

void
reader_fini(void *) noexcept
{
}

/* C++20 designated initializers, in member order; g++ -Wextra wants every
 * member named, so the optional ops the loader fills in are nullptr. */
const struct sl_shuffle_master_ops master_ops = {
	.struct_size = sizeof(struct sl_shuffle_master_ops),
	.state_size = 16,
	.init = nullptr,
	.fini = nullptr,
	.register_partition = master_register,
	.release_partition = master_release,
	.is_available = master_is_available,
	.worker_lost = nullptr,
	.snapshot = nullptr,
	.restore = nullptr,
	.losses = nullptr,
};

const struct sl_shuffle_writer_ops writer_ops = {
	.struct_size = sizeof(struct sl_shuffle_writer_ops),
	.state_size = 64,
	.open = writer_open,
	.write = writer_write,
	.finish = writer_finish,
	.fail = writer_fail,
	.close = nullptr,
	.fini = writer_fini,
};

const struct sl_shuffle_reader_ops reader_ops = {
	.struct_size = sizeof(struct sl_shuffle_reader_ops),
	.state_size = 16,
	.open = reader_open,
	.next = reader_next,
	.release = reader_release,
	.close = nullptr,
	.fini = reader_fini,
};

const struct sl_shuffle_ops shuffle_ops = {
	.struct_size = sizeof(struct sl_shuffle_ops),
	.master = &master_ops,
	.writer = &writer_ops,
	.reader = &reader_ops,
	.server = nullptr,
};

const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_SHUFFLE,
	.name = "test-cxx",
	.version = "0.0.1-c++",
	.caps = SL_SHUFFLE_CAP_TYPE(SL_PARTITION_PIPELINED),
	.init = plugin_init,
	.fini = plugin_fini,
	.ops = &shuffle_ops,
};

} // namespace

SL_PLUGIN_DEFINE(plugin)
