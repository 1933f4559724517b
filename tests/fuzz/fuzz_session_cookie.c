/* The session cookie: opened on every request that carries one, so any browser can send it.
 * First byte: '0' the rest is the cookie value; '1' the rest is a plaintext sealed here with
 * the session key (what a stolen or leaked secret, or a format bug, would let through the
 * seal); '2' the rest is a Cookie header the value is taken from; '3' the rest is a plaintext
 * sealed as a server-store handle. Every value is also opened as a handle. */
#include <string.h>
#include "olo_fuzz.h"
#include "../../auth/olo_cookie.h"
#include "../../auth/olo_session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    olo_fuzz_init();
    return 0;
}

/* An opened session seals again and opens to the same fields. */
static void check_roundtrip(apr_pool_t *p, const olo_session_t *s)
{
    const olo_seal_key_t *key = olo_fuzz_keys()->session;
    olo_session_t *again = NULL;
    const char *value = NULL;

    OLO_FUZZ_ASSERT(s->user && *s->user && s->sub && *s->sub && s->id && *s->id);
    OLO_FUZZ_ASSERT(OLO_FUZZ_NOW < s->expires);
    OLO_FUZZ_ASSERT(olo_session_seal(&value, p, key, s) == APR_SUCCESS);
    OLO_FUZZ_ASSERT(olo_session_open(&again, NULL, p, key, value, OLO_FUZZ_NOW) == APR_SUCCESS);
    OLO_FUZZ_ASSERT(strcmp(again->user, s->user) == 0 && strcmp(again->id, s->id) == 0);
    OLO_FUZZ_ASSERT(again->expires == s->expires && again->created == s->created
                    && again->last_seen == s->last_seen
                    && again->token_expires == s->token_expires);
    OLO_FUZZ_ASSERT((again->id_token == NULL) == (s->id_token == NULL));
}

/* A handle opens to a well-formed session id only, which seals to a handle naming it again. */
static void check_handle(apr_pool_t *p, const char *value)
{
    const olo_seal_key_t *key = olo_fuzz_keys()->session;
    const char *id = NULL, *again = NULL, *sealed = NULL;

    if (olo_session_handle_open(&id, p, key, value) != APR_SUCCESS) {
        OLO_FUZZ_ASSERT(id == NULL);
        return;
    }
    OLO_FUZZ_ASSERT(strlen(id) == 24 && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                                   "qrstuvwxyz0123456789-_") == 24);
    OLO_FUZZ_ASSERT(olo_session_handle_seal(&sealed, p, key, id) == APR_SUCCESS);
    OLO_FUZZ_ASSERT(olo_session_handle_open(&again, p, key, sealed) == APR_SUCCESS);
    OLO_FUZZ_ASSERT(strcmp(again, id) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const olo_seal_key_t *key = olo_fuzz_keys()->session;
    apr_pool_t *p;
    const char *value = NULL;
    olo_session_t *session = NULL;
    olo_reason_t reason = OLO_OK;

    if (size < 1) {
        return 0;
    }
    p = olo_fuzz_begin();
    switch (data[0] % 4) {
    case 0:
        value = olo_fuzz_cstr(p, data + 1, size - 1);
        break;
    case 1:
        if (olo_seal(&value, p, key, OLO_SESSION_COOKIE, data + 1, size - 1) != APR_SUCCESS) {
            value = NULL;
        }
        break;
    case 2:
        value = olo_cookie_get(p, olo_fuzz_cstr(p, data + 1, size - 1), OLO_SESSION_COOKIE);
        break;
    default:
        if (olo_session_handle_seal(&value, p, key, olo_fuzz_cstr(p, data + 1, size - 1))
            != APR_SUCCESS) {
            value = NULL;
        }
        break;
    }
    check_handle(p, value);
    if (olo_session_open(&session, &reason, p, key, value, OLO_FUZZ_NOW) == APR_SUCCESS) {
        OLO_FUZZ_ASSERT(reason == OLO_OK && session != NULL);
        olo_session_is_idle(session, apr_time_from_sec(3600), OLO_FUZZ_NOW);
        olo_session_needs_touch(session, apr_time_from_sec(3600), OLO_FUZZ_NOW);
        check_roundtrip(p, session);
    }
    else {
        OLO_FUZZ_ASSERT(session == NULL);
        OLO_FUZZ_ASSERT(reason == OLO_R_COOKIE_INVALID || reason == OLO_R_SESSION_EXPIRED);
    }
    olo_fuzz_end(p);
    return 0;
}
