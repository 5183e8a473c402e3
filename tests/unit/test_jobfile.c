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
check_fail(
    unsigned line, const char *text, int want, const char *const *needles)
{
	sl_job *job;
	int rv = load(text, &job);
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

#define EXPECT_FAIL(text, code, ...) \
	check_fail(                  \
	    __LINE__, text, code, (const char *const[]) { __VA_ARGS__, NULL })

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
	EXPECT_FAIL("{'name':'x','scheduler':{}}", SL_EPARSE,
	    "job.json: unknown key 'scheduler' at top level");
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
	EXPECT_FAIL(ONE_VERTEX("'7'"), SL_EPARSE, "vertices[1].parallelism",
	    "got \"7\"");
	EXPECT_FAIL(ONE_VERTEX("'AUTO'"), SL_EPARSE, "got \"AUTO\"");
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
		rv = sl_job_load_file(path, &job);
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
	    "got \"7\"" },
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
	{ "examples/jobs all load", test_examples_load },
	{ "examples/jobs shapes", test_example_shapes },
	{ "examples/jobs/bad fail as listed", test_bad_examples },
	{ NULL, NULL },
};

SL_TEST_MAIN("jobfile", tests)
