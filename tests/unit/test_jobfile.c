/* Job files: a valid file round-trips, and every kind of mistake fails with
 * the right code and a detail that names the place and the problem. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/graph.h>

#include "graph/exec.h"
#include "graph/job.h"
#include "graph/jobvars.h"
#include "sl_test.h"

/* A job in a C string: JSON with ' for " keeps the cases readable. */
static char *
unquote(const char *text)
{
	char *s = strdup(text);

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

/* defs: NULL-terminated "NAME=VALUE" strings, or NULL for none. */
static int
load_vars(const char *text, const char *const *defs, sl_job **job)
{
	char *s = unquote(text);
	size_t n = 0;
	int rv;

	while (defs != NULL && defs[n] != NULL)
		n++;
	*job = NULL;
	rv = sl_job_load_json_vars(s, strlen(s), "job.json", defs, n, job);
	free(s);
	return rv;
}

static int
load(const char *text, sl_job **job)
{
	char *s = unquote(text);
	int rv;

	*job = NULL;
	rv = sl_job_load_json(s, strlen(s), "job.json", job);
	free(s);
	return rv;
}

/* Reports at the caller's line, and prints what was got on a mismatch. */
static void
check_fail(unsigned line, const char *text, const char *const *defs, int want,
    const char *const *needles)
{
	sl_job *job;
	int rv = defs != NULL ? load_vars(text, defs, &job) : load(text, &job);
	bool ok = rv == want && job == NULL;

	for (const char *const *n = needles; *n != NULL; n++)
		if (strstr(sl_errdetail(), *n) == NULL)
			ok = false;
	if (!ok) {
		fprintf(stderr, "\n  line %u: got %s \"%s\", wanted %s with",
		    line, sl_errname(rv), sl_errdetail(), sl_errname(want));
		for (const char *const *n = needles; *n != NULL; n++)
			fprintf(stderr, " \"%s\"", *n);
		fprintf(stderr, "\n");
	}
	CU_assertImplementation(
	    ok, line, "load fails as expected", __FILE__, "", CU_FALSE);
	sl_job_free(job);
}

#define EXPECT_FAIL(text, code, ...)           \
	check_fail(__LINE__, text, NULL, code, \
	    (const char *const[]) { __VA_ARGS__, NULL })

/* A NULL-terminated list of definitions, as one macro argument. */
#define DEFS(...) ((const char *const[]) { __VA_ARGS__, NULL })

#define EXPECT_FAIL_VARS(text, defs, code, ...) \
	check_fail(__LINE__, text, defs, code,  \
	    (const char *const[]) { __VA_ARGS__, NULL })

/* Vertices a and b (and count), for edge cases. */
#define TWO_VERTICES                                      \
	"{'name':'j','vertices':["                        \
	"{'id':'a','operator':'source','parallelism':2}," \
	"{'id':'b','operator':'noop','parallelism':3},"   \
	"{'id':'count','operator':'count','parallelism':3}],"

static void
test_round_trip(void)
{
	const char *text =
	    "{\n"
	    " 'name': 'wc',\n"
	    " 'shuffle': 'disk',\n"
	    " 'vertices': [\n"
	    "  {'id':'src','operator':'source','parallelism':4,\n"
	    "   'config': {'path':'in/*.txt', 'b':[1, 2], "
	    "'a':{'z':1,'y':2}}},\n"
	    "  {'id':'tok','operator':'tokenize','parallelism':1000000},\n"
	    "  {'id':'cnt','operator':'count','parallelism':'auto'},\n"
	    "  {'id':'out','operator':'sink','parallelism':1,'config':{}},\n"
	    "  {'id':'side','operator':'noop','parallelism':2}\n"
	    " ],\n"
	    " 'edges': [\n"
	    "  "
	    "{'from':'src','to':'tok','distribution':'pointwise','type':'"
	    "pipelined'},\n"
	    "  "
	    "{'from':'tok','to':'cnt','distribution':'all_to_all','type':'"
	    "blocking'},\n"
	    "  {'from':'cnt','to':'out','distribution':'all_to_all',\n"
	    "   "
	    "'partitioner':'range','type':'hybrid_full','shuffle':'memory'},\n"
	    "  "
	    "{'from':'src','to':'side','distribution':'broadcast','type':'"
	    "hybrid_selective'},\n"
	    "  {'from':'side','to':'cnt','distribution':'all_to_all',\n"
	    "   'partitioner':'round_robin','type':'blocking'}\n"
	    " ]\n"
	    "}\n";
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(load(text, &job), 0);
	CU_ASSERT_STRING_EQUAL(sl_job_name(job), "wc");
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), 5);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 5);
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "disk");

	CU_ASSERT_STRING_EQUAL(job->v[0].id, "src");
	CU_ASSERT_STRING_EQUAL(job->v[0].op, "source");
	CU_ASSERT_EQUAL(job->v[0].parallelism, 4);
	/* Compact, keys sorted at every level. */
	CU_ASSERT_STRING_EQUAL(job->v[0].config_json,
	    "{\"a\":{\"y\":2,\"z\":1},\"b\":[1,2],\"path\":\"in/*.txt\"}");
	CU_ASSERT_EQUAL(job->v[1].parallelism, SL_MAX_PARALLELISM);
	CU_ASSERT_PTR_NULL(job->v[1].config_json);
	CU_ASSERT_EQUAL(job->v[2].parallelism, SL_PARALLELISM_AUTO);
	CU_ASSERT_STRING_EQUAL(job->v[3].op, "sink");
	CU_ASSERT_STRING_EQUAL(job->v[3].config_json, "{}");

	CU_ASSERT_EQUAL(job->e[0].from, 0);
	CU_ASSERT_EQUAL(job->e[0].to, 1);
	CU_ASSERT_EQUAL(job->e[0].distribution, SL_DIST_POINTWISE);
	CU_ASSERT_EQUAL(job->e[0].partitioner, SL_PARTITIONER_NONE);
	CU_ASSERT_EQUAL(job->e[0].type, SL_PARTITION_PIPELINED);
	/* Names none: the job's default ("disk") applies. */
	CU_ASSERT_PTR_NULL(job->e[0].shuffle);

	/* all_to_all without a partitioner hashes. */
	CU_ASSERT_EQUAL(job->e[1].distribution, SL_DIST_ALL_TO_ALL);
	CU_ASSERT_EQUAL(job->e[1].partitioner, SL_PARTITIONER_HASH);
	CU_ASSERT_EQUAL(job->e[1].type, SL_PARTITION_BLOCKING);

	CU_ASSERT_EQUAL(job->e[2].from, 2);
	CU_ASSERT_EQUAL(job->e[2].to, 3);
	CU_ASSERT_EQUAL(job->e[2].partitioner, SL_PARTITIONER_RANGE);
	CU_ASSERT_EQUAL(job->e[2].type, SL_PARTITION_HYBRID_FULL);
	CU_ASSERT_STRING_EQUAL(job->e[2].shuffle, "memory");

	CU_ASSERT_EQUAL(job->e[3].distribution, SL_DIST_BROADCAST);
	CU_ASSERT_EQUAL(job->e[3].partitioner, SL_PARTITIONER_NONE);
	CU_ASSERT_EQUAL(job->e[3].type, SL_PARTITION_HYBRID_SELECTIVE);

	CU_ASSERT_EQUAL(job->e[4].partitioner, SL_PARTITIONER_ROUND_ROBIN);
	CU_ASSERT_EQUAL(job->v[2].nin, 2);
	CU_ASSERT_EQUAL(job->v[0].nout, 2);
	sl_job_free(job);
}

static void
test_defaults(void)
{
	sl_job *job;

	/* No shuffle, no edges: "memory" and an edgeless job. */
	CU_ASSERT_EQUAL_FATAL(load("{'name':'one','vertices':[{'id':'x',"
	                           "'operator':'noop','parallelism':1}]}",
	                          &job),
	    0);
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "memory");
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 0);
	sl_job_free(job);

	CU_ASSERT_EQUAL_FATAL(load(TWO_VERTICES "'edges':[]}", &job), 0);
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), 3);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 0);
	sl_job_free(job);
}

static void
test_length_and_origin(void)
{
	const char *text = "{\"name\":\"n\",\"vertices\":[{\"id\":\"x\","
	                   "\"operator\":\"noop\",\"parallelism\":1}]}GARBAGE";
	sl_job *job = NULL;

	/* Only len bytes count: the text need not end with a NUL. */
	CU_ASSERT_EQUAL(
	    sl_job_load_json(text, strlen(text) - 7, "mem", &job), 0);
	CU_ASSERT_PTR_NOT_NULL(job);
	sl_job_free(job);

	CU_ASSERT_EQUAL(
	    sl_job_load_json(text, strlen(text), "mem", &job), SL_EPARSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "mem:1:"));

	CU_ASSERT_EQUAL(sl_job_load_json("[]", 2, NULL, &job), SL_EPARSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "<json>: "));
}

static void
test_failure_leaves_out_alone(void)
{
	sl_job *sentinel = (sl_job *)&sentinel;
	sl_job *job = sentinel;

	CU_ASSERT_EQUAL(sl_job_load_json("{}", 2, "job.json", &job), SL_EPARSE);
	CU_ASSERT_PTR_EQUAL(job, sentinel);
}

static void
test_syntax_errors(void)
{
	/* jansson's line and column come first, as compilers print them. */
	EXPECT_FAIL("{\n 'name': 'x',\n 'vertices': [,]\n}", SL_EPARSE,
	    "job.json:3:", "JSON syntax error");
	EXPECT_FAIL(
	    "{'name': 'x'", SL_EPARSE, "job.json:1:", "JSON syntax error");
	EXPECT_FAIL("{'name': 'x',}", SL_EPARSE, "job.json:1:");
	EXPECT_FAIL("{'name': 'x'} {}", SL_EPARSE, "job.json:1:");
	/* Two values for one key: the second would silently win. */
	EXPECT_FAIL("{'name':'x',\n'name':'y','vertices':[]}", SL_EPARSE,
	    "job.json:2:", "duplicate");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':99999999999999999999999}]}",
	    SL_EPARSE, "job.json:1:");
}

static void
test_empty_and_top_level(void)
{
	EXPECT_FAIL("", SL_EPARSE, "job.json: empty input");
	EXPECT_FAIL(" \n\t\r\n", SL_EPARSE, "job.json: empty input");
	EXPECT_FAIL("[{'name':'x'}]", SL_EPARSE,
	    "job.json: expected a JSON object at top level, got array");
	EXPECT_FAIL("'job'", SL_EPARSE, "top level, got string");
	EXPECT_FAIL("42", SL_EPARSE, "top level, got number");
	EXPECT_FAIL("null", SL_EPARSE, "top level, got null");
}

static void
test_unknown_keys(void)
{
	EXPECT_FAIL("{'name':'x','vertexes':[]}", SL_EPARSE,
	    "job.json: unknown key 'vertexes' at top level",
	    "did you mean 'vertices'?");
	/* Reported before the 'vertices' it left missing. */
	EXPECT_FAIL("{'name':'x','checkpoints':{}}", SL_EPARSE,
	    "job.json: unknown key 'checkpoints' at top level");
	/* A known key of the wrong type says so. */
	EXPECT_FAIL("{'name':'x','scheduler':{}}", SL_EPARSE,
	    "job.json: scheduler: expected a string, got object");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'paralellism':2}]}",
	    SL_EPARSE, "job.json: vertices[0]: unknown key 'paralellism'",
	    "did you mean 'parallelism'?");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':2,'colour':'red'}]}",
	    SL_EPARSE, "job.json: vertices[0]: unknown key 'colour'");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'pointwise','type':'pipelined',"
	    "'shufle':'memory'}]}",
	    SL_EPARSE, "job.json: edges[0]: unknown key 'shufle'",
	    "did you mean 'shuffle'?");
	/* A far-off key gets no guess. */
	sl_job *job;
	CU_ASSERT_EQUAL(load("{'name':'x','zzzzzz':1}", &job), SL_EPARSE);
	CU_ASSERT_PTR_NULL(strstr(sl_errdetail(), "did you mean"));
}

static void
test_missing_fields(void)
{
	EXPECT_FAIL(
	    "{'vertices':[{'id':'a','operator':'noop','parallelism':1}]}",
	    SL_EPARSE, "job.json: missing field 'name' at top level");
	EXPECT_FAIL("{'name':'x'}", SL_EPARSE,
	    "job.json: missing field 'vertices' at top level");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','parallelism':1}]}",
	    SL_EPARSE, "job.json: vertices[0]: missing field 'operator'");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1},{'operator':'noop','parallelism':1}]}",
	    SL_EPARSE, "job.json: vertices[1]: missing field 'id'");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop'}]}",
	    SL_EPARSE, "job.json: vertices[0]: missing field 'parallelism'");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'to':'b','distribution':'pointwise',"
	    "'type':'pipelined'}]}",
	    SL_EPARSE, "job.json: edges[0]: missing field 'from'");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','distribution':'pointwise',"
	    "'type':'pipelined'}]}",
	    SL_EPARSE, "job.json: edges[0]: missing field 'to'");
	EXPECT_FAIL(TWO_VERTICES "'edges':[{'from':'a','to':'b',"
	                         "'type':'pipelined'}]}",
	    SL_EPARSE, "job.json: edges[0]: missing field 'distribution'");
	EXPECT_FAIL(TWO_VERTICES "'edges':[{'from':'a','to':'b',"
	                         "'distribution':'pointwise'}]}",
	    SL_EPARSE, "job.json: edges[0]: missing field 'type'");
	EXPECT_FAIL("{'name':'x','vertices':[]}", SL_EPARSE,
	    "job.json: vertices: empty");
}

