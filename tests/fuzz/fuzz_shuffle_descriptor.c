/*
 * libFuzzer target: any bytes as a shuffle descriptor, handed to every op
 * of a shuffle plugin that decodes one (master release and is_available,
 * writer open, reader open). A plugin must refuse what it cannot decode,
 * never crash on it. The plugin comes from SL_FUZZ_PLUGIN.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "plugin/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sli_plugin *plugin;
static void *master;

static void
notify(void *arg)
{
	(void)arg;
}

static void
setup(void)
{
	const char *path = getenv("SL_FUZZ_PLUGIN");

	if (path == NULL || sli_plugin_open(path, &plugin) != 0) {
		fprintf(stderr,
		    "fuzz: set SL_FUZZ_PLUGIN to a shuffle plugin: %s\n",
		    sl_errdetail());
		abort();
	}
	master = calloc(1, plugin->ops.shuffle.master.state_size + 1);
	if (master == NULL ||
	    plugin->ops.shuffle.master.init(master, &plugin->host, NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sl_shuffle_master_ops *m;
	const struct sl_shuffle_writer_ops *w;
	const struct sl_shuffle_reader_ops *r;
	struct sl_bytes desc = { (void *)data, size };
	struct sl_reader_spec spec = {
		.struct_size = sizeof(spec),
		.descriptors = &desc,
		.num_descriptors = 1,
		.sub_lo = 0,
		.sub_hi = 0,
		.notify = notify,
	};
	void *ws, *rs;

	if (plugin == NULL)
		setup();
	m = &plugin->ops.shuffle.master;
	w = &plugin->ops.shuffle.writer;
	r = &plugin->ops.shuffle.reader;
	(void)m->is_available(master, data, size);
	ws = calloc(1, w->state_size + 1);
	rs = calloc(1, r->state_size + 1);
	if (ws == NULL || rs == NULL)
		abort();
	if (r->open(rs, &plugin->host, &spec) == 0) {
		struct sl_buffer b;
		r->close(rs);
		(void)r->next(rs, &b);
	}
	r->fini(rs);
	if (w->open(ws, &plugin->host, data, size) == 0)
		w->fail(ws);
	w->fini(ws);
	(void)m->release_partition(master, data, size);
	free(ws);
	free(rs);
	return 0;
}
