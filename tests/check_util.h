/*
 * check_util.h - the main() every Check program shares.
 *
 * Each tests/check_NAME.c defines "Suite *NAME_suite(void)" and ends with
 * CHECK_MAIN(NAME_suite).  Timeouts are set per TCase by the tests.
 */
#ifndef CHECK_UTIL_H
#define CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

#define CHECK_MAIN(fn)							\
int									\
main(void)								\
{									\
	SRunner *sr = srunner_create(fn());				\
	int failed;							\
									\
	srunner_run_all(sr, CK_NORMAL);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

#endif