static void
test_wrong_types(void)
{
	EXPECT_FAIL("{'name':5,'vertices':[]}", SL_EPARSE,
	    "job.json: name: expected a string, got number");
	EXPECT_FAIL("{'name':'x','shuffle':true,'vertices':[]}", SL_EPARSE,
	    "job.json: shuffle: expected a string, got boolean");
	EXPECT_FAIL("{'name':'x','vertices':{}}", SL_EPARSE,
	    "job.json: vertices: expected an array, got object");
	EXPECT_FAIL(TWO_VERTICES "'edges':{}}", SL_EPARSE,
	    "job.json: edges: expected an array, got object");
	EXPECT_FAIL("{'name':'x','vertices':['a']}", SL_EPARSE,
	    "job.json: vertices[0]: expected an object, got string");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':1,'operator':'noop',"
	            "'parallelism':1}]}",
	    SL_EPARSE,
	    "job.json: vertices[0].id: expected a string, got number");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':null,"
	            "'parallelism':1}]}",
	    SL_EPARSE,
	    "job.json: vertices[0].operator: expected a string, got null");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1,'config':[1]}]}",
	    SL_EPARSE,
	    "job.json: vertices[0].config: expected an object, got array");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1,'config':'k=v'}]}",
	    SL_EPARSE, "vertices[0].config: expected an object, got string");
	EXPECT_FAIL(TWO_VERTICES "'edges':[7]}", SL_EPARSE,
	    "job.json: edges[0]: expected an object, got number");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':true,'to':'b',"
	    "'distribution':'pointwise','type':'pipelined'}]}",
	    SL_EPARSE,
	    "job.json: edges[0].from: expected a string, got boolean");
	EXPECT_FAIL(TWO_VERTICES "'edges':[{'from':'a','to':'b',"
	                         "'distribution':'pointwise','type':1}]}",
	    SL_EPARSE,
	    "job.json: edges[0].type: expected a string, got number");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'pointwise','type':'pipelined',"
	    "'shuffle':['memory']}]}",
	    SL_EPARSE,
	    "job.json: edges[0].shuffle: expected a string, got array");
}

#define ONE_VERTEX(par)                                                        \
	"{'name':'x','vertices':[{'id':'a','operator':'noop','parallelism':1}" \
	","                                                                    \
	"{'id':'b','operator':'noop','parallelism':" par "}]}"

static void
test_parallelism(void)
{
	sl_job *job;

	EXPECT_FAIL(ONE_VERTEX("0"), SL_EPARSE,
	    "job.json: vertices[1].parallelism: must be a positive integer or "
	    "\"auto\", got 0");
	EXPECT_FAIL(
	    ONE_VERTEX("-3"), SL_EPARSE, "vertices[1].parallelism", "got -3");
	EXPECT_FAIL(
	    ONE_VERTEX("-1"), SL_EPARSE, "vertices[1].parallelism", "got -1");
	EXPECT_FAIL(
	    ONE_VERTEX("2.5"), SL_EPARSE, "vertices[1].parallelism", "got 2.5");
	EXPECT_FAIL(ONE_VERTEX("4.0"), SL_EPARSE, "got 4.0");
	/* A string is "auto" or a decimal number (what "${p}" gives), with
	 * the same checks as a number. */
	EXPECT_FAIL(ONE_VERTEX("'seven'"), SL_EPARSE,
	    "vertices[1].parallelism: must be a positive integer or "
	    "\"auto\", got \"seven\"");
	EXPECT_FAIL(ONE_VERTEX("'AUTO'"), SL_EPARSE, "got \"AUTO\"");
	EXPECT_FAIL(ONE_VERTEX("''"), SL_EPARSE, "got \"\"");
	EXPECT_FAIL(ONE_VERTEX("' 7'"), SL_EPARSE, "got \" 7\"");
	EXPECT_FAIL(ONE_VERTEX("'7 '"), SL_EPARSE, "got \"7 \"");
	EXPECT_FAIL(ONE_VERTEX("'+7'"), SL_EPARSE, "got \"+7\"");
	EXPECT_FAIL(ONE_VERTEX("'7.0'"), SL_EPARSE, "got \"7.0\"");
	EXPECT_FAIL(ONE_VERTEX("'0x10'"), SL_EPARSE, "got \"0x10\"");
	EXPECT_FAIL(ONE_VERTEX("'-'"), SL_EPARSE, "got \"-\"");
	EXPECT_FAIL(ONE_VERTEX("'0'"), SL_EPARSE, "got \"0\"");
	EXPECT_FAIL(ONE_VERTEX("'-1'"), SL_EPARSE, "got \"-1\"");
	EXPECT_FAIL(ONE_VERTEX("'1000001'"), SL_ERANGE,
	    "job.json: vertices[1].parallelism: 1000001 is above the limit "
	    "of 1000000");
	EXPECT_FAIL(ONE_VERTEX("'99999999999999999999999999999999'"), SL_ERANGE,
	    "vertices[1].parallelism: 999999999999999999999999... is above");
	EXPECT_FAIL(ONE_VERTEX("true"), SL_EPARSE, "got true");
	EXPECT_FAIL(ONE_VERTEX("null"), SL_EPARSE, "got null");
	EXPECT_FAIL(ONE_VERTEX("[4]"), SL_EPARSE, "got an array");
	EXPECT_FAIL(ONE_VERTEX("1000001"), SL_ERANGE,
	    "job.json: vertices[1].parallelism: 1000001", "1000000");
	/* Past int32: must not wrap into range on the way to the C API. */
	EXPECT_FAIL(
	    ONE_VERTEX("4294967297"), SL_ERANGE, "vertices[1].parallelism");
	EXPECT_FAIL(ONE_VERTEX("9223372036854775807"), SL_ERANGE,
	    "vertices[1].parallelism");

	CU_ASSERT_EQUAL_FATAL(load(ONE_VERTEX("1000000"), &job), 0);
	CU_ASSERT_EQUAL(job->v[1].parallelism, 1000000);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load(ONE_VERTEX("'7'"), &job), 0);
	CU_ASSERT_EQUAL(job->v[1].parallelism, 7);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load(ONE_VERTEX("'0001000000'"), &job), 0);
	CU_ASSERT_EQUAL(job->v[1].parallelism, 1000000);
	sl_job_free(job);
}

/* min_parallelism, max_parallelism, bytes_per_task: the job's, a vertex's
 * over them, the defaults under both; bad values say where. */
static void
test_adaptive_keys(void)
{
	struct sl_adaptive_spec a;
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(
	    load("{'name':'j','max_parallelism':32,'bytes_per_task':'8m',"
	         "'vertices':["
	         "{'id':'a','operator':'source','parallelism':2},"
	         "{'id':'b','operator':'count','parallelism':'auto',"
	         "'min_parallelism':'2','bytes_per_task':1000}]}",
	        &job),
	    0);
	sli_job_adaptive(job, 0, &a);
	CU_ASSERT_EQUAL(a.min_parallelism, SL_DEFAULT_MIN_PARALLELISM);
	CU_ASSERT_EQUAL(a.max_parallelism, 32);
	CU_ASSERT_EQUAL(a.bytes_per_task, 8u << 20);
	sli_job_adaptive(job, 1, &a);
	CU_ASSERT_EQUAL(a.min_parallelism, 2);
	CU_ASSERT_EQUAL(a.max_parallelism, 32);
	CU_ASSERT_EQUAL(a.bytes_per_task, 1000);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load(ONE_VERTEX("'auto'"), &job), 0);
	sli_job_adaptive(job, 1, &a);
	CU_ASSERT_EQUAL(a.max_parallelism, SL_DEFAULT_MAX_PARALLELISM);
	CU_ASSERT_EQUAL(a.bytes_per_task, SL_DEFAULT_BYTES_PER_TASK);
	sl_job_free(job);

	EXPECT_FAIL("{'name':'j','min_parallelism':8,'max_parallelism':4,"
	            "'vertices':[{'id':'a','operator':'s','parallelism':1}]}",
	    SL_EINVAL,
	    "job.json: max_parallelism: min_parallelism 8 is above "
	    "max_parallelism 4");
	EXPECT_FAIL("{'name':'j','min_parallelism':8,'vertices':[{'id':'a',"
	            "'operator':'s','parallelism':1,'max_parallelism':4}]}",
	    SL_EINVAL,
	    "job.json: vertices[0].max_parallelism: min_parallelism 8 (the "
	    "job's) is above max_parallelism 4 (the vertex's)");
	EXPECT_FAIL("{'name':'j','max_parallelism':0,'vertices':[{'id':'a',"
	            "'operator':'s','parallelism':1}]}",
	    SL_EPARSE, "max_parallelism: must be a positive integer, got 0");
	EXPECT_FAIL("{'name':'j','vertices':[{'id':'a','operator':'s',"
	            "'parallelism':1,'min_parallelism':1000001}]}",
	    SL_ERANGE,
	    "vertices[0].min_parallelism: 1000001 is above the limit");
	EXPECT_FAIL("{'name':'j','bytes_per_task':'64q','vertices':[{'id':"
	            "'a','operator':'s','parallelism':1}]}",
	    SL_EPARSE, "bytes_per_task: must be a positive byte count",
	    "got \"64q\"");
	EXPECT_FAIL("{'name':'j','vertices':[{'id':'a','operator':'s',"
	            "'parallelism':1,'bytes_per_task':-5}]}",
	    SL_EPARSE, "vertices[0].bytes_per_task", "got -5");
	/* variables give strings */
	CU_ASSERT_EQUAL_FATAL(
	    load_vars("{'name':'j','bytes_per_task':'${b}','vertices':[{'id':"
	              "'a','operator':'s','parallelism':'auto'}]}",
	        DEFS("b=1GiB"), &job),
	    0);
	sli_job_adaptive(job, 0, &a);
	CU_ASSERT_EQUAL(a.bytes_per_task, UINT64_C(1) << 30);
	sl_job_free(job);

	/* skew_factor: the job's, a vertex's, 0 for never, the default */
	CU_ASSERT_EQUAL_FATAL(
	    load_vars("{'name':'j','skew_factor':'${f}','vertices':["
	              "{'id':'a','operator':'s','parallelism':'auto'},"
	              "{'id':'b','operator':'c','parallelism':'auto',"
	              "'skew_factor':0}]}",
	        DEFS("f=3"), &job),
	    0);
	sli_job_adaptive(job, 0, &a);
	CU_ASSERT_EQUAL(a.skew_factor, 3);
	sli_job_adaptive(job, 1, &a);
	CU_ASSERT_EQUAL(a.skew_factor, SL_SKEW_NEVER);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load(ONE_VERTEX("'auto'"), &job), 0);
	sli_job_adaptive(job, 1, &a);
	CU_ASSERT_EQUAL(a.skew_factor, SL_DEFAULT_SKEW_FACTOR);
	sl_job_free(job);
	EXPECT_FAIL("{'name':'j','vertices':[{'id':'a','operator':'s',"
	            "'parallelism':1,'skew_factor':-1}]}",
	    SL_EPARSE, "vertices[0].skew_factor: must be 0 (never split",
	    "got -1");
	EXPECT_FAIL("{'name':'j','skew_factor':1.5,'vertices':[{'id':'a',"
	            "'operator':'s','parallelism':1}]}",
	    SL_EPARSE, "skew_factor: must be 0", "got 1.5");
}

/* A job with a fixed and an "auto" vertex, and "restart": {R}. */
#define WITH_RESTART(r)                                      \
	"{'name':'j','restart':{" r "},'vertices':["         \
	"{'id':'read','operator':'source','parallelism':2}," \
	"{'id':'count','operator':'count','parallelism':3}]}"

/* The restart strategy in force after loading text with defs. */
static struct sl_restart_spec
restart_of(const char *text, const char *const *defs)
{
	struct sl_restart_spec r = { .strategy = 99 };
	sl_job *job;

	CU_ASSERT_EQUAL(load_vars(text, defs, &job), 0);
	if (job == NULL) {
		fprintf(stderr, "\n  %s\n", sl_errdetail());
		return r;
	}
	sli_job_restart(job, &r);
	sl_job_free(job);
	return r;
}

static void
test_restart_keys(void)
{
	struct sl_restart_spec r;

	/* none given: fixed-delay, 3 attempts, 1 s */
	r = restart_of("{'name':'j','vertices':[{'id':'a','operator':'s',"
	               "'parallelism':1}]}",
	    NULL);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL(r.attempts, 3);
	CU_ASSERT_EQUAL(r.delay_ms, 1000);

	r = restart_of(WITH_RESTART("'strategy':'none'"), NULL);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_NONE);

	r = restart_of(WITH_RESTART("'strategy':'fixed-delay','attempts':5,"
	                            "'delay':'250ms'"),
	    NULL);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL(r.attempts, 5);
	CU_ASSERT_EQUAL(r.delay_ms, 250);
	/* 0 ms is a delay, not "unset" */
	r = restart_of(
	    WITH_RESTART("'strategy':'fixed-delay','delay':0"), NULL);
	CU_ASSERT_EQUAL(r.attempts, 3);
	CU_ASSERT_EQUAL(r.delay_ms, 0);
	r = restart_of(
	    WITH_RESTART("'strategy':'fixed-delay','delay':1500"), NULL);
	CU_ASSERT_EQUAL(r.delay_ms, 1500);

	r = restart_of(WITH_RESTART("'strategy':'exponential-delay',"
	                            "'initial':'100ms','max':'10s',"
	                            "'multiplier':2,'jitter':0.25,"
	                            "'reset_after':'1h','attempts':4"),
	    NULL);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_EXPONENTIAL_DELAY);
	CU_ASSERT_EQUAL(r.initial_ms, 100);
	CU_ASSERT_EQUAL(r.max_ms, 10000);
	CU_ASSERT_EQUAL(r.multiplier, 2);
	CU_ASSERT_EQUAL(r.jitter, 0.25);
	CU_ASSERT_EQUAL(r.reset_after_ms, 3600000);
	CU_ASSERT_EQUAL(r.attempts, 4);
	/* the defaults, and jitter 0 is none */
	r = restart_of(
	    WITH_RESTART("'strategy':'exponential-delay','jitter':0"), NULL);
	CU_ASSERT_EQUAL(r.initial_ms, 1000);
	CU_ASSERT_EQUAL(r.max_ms, 60000);
	CU_ASSERT_EQUAL(r.multiplier, 1.5);
	CU_ASSERT_EQUAL(r.jitter, 0);
	CU_ASSERT_EQUAL(r.reset_after_ms, 3600000);
	CU_ASSERT_EQUAL(r.attempts, SL_RESTART_UNLIMITED);

	r = restart_of(WITH_RESTART("'strategy':'failure-rate','failures':3,"
	                            "'interval':'60s','delay':'1s'"),
	    NULL);
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_FAILURE_RATE);
	CU_ASSERT_EQUAL(r.failures, 3);
	CU_ASSERT_EQUAL(r.interval_ms, 60000);
	CU_ASSERT_EQUAL(r.delay_ms, 1000);

	/* variables give strings: every value may come from one */
	r = restart_of(WITH_RESTART("'strategy':'${s}','attempts':'${n}',"
	                            "'delay':'${d}'"),
	    DEFS("s=fixed-delay", "n=7", "d=250"));
	CU_ASSERT_EQUAL(r.strategy, SL_RESTART_FIXED_DELAY);
	CU_ASSERT_EQUAL(r.attempts, 7);
	CU_ASSERT_EQUAL(r.delay_ms, 250);
	r = restart_of(WITH_RESTART("'strategy':'exponential-delay',"
	                            "'initial':'${i}','max':'${m}',"
	                            "'multiplier':'${x}','jitter':'${j}',"
	                            "'reset_after':'${r}'"),
	    DEFS("i=1.5s", "m=2 min", "x=1.25", "j=0", "r=30m"));
	CU_ASSERT_EQUAL(r.initial_ms, 1500);
	CU_ASSERT_EQUAL(r.max_ms, 120000);
	CU_ASSERT_EQUAL(r.multiplier, 1.25);
	CU_ASSERT_EQUAL(r.jitter, 0);
	CU_ASSERT_EQUAL(r.reset_after_ms, 1800000);
	r = restart_of(WITH_RESTART("'strategy':'failure-rate',"
	                            "'failures':'${f}','interval':'${i}'"),
	    DEFS("f=2", "i=5000"));
	CU_ASSERT_EQUAL(r.failures, 2);
	CU_ASSERT_EQUAL(r.interval_ms, 5000);
}

