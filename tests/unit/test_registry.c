/* SPDX-License-Identifier: MIT */
/* test_registry.c: the extension registry: well-formed entries, unique keys, the disco features it owns. */
#include <string.h>
#include <CUnit/CUnit.h>

#include "ext.h"
#include "ns.h"
#include "util.h"
#include "testutil.h"

static void test_entries(void)
{
	const struct ext *const *list;
	size_t n, i, j;

	list = ext_registry_list(&n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	CU_ASSERT(n >= 6 && n <= EXT_REGISTRY_MAX);
	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(list[i]);
		CU_ASSERT_PTR_NOT_NULL(list[i]->name);
		CU_ASSERT_PTR_NOT_NULL(list[i]->ns);
		CU_ASSERT_PTR_NOT_NULL(list[i]->handle);
		CU_ASSERT(list[i]->kinds != 0);
		/* The dispatcher's table keys on (name, ns): one owner each. */
		for (j = 0; j < i; j++)
			CU_ASSERT(!(strcmp(list[i]->name, list[j]->name) == 0 &&
				    strcmp(list[i]->ns, list[j]->ns) == 0));
	}
}

static void test_features(void)
{
	static const char *const expected[] = {
		NS_EXAMPLE, XMPP_NS_DISCO_INFO, XMPP_NS_DISCO_ITEMS, NS_PING,
		NS_VERSION, NS_TIME,
	};
	const struct ext *const *list;
	const char *const *features;
	size_t n, nf, i, k = 0;

	list = ext_registry_list(&n);
	features = ext_registry_features(&nf);
	/* Exactly the registered features, in registration order. */
	for (i = 0; i < n; i++) {
		if (list[i]->feature == NULL)
			continue;
		CU_ASSERT_FATAL(k < nf);
		CU_ASSERT_STRING_EQUAL(features[k], list[i]->feature);
		k++;
	}
	CU_ASSERT_EQUAL(k, nf);
	for (i = 0; i < ARRAY_SIZE(expected); i++) {
		size_t found = 0;

		for (k = 0; k < nf; k++)
			found += strcmp(features[k], expected[i]) == 0;
		CU_ASSERT_EQUAL(found, 1);
	}
	/* A second call gives the same list, not a second copy appended. */
	CU_ASSERT_PTR_EQUAL(ext_registry_features(&k), features);
	CU_ASSERT_EQUAL(k, nf);
}

static int test_registry_register(void)
{
	CU_pSuite s = CU_add_suite("registry", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "entries well formed, keys unique", test_entries) ||
	    !CU_add_test(s, "disco features", test_features))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_registry_register)
