/* One table for names (log lines, tests) and texts (error pages), so adding a reason to the
 * enum without wording it here fails the unit suite instead of showing a blank page. */
#include <stddef.h>
#include "olo_reason.h"

typedef struct olo_reason_entry_t {
    const char *name;
    const char *text;
} olo_reason_entry_t;

static const olo_reason_entry_t olo_reason_table[OLO_R__COUNT] = {
    [OLO_OK] = {"ok", "You are signed in."},
    [OLO_R_TOKEN_MALFORMED] = {"token-malformed",
                               "The sign-in service sent a token we could not read. "
                               "Please try again."},
    [OLO_R_ALG_NOT_ALLOWED] = {"alg-not-allowed",
                               "The sign-in service used a signature method we do not accept."},
    [OLO_R_KID_UNKNOWN] = {"kid-unknown",
                           "The sign-in service used a key we do not know yet. Please try again."},
    [OLO_R_NO_KEY] = {"no-key", "We found no key to check your sign-in with. Please try again."},
    [OLO_R_BAD_SIGNATURE] = {"bad-signature", "Your sign-in could not be verified."},
    [OLO_R_ISS_MISMATCH] = {"iss-mismatch", "Your sign-in came from an unexpected service."},
    [OLO_R_AUD_MISMATCH] = {"aud-mismatch", "Your sign-in was meant for another application."},
    [OLO_R_AZP_MISMATCH] = {"azp-mismatch", "Your sign-in was meant for another application."},
    [OLO_R_EXPIRED] = {"expired", "Your sign-in has expired. Please sign in again."},
    [OLO_R_IAT_INVALID] = {"iat-invalid",
                           "Your sign-in has an invalid time. "
                           "Please check your clock and try again."},
    [OLO_R_NBF_FUTURE] = {"nbf-future",
                          "Your sign-in is not valid yet. Please check your clock and try again."},
    [OLO_R_NONCE_MISMATCH] = {"nonce-mismatch",
                              "Your sign-in does not belong to this login. Please start again."},
    [OLO_R_SUB_MISSING] = {"sub-missing", "Your sign-in did not say who you are."},
    [OLO_R_COOKIE_INVALID] = {"cookie-invalid",
                              "Your session is no longer valid. Please sign in again."},
    [OLO_R_SESSION_EXPIRED] = {"session-expired", "Your session has ended. Please sign in again."},
    [OLO_R_STATE_UNKNOWN] = {"state-unknown",
                             "We could not match this sign-in to a login you started. "
                             "Please start again."},
    [OLO_R_STATE_EXPIRED] = {"state-expired", "Your login took too long. Please start again."},
    [OLO_R_STATE_REPLAYED] = {"state-replayed",
                              "This login was already used. Please start again."},
    [OLO_R_PROVIDER_ERROR] = {"provider-error", "The sign-in service refused the login."},
    [OLO_R_CALLBACK_INVALID] = {"callback-invalid",
                                "The sign-in service sent an incomplete answer. "
                                "Please start again."},
    [OLO_R_PROVIDER_UNREACHABLE] = {"provider-unreachable",
                                    "The sign-in service cannot be reached. "
                                    "Please try again later."},
    [OLO_R_PROVIDER_BAD_RESPONSE] = {"provider-bad-response",
                                     "The sign-in service sent an answer we could not use. "
                                     "Please try again later."},
    [OLO_R_ISSUER_MISMATCH] = {"issuer-mismatch",
                               "The sign-in service is not the one this site is set up for."},
    [OLO_R_TOKEN_ENDPOINT_ERROR] = {"token-endpoint-error",
                                    "The sign-in service did not accept the login. "
                                    "Please start again."},
    [OLO_R_USER_CLAIM_INVALID] = {"user-claim-invalid",
                                  "Your user name holds characters this site cannot "
                                  "accept."},
    [OLO_R_USER_CLAIM_MISSING] = {"user-claim-missing",
                                  "Your account lacks the user name this site needs."},
    [OLO_R_CACHE_UNAVAILABLE] = {"cache-unavailable",
                                 "Sign-in is unavailable right now. Please try again later."},
    [OLO_R_LOGIN_REQUIRED] = {"login-required",
                              "You need to sign in to see this page."},
    [OLO_R_SESSION_IDLE] = {"session-idle",
                            "You were away for a while, so you were signed out. "
                            "Please sign in again."},
    [OLO_R_SESSION_REVOKED] = {"session-revoked", "You signed out. Please sign in again."},
    [OLO_R_SESSION_FORGOTTEN] = {"session-forgotten",
                                 "This site no longer knows your session. Please sign in again."},
    [OLO_R_NOT_ALLOWED] = {"not-allowed",
                           "You are signed in, but your account may not see this page. "
                           "Ask an administrator for access."},
    [OLO_R_REFRESH_FAILED] = {"refresh-failed",
                              "Your sign-in could not be renewed. Please sign in again."},
    [OLO_R_CLOCK_SKEW] = {"clock-skew",
                          "The clocks of this server and of the sign-in service disagree. "
                          "Please tell the site administrator."},
    /* 8 is OLO_STATE_MAX_PENDING (auth/, which jwt/ does not include; a unit test ties them) */
    [OLO_R_STATE_DROPPED] = {"state-dropped",
                             "Too many sign-ins were started in other tabs since this one: "
                             "it was dropped as the oldest of 8."},
};

/* Out-of-range values come from a corrupted or newer caller; answer with something usable
 * rather than NULL, which would crash a log call. */
static const olo_reason_entry_t olo_reason_unknown = {
    "unknown", "Sign-in failed. Please try again."};

static const olo_reason_entry_t *olo_reason_entry(olo_reason_t reason)
{
    if ((int)reason < 0 || reason >= OLO_R__COUNT || olo_reason_table[reason].name == NULL) {
        return &olo_reason_unknown;
    }
    return &olo_reason_table[reason];
}

const char *olo_reason_name(olo_reason_t reason)
{
    return olo_reason_entry(reason)->name;
}

const char *olo_reason_text(olo_reason_t reason)
{
    return olo_reason_entry(reason)->text;
}