static void
test_restart_errors(void)
{
	/* shape */
	EXPECT_FAIL("{'name':'j','restart':'none','vertices':[{'id':'a',"
	            "'operator':'s','parallelism':1}]}",
	    SL_EPARSE, "job.json: restart: expected an object, got string");
	EXPECT_FAIL(WITH_RESTART(""), SL_EPARSE,
	    "job.json: restart: missing field 'strategy'");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed'"), SL_EPARSE,
	    "job.json: restart.strategy: unknown strategy 'fixed' (expected "
	    "none, fixed-delay, exponential-delay, failure-rate)");
	EXPECT_FAIL(WITH_RESTART("'strategy':'default'"), SL_EPARSE,
	    "restart.strategy: unknown strategy 'default'");
	EXPECT_FAIL(WITH_RESTART("'strategy':3"), SL_EPARSE,
	    "job.json: restart.strategy: expected a string, got number");
	/* unknown and misplaced keys */
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','dealy':'1s'"),
	    SL_EPARSE,
	    "job.json: restart: unknown key 'dealy' (did you mean "
	    "'delay'?)");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','initial':'1s'"),
	    SL_EPARSE,
	    "job.json: restart.initial: not a setting of fixed-delay, which "
	    "takes attempts, delay");
	EXPECT_FAIL(WITH_RESTART("'strategy':'none','attempts':2"), SL_EPARSE,
	    "job.json: restart.attempts: strategy none takes no settings");
	EXPECT_FAIL(WITH_RESTART("'strategy':'failure-rate','attempts':2"),
	    SL_EPARSE,
	    "job.json: restart.attempts: not a setting of failure-rate, which "
	    "takes failures, interval, delay");
	EXPECT_FAIL(WITH_RESTART("'strategy':'exponential-delay','delay':1"),
	    SL_EPARSE,
	    "restart.delay: not a setting of exponential-delay, which takes "
	    "initial, max, multiplier, jitter, reset_after, attempts");
	/* counts */
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','attempts':0"),
	    SL_EPARSE,
	    "job.json: restart.attempts: 0 would never restart: say "
	    "\"strategy\": \"none\"");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','attempts':-1"),
	    SL_EPARSE, "restart.attempts: must be a positive integer, got -1");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','attempts':1.5"),
	    SL_EPARSE, "restart.attempts: must be a positive integer, got 1.5");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','attempts':'x'"),
	    SL_EPARSE,
	    "restart.attempts: must be a positive integer, got "
	    "\"x\"");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','attempts':1000001"),
	    SL_ERANGE, "restart.attempts: 1000001 is above the limit");
	EXPECT_FAIL(WITH_RESTART("'strategy':'failure-rate','failures':0"),
	    SL_EPARSE, "restart.failures: must be a positive integer, got 0");
	EXPECT_FAIL(WITH_RESTART("'strategy':'failure-rate','failures':10001"),
	    SL_EINVAL,
	    "job.json: restart.failures: 10001 is above the limit "
	    "of 10000");
	/* durations */
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':-5"),
	    SL_EPARSE,
	    "job.json: restart.delay: must be a duration: milliseconds (250) "
	    "or a string such as \"250ms\", \"1.5s\", \"2m\", \"1h\"; got -5");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':'5x'"),
	    SL_EPARSE, "restart.delay: must be a duration", "got \"5x\"");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':'1.5'"),
	    SL_EPARSE, "restart.delay: must be a duration", "got \"1.5\"");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':2.5"),
	    SL_EPARSE, "restart.delay: must be a duration", "got 2.5");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':true"),
	    SL_EPARSE, "restart.delay: must be a duration", "got true");
	EXPECT_FAIL(WITH_RESTART("'strategy':'fixed-delay','delay':'9000h'"),
	    SL_EINVAL,
	    "job.json: restart.delay: 9000 h is above the limit of 8760 h");
	EXPECT_FAIL(WITH_RESTART("'strategy':'exponential-delay','initial':0"),
	    SL_EINVAL, "job.json: restart.initial: must be above 0 ms");
	EXPECT_FAIL(WITH_RESTART("'strategy':'exponential-delay',"
	                         "'initial':'100ms','max':'50ms'"),
	    SL_EINVAL, "job.json: restart.max: 50 ms is below initial 100 ms");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','initial':'2m'"),
	    SL_EINVAL,
	    "job.json: restart.max: 60 s (the default) is below initial 2 "
	    "min");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','reset_after':'0s'"),
	    SL_EINVAL, "restart.reset_after: must be above 0 ms");
	EXPECT_FAIL(WITH_RESTART("'strategy':'failure-rate','interval':'0ms'"),
	    SL_EINVAL, "restart.interval: must be above 0 ms");
	/* reals */
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','multiplier':0.5"),
	    SL_EINVAL,
	    "job.json: restart.multiplier: must be a number of at least 1, "
	    "got 0.5");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','multiplier':0"),
	    SL_EINVAL,
	    "restart.multiplier: must be a number of at least 1, "
	    "got 0");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','multiplier':'x2'"),
	    SL_EPARSE, "restart.multiplier: must be a number, got \"x2\"");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','multiplier':'2.'"),
	    SL_EPARSE, "restart.multiplier: must be a number, got \"2.\"");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','multiplier':null"),
	    SL_EPARSE, "restart.multiplier: must be a number, got null");
	EXPECT_FAIL(WITH_RESTART("'strategy':'exponential-delay','jitter':1.5"),
	    SL_EINVAL,
	    "job.json: restart.jitter: must be between 0 and 1 (a share of "
	    "the backoff), got 1.5");
	EXPECT_FAIL(WITH_RESTART("'strategy':'exponential-delay','jitter':-1"),
	    SL_EINVAL, "restart.jitter: must be between 0 and 1", "got -1");
	EXPECT_FAIL(
	    WITH_RESTART("'strategy':'exponential-delay','jitter':'-0.5'"),
	    SL_EINVAL, "restart.jitter: must be between 0 and 1", "got -0.5");
	/* from variables, checked as the value */
	EXPECT_FAIL_VARS(
	    WITH_RESTART("'strategy':'fixed-delay','delay':'${d}'"),
	    DEFS("d=soon"), SL_EPARSE, "restart.delay: must be a duration",
	    "got \"soon\"");
	EXPECT_FAIL_VARS(
	    WITH_RESTART("'strategy':'fixed-delay','attempts':'${n}'"),
	    DEFS("n=0"), SL_EPARSE, "restart.attempts: 0 would never restart");
	EXPECT_FAIL_VARS(WITH_RESTART("'strategy':'${s}'"),
	    DEFS("s=exponential"), SL_EPARSE,
	    "restart.strategy: unknown strategy 'exponential'");
}

/* Vertices read (2), count (3) and auto (auto), then "faults": [F]. */
#define WITH_FAULTS(f)                                            \
	"{'name':'j','vertices':["                                \
	"{'id':'read','operator':'source','parallelism':2},"      \
	"{'id':'count','operator':'count','parallelism':3},"      \
	"{'id':'auto','operator':'count','parallelism':'auto'}]," \
	"'faults':[" f "]}"

static void
test_fault_keys(void)
{
	const struct sli_fault *f;
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(
	    load(WITH_FAULTS("{'task':'count#1','attempt':0,"
	                     "'after_records':1000,'action':'fail'},"
	                     "{'task':'count#1','attempt':1,"
	                     "'action':'crash_worker'},"
	                     "{'task':'read#0','action':'fail'},"
	                     "{'task':'auto#500','action':'fail'}"),
	        &job),
	    0);
	CU_ASSERT_EQUAL_FATAL(job->nfaults, 4);
	f = sli_job_fault(job, 1, 1, 0);
	CU_ASSERT_PTR_EQUAL_FATAL(f, &job->faults[0]);
	CU_ASSERT_EQUAL(f->vertex, 1);
	CU_ASSERT_EQUAL(f->index, 1);
	CU_ASSERT_EQUAL(f->attempt, 0);
	CU_ASSERT_EQUAL(f->after_records, 1000);
	CU_ASSERT_EQUAL(f->action, SL_FAULT_FAIL);
	f = sli_job_fault(job, 1, 1, 1);
	CU_ASSERT_PTR_EQUAL_FATAL(f, &job->faults[1]);
	CU_ASSERT_EQUAL(f->after_records, 0);
	CU_ASSERT_EQUAL(f->action, SL_FAULT_CRASH_WORKER);
	f = sli_job_fault(job, 0, 0, 0);
	CU_ASSERT_PTR_EQUAL_FATAL(f, &job->faults[2]);
	CU_ASSERT_EQUAL(f->attempt, 0);
	/* an "auto" vertex's index is not checked against a parallelism */
	CU_ASSERT_PTR_EQUAL(sli_job_fault(job, 2, 500, 0), &job->faults[3]);
	CU_ASSERT_PTR_NULL(sli_job_fault(job, 1, 1, 2));
	CU_ASSERT_PTR_NULL(sli_job_fault(job, 1, 0, 0));
	CU_ASSERT_PTR_NULL(sli_job_fault(job, 0, 1, 0));
	CU_ASSERT_STRING_EQUAL(sli_fault_action_name(f->action), "fail");
	CU_ASSERT_STRING_EQUAL(
	    sli_fault_action_name(SL_FAULT_CRASH_WORKER), "crash_worker");
	CU_ASSERT_STRING_EQUAL(sli_fault_action_name(9), "?");
	sl_job_free(job);

	/* no faults, and an empty list */
	CU_ASSERT_EQUAL_FATAL(load(WITH_FAULTS(""), &job), 0);
	CU_ASSERT_EQUAL(job->nfaults, 0);
	CU_ASSERT_PTR_NULL(sli_job_fault(job, 0, 0, 0));
	sl_job_free(job);

	/* variables */
	CU_ASSERT_EQUAL_FATAL(
	    load_vars(WITH_FAULTS("{'task':'${t}','attempt':'${a}',"
	                          "'after_records':'${n}','action':'${x}'}"),
	        DEFS("t=count#2", "a=3", "n=9000000000", "x=crash_worker"),
	        &job),
	    0);
	f = sli_job_fault(job, 1, 2, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->after_records, UINT64_C(9000000000));
	CU_ASSERT_EQUAL(f->action, SL_FAULT_CRASH_WORKER);
	sl_job_free(job);

	/* SL_MAX_FAULTS, and one more */
	{
		size_t cap = 64 + 80 * (SL_MAX_FAULTS + 1), len = 0;
		char *text = malloc(cap);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		len += (size_t)snprintf(text, cap,
		    "{'name':'j','vertices':[{'id':'v','operator':'s',"
		    "'parallelism':1}],'faults':[");
		for (int k = 0; k < SL_MAX_FAULTS; k++)
			len += (size_t)snprintf(text + len, cap - len,
			    "%s{'task':'v#0','attempt':%d,'action':'fail'}",
			    k ? "," : "", k);
		snprintf(text + len, cap - len, "]}");
		CU_ASSERT_EQUAL_FATAL(load(text, &job), 0);
		CU_ASSERT_EQUAL(job->nfaults, SL_MAX_FAULTS);
		CU_ASSERT_PTR_NOT_NULL(sli_job_fault(job, 0, 0, 255));
		sl_job_free(job);
		snprintf(text + len, cap - len,
		    ",{'task':'v#0','attempt':999,'action':'fail'}]}");
		EXPECT_FAIL(text, SL_ERANGE,
		    "job.json: faults[256]: more than 256 faults");
		free(text);
	}

	/* the C API's own checks */
	CU_ASSERT_EQUAL_FATAL(sl_job_new("j", &job), 0);
	CU_ASSERT_EQUAL(sl_job_add_vertex(job, "a", "s", 2, NULL), 0);
	CU_ASSERT_EQUAL(sl_job_add_fault(job, NULL, 0, 0, "fail"), SL_EINVAL);
	CU_ASSERT_EQUAL(sl_job_add_fault(job, "a#0", 0, 0, NULL), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "unknown action '(null)' (expected fail or crash_worker)");
	CU_ASSERT_EQUAL(
	    sl_job_add_fault(job, "b#0", 0, 0, "fail"), SL_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "task 'b#0': unknown vertex 'b'");
	CU_ASSERT_EQUAL(sl_job_add_fault(job, "a#1", 2, 5, "crash_worker"), 0);
	CU_ASSERT_EQUAL(sl_job_add_fault(job, "a#1", 2, 7, "fail"), SL_EEXISTS);
	CU_ASSERT_STRING_EQUAL(
	    sl_errdetail(), "task a#1, attempt 2, has a fault already");
	CU_ASSERT_EQUAL(job->nfaults, 1);
	CU_ASSERT_EQUAL(job->faults[0].after_records, 5);
	sl_job_free(job);
}

