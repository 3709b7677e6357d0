/* SPDX-License-Identifier: MIT */
/* test_hash.c: unit tests for the keyed hash: the SipHash reference vectors. */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "hash.h"
#include "testutil.h"

/* From the SipHash reference implementation: key 00..0f. */
static void test_sip_mac_vectors(void)
{
	static const uint8_t empty[16] = {
		0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
		0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93,
	};
	uint8_t key[16], msg[64], out[16];
	int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	hash_sip_mac(key, msg, 0, out);
	CU_ASSERT(memcmp(out, empty, 16) == 0);
}

static void test_sip_keyed(void)
{
	uint8_t k1[16] = { 1 }, k2[16] = { 2 }, a[16], b[16];

	CU_ASSERT_NOT_EQUAL(hash_sip(k1, "alice@x", 7), hash_sip(k2, "alice@x", 7));
	CU_ASSERT_EQUAL(hash_sip(k1, "alice@x", 7), hash_sip(k1, "alice@x", 7));
	CU_ASSERT_NOT_EQUAL(hash_sip(k1, "alice@x", 7), hash_sip(k1, "alice@y", 7));
	hash_sip_mac(k1, "pw", 2, a);
	hash_sip_mac(k2, "pw", 2, b);
	CU_ASSERT(memcmp(a, b, 16) != 0);
	hash_random_key(k1);
	hash_random_key(k2);
	CU_ASSERT(memcmp(k1, k2, 16) != 0);
}

static int test_hash_register(void)
{
	CU_pSuite s = CU_add_suite("hash", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "SipHash-2-4-128 reference vector", test_sip_mac_vectors) ||
	    !CU_add_test(s, "keyed", test_sip_keyed))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_hash_register)
