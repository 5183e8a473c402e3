/*
 * A small frame for CUnit test programs: a list of cases, one suite per
 * program, a non-zero exit when anything failed.
 *
 *   static const struct sl_test tests[] = {
 *       {"chain of pipelined edges", test_chain},
 *       {NULL, NULL},
 *   };
 *   SL_TEST_MAIN("regions", tests)
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_test {
	const char *name;
	void (*fn)(void);
};

static inline int
sl_test_run(
    const char *suite_name, const struct sl_test *tests, int argc, char **argv)
{
	CU_pSuite suite;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite(suite_name, NULL, NULL);
	for (const struct sl_test *t = tests; t->name != NULL; t++) {
		/* With an argument, run only the cases whose name contains it.
		 */
		if (argc > 1 && strstr(t->name, argv[1]) == NULL)
			continue;
		CU_add_test(suite, t->name, t->fn);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0) {
		fprintf(stderr, "%s: no test ran\n", suite_name);
		failed = 1;
	}
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#define SL_TEST_MAIN(suite_name, tests)                            \
	int main(int argc, char **argv)                            \
	{                                                          \
		return sl_test_run(suite_name, tests, argc, argv); \
	}

#endif