static void
test_fault_errors(void)
{
	EXPECT_FAIL("{'name':'j','vertices':[{'id':'a','operator':'s',"
	            "'parallelism':1}],'faults':{}}",
	    SL_EPARSE, "job.json: faults: expected an array, got object");
	EXPECT_FAIL(WITH_FAULTS("'count#1'"), SL_EPARSE,
	    "job.json: faults[0]: expected an object, got string");
	EXPECT_FAIL(
	    WITH_FAULTS("{'task':'count#1','atempt':1,'action':'fail'}"),
	    SL_EPARSE,
	    "job.json: faults[0]: unknown key 'atempt' (did you mean "
	    "'attempt'?)");
	EXPECT_FAIL(WITH_FAULTS("{'action':'fail'}"), SL_EPARSE,
	    "job.json: faults[0]: missing field 'task'");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#1'}"), SL_EPARSE,
	    "job.json: faults[0]: missing field 'action'");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#1','action':'kill'}"),
	    SL_EPARSE,
	    "job.json: faults[0].action: unknown action 'kill' (expected "
	    "fail, crash_worker)");
	EXPECT_FAIL(WITH_FAULTS("{'task':1,'action':'fail'}"), SL_EPARSE,
	    "job.json: faults[0].task: expected a string, got number");
	/* the task's form */
	EXPECT_FAIL(WITH_FAULTS("{'task':'count','action':'fail'}"), SL_EINVAL,
	    "job.json: faults[0]: task 'count': expected VERTEX#INDEX, such "
	    "as 'count#1'");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#','action':'fail'}"), SL_EINVAL,
	    "task 'count#': expected VERTEX#INDEX");
	EXPECT_FAIL(WITH_FAULTS("{'task':'#1','action':'fail'}"), SL_EINVAL,
	    "task '#1': expected VERTEX#INDEX");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#x','action':'fail'}"),
	    SL_EINVAL,
	    "job.json: faults[0]: task 'count#x': the index after '#' must be "
	    "a task number, 0 or more");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#-1','action':'fail'}"),
	    SL_EINVAL, "task 'count#-1': the index after '#'");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#1 ','action':'fail'}"),
	    SL_EINVAL, "task 'count#1 ': the index after '#'");
	/* which vertex, which index */
	EXPECT_FAIL(WITH_FAULTS("{'task':'cont#1','action':'fail'}"),
	    SL_ENOTFOUND,
	    "job.json: faults[0]: task 'cont#1': unknown vertex 'cont' (did "
	    "you mean 'count'?)");
	EXPECT_FAIL(WITH_FAULTS("{'task':'zzzzz#1','action':'fail'}"),
	    SL_ENOTFOUND, "faults[0]: task 'zzzzz#1': unknown vertex 'zzzzz'");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#3','action':'fail'}"),
	    SL_ERANGE,
	    "job.json: faults[0]: task 'count#3': vertex 'count' has "
	    "parallelism 3, so its tasks are count#0 to count#2");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#99999999999','action':'fail'}"),
	    SL_ERANGE, "vertex 'count' has parallelism 3");
	EXPECT_FAIL(WITH_FAULTS("{'task':'auto#1000000','action':'fail'}"),
	    SL_ERANGE,
	    "faults[0]: task 'auto#1000000': a task index is below 1000000");
	/* numbers */
	EXPECT_FAIL(
	    WITH_FAULTS("{'task':'count#1','attempt':-1,'action':'fail'}"),
	    SL_EPARSE,
	    "job.json: faults[0].attempt: must be an integer, 0 or more, got "
	    "-1");
	EXPECT_FAIL(
	    WITH_FAULTS("{'task':'count#1','attempt':0.5,'action':'fail'}"),
	    SL_EPARSE, "faults[0].attempt: must be an integer", "got 0.5");
	EXPECT_FAIL(
	    WITH_FAULTS(
	        "{'task':'count#1','attempt':4294967296,'action':'fail'}"),
	    SL_ERANGE,
	    "faults[0].attempt: 4294967296 is above the limit of 4294967295");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#1','after_records':'lots',"
	                        "'action':'fail'}"),
	    SL_EPARSE, "faults[0].after_records: must be an integer",
	    "got \"lots\"");
	EXPECT_FAIL(WITH_FAULTS("{'task':'count#1','after_records':"
	                        "'99999999999999999999','action':'fail'}"),
	    SL_ERANGE,
	    "faults[0].after_records: \"99999999999999999999\" is "
	    "above the limit");
	/* the same task and attempt twice, however written */
	EXPECT_FAIL(WITH_FAULTS("{'task':'read#1','action':'fail'},"
	                        "{'task':'count#1','action':'fail'},"
	                        "{'task':'count#01','attempt':'0',"
	                        "'action':'crash_worker'}"),
	    SL_EEXISTS,
	    "job.json: faults[2] repeats faults[1]: the same task and attempt");
	EXPECT_FAIL_VARS(WITH_FAULTS("{'task':'${t}','action':'fail'}"),
	    DEFS("t=count#7"), SL_ERANGE, "task 'count#7': vertex 'count'");
}

/* Once an "auto" vertex's parallelism is written into the document, a
 * fault on a task it did not get is left out (it could never strike, and
 * the document would not load with it). */
static void
test_fault_fixed_parallelism(void)
{
	const char *text = WITH_FAULTS("{'task':'auto#1','action':'fail'},"
	                               "{'task':'auto#5','action':'fail'},"
	                               "{'task':'count#2','action':'fail'}");
	char *s = unquote(text), *json = NULL;
	uint32_t par[3] = { 0, 0, 4 };
	sl_job *job = NULL, *fixed = NULL;

	CU_ASSERT_EQUAL_FATAL(sli_job_load_expanded(s, strlen(s), "job.json",
	                          NULL, 0, &job, &json),
	    0);
	CU_ASSERT_EQUAL(job->nfaults, 3);
	CU_ASSERT_EQUAL_FATAL(sli_job_json_fix_parallelism(&json, par, 3), 0);
	CU_ASSERT_EQUAL_FATAL(
	    sl_job_load_json(json, strlen(json), "fixed", &fixed), 0);
	CU_ASSERT_EQUAL(fixed->v[2].parallelism, 4);
	CU_ASSERT_EQUAL(fixed->nfaults, 2);
	CU_ASSERT_PTR_NOT_NULL(sli_job_fault(fixed, 2, 1, 0));
	CU_ASSERT_PTR_NULL(sli_job_fault(fixed, 2, 5, 0));
	CU_ASSERT_PTR_NOT_NULL(sli_job_fault(fixed, 1, 2, 0));
	sl_job_free(fixed);
	sl_job_free(job);
	free(json);
	free(s);
}

static void
test_vertex_errors(void)
{
	EXPECT_FAIL("{'name':'x','vertices':["
	            "{'id':'a','operator':'noop','parallelism':1},"
	            "{'id':'b','operator':'noop','parallelism':1},"
	            "{'id':'a','operator':'sink','parallelism':2}]}",
	    SL_EEXISTS, "job.json: vertices[2].id: vertex 'a' is defined twice",
	    "first at vertices[0]");
	/* The C API's checks, with the place put in front. */
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a b','operator':'noop',"
	            "'parallelism':1}]}",
	    SL_EINVAL, "job.json: vertices[0]: ", "'a b'");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'','operator':'noop',"
	            "'parallelism':1}]}",
	    SL_EINVAL, "job.json: vertices[0]: ");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'',"
	            "'parallelism':1}]}",
	    SL_EINVAL, "job.json: vertices[0]: ", "no operator");
	/* The dumped config must be freed when the C API refuses. */
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'',"
	            "'parallelism':1,'config':{'k':[1,2,3]}}]}",
	    SL_EINVAL, "job.json: vertices[0]: ", "no operator");
	EXPECT_FAIL("{'name':'','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1}]}",
	    SL_EINVAL, "job.json: name: ");
	EXPECT_FAIL("{'name':'x','shuffle':'','vertices':[{'id':'a',"
	            "'operator':'noop','parallelism':1}]}",
	    SL_EINVAL, "job.json: shuffle: ");
}

static void
test_edge_vertices(void)
{
	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'a','to':'b','distribution':'"
	                         "pointwise','type':'pipelined'},"
	                         "{'from':'b','to':'count','distribution':'"
	                         "pointwise','type':'pipelined'},"
	                         "{'from':'b','to':'cnt','distribution':'all_"
	                         "to_all','type':'blocking'}]}",
	    SL_ENOTFOUND, "job.json: edges[2].to: unknown vertex 'cnt'",
	    "did you mean 'count'?");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'nowhere','to':'b',"
	    "'distribution':'pointwise','type':'pipelined'}]}",
	    SL_ENOTFOUND, "job.json: edges[0].from: unknown vertex 'nowhere'");
}

static void
test_edge_enums(void)
{
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'pointwise','type':'blockin'}]}",
	    SL_EPARSE,
	    "job.json: edges[0].type: unknown type 'blockin' (expected "
	    "pipelined, blocking, hybrid_full, hybrid_selective)");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'all2all','type':'blocking'}]}",
	    SL_EPARSE,
	    "job.json: edges[0].distribution: unknown distribution 'all2all' "
	    "(expected pointwise, all_to_all, broadcast)");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'all_to_all','partitioner':'rr',"
	    "'type':'blocking'}]}",
	    SL_EPARSE,
	    "job.json: edges[0].partitioner: unknown partitioner 'rr' "
	    "(expected hash, range, round_robin)");
	/* "none" is the C API's placeholder, not a file's word. */
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'all_to_all','partitioner':'none',"
	    "'type':'blocking'}]}",
	    SL_EPARSE, "edges[0].partitioner: unknown partitioner 'none'");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'pointwise','partitioner':'hash',"
	    "'type':'pipelined'}]}",
	    SL_EINVAL, "job.json: edges[0].partitioner: ", "pointwise");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'broadcast','partitioner':'range',"
	    "'type':'pipelined'}]}",
	    SL_EINVAL, "job.json: edges[0].partitioner: ", "broadcast");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b',"
	    "'distribution':'pointwise','type':'pipelined',"
	    "'shuffle':''}]}",
	    SL_EINVAL, "job.json: edges[0].shuffle: ");
}

static void
test_cycles(void)
{
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'b','to':'b',"
	    "'distribution':'pointwise','type':'pipelined'}]}",
	    SL_ECYCLE, "job.json: edges[0]: ", "itself");
	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'a','to':'b','distribution':'"
	                         "pointwise','type':'pipelined'},"
	                         "{'from':'b','to':'count','distribution':'"
	                         "pointwise','type':'pipelined'},"
	                         "{'from':'a','to':'count','distribution':'"
	                         "pointwise','type':'blocking'},"
	                         "{'from':'count','to':'a','distribution':'all_"
	                         "to_all','type':'blocking'}]}",
	    SL_ECYCLE,
	    "job.json: edges: edges form a cycle: a -> b -> count -> a");
	/* Found after all edges, whatever their order: the last edge here
	 * is fine, the cycle is between the first two. */
	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'count','to':'b','distribution':'"
	                         "pointwise','type':'pipelined'},"
	                         "{'from':'b','to':'count','distribution':'"
	                         "pointwise','type':'blocking'},"
	                         "{'from':'a','to':'b','distribution':'"
	                         "pointwise','type':'blocking'}]}",
	    SL_ECYCLE, "job.json: edges: edges form a cycle: b -> count -> b");
}

static void
test_names(void)
{
	sl_job *job;

	/* A job's name names its files: the vertex id rule. */
	EXPECT_FAIL("{'name':'word count','vertices':[{'id':'a',"
	            "'operator':'noop','parallelism':1}]}",
	    SL_EINVAL, "job.json: name: job name 'word count': use 1 to 128",
	    "A-Z a-z 0-9 _ . -");
	EXPECT_FAIL("{'name':'../etc','vertices':[{'id':'a',"
	            "'operator':'noop','parallelism':1}]}",
	    SL_EINVAL, "job.json: name: job name '../etc'");
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1}],'shuffle':'Disk'}",
	    SL_EINVAL,
	    "job.json: shuffle: shuffle plugin name 'Disk': use 1 to 64 "
	    "characters of a-z 0-9 _ -");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b','distribution':'pointwise',"
	    "'type':'pipelined','shuffle':'mem ory'}]}",
	    SL_EINVAL,
	    "job.json: edges[0].shuffle: shuffle plugin name 'mem "
	    "ory': use 1 to 64 characters of a-z 0-9 _ -");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b','distribution':'pointwise',"
	    "'type':'pipelined','shuffle':'disk.so'}]}",
	    SL_EINVAL, "job.json: edges[0].shuffle: ", "'disk.so'");
	EXPECT_FAIL(TWO_VERTICES
	    "'edges':[{'from':'a','to':'b','distribution':'pointwise',"
	    "'type':'pipelined','shuffle':'"
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012"
	    "'}]}",
	    SL_EINVAL, "job.json: edges[0].shuffle: ", "has 65 characters",
	    "1 to 64");

	/* At the limits: 128 and 64 characters, every allowed character. */
	CU_ASSERT_EQUAL_FATAL(
	    load(
	        "{'name':'"
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	        "_.-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345"
	        "6789_','shuffle':'"
	        "abcdefghijklmnopqrstuvwxyz0123456789_-"
	        "abcdefghijklmnopqrstuvwxyz"
	        "','vertices':[{'id':'a','operator':'noop','parallelism':1}]}",
	        &job),
	    0);
	CU_ASSERT_EQUAL(strlen(sl_job_name(job)), 128);
	CU_ASSERT_EQUAL(strlen(job->default_shuffle), 64);
	sl_job_free(job);

	/* And through the C API. */
	CU_ASSERT_EQUAL(sl_job_new("a/b", &job), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "job name 'a/b'"));
	CU_ASSERT_EQUAL(sl_job_new(NULL, &job), SL_EINVAL);
	{
		char longname[131];

		memset(longname, 'n', 129);
		longname[129] = '\0';
		CU_ASSERT_EQUAL(sl_job_new(longname, &job), SL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), "has 129 characters: use 1 to 128"));
		CU_ASSERT_EQUAL_FATAL(sl_job_new("j", &job), 0);
		CU_ASSERT_EQUAL(
		    sl_job_add_vertex(job, longname, "noop", 1, NULL),
		    SL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), "vertex id 'nnn"));
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), "has 129 characters: use 1 to 128"));
		sl_job_free(job);
	}
	CU_ASSERT_EQUAL_FATAL(sl_job_new("j", &job), 0);
	CU_ASSERT_EQUAL(sl_job_set_default_shuffle(job, "Memory"), SL_EINVAL);
	CU_ASSERT_EQUAL(sl_job_set_default_shuffle(job, NULL), SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "memory");
	CU_ASSERT_EQUAL(sl_job_set_default_shuffle(job, "my_disk-2"), 0);
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "my_disk-2");
	CU_ASSERT_EQUAL_FATAL(sl_job_add_vertex(job, "a", "noop", 1, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(sl_job_add_vertex(job, "b", "noop", 1, NULL), 0);
	struct sl_edge_spec e = { .from = "a",
		.to = "b",
		.distribution = SL_DIST_POINTWISE,
		.type = SL_PARTITION_PIPELINED,
		.shuffle = "Disk" };
	CU_ASSERT_EQUAL(sl_job_add_edge(job, &e), SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "edge a -> b: shuffle plugin name 'Disk'"));
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 0);
	sl_job_free(job);
}

