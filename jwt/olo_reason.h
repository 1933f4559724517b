#ifndef OLO_REASON_H
#define OLO_REASON_H

/* Why a login, a token or a cookie was refused. One list for every layer so that the glue
 * can turn any outcome into one log line and one error page. */
typedef enum {
    OLO_OK = 0,
    /* tokens (jwt/) */
    OLO_R_TOKEN_MALFORMED,      /* not three base64url segments, bad JSON, too large */
    OLO_R_ALG_NOT_ALLOWED,      /* none, HS*, or an algorithm outside the allow-list */
    OLO_R_KID_UNKNOWN,          /* kid names no key in the JWKS (may mean key rotation) */
    OLO_R_NO_KEY,               /* no key of the right type, or kid absent and several keys */
    OLO_R_BAD_SIGNATURE,
    OLO_R_ISS_MISMATCH,
    OLO_R_AUD_MISMATCH,
    OLO_R_AZP_MISMATCH,         /* azp absent with several audiences, or not our client */
    OLO_R_EXPIRED,
    OLO_R_IAT_INVALID,          /* absent, in the future, or too old */
    OLO_R_NBF_FUTURE,
    OLO_R_NONCE_MISMATCH,
    OLO_R_SUB_MISSING,
    /* cookies (jwt/olo_seal, auth/) */
    OLO_R_COOKIE_INVALID,       /* does not decrypt: tampered, foreign or made with an old secret */
    OLO_R_SESSION_EXPIRED,
    /* flow (auth/) */
    OLO_R_STATE_UNKNOWN,        /* no pending login of this browser carries that state */
    OLO_R_STATE_EXPIRED,
    OLO_R_STATE_REPLAYED,
    OLO_R_PROVIDER_ERROR,       /* the provider answered the callback with error= */
    OLO_R_CALLBACK_INVALID,     /* callback without code or state, or oversized */
    OLO_R_PROVIDER_UNREACHABLE, /* connect/TLS failure or timeout */
    OLO_R_PROVIDER_BAD_RESPONSE,/* HTTP error status, invalid JSON, missing fields */
    OLO_R_ISSUER_MISMATCH,      /* discovered issuer differs from OneLoginIssuer */
    OLO_R_TOKEN_ENDPOINT_ERROR, /* the token endpoint refused the code */
    OLO_R_USER_CLAIM_MISSING,   /* the RemoteUserClaim is absent from the ID token */
    OLO_R_USER_CLAIM_INVALID,   /* it holds control characters: it cannot be REMOTE_USER */
    OLO_R_CACHE_UNAVAILABLE,
    OLO_R_LOGIN_REQUIRED,       /* no session, and the request cannot follow a login redirect */
    OLO_R_SESSION_IDLE,         /* no request for longer than OneLoginSessionIdleTimeout */
    OLO_R_SESSION_REVOKED,      /* the session was ended by a logout */
    OLO_R_SESSION_FORGOTTEN,    /* the cache no longer holds a session nobody ended */
    OLO_R_REFRESH_FAILED,       /* the provider would not renew the ID token */
    OLO_R_NOT_ALLOWED,          /* logged in, but a Require onelogin-claim does not match */
    OLO_R_CLOCK_SKEW,           /* a fresh token's times say this server's clock is off */
    OLO_R_STATE_DROPPED,        /* the pending login was dropped as the oldest of too many */
    OLO_R__COUNT
} olo_reason_t;

/** Short, stable, log-friendly name of a reason ("kid-unknown"). Never NULL. */
const char *olo_reason_name(olo_reason_t reason);

/** One sentence for an error page, written for the person at the browser. Never NULL. */
const char *olo_reason_text(olo_reason_t reason);

#endif
