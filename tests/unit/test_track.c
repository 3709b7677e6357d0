/* SPDX-License-Identifier: MIT */
/* test_track.c: ope-client's track.c: the table of requests in flight: ids, replies, duplicates, expiry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "track.h"
#include "testutil.h"

static void test_track_ids(void)
{
	struct client_track *t = client_track_new(10000, "ope-1a2b");
	char id[64];
	unsigned long i;
	int ok = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 10000; i++) {
		client_track_id(t, i, id, sizeof(id));
		ok &= client_track_lookup(t, id) == (long)i;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(client_track_id(t, 12345, id, 8), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-0"), 0);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-9999"), 9999);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-10000"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-007"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-+7"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-7x"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b-"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2b"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-ffff-1"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, "ope-1a2bc-1"), -1);
	CU_ASSERT_EQUAL(client_track_lookup(t, NULL), -1);
	client_track_free(t);
	CU_ASSERT_PTR_NULL(client_track_new(0, "p"));
	CU_ASSERT_PTR_NULL(client_track_new(1, "0123456789012345678901234567890123"));
}

static void test_track_replies(void)
{
	struct client_track *t = client_track_new(3, "p");
	uint64_t lat = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* A reply for a request never sent is not ours. */
	CU_ASSERT_EQUAL(client_track_reply(t, 0, 5, &lat), CLIENT_TRACK_UNKNOWN);
	CU_ASSERT_EQUAL(client_track_send(t, 100), 0);
	CU_ASSERT_EQUAL(client_track_send(t, 200), 1);
	CU_ASSERT_EQUAL(t->outstanding, 2);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 250, &lat), CLIENT_TRACK_FIRST);
	CU_ASSERT_EQUAL(lat, 50);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 260, &lat),
			CLIENT_TRACK_DUPLICATE);
	CU_ASSERT_EQUAL(t->outstanding, 1);
	CU_ASSERT_EQUAL(client_track_reply(t, 0, 400, &lat), CLIENT_TRACK_FIRST);
	CU_ASSERT_EQUAL(lat, 300);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(client_track_send(t, 500), 2);
	CU_ASSERT_EQUAL(client_track_send(t, 600), -1);
	CU_ASSERT_EQUAL(client_track_reply(t, 3, 700, &lat),
			CLIENT_TRACK_UNKNOWN);
	client_track_free(t);
}

static void test_track_expire(void)
{
	struct client_track *t = client_track_new(5, "p");
	uint64_t lat;
	long first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(client_track_expire(t, &first), 0);
	CU_ASSERT_EQUAL(first, -1);
	client_track_send(t, 10);
	client_track_send(t, 20);
	client_track_send(t, 30);
	client_track_send(t, 40);
	client_track_reply(t, 0, 35, &lat);
	client_track_reply(t, 2, 45, &lat);
	/* Seq 1 and 3 were still pending. */
	CU_ASSERT_EQUAL(client_track_expire(t, &first), 2);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(client_track_expire(t, NULL), 0);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 200, &lat), CLIENT_TRACK_LATE);
	CU_ASSERT_EQUAL(client_track_reply(t, 1, 201, &lat),
			CLIENT_TRACK_DUPLICATE);
	CU_ASSERT_EQUAL(client_track_reply(t, 2, 202, &lat),
			CLIENT_TRACK_DUPLICATE);
	/* Sending goes on after an expiry. */
	CU_ASSERT_EQUAL(client_track_send(t, 300), 4);
	CU_ASSERT_EQUAL(t->outstanding, 1);
	client_track_free(t);
}

static int test_track_register(void)
{
	CU_pSuite s = CU_add_suite("client_track", NULL, NULL);

	if (s == NULL ||
	    !CU_add_test(s, "ids", test_track_ids) ||
	    !CU_add_test(s, "replies and duplicates", test_track_replies) ||
	    !CU_add_test(s, "expiry", test_track_expire))
		return CU_get_error();
	return CUE_SUCCESS;
}

TESTUTIL_SUITE(test_track_register)