static void
test_duplicate_edges(void)
{
	sl_job *job;

	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'a','to':'b','distribution':'"
	                         "all_to_all','type':'blocking'},"
	                         "{'from':'b','to':'count','distribution':'"
	                         "pointwise','type':'blocking'},"
	                         "{'from':'a','to':'b','distribution':'"
	                         "all_to_all','type':'blocking'}]}",
	    SL_EEXISTS, "job.json: edges[2] repeats edges[0]");
	/* all_to_all hashes by default: naming it changes nothing. */
	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'a','to':'b','distribution':'"
	                         "all_to_all','type':'blocking'},"
	                         "{'from':'a','to':'b','distribution':'"
	                         "all_to_all','partitioner':'hash','type':'"
	                         "blocking'}]}",
	    SL_EEXISTS, "job.json: edges[1] repeats edges[0]");
	EXPECT_FAIL(TWO_VERTICES "'edges':["
	                         "{'from':'a','to':'b','distribution':'"
	                         "pointwise','type':'blocking','shuffle':'"
	                         "disk'},"
	                         "{'from':'a','to':'b','distribution':'"
	                         "pointwise','type':'blocking','shuffle':'"
	                         "disk'}]}",
	    SL_EEXISTS, "job.json: edges[1] repeats edges[0]");

	/* Any difference makes another edge: type, distribution,
	 * partitioner, shuffle, direction. */
	CU_ASSERT_EQUAL_FATAL(
	    load(TWO_VERTICES
	        "'edges':["
	        "{'from':'a','to':'b','distribution':'all_to_all','type':'"
	        "blocking'},"
	        "{'from':'a','to':'b','distribution':'all_to_all','type':'"
	        "pipelined'},"
	        "{'from':'a','to':'b','distribution':'broadcast','type':'"
	        "blocking'},"
	        "{'from':'a','to':'b','distribution':'all_to_all','"
	        "partitioner':'range','type':'blocking'},"
	        "{'from':'a','to':'b','distribution':'all_to_all','type':'"
	        "blocking','shuffle':'memory'},"
	        "{'from':'a','to':'b','distribution':'all_to_all','type':'"
	        "blocking','shuffle':'disk'},"
	        "{'from':'a','to':'count','distribution':'all_to_all','type':'"
	        "blocking'}]}",
	        &job),
	    0);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 7);

	/* The C API says which earlier edge, and leaves the job as it was. */
	struct sl_edge_spec e = { .from = "a",
		.to = "b",
		.distribution = SL_DIST_ALL_TO_ALL,
		.partitioner = SL_PARTITIONER_RANGE,
		.type = SL_PARTITION_BLOCKING };
	CU_ASSERT_EQUAL(sl_job_add_edge(job, &e), SL_EEXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "repeats edge 3"));
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 7);
	CU_ASSERT_EQUAL(job->v[0].nout, 7);
	CU_ASSERT_EQUAL(job->v[1].nin, 6);
	CU_ASSERT_EQUAL(sli_job_find_edge(job, 0, 1, SL_DIST_ALL_TO_ALL,
	                    SL_PARTITIONER_HASH, SL_PARTITION_BLOCKING, "disk"),
	    5);
	CU_ASSERT_EQUAL(sli_job_find_edge(job, 0, 1, SL_DIST_ALL_TO_ALL,
	                    SL_PARTITIONER_HASH, SL_PARTITION_BLOCKING, "dis"),
	    -1);
	CU_ASSERT_EQUAL(sli_job_find_edge(job, 1, 0, SL_DIST_ALL_TO_ALL,
	                    SL_PARTITIONER_HASH, SL_PARTITION_BLOCKING, NULL),
	    -1);
	sl_job_free(job);
}

/* A job of n vertices "v0".."v(n-1)" with the given parallelism, no
 * edges, as JSON (malloc'd). */
static char *
wide_job_json(unsigned n, const char *par)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fputs("{\"name\":\"wide\",\"vertices\":[", f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
		    "%s{\"id\":\"v%u\",\"operator\":\"noop\","
		    "\"parallelism\":%s}",
		    i ? "," : "", i, par);
	fputs("]}", f);
	fclose(f);
	return text;
}

static void
test_task_limit(void)
{
	char *text = wide_job_json(2000, "1000000");
	sl_job *job = (sl_job *)&job;

	CU_ASSERT_EQUAL(
	    sl_job_load_json(text, strlen(text), "job.json", &job), SL_ERANGE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "job.json: vertices: 2000 vertices with 2000000000 tasks in all; "
	    "at most 16777216");
	CU_ASSERT_PTR_EQUAL(job, (sl_job *)&job);
	free(text);

	/* Exactly at the limit loads: 16 x 10^6 + 777 216 = 2^24. */
	text = wide_job_json(16, "1000000");
	/* Splice one more vertex of 777216 in front of the closing "]}". */
	{
		size_t n = strlen(text);
		char *more = NULL;

		CU_ASSERT_FATAL(
		    asprintf(&more,
		        "%.*s,{\"id\":\"last\",\"operator\":\"noop\","
		        "\"parallelism\":777216},{\"id\":\"auto\","
		        "\"operator\":\"noop\",\"parallelism\":"
		        "\"auto\"}]}",
		        (int)(n - 2), text) > 0);
		CU_ASSERT_EQUAL(
		    sl_job_load_json(more, strlen(more), "job.json", &job), 0);
		CU_ASSERT_EQUAL(sl_job_vertex_count(job), 18);
		sl_job_free(job);
		/* One task more is refused, saying "auto" ones don't count. */
		more[strstr(more, "777216") - more + 5] = '7';
		CU_ASSERT_EQUAL(
		    sl_job_load_json(more, strlen(more), "job.json", &job),
		    SL_ERANGE);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(),
		    "job.json: vertices: 18 vertices with 16777217 tasks in "
		    "all (not counting the \"auto\" ones); at most 16777216"));
		free(more);
	}
	free(text);
}

static void
test_api_limits(void)
{
	sl_job *job;
	char id[16];
	uint32_t n = 0;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("limits", &job), 0);
	for (unsigned i = 0; i < SL_MAX_VERTICES; i++) {
		snprintf(id, sizeof(id), "v%u", i);
		if (sl_job_add_vertex(job, id, "noop", 1, NULL) != 0)
			break;
	}
	CU_ASSERT_EQUAL_FATAL(sl_job_vertex_count(job), SL_MAX_VERTICES);
	CU_ASSERT_EQUAL(
	    sl_job_add_vertex(job, "one-more", "noop", 1, NULL), SL_ERANGE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "vertex 'one-more' would be vertex 10001; a job holds at most "
	    "10000 (SL_MAX_VERTICES)");
	CU_ASSERT_EQUAL(sli_job_find_vertex(job, "one-more"), -1);

	/* Edges v_i -> v_j, i < j, until the limit. */
	for (unsigned i = 0; i < SL_MAX_VERTICES && n < SL_MAX_EDGES; i++) {
		for (unsigned j = i + 1;
		     j < SL_MAX_VERTICES && j <= i + 20 && n < SL_MAX_EDGES;
		     j++) {
			char to[16];
			struct sl_edge_spec e = { .from = id,
				.to = to,
				.distribution = SL_DIST_POINTWISE,
				.type = SL_PARTITION_BLOCKING };

			snprintf(id, sizeof(id), "v%u", i);
			snprintf(to, sizeof(to), "v%u", j);
			if (sl_job_add_edge(job, &e) != 0) {
				fprintf(stderr, "\n  %s\n", sl_errdetail());
				CU_FAIL_FATAL("edge refused");
			}
			n++;
		}
	}
	CU_ASSERT_EQUAL_FATAL(sl_job_edge_count(job), SL_MAX_EDGES);
	struct sl_edge_spec e = { .from = "v9998",
		.to = "v9999",
		.distribution = SL_DIST_BROADCAST,
		.type = SL_PARTITION_BLOCKING };
	CU_ASSERT_EQUAL(sl_job_add_edge(job, &e), SL_ERANGE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(),
	    "edge v9998 -> v9999 would be edge 100001; a job holds at most "
	    "100000 (SL_MAX_EDGES)");
	CU_ASSERT_EQUAL(sl_job_edge_count(job), SL_MAX_EDGES);
	CU_ASSERT_EQUAL(sl_job_validate(job), 0);
	sl_job_free(job);
}

static void
test_vertex_index(void)
{
	/* Ids that look alike to a weak hash: a counter, its digits
	 * reversed, case and length variations, and long ids differing in
	 * one character only at either end. */
	enum { N = 3 * 2500 };
	static char ids[N + 4][132];
	sl_job *job;
	uint32_t n = 0;

	for (unsigned i = 0; i < 2500; i++) {
		snprintf(ids[n++], sizeof(ids[0]), "v%u", i);
		snprintf(ids[n++], sizeof(ids[0]), "%uV", i);
		/* 128 characters: 124 x's then 4 digits. */
		snprintf(ids[n++], sizeof(ids[0]), "%.*s%04u", 124,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "x"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "x"
		    "xxxxxxxxxxxxxxxxx",
		    i);
	}
	snprintf(ids[n++], sizeof(ids[0]), "a");
	snprintf(ids[n++], sizeof(ids[0]), "A");
	snprintf(ids[n++], sizeof(ids[0]), "a.");
	snprintf(ids[n++], sizeof(ids[0]), ".a");

	CU_ASSERT_EQUAL_FATAL(sl_job_new("index", &job), 0);
	for (uint32_t i = 0; i < n; i++)
		if (sl_job_add_vertex(job, ids[i], "noop", 1, NULL) != 0) {
			fprintf(stderr, "\n  %s\n", sl_errdetail());
			CU_FAIL_FATAL("vertex refused");
		}
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), n);
	for (uint32_t i = 0; i < n; i++)
		if (sli_job_find_vertex(job, ids[i]) != (int64_t)i) {
			fprintf(stderr, "\n  %s: %lld\n", ids[i],
			    (long long)sli_job_find_vertex(job, ids[i]));
			CU_FAIL("wrong index");
		}
	/* Near misses are not found. */
	static const char *const absent[] = { "v2500", "V1", "v", "v01", "1v",
		"2500V", "", "aa", "A.", "b" };
	for (size_t k = 0; k < sizeof(absent) / sizeof(absent[0]); k++)
		CU_ASSERT_EQUAL(sli_job_find_vertex(job, absent[k]), -1);
	CU_ASSERT_EQUAL(sli_job_find_vertex(job, NULL), -1);
	/* Every one of them is still refused as a duplicate. */
	for (uint32_t i = 0; i < n; i += 97)
		CU_ASSERT_EQUAL(sl_job_add_vertex(job, ids[i], "noop", 1, NULL),
		    SL_EEXISTS);
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), n);
	sl_job_free(job);

	/* An empty job finds nothing. */
	CU_ASSERT_EQUAL_FATAL(sl_job_new("empty", &job), 0);
	CU_ASSERT_EQUAL(sli_job_find_vertex(job, "a"), -1);
	CU_ASSERT_EQUAL(sli_job_find_edge(job, 0, 1, 0, 0, 0, NULL), -1);
	sl_job_free(job);
}

static void
api_edge(sl_job *job, const char *from, const char *to)
{
	struct sl_edge_spec e = { .from = from,
		.to = to,
		.distribution = SL_DIST_POINTWISE,
		.type = SL_PARTITION_BLOCKING };

	CU_ASSERT_EQUAL_FATAL(sl_job_add_edge(job, &e), 0);
}

static sl_job *
api_job(const char *const *ids)
{
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(sl_job_new("cycles", &job), 0);
	for (; *ids != NULL; ids++)
		CU_ASSERT_EQUAL_FATAL(
		    sl_job_add_vertex(job, *ids, "noop", 1, NULL), 0);
	return job;
}

static void
expect_cycle(sl_job *job, const char *want)
{
	int rv = sl_job_validate(job);

	if (rv != SL_ECYCLE || strcmp(sl_errdetail(), want) != 0)
		fprintf(stderr, "\n  got %s \"%s\", wanted \"%s\"\n",
		    sl_errname(rv), sl_errdetail(), want);
	CU_ASSERT_EQUAL(rv, SL_ECYCLE);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), want);
}

static void
test_cycle_names(void)
{
	sl_job *job =
	    api_job((const char *const[]) { "x", "p", "q", "r", "s", NULL });

	/* The edge that closes the cycle is accepted: only validation and
	 * planning look for cycles. */
	api_edge(job, "p", "q");
	api_edge(job, "q", "r");
	CU_ASSERT_EQUAL(sl_job_validate(job), 0);
	api_edge(job, "r", "p");
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 3);
	expect_cycle(job, "edges form a cycle: p -> q -> r -> p");
	/* x hangs below the cycle and is the first vertex Kahn leaves; the
	 * walk from it must not put it into the cycle. */
	api_edge(job, "r", "x");
	api_edge(job, "x", "s");
	expect_cycle(job, "edges form a cycle: p -> q -> r -> p");
	sl_job_free(job);

	/* Two vertices; the cycle starts at the earlier-added one. */
	job = api_job((const char *const[]) { "src", "b", "a", NULL });
	api_edge(job, "src", "a");
	api_edge(job, "a", "b");
	api_edge(job, "b", "a");
	expect_cycle(job, "edges form a cycle: b -> a -> b");
	sl_job_free(job);

	/* A self-edge is still refused at once. */
	job = api_job((const char *const[]) { "a", NULL });
	struct sl_edge_spec e = { .from = "a",
		.to = "a",
		.distribution = SL_DIST_POINTWISE,
		.type = SL_PARTITION_BLOCKING };
	CU_ASSERT_EQUAL(sl_job_add_edge(job, &e), SL_ECYCLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "itself"));
	CU_ASSERT_EQUAL(sl_job_validate(job), 0);
	sl_job_free(job);

	/* A cycle through the whole of a 5000-vertex chain is named by its
	 * start, an ellipsis and its length. */
	char id[16], prev[16];
	CU_ASSERT_EQUAL_FATAL(sl_job_new("long", &job), 0);
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "v%u", i);
		CU_ASSERT_EQUAL_FATAL(
		    sl_job_add_vertex(job, id, "noop", 1, NULL), 0);
		if (i > 0)
			api_edge(job, prev, id);
		memcpy(prev, id, sizeof(id));
	}
	api_edge(job, "v4999", "v0");
	CU_ASSERT_EQUAL(sl_job_validate(job), SL_ECYCLE);
	CU_ASSERT_EQUAL(strncmp(sl_errdetail(),
	                    "edges form a cycle: v0 -> v1 -> v2 -> ", 38),
	    0);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), " -> ... -> v0 (5000 vertices)"));
	CU_ASSERT(strlen(sl_errdetail()) < 600);
	sl_job_free(job);
}

