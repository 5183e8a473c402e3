/*
 * The builtin operator library: what real jobs need without a job shared
 * object of their own. WordCount is
 *
 *   text_source -> tokenize -> hash_aggregate (count, partial)
 *     =all_to_all by key=> hash_aggregate (sum, final) -> file_sink (tsv)
 *
 * and generate feeds sort and shuffle benchmarks. docs/operators.md
 * describes each operator, its config and the records it takes and emits.
 */
#include "builtin.h"

static const struct sl_operator_ops *const operators[] = {
	&bi_text_source_ops,
	&bi_tokenize_ops,
	&bi_hash_aggregate_ops,
	&bi_file_sink_ops,
	&bi_generate_ops,
	&bi_record_source_ops,
	&bi_sort_ops,
};

static const struct sl_operator_lib lib = {
	.struct_size = sizeof(struct sl_operator_lib),
	.count = sizeof(operators) / sizeof(operators[0]),
	.ops = operators,
};

static const struct sl_plugin plugin = {
	.magic = SL_PLUGIN_MAGIC,
	.abi_major = SL_ABI_MAJOR,
	.abi_minor = SL_ABI_MINOR,
	.struct_size = sizeof(struct sl_plugin),
	.kind = SL_PLUGIN_OPERATORS,
	.name = "builtin",
	.version = "0.1.0",
	.ops = &lib,
};

SL_PLUGIN_DEFINE(plugin)
