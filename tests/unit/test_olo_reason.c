/* jwt/olo_reason: every reason has a log name and a page text. */
#include <string.h>
#include "olo_test.h"
#include "../../jwt/olo_reason.h"

START_TEST(every_reason_has_a_name_and_text)
{
    for (int r = 0; r < OLO_R__COUNT; r++) {
        ck_assert_msg(strcmp(olo_reason_name((olo_reason_t)r), "unknown") != 0,
                      "reason %d has no table entry", r);
        ck_assert_ptr_nonnull(olo_reason_text((olo_reason_t)r));
        ck_assert_uint_gt(strlen(olo_reason_text((olo_reason_t)r)), 0);
    }
}
END_TEST

START_TEST(names_are_unique)
{
    for (int a = 0; a < OLO_R__COUNT; a++) {
        for (int b = a + 1; b < OLO_R__COUNT; b++) {
            ck_assert_str_ne(olo_reason_name((olo_reason_t)a), olo_reason_name((olo_reason_t)b));
        }
    }
}
END_TEST

START_TEST(names_are_lowercase_with_hyphens)
{
    for (int r = 0; r < OLO_R__COUNT; r++) {
        const char *name = olo_reason_name((olo_reason_t)r);

        ck_assert_uint_eq(strspn(name, "abcdefghijklmnopqrstuvwxyz-"), strlen(name));
    }
}
END_TEST

START_TEST(texts_are_plain_sentences)
{
    for (int r = 0; r < OLO_R__COUNT; r++) {
        const char *text = olo_reason_text((olo_reason_t)r);

        /* Texts go into an HTML page as they are: no markup, no quoting needed. */
        ck_assert_ptr_null(strpbrk(text, "<>&\"'\n"));
        ck_assert_uint_lt(strlen(text), 120);
        ck_assert_int_eq(text[strlen(text) - 1], '.');
    }
}
END_TEST

START_TEST(state_expired_wording)
{
    ck_assert_str_eq(olo_reason_name(OLO_R_STATE_EXPIRED), "state-expired");
    ck_assert_str_eq(olo_reason_text(OLO_R_STATE_EXPIRED),
                     "Your login took too long. Please start again.");
    ck_assert_str_eq(olo_reason_name(OLO_R_KID_UNKNOWN), "kid-unknown");
    ck_assert_str_eq(olo_reason_name(OLO_OK), "ok");
}
END_TEST

START_TEST(out_of_range_is_never_null)
{
    ck_assert_str_eq(olo_reason_name(OLO_R__COUNT), "unknown");
    ck_assert_ptr_nonnull(olo_reason_text(OLO_R__COUNT));
    ck_assert_str_eq(olo_reason_name((olo_reason_t)-1), "unknown");
    ck_assert_ptr_nonnull(olo_reason_text((olo_reason_t)9999));
}
END_TEST

Suite *olo_suite_reason(void)
{
    Suite *s = suite_create("olo_reason");
    TCase *tc = tcase_create("reason");

    olo_test_add_pool_fixture(tc);
    tcase_add_test(tc, every_reason_has_a_name_and_text);
    tcase_add_test(tc, names_are_unique);
    tcase_add_test(tc, names_are_lowercase_with_hyphens);
    tcase_add_test(tc, texts_are_plain_sentences);
    tcase_add_test(tc, state_expired_wording);
    tcase_add_test(tc, out_of_range_is_never_null);
    suite_add_tcase(s, tc);
    return s;
}
