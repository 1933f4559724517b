/* The Cookie header: every request may carry one, in any shape. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_cookie.h"
#include "../../auth/olo_session.h"
#include "../../auth/olo_state.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

static const char *const own[] = {OLO_SESSION_COOKIE, OLO_STATE_COOKIE_PREFIX, NULL};
static const char *const names[] = {OLO_SESSION_COOKIE, "olo_state_abc", "a", "", " ", "=", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = olo_fuzz_begin();
    const char *header = olo_fuzz_cstr(p, data, size);
    apr_array_header_t *all, *states;
    const char *rest;

    for (int i = 0; names[i] != NULL; i++) {
        const char *value = olo_cookie_get(p, header, names[i]);
        /* a value never runs into the next pair */
        OLO_FUZZ_ASSERT(value == NULL || strpbrk(value, ";,") == NULL);
        OLO_FUZZ_ASSERT(value == NULL || *names[i] != '\0');
    }
    all = olo_cookie_names(p, header, NULL);
    states = olo_cookie_names(p, header, OLO_STATE_COOKIE_PREFIX);
    OLO_FUZZ_ASSERT(all->nelts <= 64 && states->nelts <= 64);
    for (int i = 0; i < states->nelts; i++) {
        const char *name = APR_ARRAY_IDX(states, i, const char *);
        OLO_FUZZ_ASSERT(strncmp(name, OLO_STATE_COOKIE_PREFIX,
                                strlen(OLO_STATE_COOKIE_PREFIX)) == 0);
    }
    for (int i = 0; i < all->nelts; i++) {
        const char *name = APR_ARRAY_IDX(all, i, const char *);
        OLO_FUZZ_ASSERT(*name != '\0' && strpbrk(name, ";,=") == NULL);
        olo_cookie_get(p, header, name);
    }
    /* what the backend receives holds none of the module's own cookies */
    rest = olo_cookie_without(p, header, own);
    if (rest != NULL) {
        OLO_FUZZ_ASSERT(olo_cookie_get(p, rest, OLO_SESSION_COOKIE) == NULL);
        OLO_FUZZ_ASSERT(olo_cookie_names(p, rest, OLO_STATE_COOKIE_PREFIX)->nelts == 0);
    }
    /* a chunked session joins to what was split, and any value set again round-trips */
    const char *joined = olo_cookie_get_chunked(p, header, OLO_SESSION_COOKIE);
    if (joined != NULL && *joined != '\0' && strlen(joined) <= 4 * OLO_COOKIE_CHUNK) {
        olo_cookie_attrs_t attrs = {1, 1, "Lax", "/", -1};
        apr_array_header_t *lines = olo_cookie_set_chunked(p, header, OLO_SESSION_COOKIE, joined,
                                                           &attrs);
        OLO_FUZZ_ASSERT(lines != NULL && lines->nelts >= 1);
    }
    olo_fuzz_end(p);
    return 0;
}