/* The shapes that used to take seconds or minutes to build, through the
 * file loader and the expansion into tasks. Only results are checked: a
 * return to quadratic time shows in the suite's run time and in
 * bench/plan_scale, not as a flaky timed assertion. */
static void
load_and_expand(char *text, uint32_t nv, uint32_t ne)
{
	sl_job *job = NULL;
	struct sli_exec x;

	if (sl_job_load_json(text, strlen(text), "scale.json", &job) != 0)
		fprintf(stderr, "\n  %s\n", sl_errdetail());
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), nv);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), ne);
	CU_ASSERT_EQUAL_FATAL(sli_exec_build(job, NULL, &x), 0);
	CU_ASSERT_EQUAL(x.ntasks, nv);
	/* Edges only go forwards, so the order is the order of addition. */
	for (uint32_t k = 0; k < nv; k++)
		if (x.topo[k] != k) {
			CU_FAIL("topological order");
			break;
		}
	sli_exec_free(&x);
	sl_job_free(job);
	free(text);
}

static void
test_scale(void)
{
	enum { NV = 10000, FAN = 10 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	uint32_t ne = 0;

	/* A chain v0 -> v1 -> ... -> v9999. */
	f = open_memstream(&text, &len);
	fputs("{\"name\":\"chain\",\"vertices\":[", f);
	for (unsigned i = 0; i < NV; i++)
		fprintf(f,
		    "%s{\"id\":\"v%u\",\"operator\":\"noop\","
		    "\"parallelism\":1}",
		    i ? "," : "", i);
	fputs("],\"edges\":[", f);
	for (unsigned i = 1; i < NV; i++)
		fprintf(f,
		    "%s{\"from\":\"v%u\",\"to\":\"v%u\","
		    "\"distribution\":\"pointwise\",\"type\":"
		    "\"blocking\"}",
		    i > 1 ? "," : "", i - 1, i);
	fputs("]}", f);
	fclose(f);
	load_and_expand(text, NV, NV - 1);

	/* Every vertex to the next ten, the edges listed in reverse: the
	 * order that made the old per-edge cycle search walk the most. */
	text = NULL;
	f = open_memstream(&text, &len);
	fputs("{\"name\":\"fan\",\"vertices\":[", f);
	for (unsigned i = 0; i < NV; i++)
		fprintf(f,
		    "%s{\"id\":\"v%u\",\"operator\":\"noop\","
		    "\"parallelism\":1}",
		    i ? "," : "", i);
	fputs("],\"edges\":[", f);
	for (unsigned i = NV; i-- > 0;)
		for (unsigned d = FAN; d >= 1; d--)
			if (i + d < NV)
				fprintf(f,
				    "%s{\"from\":\"v%u\",\"to\":\"v%u\","
				    "\"distribution\":\"all_to_all\","
				    "\"type\":\"blocking\"}",
				    ne++ ? "," : "", i, i + d);
	fputs("]}", f);
	fclose(f);
	load_and_expand(text, NV, ne);
}

/* A scratch directory for the file cases, removed at the end. */
static char scratch[64];

static char *
write_file(const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (scratch[0] == '\0') {
		snprintf(scratch, sizeof(scratch), "/tmp/test_jobfile.XXXXXX");
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
	}
	CU_ASSERT_FATAL(asprintf(&path, "%s/%s", scratch, name) > 0);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_files(void)
{
	char *good = write_file("good.json",
	    "{\"name\":\"f\",\"vertices\":[{\"id\":\"x\",\"operator\":\"noop\","
	    "\"parallelism\":3}]}\n");
	char *bad =
	    write_file("bad.json", "{\n\"name\": \"f\",\n\"vertices\": [}\n");
	char *missing;
	sl_job *job = NULL;

	CU_ASSERT_EQUAL_FATAL(sl_job_load_file(good, &job), 0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, 3);
	sl_job_free(job);
	job = NULL;

	CU_ASSERT_EQUAL(sl_job_load_file(bad, &job), SL_EPARSE);
	CU_ASSERT_PTR_NULL(job);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), bad));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "bad.json:3:"));

	CU_ASSERT_FATAL(asprintf(&missing, "%s/job.json", scratch) > 0);
	CU_ASSERT_EQUAL(sl_job_load_file(missing, &job), -ENOENT);
	CU_ASSERT_PTR_NULL(job);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sl_errdetail(), "job.json: No such file or directory"));

	CU_ASSERT_EQUAL(sl_job_load_file(scratch, &job), -EISDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), scratch));
	CU_ASSERT_PTR_NULL(job);

	unlink(good);
	unlink(bad);
	rmdir(scratch);
	scratch[0] = '\0';
	free(good);
	free(bad);
	free(missing);
}

/* The config of vertex 0 after loading text with defs, or NULL. */
static char *
config_with(const char *text, const char *const *defs)
{
	sl_job *job;
	char *config = NULL;

	if (load_vars(text, defs, &job) != 0) {
		fprintf(stderr, "\n  %s\n", sl_errdetail());
		return NULL;
	}
	if (job->v[0].config_json != NULL)
		config = strdup(job->v[0].config_json);
	sl_job_free(job);
	return config;
}

/* One vertex whose config is the given JSON object (with ' for "). */
#define WITH_CONFIG(config)                                    \
	"{'name':'v','vertices':[{'id':'a','operator':'noop'," \
	"'parallelism':1,'config':" config "}]}"

#define EXPECT_CONFIG(config, defs, want)                            \
	do {                                                         \
		char *got_ = config_with(WITH_CONFIG(config), defs); \
		CU_ASSERT_PTR_NOT_NULL(got_);                        \
		if (got_ != NULL && strcmp(got_, want) != 0)         \
			fprintf(stderr, "\n  got %s\n", got_);       \
		if (got_ != NULL)                                    \
			CU_ASSERT_STRING_EQUAL(got_, want);          \
		free(got_);                                          \
	} while (0)

static void
test_vars_substitute(void)
{
	sl_job *job;

	/* Everywhere in nested objects and arrays; numbers stay numbers. */
	EXPECT_CONFIG("{'path':'${in}/x','n':5,'opts':{'deep':['a','${b}',"
	              "{'k':'${b}${b}'},[['${in}']]]}}",
	    DEFS("in=/data", "b=B"),
	    "{\"n\":5,\"opts\":{\"deep\":[\"a\",\"B\",{\"k\":\"BB\"},"
	    "[[\"/data\"]]]},\"path\":\"/data/x\"}");
	/* Several in one string, one used twice, and the whole string. */
	EXPECT_CONFIG("{'s':'${a}-${b}.${a}','t':'${b}'}", DEFS("a=1", "b=two"),
	    "{\"s\":\"1-two.1\",\"t\":\"two\"}");
	/* An empty value, a value holding '=', and an unused definition. */
	EXPECT_CONFIG("{'s':'<${e}>','t':'${eq}'}",
	    DEFS("e=", "eq=a=b=c", "unused=1"),
	    "{\"s\":\"<>\",\"t\":\"a=b=c\"}");
	/* Every character a name may have. */
	EXPECT_CONFIG("{'s':'${_}${a.b-c_9}${Z}'}",
	    DEFS("_=1", "a.b-c_9=2", "Z=3"), "{\"s\":\"123\"}");

	/* Every string of the job, not only config. */
	CU_ASSERT_EQUAL_FATAL(
	    load_vars("{'name':'${job}','shuffle':'${sh}','vertices':["
	              "{'id':'${v}','operator':'${op}','parallelism':1},"
	              "{'id':'b','operator':'noop','parallelism':1}],"
	              "'edges':[{'from':'${v}','to':'b',"
	              "'distribution':'${dist}','partitioner':'${part}',"
	              "'type':'${type}','shuffle':'${sh}'}]}",
	        DEFS("job=wc", "sh=disk", "v=src", "op=text_source",
	            "dist=all_to_all", "part=range", "type=blocking"),
	        &job),
	    0);
	CU_ASSERT_STRING_EQUAL(sl_job_name(job), "wc");
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "disk");
	CU_ASSERT_STRING_EQUAL(job->v[0].id, "src");
	CU_ASSERT_STRING_EQUAL(job->v[0].op, "text_source");
	CU_ASSERT_EQUAL(job->e[0].distribution, SL_DIST_ALL_TO_ALL);
	CU_ASSERT_EQUAL(job->e[0].partitioner, SL_PARTITIONER_RANGE);
	CU_ASSERT_EQUAL(job->e[0].type, SL_PARTITION_BLOCKING);
	CU_ASSERT_STRING_EQUAL(job->e[0].shuffle, "disk");
	sl_job_free(job);
	/* And what it gives is checked as if written there. */
	EXPECT_FAIL_VARS("{'name':'${job}','vertices':[{'id':'a',"
	                 "'operator':'noop','parallelism':1}]}",
	    DEFS("job=word count"), SL_EINVAL,
	    "job.json: name: job name 'word count'");
}

static void
test_vars_escape(void)
{
	/* $${ is a literal ${, scanned left to right; other '$' stay. */
	EXPECT_CONFIG("{'a':'$${in}','b':'${in}$${in}','c':'$$','d':'$',"
	              "'e':'a$b$','f':'$${','g':'$$${in}','h':'$$$${in}',"
	              "'i':'${in}$','j':'{in}$in'}",
	    DEFS("in=X"),
	    "{\"a\":\"${in}\",\"b\":\"X${in}\",\"c\":\"$$\",\"d\":\"$\","
	    "\"e\":\"a$b$\",\"f\":\"${\",\"g\":\"$${in}\",\"h\":\"$$${in}\","
	    "\"i\":\"X$\",\"j\":\"{in}$in\"}");
	/* Without definitions too: an escape needs no variable. */
	EXPECT_CONFIG("{'p':'$${HOME}/x'}", NULL, "{\"p\":\"${HOME}/x\"}");
	/* A value is put in as it is, never expanded again. */
	EXPECT_CONFIG("{'p':'${a}'}", DEFS("a=${b}$${c}", "b=no"),
	    "{\"p\":\"${b}$${c}\"}");
}

static void
test_vars_values(void)
{
	/* Quotes, backslashes and control characters need no escaping in
	 * the value: the document is already parsed. */
	EXPECT_CONFIG("{'p':'<${q}>'}", DEFS("q=say \"hi\" \\n\t'"),
	    "{\"p\":\"<say \\\"hi\\\" \\\\n\\t'>\"}");
	/* UTF-8 in values and around the reference. */
	EXPECT_CONFIG("{'p':'\xc3\xa9${u}\xe2\x98\x83'}",
	    DEFS("u=na\xc3\xafve \xf0\x9f\x98\x80"),
	    "{\"p\":\"\xc3\xa9na\xc3\xafve \xf0\x9f\x98\x80\xe2\x98\x83\"}");
	/* \u escapes in the file are decoded before substitution. */
	EXPECT_CONFIG("{'p':'\\u0024{x}'}", DEFS("x=y"), "{\"p\":\"y\"}");
	EXPECT_CONFIG(
	    "{'p':'\\u0024\\u0024{x}'}", DEFS("x=y"), "{\"p\":\"${x}\"}");

	/* A value that could not be a JSON string is refused up front. */
	EXPECT_FAIL_VARS(WITH_CONFIG("{}"), DEFS("x=\xff"), SL_EINVAL,
	    "-D x: the value is not valid UTF-8");
	EXPECT_FAIL_VARS(WITH_CONFIG("{}"), DEFS("x=\xc0\xaf"), SL_EINVAL,
	    "not valid UTF-8");
	EXPECT_FAIL_VARS(WITH_CONFIG("{}"), DEFS("x=\xed\xa0\x80"), SL_EINVAL,
	    "not valid UTF-8");
	EXPECT_FAIL_VARS(WITH_CONFIG("{}"), DEFS("x=a\xe2\x98"), SL_EINVAL,
	    "not valid UTF-8");
	EXPECT_FAIL_VARS(WITH_CONFIG("{}"), DEFS("x=\xf4\x90\x80\x80"),
	    SL_EINVAL, "not valid UTF-8");
}

static void
test_vars_keys(void)
{
	sl_job *job;

	/* Keys are the schema: left as written, even unterminated. */
	EXPECT_CONFIG("{'${in}':'${in}','${':'x','$${k}':1}", DEFS("in=v"),
	    "{\"$${k}\":1,\"${\":\"x\",\"${in}\":\"v\"}");
	/* So a variable cannot make a key the loader knows. */
	EXPECT_FAIL_VARS("{'name':'x','${k}':[]}", DEFS("k=vertices"),
	    SL_EPARSE, "unknown key '${k}' at top level");
	CU_ASSERT_EQUAL(load_vars("{'name':'x','vertices':[{'id':'a',"
	                          "'operator':'noop','parallelism':1}]}",
	                    DEFS("vertices=1"), &job),
	    0);
	sl_job_free(job);
}

static void
test_vars_parallelism(void)
{
	static const char *const text = "{'name':'p','vertices':["
	                                "{'id':'a','operator':'noop',"
	                                "'parallelism':'${p}'}]}";
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(load_vars(text, DEFS("p=8"), &job), 0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, 8);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load_vars(text, DEFS("p=auto"), &job), 0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, SL_PARALLELISM_AUTO);
	sl_job_free(job);
	CU_ASSERT_EQUAL_FATAL(load_vars(text, DEFS("p=1000000"), &job), 0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, SL_MAX_PARALLELISM);
	sl_job_free(job);
	/* Part of a string works too: "${p}0" with p=1 is 10. */
	CU_ASSERT_EQUAL_FATAL(load_vars("{'name':'p','vertices':[{'id':'a',"
	                                "'operator':'noop','parallelism':"
	                                "'${p}0'}]}",
	                          DEFS("p=1"), &job),
	    0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, 10);
	sl_job_free(job);

	EXPECT_FAIL_VARS(text, DEFS("p=0"), SL_EPARSE,
	    "job.json: vertices[0].parallelism: must be a positive integer "
	    "or \"auto\", got \"0\"");
	EXPECT_FAIL_VARS(text, DEFS("p=four"), SL_EPARSE, "got \"four\"");
	EXPECT_FAIL_VARS(text, DEFS("p="), SL_EPARSE, "got \"\"");
	EXPECT_FAIL_VARS(text, DEFS("p=2.5"), SL_EPARSE, "got \"2.5\"");
	EXPECT_FAIL_VARS(text, DEFS("p=1000001"), SL_ERANGE,
	    "job.json: vertices[0].parallelism: 1000001 is above the limit "
	    "of 1000000");
	EXPECT_FAIL_VARS(text, DEFS("p=4294967297"), SL_ERANGE,
	    "vertices[0].parallelism: 4294967297 is above");
	EXPECT_FAIL_VARS(text, DEFS("q=4"), SL_ENOTFOUND,
	    "job.json: vertices[0].parallelism: unknown variable 'p': set it "
	    "with -D p=VALUE");
}

