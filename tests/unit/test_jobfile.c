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
	CU_ASSERT_STRING_EQUAL(sli_edge_shuffle(job, &job->e[0]), "disk");

	/* all_to_all without a partitioner hashes. */
	CU_ASSERT_EQUAL(job->e[1].distribution, SL_DIST_ALL_TO_ALL);
	CU_ASSERT_EQUAL(job->e[1].partitioner, SL_PARTITIONER_HASH);
	CU_ASSERT_EQUAL(job->e[1].type, SL_PARTITION_BLOCKING);

	CU_ASSERT_EQUAL(job->e[2].from, 2);
	CU_ASSERT_EQUAL(job->e[2].to, 3);
	CU_ASSERT_EQUAL(job->e[2].partitioner, SL_PARTITIONER_RANGE);
	CU_ASSERT_EQUAL(job->e[2].type, SL_PARTITION_HYBRID_FULL);
	CU_ASSERT_STRING_EQUAL(sli_edge_shuffle(job, &job->e[2]), "memory");

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
	    SL_ECYCLE, "job.json: edges[3]: ", "closes a cycle");
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
	{ "cycle.json", SL_ECYCLE, "edges[2]: edge c -> a closes a cycle" },
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
	{ "files: good, bad, missing, directory", test_files },
	{ "examples/jobs all load", test_examples_load },
	{ "examples/jobs shapes", test_example_shapes },
	{ "examples/jobs/bad fail as listed", test_bad_examples },
	{ NULL, NULL },
};

SL_TEST_MAIN("jobfile", tests)
