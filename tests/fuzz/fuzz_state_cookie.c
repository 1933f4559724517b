/* The pending-login cookie, opened by the callback and swept on every login start.
 * First byte % 3: 0 "state\nvalue" as the callback meets them; 1 "state\nplaintext" with the
 * plaintext sealed here for that state's cookie; 2 a Cookie header given to olo_state_stale. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_cookie.h"
#include "../../auth/olo_state.h"
#include "../../auth/olo_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static void open_one(apr_pool_t *p, const char *state, const char *value)
{
    olo_pending_t *pending = NULL;
    olo_reason_t reason = OLO_OK;

    if (olo_state_open(&pending, &reason, p, olo_fuzz_keys()->state, state, value,
                       OLO_FUZZ_NOW) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(reason == OLO_OK && pending != NULL);
        OLO_FUZZ_ASSERT(strcmp(pending->state, state) == 0);
        OLO_FUZZ_ASSERT(pending->nonce != NULL && pending->verifier != NULL);
        /* the landing place after login is never another site */
        OLO_FUZZ_ASSERT(strcmp(pending->target, "/") == 0
                        || olo_url_is_local_target(pending->target));
        OLO_FUZZ_ASSERT(pending->created + apr_time_from_sec(OLO_STATE_TTL_SEC) > OLO_FUZZ_NOW);
    }
    else {
        OLO_FUZZ_ASSERT(pending == NULL);
        OLO_FUZZ_ASSERT(reason == OLO_R_STATE_UNKNOWN || reason == OLO_R_STATE_EXPIRED);
    }
}

static int listed(const apr_array_header_t *names, const char *name)
{
    for (int i = 0; i < names->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(names, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* After the sweep the browser keeps at most `keep` pending logins, and only ones that open. */
static void check_stale(apr_pool_t *p, const char *header, int keep)
{
    const olo_seal_key_t *key = olo_fuzz_keys()->state;
    apr_array_header_t *stale = olo_state_stale(p, key, header, keep, OLO_FUZZ_NOW);
    apr_array_header_t *names = olo_cookie_names(p, header, OLO_STATE_COOKIE_PREFIX);
    int kept = 0;

    for (int i = 0; i < stale->nelts; i++) {
        OLO_FUZZ_ASSERT(listed(names, APR_ARRAY_IDX(stale, i, const char *)));
    }
    for (int i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        olo_pending_t *pending = NULL;

        if (listed(stale, name)) {
            continue;
        }
        kept++;
        OLO_FUZZ_ASSERT(olo_state_open(&pending, NULL, p, key,
                                       name + strlen(OLO_STATE_COOKIE_PREFIX),
                                       olo_cookie_get(p, header, name), OLO_FUZZ_NOW)
                        == APR_SUCCESS);
    }
    OLO_FUZZ_ASSERT(kept <= keep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const olo_seal_key_t *key = olo_fuzz_keys()->state;
    apr_pool_t *p;
    const uint8_t *rest = NULL;
    size_t restlen = 0;
    const char *state, *value = NULL;

    if (size < 1) {
        return 0;
    }
    p = olo_fuzz_begin();
    if (data[0] % 3 == 2) {
        check_stale(p, olo_fuzz_cstr(p, data + 1, size - 1), data[0] % 4);
        olo_fuzz_end(p);
        return 0;
    }
    state = olo_fuzz_split(&rest, &restlen, p, data + 1, size - 1, '\n');
    if (rest != NULL && data[0] % 3 == 0) {
        value = olo_fuzz_cstr(p, rest, restlen);
    }
    else if (rest != NULL
             && olo_seal(&value, p, key, olo_state_cookie_name(p, state), rest, restlen)
                    != APR_SUCCESS) {
        value = NULL;
    }
    open_one(p, state, value);
    olo_fuzz_end(p);
    return 0;
}