static void
test_vars_errors(void)
{
	/* Unset: the place is the JSON path, down to the array index. */
	EXPECT_FAIL_VARS(WITH_CONFIG("{'path':'${input}'}"), DEFS("in=x"),
	    SL_ENOTFOUND,
	    "job.json: vertices[0].config.path: unknown variable 'input': "
	    "set it with -D input=VALUE");
	EXPECT_FAIL(
	    WITH_CONFIG("{'a':{'list':[1,'x',{'b':['${in}/${out}']}]}}"),
	    SL_ENOTFOUND,
	    "job.json: vertices[0].config.a.list[2].b[0]: unknown variable "
	    "'in'");
	EXPECT_FAIL_VARS(WITH_CONFIG("{'p':'${in}/${out}'}"), DEFS("in=x"),
	    SL_ENOTFOUND, "unknown variable 'out'");
	EXPECT_FAIL_VARS(
	    "{'name':'${job}','vertices':[{'id':'a','operator':'noop',"
	    "'parallelism':1}]}",
	    DEFS("in=x"), SL_ENOTFOUND,
	    "job.json: name: unknown variable 'job'");
	EXPECT_FAIL(TWO_VERTICES "'edges':[{'from':'a','to':'b',"
	                         "'distribution':'pointwise',"
	                         "'type':'${t}'}]}",
	    SL_ENOTFOUND, "job.json: edges[0].type: unknown variable 't'");
	/* Names are case-sensitive. */
	EXPECT_FAIL_VARS(WITH_CONFIG("{'p':'${IN}'}"), DEFS("in=x"),
	    SL_ENOTFOUND, "unknown variable 'IN'");

	/* Unterminated, and what is between ${ and } must be a name. */
	EXPECT_FAIL_VARS(WITH_CONFIG("{'path':'${in/x'}"), DEFS("in=x"),
	    SL_EPARSE,
	    "job.json: vertices[0].config.path: unterminated '${' in "
	    "\"${in/x\": close it with '}', or write a literal '${' as '$${'");
	EXPECT_FAIL(WITH_CONFIG("{'p':'abc${'}"), SL_EPARSE,
	    "vertices[0].config.p: unterminated '${'");
	EXPECT_FAIL_VARS(WITH_CONFIG("{'p':'${in}${in'}"), DEFS("in=x"),
	    SL_EPARSE, "unterminated '${'");
	EXPECT_FAIL(WITH_CONFIG("{'p':'a${}b'}"), SL_EPARSE,
	    "job.json: vertices[0].config.p: bad variable name '' in "
	    "\"a${}b\"");
	EXPECT_FAIL(
	    WITH_CONFIG("{'p':'${1x}'}"), SL_EPARSE, "bad variable name '1x'");
	EXPECT_FAIL(WITH_CONFIG("{'p':'${a b}'}"), SL_EPARSE,
	    "bad variable name 'a b'");
	EXPECT_FAIL(WITH_CONFIG("{'p':'${a${b}}'}"), SL_EPARSE,
	    "bad variable name 'a${b'");
	/* A name the -D syntax allows but in a form it does not. */
	EXPECT_FAIL(WITH_CONFIG("{'p':'${a/b}'}"), SL_EPARSE,
	    "bad variable name 'a/b'");

	/* The first error in document order wins. */
	EXPECT_FAIL("{'name':'x','vertices':[{'id':'a','operator':'noop',"
	            "'parallelism':1,'config':{'p':'${one}','q':'${two'}}]}",
	    SL_ENOTFOUND, "unknown variable 'one'");

	/* A job that fails to substitute leaves *out alone. */
	{
		sl_job *sentinel = (sl_job *)&sentinel, *job = sentinel;
		const char *t = "{\"name\":\"${x}\"}";

		CU_ASSERT_EQUAL(
		    sl_job_load_json(t, strlen(t), "job.json", &job),
		    SL_ENOTFOUND);
		CU_ASSERT_PTR_EQUAL(job, sentinel);
	}
}

static void
test_vars_defs(void)
{
	static const char *const ok = WITH_CONFIG("{'p':'${a}'}");
	char name[140], def[160];
	sl_job *job = NULL;

	EXPECT_FAIL_VARS(
	    ok, DEFS("a"), SL_EINVAL, "-D 'a': expected NAME=VALUE");
	EXPECT_FAIL_VARS(
	    ok, DEFS("a=1", ""), SL_EINVAL, "-D '': expected NAME=VALUE");
	EXPECT_FAIL_VARS(ok, DEFS("=x"), SL_EINVAL,
	    "-D '=x': bad variable name '': use 1 to 128 characters, a "
	    "letter or _ then letters, digits, _ . -");
	EXPECT_FAIL_VARS(
	    ok, DEFS("1a=x"), SL_EINVAL, "-D '1a=x': bad variable name '1a'");
	EXPECT_FAIL_VARS(ok, DEFS("-a=x"), SL_EINVAL, "bad variable name '-a'");
	EXPECT_FAIL_VARS(
	    ok, DEFS("a b=x"), SL_EINVAL, "bad variable name 'a b'");
	EXPECT_FAIL_VARS(
	    ok, DEFS("a/b=x"), SL_EINVAL, "bad variable name 'a/b'");
	EXPECT_FAIL_VARS(
	    ok, DEFS("${a}=x"), SL_EINVAL, "bad variable name '${a}'");
	/* The name ends at the first '='. */
	EXPECT_FAIL_VARS(ok, DEFS(" a=x"), SL_EINVAL, "bad variable name ' a'");

	/* Twice is an error, even with the same value, and whatever lies
	 * between: the message shows both. */
	EXPECT_FAIL_VARS(ok, DEFS("a=1", "b=2", "a=3"), SL_EEXISTS,
	    "-D a is given twice ('a=1', then 'a=3')");
	EXPECT_FAIL_VARS(
	    ok, DEFS("a=1", "a=1"), SL_EEXISTS, "-D a is given twice");
	EXPECT_FAIL_VARS(
	    ok, DEFS("z=1", "a=2", "z=", "a=3"), SL_EEXISTS, "is given twice");
	/* Names differ by case, and a prefix is another name. */
	CU_ASSERT_EQUAL(
	    load_vars(ok, DEFS("A=1", "a=2", "ab=3", "a.=4"), &job), 0);
	CU_ASSERT_STRING_EQUAL(job->v[0].config_json, "{\"p\":\"2\"}");
	sl_job_free(job);

	/* 128 characters at most. */
	memset(name, 'n', 128);
	name[128] = '\0';
	snprintf(def, sizeof(def), "%s=v", name);
	CU_ASSERT_EQUAL(load_vars(ok, DEFS("a=1", def), &job), 0);
	sl_job_free(job);
	snprintf(def, sizeof(def), "%sn=v", name);
	EXPECT_FAIL_VARS(ok, DEFS(def), SL_EINVAL, "bad variable name 'nnn");
	{
		char text[400];

		snprintf(
		    text, sizeof(text), WITH_CONFIG("{'p':'${%s}'}"), name);
		snprintf(def, sizeof(def), "%s=long", name);
		CU_ASSERT_EQUAL(load_vars(text, DEFS(def), &job), 0);
		CU_ASSERT_STRING_EQUAL(
		    job->v[0].config_json, "{\"p\":\"long\"}");
		sl_job_free(job);
		snprintf(
		    text, sizeof(text), WITH_CONFIG("{'p':'${%sn}'}"), name);
		EXPECT_FAIL(text, SL_EPARSE, "bad variable name 'nnn");
	}

	/* Many definitions: found by name whatever their order. */
	{
		enum { N = 5000 };
		static char defs_buf[N][24];
		static const char *defs[N + 1];
		const char *t =
		    "{\"name\":\"m\",\"vertices\":[{\"id\":"
		    "\"a\",\"operator\":\"noop\",\"parallelism\":1,"
		    "\"config\":{\"p\":\"${v0}${v4999}${v2500}\"}}]}";

		for (unsigned i = 0; i < N; i++) {
			snprintf(defs_buf[i], sizeof(defs_buf[i]), "v%u=%u",
			    N - 1 - i, (N - 1 - i) % 10);
			defs[i] = defs_buf[i];
		}
		defs[N] = NULL;
		CU_ASSERT_EQUAL_FATAL(
		    sl_job_load_json_vars(t, strlen(t), "m", defs, N, &job), 0);
		CU_ASSERT_STRING_EQUAL(
		    job->v[0].config_json, "{\"p\":\"090\"}");
		sl_job_free(job);
		snprintf(defs_buf[N - 1], sizeof(defs_buf[0]), "v17=x");
		CU_ASSERT_EQUAL(
		    sl_job_load_json_vars(t, strlen(t), "m", defs, N, &job),
		    SL_EEXISTS);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(),
		    "-D v17 is given twice ('v17=7', then 'v17=x')"));
	}

	/* The C API's own mistakes. */
	CU_ASSERT_EQUAL(
	    sl_job_load_json_vars(ok, strlen(ok), "j", NULL, 1, &job),
	    SL_EINVAL);
	CU_ASSERT_EQUAL(sl_job_load_json_vars(ok, strlen(ok), "j",
	                    (const char *const[]) { "a=1", NULL }, 2, &job),
	    SL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(), "definition 1 is NULL"));
	/* Only ndefs entries are read: a NULL after them is never seen. */
	{
		const char *t = "{\"name\":\"n\",\"vertices\":[{\"id\":"
		                "\"a\",\"operator\":\"noop\","
		                "\"parallelism\":1}]}";

		job = NULL;
		CU_ASSERT_EQUAL(
		    sl_job_load_json_vars(t, strlen(t), "j",
		        (const char *const[]) { "a=1", NULL }, 1, &job),
		    0);
		CU_ASSERT_PTR_NOT_NULL(job);
	}
	sl_job_free(job);
}

/* Substituted strings stop at 64 MiB in all, however they are spread. */
static void
test_vars_budget(void)
{
	size_t big = 24u << 20;
	char *def = malloc(big + 5);
	sl_job *job = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(def);
	memcpy(def, "big=", 4);
	memset(def + 4, 'x', big);
	def[big + 4] = '\0';
	/* 24 + 24 + 24 MiB: the third is too many. */
	EXPECT_FAIL_VARS(WITH_CONFIG("{'a':'${big}','b':'${big}${big}'}"),
	    DEFS(def), SL_ERANGE,
	    "job.json: vertices[0].config.b: the strings that use variables "
	    "come to more than 64 MiB in all");
	CU_ASSERT_EQUAL(load_vars(WITH_CONFIG("{'a':'${big}','b':'${big}'}"),
	                    DEFS(def), &job),
	    0);
	CU_ASSERT_EQUAL(strlen(job->v[0].config_json), 2 * big + 15);
	sl_job_free(job);
	free(def);
}

static void
test_vars_files(void)
{
	char *path = write_file("vars.json",
	    "{\"name\":\"f\",\"vertices\":[{\"id\":\"x\",\"operator\":\"noop\","
	    "\"parallelism\":\"${p}\",\"config\":{\"path\":\"${in}\"}}]}\n");
	const char *defs[] = { "p=3", "in=/in" };
	sl_job *job = NULL;

	CU_ASSERT_EQUAL_FATAL(sl_job_load_file_vars(path, defs, 2, &job), 0);
	CU_ASSERT_EQUAL(job->v[0].parallelism, 3);
	CU_ASSERT_STRING_EQUAL(job->v[0].config_json, "{\"path\":\"/in\"}");
	sl_job_free(job);
	job = NULL;

	/* The file is named; the -D form is given. */
	CU_ASSERT_EQUAL(
	    sl_job_load_file_vars(path, defs, 1, &job), SL_ENOTFOUND);
	CU_ASSERT_PTR_NULL(job);
	CU_ASSERT_EQUAL(strncmp(sl_errdetail(), path, strlen(path)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(),
	    "vars.json: vertices[0].config.path: unknown variable 'in': set "
	    "it with -D in=VALUE"));
	/* Definitions are checked before the file is read. */
	CU_ASSERT_EQUAL(sl_job_load_file_vars("/nonexistent/job.json",
	                    (const char *const[]) { "bad" }, 1, &job),
	    SL_EINVAL);
	CU_ASSERT_STRING_EQUAL(sl_errdetail(), "-D 'bad': expected NAME=VALUE");
	CU_ASSERT_EQUAL(
	    sl_job_load_file_vars("/nonexistent/job.json", defs, 2, &job),
	    -ENOENT);
	CU_ASSERT_EQUAL(sl_job_load_file_vars(NULL, defs, 2, &job), SL_EINVAL);
	CU_ASSERT_PTR_NULL(job);

	unlink(path);
	rmdir(scratch);
	scratch[0] = '\0';
	free(path);
}

/* The source tree: from ctest's environment, else from this file's path. */
static char *
source_path(const char *rel)
{
	const char *env = getenv("SL_SOURCE_DIR");
	const char *me = __FILE__;
	const char *tail = strstr(me, "/tests/unit/test_jobfile.c");
	char *path;

	int n;

	if (env != NULL)
		n = asprintf(&path, "%s/%s", env, rel);
	else
		n = asprintf(&path, "%.*s/%s", tail ? (int)(tail - me) : 1,
		    tail ? me : ".", rel);
	CU_ASSERT_FATAL(n > 0);
	return path;
}

