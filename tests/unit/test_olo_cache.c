/* auth/olo_cache: the ids mod_socache sees, and which part of the cache a kind lives in. */
#include <stdio.h>
#include <string.h>
#include "olo_test.h"
#include "../../auth/olo_cache.h"

static apr_size_t id_of(unsigned char id[OLO_CACHE_ID_MAX], const char *key)
{
    memset(id, 0, OLO_CACHE_ID_MAX);
    return olo_cache_id(id, key);
}

START_TEST(id_is_a_hash_then_the_kind)
{
    unsigned char id[OLO_CACHE_ID_MAX];
    const char *key = "sl:AAAAAAAAAAAAAAAAAAAAAAAA";
    ck_assert_uint_eq(id_of(id, key), OLO_CACHE_HASH_BYTES + 2);
    ck_assert_int_eq(memcmp(id + OLO_CACHE_HASH_BYTES, "sl", 2), 0);
    /* nothing of the name is left in the id */
    ck_assert_ptr_null(memmem(id, OLO_CACHE_ID_MAX, "AAAA", 4));
    /* printf 'sl:AAAAAAAAAAAAAAAAAAAAAAAA' | sha256sum: 2db1a0f5eb55d50c399af8382bf892a9... */
    static const unsigned char want[OLO_CACHE_HASH_BYTES] = {
        0x2d, 0xb1, 0xa0, 0xf5, 0xeb, 0x55, 0xd5, 0x0c,
        0x39, 0x9a, 0xf8, 0x38, 0x2b, 0xf8, 0x92, 0xa9};
    ck_assert_int_eq(memcmp(id, want, OLO_CACHE_HASH_BYTES), 0);
}
END_TEST

START_TEST(id_differs_by_kind_and_by_name)
{
    unsigned char a[OLO_CACHE_ID_MAX], b[OLO_CACHE_ID_MAX], c[OLO_CACHE_ID_MAX];
    id_of(a, "sl:x1");
    id_of(b, "rv:x1");
    id_of(c, "sl:x2");
    ck_assert_int_ne(memcmp(a, b, OLO_CACHE_HASH_BYTES), 0);
    ck_assert_int_ne(memcmp(a, c, OLO_CACHE_HASH_BYTES), 0);
}
END_TEST

START_TEST(key_without_a_kind_has_no_id)
{
    unsigned char id[OLO_CACHE_ID_MAX];
    ck_assert_uint_eq(id_of(id, "nokind"), 0);
    ck_assert_uint_eq(id_of(id, ":name"), 0);
    ck_assert_uint_eq(id_of(id, "toolongkind:name"), 0);
    ck_assert_uint_eq(id_of(id, "jwks:https://idp/certs"), OLO_CACHE_HASH_BYTES + 4);
    ck_assert_uint_eq(id_of(id, "alive:probe"), OLO_CACHE_HASH_BYTES + 5);
}
END_TEST

/* Keys that share their first characters (the old "rv:" prefix) must land in every one of
 * shmcb's sub-caches: it picks one by the id's first byte. */
START_TEST(first_bytes_spread_over_256_subcaches)
{
    int seen[256] = {0};
    int distinct = 0;
    for (int i = 0; i < 4096; i++) {
        unsigned char id[OLO_CACHE_ID_MAX];
        char key[32];
        snprintf(key, sizeof(key), "rv:%024d", i);
        ck_assert_uint_gt(id_of(id, key), 0);
        distinct += !seen[id[0]]++;
    }
    ck_assert_int_eq(distinct, 256);
    for (int b = 0; b < 256; b++) {
        ck_assert_int_lt(seen[b], 48);   /* 16 expected; a skewed hash would pile up */
    }
}
END_TEST

START_TEST(parts_keep_sessions_apart_from_anonymous_writes)
{
    ck_assert_int_eq(olo_cache_part("sl:id"), OLO_CACHE_PART_SESSIONS);
    ck_assert_int_eq(olo_cache_part("rv:id"), OLO_CACHE_PART_SESSIONS);
    ck_assert_int_eq(olo_cache_part("ss:id"), OLO_CACHE_PART_SESSIONS);
    ck_assert_int_eq(olo_cache_part("st:state"), OLO_CACHE_PART_STATES);
    ck_assert_int_eq(olo_cache_part("bv:d:t"), OLO_CACHE_PART_SHARED);
    ck_assert_int_eq(olo_cache_part("md:https://idp"), OLO_CACHE_PART_SHARED);
    ck_assert_int_eq(olo_cache_part("sls:x"), OLO_CACHE_PART_SHARED);   /* no prefix games */
    ck_assert_int_eq(olo_cache_part("s:x"), OLO_CACHE_PART_SHARED);
}
END_TEST

START_TEST(markers_get_a_small_read_buffer)
{
    ck_assert_uint_lt(olo_cache_value_max("sl:id"), 256);
    ck_assert_uint_lt(olo_cache_value_max("st:id"), 256);
    ck_assert_uint_ge(olo_cache_value_max("ss:id"), 16 * 1024);
    ck_assert_uint_ge(olo_cache_value_max("jwks:u"), 16 * 1024);
}
END_TEST

Suite *olo_suite_cache(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, id_is_a_hash_then_the_kind);
    tcase_add_test(tc, id_differs_by_kind_and_by_name);
    tcase_add_test(tc, key_without_a_kind_has_no_id);
    tcase_add_test(tc, first_bytes_spread_over_256_subcaches);
    tcase_add_test(tc, parts_keep_sessions_apart_from_anonymous_writes);
    tcase_add_test(tc, markers_get_a_small_read_buffer);
    suite_add_tcase(s, tc);
    return s;
}
