#ifndef OLO_CLAIMS_H
#define OLO_CLAIMS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>
#include "olo_reason.h"

/** What an ID token must say. */
typedef struct olo_expect_t {
    const char *issuer;             /* iss must equal this exactly */
    const char *client_id;          /* aud must be or contain this; azp, when present, too */
    const char *nonce;              /* NULL: nonce is not checked (no login of ours to bind to) */
    apr_interval_time_t skew;       /* tolerance for exp, iat and nbf */
    apr_interval_time_t max_age;    /* iat older than now - max_age - skew is refused; 0: no limit */
    int just_issued;                /* from the token endpoint just now: iat is the provider's
                                     * clock, so time refusals may be OLO_R_CLOCK_SKEW */
} olo_expect_t;

/* Clocks further apart than this are not diagnosed: the token is taken at its word. */
#define OLO_CLAIMS_CLOCK_LIMIT_SEC 1800

/**
 * Checks iss, aud, azp, exp, iat, nbf, nonce and sub of an already verified token.
 * aud with several entries requires azp == client_id (OIDC Core 3.1.3.7 items 4-5).
 * exp is required; iat is required; nbf is optional. Times are seconds since the epoch
 * (JSON integer or real); `now` is apr_time_t.
 * Rules, in the order they are checked (the first failure is reported):
 *   iss   equals want->issuer exactly                                 OLO_R_ISS_MISMATCH
 *   aud   equals want->client_id, or is an array containing it        OLO_R_AUD_MISMATCH
 *   azp   when present equals client_id; required when aud has
 *         more than one entry                                         OLO_R_AZP_MISMATCH
 *   exp   present and > now - skew                                    OLO_R_EXPIRED
 *   iat   present, <= now + skew and, when max_age > 0,
 *         >= now - max_age - skew                                     OLO_R_IAT_INVALID
 *   nbf   when present, a number <= now + skew                        OLO_R_NBF_FUTURE
 *   nonce when want->nonce is set, present and equal                  OLO_R_NONCE_MISMATCH
 *   sub   a non-empty string                                          OLO_R_SUB_MISSING
 * claims not being an object gives OLO_R_TOKEN_MALFORMED.
 * When want->just_issued, a refusal for exp, iat or nbf becomes OLO_R_CLOCK_SKEW when the clocks,
 * not the token, are to blame: the token was valid at its own iat (iat < exp, nbf absent or
 * <= iat + skew), passes the nonce and sub rules, and |now - iat| is more than skew and at most
 * OLO_CLAIMS_CLOCK_LIMIT_SEC.
 * APR_SUCCESS with *preason = OLO_OK, or APR_EGENERAL with the first failing reason.
 */
apr_status_t olo_claims_check(olo_reason_t *preason, json_t *claims, const olo_expect_t *want,
                              apr_time_t now);

/** What a bearer token from another trusted key set (e.g. OpenMetadata's bot JWKS) must say. */
typedef struct olo_bearer_expect_t {
    const apr_array_header_t *issuers;      /* iss must be one of these; NULL: any */
    const apr_array_header_t *audiences;    /* aud must contain one of these; NULL: any */
    int require_exp;                        /* bot tokens may be minted without expiry */
    apr_interval_time_t skew;
} olo_bearer_expect_t;

/**
 * Checks a verified bearer token from a non-OIDC issuer: iss, aud, exp (required unless
 * require_exp is 0, checked whenever present), nbf and iat (not in the future), in that order.
 * OLO_R_ISS_MISMATCH, OLO_R_AUD_MISMATCH, OLO_R_EXPIRED, OLO_R_NBF_FUTURE, OLO_R_IAT_INVALID.
 */
apr_status_t olo_claims_check_bearer(olo_reason_t *preason, json_t *claims,
                                     const olo_bearer_expect_t *want, apr_time_t now);

/**
 * The token's times next to the server's, for a log line: "server time S (ISO); token iat S
 * (ISO), exp S (ISO), nbf S (ISO) or no nbf; this server is N s ahead of|behind the token's
 * iat (skew K s)". Absent or unusable claims show as "none". Allocated from p; never NULL.
 */
const char *olo_claims_times(apr_pool_t *p, json_t *claims, apr_interval_time_t skew,
                             apr_time_t now);

/** String value of a claim, or NULL when absent or not a string. */
const char *olo_claims_string(json_t *claims, const char *name);

/**
 * A claim as text for headers: a string as is, a number or bool printed, an array of strings
 * comma-joined (an empty array gives ""). NULL when absent, null, an object, or an array
 * holding anything but strings. Allocated from p.
 */
const char *olo_claims_text(apr_pool_t *p, json_t *claims, const char *name);

/** True when the claim equals value (string) or contains it (array of strings). */
int olo_claims_match(json_t *claims, const char *name, const char *value);

#endif