static void
test_examples_load(void)
{
	static const char *const defs[] = { "input=/dev/null",
		"output=/tmp/x" };
	char *dir = source_path("examples/jobs");
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
	while ((d = readdir(dp)) != NULL) {
		size_t len = strlen(d->d_name);
		char *path;
		sl_job *job = NULL;
		int rv;

		if (len < 5 || strcmp(d->d_name + len - 5, ".json") != 0)
			continue;
		CU_ASSERT_FATAL(asprintf(&path, "%s/%s", dir, d->d_name) > 0);
		/* What `sluice plan` would need -D for; unused ones are
		 * fine. */
		rv = sl_job_load_file_vars(path, defs, 2, &job);
		if (rv != 0)
			fprintf(stderr, "\n  %s: %s\n", path, sl_errdetail());
		CU_ASSERT_EQUAL(rv, 0);
		sl_job_free(job);
		free(path);
		n++;
	}
	closedir(dp);
	CU_ASSERT(n >= 6);
	free(dir);
}

static void
test_example_shapes(void)
{
	char *wc = source_path("examples/jobs/wordcount-shape.json");
	char *bc = source_path("examples/jobs/blocking-cycle.json");
	sl_job *job;

	CU_ASSERT_EQUAL_FATAL(sl_job_load_file(wc, &job), 0);
	CU_ASSERT_EQUAL(sl_job_vertex_count(job), 4);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 3);
	for (uint32_t i = 0; i < job->nv; i++)
		CU_ASSERT_EQUAL(job->v[i].parallelism, 4);
	CU_ASSERT_EQUAL(job->e[0].type, SL_PARTITION_PIPELINED);
	CU_ASSERT_EQUAL(job->e[1].distribution, SL_DIST_ALL_TO_ALL);
	CU_ASSERT_EQUAL(job->e[1].type, SL_PARTITION_BLOCKING);
	CU_ASSERT_EQUAL(job->e[2].distribution, SL_DIST_POINTWISE);
	sl_job_free(job);

	/* A->B pipelined, A->C and C->B blocking. */
	CU_ASSERT_EQUAL_FATAL(sl_job_load_file(bc, &job), 0);
	CU_ASSERT_EQUAL(sl_job_edge_count(job), 3);
	CU_ASSERT_EQUAL(job->e[0].type, SL_PARTITION_PIPELINED);
	CU_ASSERT_STRING_EQUAL(job->v[job->e[1].to].id, "C");
	CU_ASSERT_EQUAL(job->e[1].type, SL_PARTITION_BLOCKING);
	CU_ASSERT_STRING_EQUAL(job->v[job->e[2].from].id, "C");
	CU_ASSERT_STRING_EQUAL(job->v[job->e[2].to].id, "B");
	CU_ASSERT_EQUAL(job->e[2].type, SL_PARTITION_BLOCKING);
	sl_job_free(job);
	free(wc);
	free(bc);
}

/* The runnable WordCount: the builtin operators, paths from -D. */
static void
test_example_wordcount(void)
{
	static const char *const ops[] = { "text_source", "tokenize",
		"hash_aggregate", "hash_aggregate", "file_sink" };
	static const int32_t par[] = { 4, 4, 4, 2, 2 };
	static const char *const defs[] = { "input=/data/in \"1\".txt",
		"output=/data/out" };
	char *wc = source_path("examples/wordcount.json");
	sl_job *job = NULL;

	/* Without the paths it names the first one missing. */
	CU_ASSERT_EQUAL(sl_job_load_file(wc, &job), SL_ENOTFOUND);
	CU_ASSERT_PTR_NULL(job);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(),
	    "wordcount.json: vertices[0].config.path: unknown variable "
	    "'input': set it with -D input=VALUE"));
	CU_ASSERT_EQUAL(sl_job_load_file_vars(wc, defs, 1, &job), SL_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_errdetail(),
	    "vertices[4].config.path: unknown variable 'output'"));

	CU_ASSERT_EQUAL_FATAL(sl_job_load_file_vars(wc, defs, 2, &job), 0);
	CU_ASSERT_STRING_EQUAL(sl_job_name(job), "wordcount");
	CU_ASSERT_EQUAL_FATAL(sl_job_vertex_count(job), 5);
	CU_ASSERT_EQUAL_FATAL(sl_job_edge_count(job), 4);
	for (uint32_t v = 0; v < 5; v++) {
		CU_ASSERT_STRING_EQUAL(job->v[v].op, ops[v]);
		CU_ASSERT_EQUAL(job->v[v].parallelism, par[v]);
	}
	CU_ASSERT_STRING_EQUAL(
	    job->v[0].config_json, "{\"path\":\"/data/in \\\"1\\\".txt\"}");
	CU_ASSERT_PTR_NULL(job->v[1].config_json);
	CU_ASSERT_STRING_EQUAL(job->v[2].config_json,
	    "{\"function\":\"count\",\"mode\":\"partial\"}");
	CU_ASSERT_STRING_EQUAL(
	    job->v[3].config_json, "{\"function\":\"sum\",\"mode\":\"final\"}");
	CU_ASSERT_STRING_EQUAL(job->v[4].config_json,
	    "{\"format\":\"tsv\",\"path\":\"/data/out\"}");
	/* A chain; only the combiner's output is shuffled, by key. Every
	 * edge is pipelined until a plugin with blocking partitions (the
	 * localdisk one) comes. */
	for (uint32_t e = 0; e < 4; e++) {
		CU_ASSERT_EQUAL(job->e[e].from, e);
		CU_ASSERT_EQUAL(job->e[e].to, e + 1);
		CU_ASSERT_EQUAL(job->e[e].type, SL_PARTITION_PIPELINED);
		CU_ASSERT_EQUAL(job->e[e].distribution,
		    e == 2 ? SL_DIST_ALL_TO_ALL : SL_DIST_POINTWISE);
	}
	CU_ASSERT_EQUAL(job->e[2].partitioner, SL_PARTITIONER_HASH);
	CU_ASSERT_STRING_EQUAL(job->default_shuffle, "memory");
	sl_job_free(job);
	free(wc);
}

/* What each file under examples/jobs/bad must fail with. */
static const struct {
	const char *file;
	int rv;
	const char *detail;
} bad_files[] = {
	{ "empty.json", SL_EPARSE, "empty input" },
	{ "syntax-error.json", SL_EPARSE, "syntax-error.json:5:" },
	{ "top-level-array.json", SL_EPARSE, "at top level, got array" },
	{ "duplicate-key.json", SL_EPARSE, "duplicate" },
	{ "unknown-top-key.json", SL_EPARSE,
	    "unknown key 'vertexes' at top level" },
	{ "unknown-vertex-key.json", SL_EPARSE,
	    "vertices[0]: unknown key 'paralellism'" },
	{ "unknown-edge-key.json", SL_EPARSE,
	    "edges[0]: unknown key 'partitoner'" },
	{ "missing-name.json", SL_EPARSE, "missing field 'name'" },
	{ "missing-operator.json", SL_EPARSE,
	    "vertices[0]: missing field 'operator'" },
	{ "no-vertices.json", SL_EPARSE, "vertices: empty" },
	{ "wrong-type.json", SL_EPARSE,
	    "vertices[0].id: expected a string, got number" },
	{ "config-not-object.json", SL_EPARSE,
	    "vertices[0].config: expected an object" },
	{ "bad-vertex-id.json", SL_EINVAL,
	    "vertices[0]: vertex id 'word count'" },
	{ "duplicate-vertex.json", SL_EEXISTS,
	    "vertices[2].id: vertex 'src' is defined twice" },
	{ "parallelism-zero.json", SL_EPARSE,
	    "vertices[0].parallelism: must be a positive integer or \"auto\", "
	    "got 0" },
	{ "parallelism-float.json", SL_EPARSE,
	    "vertices[0].parallelism: must be a positive integer or \"auto\", "
	    "got 2.5" },
	{ "parallelism-string.json", SL_EPARSE,
	    "vertices[0].parallelism: must be a positive integer or \"auto\", "
	    "got \"seven\"" },
	{ "unknown-variable.json", SL_ENOTFOUND,
	    "vertices[0].config.path: unknown variable 'input': set it with "
	    "-D input=VALUE" },
	{ "unterminated-variable.json", SL_EPARSE,
	    "vertices[0].config.path: unterminated '${'" },
	{ "parallelism-too-large.json", SL_ERANGE,
	    "vertices[0].parallelism: 1000001" },
	{ "unknown-vertex.json", SL_ENOTFOUND,
	    "edges[0].to: unknown vertex 'cnt'" },
	{ "unknown-distribution.json", SL_EPARSE,
	    "edges[0].distribution: unknown distribution 'shuffle'" },
	{ "unknown-type.json", SL_EPARSE,
	    "edges[0].type: unknown type 'blockin'" },
	{ "unknown-partitioner.json", SL_EPARSE,
	    "edges[0].partitioner: unknown partitioner 'modulo'" },
	{ "unknown-compression.json", SL_EPARSE,
	    "edges[0].compression: unknown compression 'gzip' (expected "
	    "none, lz4, zstd)" },
	{ "partitioner-on-pointwise.json", SL_EINVAL,
	    "edges[0].partitioner: only all_to_all" },
	{ "self-edge.json", SL_ECYCLE, "edges[0]: " },
	{ "duplicate-edge.json", SL_EEXISTS, "edges[2] repeats edges[0]" },
	{ "bad-job-name.json", SL_EINVAL, "name: job name 'word count'" },
	{ "bad-shuffle-name.json", SL_EINVAL,
	    "edges[0].shuffle: shuffle plugin name 'Disk'" },
	{ "too-many-tasks.json", SL_ERANGE,
	    "vertices: 17 vertices with 17000000 tasks in all; at most "
	    "16777216" },
	{ "cycle.json", SL_ECYCLE,
	    "edges: edges form a cycle: a -> b -> c -> a" },
	{ "restart-misplaced-key.json", SL_EPARSE,
	    "restart.initial: not a setting of fixed-delay, which takes "
	    "attempts, delay" },
	{ "restart-bad-duration.json", SL_EPARSE,
	    "restart.delay: must be a duration" },
	{ "fault-unknown-vertex.json", SL_ENOTFOUND,
	    "faults[1]: task 'cnt#1': unknown vertex 'cnt' (did you mean "
	    "'count'?)" },
	{ "fault-index-too-large.json", SL_ERANGE,
	    "faults[0]: task 'count#4': vertex 'count' has parallelism 4" },
};

#define NBAD (sizeof(bad_files) / sizeof(bad_files[0]))

static void
test_bad_examples(void)
{
	char *dir = source_path("examples/jobs/bad");
	bool seen[NBAD] = { false };
	struct dirent *d;
	DIR *dp = opendir(dir);

	CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
	while ((d = readdir(dp)) != NULL) {
		size_t k, len = strlen(d->d_name);
		char *path;
		sl_job *job = NULL;
		int rv;

		if (len < 5 || strcmp(d->d_name + len - 5, ".json") != 0)
			continue;
		for (k = 0; k < NBAD; k++)
			if (strcmp(bad_files[k].file, d->d_name) == 0)
				break;
		/* A new bad file needs its expectation here. */
		if (k == NBAD) {
			fprintf(
			    stderr, "\n  %s: not in bad_files[]\n", d->d_name);
			CU_FAIL("bad example without an expectation");
			continue;
		}
		seen[k] = true;
		CU_ASSERT_FATAL(asprintf(&path, "%s/%s", dir, d->d_name) > 0);
		rv = sl_job_load_file(path, &job);
		if (rv != bad_files[k].rv ||
		    strstr(sl_errdetail(), bad_files[k].detail) == NULL ||
		    strncmp(sl_errdetail(), path, strlen(path)) != 0)
			fprintf(stderr, "\n  %s: got %s \"%s\"\n", d->d_name,
			    sl_errname(rv), sl_errdetail());
		CU_ASSERT_EQUAL(rv, bad_files[k].rv);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(sl_errdetail(), bad_files[k].detail));
		/* The detail starts with the file's path. */
		CU_ASSERT_EQUAL(strncmp(sl_errdetail(), path, strlen(path)), 0);
		CU_ASSERT_PTR_NULL(job);
		free(path);
	}
	closedir(dp);
	for (size_t k = 0; k < NBAD; k++) {
		if (!seen[k])
			fprintf(stderr, "\n  %s: missing\n", bad_files[k].file);
		CU_ASSERT(seen[k]);
	}
	free(dir);
}

static const struct sl_test tests[] = {
	{ "valid job round-trips", test_round_trip },
	{ "defaults: memory shuffle, no edges", test_defaults },
	{ "length and origin", test_length_and_origin },
	{ "failure leaves *out alone", test_failure_leaves_out_alone },
	{ "syntax errors carry line and column", test_syntax_errors },
	{ "empty input and wrong top level", test_empty_and_top_level },
	{ "unknown keys everywhere", test_unknown_keys },
	{ "missing fields", test_missing_fields },
	{ "wrong JSON types", test_wrong_types },
	{ "parallelism values", test_parallelism },
	{ "adaptive keys: job, vertex, defaults", test_adaptive_keys },
	{ "restart: strategies, values, variables", test_restart_keys },
	{ "restart: every bad value says where", test_restart_errors },
	{ "faults: parsed and found", test_fault_keys },
	{ "faults: every bad value says where", test_fault_errors },
	{ "faults: left out above a decided parallelism",
	    test_fault_fixed_parallelism },
	{ "vertex errors from the C API", test_vertex_errors },
	{ "edges naming unknown vertices", test_edge_vertices },
	{ "edge enums and partitioner", test_edge_enums },
	{ "self-edge and cycle", test_cycles },
	{ "job and shuffle plugin names", test_names },
	{ "repeated edges", test_duplicate_edges },
	{ "fixed parallelisms within SL_MAX_TASKS", test_task_limit },
	{ "SL_MAX_VERTICES and SL_MAX_EDGES", test_api_limits },
	{ "vertex index with many alike ids", test_vertex_index },
	{ "a cycle is named", test_cycle_names },
	{ "10 000-vertex chain and fan load and expand", test_scale },
	{ "files: good, bad, missing, directory", test_files },
	{ "variables: substituted in every string", test_vars_substitute },
	{ "variables: the $${ escape", test_vars_escape },
	{ "variables: values need no escaping", test_vars_values },
	{ "variables: keys are left alone", test_vars_keys },
	{ "variables: parallelism from a variable", test_vars_parallelism },
	{ "variables: unset, unterminated, bad names", test_vars_errors },
	{ "variables: -D definitions", test_vars_defs },
	{ "variables: 64 MiB of substituted strings", test_vars_budget },
	{ "variables: files", test_vars_files },
	{ "examples/jobs all load", test_examples_load },
	{ "examples/jobs shapes", test_example_shapes },
	{ "examples/wordcount.json", test_example_wordcount },
	{ "examples/jobs/bad fail as listed", test_bad_examples },
	{ NULL, NULL },
};

SL_TEST_MAIN("jobfile", tests)
