/* ID token claim checks (OIDC Core 3.1.3.7). Each rule is one small function; the order of
 * the table is the documented order in which the first failure is reported. */
#include <string.h>
#include <apr_strings.h>
#include "olo_claims.h"

/* What every rule looks at. */
typedef struct olo_claims_ctx_t {
    json_t *claims;
    const olo_expect_t *want;
    apr_time_t now;
} olo_claims_ctx_t;

typedef olo_reason_t olo_claims_rule_fn(const olo_claims_ctx_t *c);

/* Year 9999: beyond it a claim is nonsense, and the bound keeps seconds * 10^6 in range. */
#define OLO_CLAIMS_MAX_SECONDS 253402300799.0

/* A NumericDate (RFC 7519 section 2) as apr_time_t. Returns 0 when the claim is absent, not a
 * number, negative or absurdly far away. */
static int olo_claims_time(apr_time_t *ptime, json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);
    double secs;

    if (!json_is_number(v)) {
        return 0;
    }
    secs = json_number_value(v);
    if (!(secs >= 0 && secs <= OLO_CLAIMS_MAX_SECONDS)) {
        return 0;   /* also catches NaN */
    }
    *ptime = json_is_integer(v) ? apr_time_from_sec((apr_time_t)json_integer_value(v))
                                : (apr_time_t)(secs * APR_USEC_PER_SEC);
    return 1;
}

static int olo_claims_string_is(json_t *v, const char *value)
{
    return json_is_string(v) && value != NULL && strcmp(json_string_value(v), value) == 0;
}

static olo_reason_t olo_claims_rule_iss(const olo_claims_ctx_t *c)
{
    /* Exact comparison: no case folding, no trailing-slash tolerance (OIDC Core 3.1.3.7 #2). */
    return olo_claims_string_is(json_object_get(c->claims, "iss"), c->want->issuer)
               ? OLO_OK : OLO_R_ISS_MISMATCH;
}

static olo_reason_t olo_claims_rule_aud(const olo_claims_ctx_t *c)
{
    return olo_claims_match(c->claims, "aud", c->want->client_id) ? OLO_OK : OLO_R_AUD_MISMATCH;
}

/* A token for several audiences must say it was issued to us (OIDC Core 3.1.3.7 #4-5), or
 * another client of the same provider could replay its tokens here. */
static olo_reason_t olo_claims_rule_azp(const olo_claims_ctx_t *c)
{
    json_t *aud = json_object_get(c->claims, "aud");
    json_t *azp = json_object_get(c->claims, "azp");

    if (azp == NULL) {
        return (json_is_array(aud) && json_array_size(aud) > 1) ? OLO_R_AZP_MISMATCH : OLO_OK;
    }
    return olo_claims_string_is(azp, c->want->client_id) ? OLO_OK : OLO_R_AZP_MISMATCH;
}

static olo_reason_t olo_claims_rule_exp(const olo_claims_ctx_t *c)
{
    apr_time_t exp = 0;

    if (!olo_claims_time(&exp, c->claims, "exp") || exp <= c->now - c->want->skew) {
        return OLO_R_EXPIRED;
    }
    return OLO_OK;
}

static olo_reason_t olo_claims_rule_iat(const olo_claims_ctx_t *c)
{
    apr_time_t iat = 0;

    if (!olo_claims_time(&iat, c->claims, "iat") || iat > c->now + c->want->skew) {
        return OLO_R_IAT_INVALID;
    }
    /* An old token replayed long after the login it belonged to. */
    if (c->want->max_age > 0 && iat < c->now - c->want->max_age - c->want->skew) {
        return OLO_R_IAT_INVALID;
    }
    return OLO_OK;
}

static olo_reason_t olo_claims_rule_nbf(const olo_claims_ctx_t *c)
{
    apr_time_t nbf = 0;

    if (json_object_get(c->claims, "nbf") == NULL) {
        return OLO_OK;
    }
    /* Present but not a number is treated like a future nbf: we cannot tell it has passed. */
    if (!olo_claims_time(&nbf, c->claims, "nbf") || nbf > c->now + c->want->skew) {
        return OLO_R_NBF_FUTURE;
    }
    return OLO_OK;
}

/* The nonce binds the token to the browser that started the login (OIDC Core 3.1.3.7 #11). */
static olo_reason_t olo_claims_rule_nonce(const olo_claims_ctx_t *c)
{
    if (c->want->nonce == NULL) {
        return OLO_OK;
    }
    return olo_claims_string_is(json_object_get(c->claims, "nonce"), c->want->nonce)
               ? OLO_OK : OLO_R_NONCE_MISMATCH;
}

static olo_reason_t olo_claims_rule_sub(const olo_claims_ctx_t *c)
{
    const char *sub = olo_claims_string(c->claims, "sub");

    return (sub != NULL && *sub != '\0') ? OLO_OK : OLO_R_SUB_MISSING;
}

/* Keep in the order documented in olo_claims.h. */
static olo_claims_rule_fn *const olo_claims_rules[] = {
    olo_claims_rule_iss, olo_claims_rule_aud, olo_claims_rule_azp,   olo_claims_rule_exp,
    olo_claims_rule_iat, olo_claims_rule_nbf, olo_claims_rule_nonce, olo_claims_rule_sub,
};

static int olo_claims_is_time_reason(olo_reason_t reason)
{
    return reason == OLO_R_EXPIRED || reason == OLO_R_IAT_INVALID || reason == OLO_R_NBF_FUTURE;
}

/* A token the token endpoint issued just now carries the provider's clock in iat. When it was
 * valid at that moment and is ours in every other respect, a time refusal says the two clocks
 * disagree. Beyond the limit an old or mis-dated token is the likelier story. */
static int olo_claims_clock_apart(const olo_claims_ctx_t *c)
{
    apr_time_t iat = 0, exp = 0, nbf = 0;
    apr_interval_time_t skew = c->want->skew;

    if (!olo_claims_time(&iat, c->claims, "iat") || !olo_claims_time(&exp, c->claims, "exp")
        || exp <= iat) {
        return 0;
    }
    if (json_object_get(c->claims, "nbf") != NULL
        && (!olo_claims_time(&nbf, c->claims, "nbf") || nbf > iat + skew)) {
        return 0;
    }
    apr_interval_time_t apart = c->now > iat ? c->now - iat : iat - c->now;
    if (apart <= skew || apart > apr_time_from_sec(OLO_CLAIMS_CLOCK_LIMIT_SEC)) {
        return 0;
    }
    /* iss, aud and azp were checked before the times; nonce and sub come after them. */
    return olo_claims_rule_nonce(c) == OLO_OK && olo_claims_rule_sub(c) == OLO_OK;
}

apr_status_t olo_claims_check(olo_reason_t *preason, json_t *claims, const olo_expect_t *want,
                              apr_time_t now)
{
    olo_claims_ctx_t c = {claims, want, now};
    olo_reason_t reason = json_is_object(claims) ? OLO_OK : OLO_R_TOKEN_MALFORMED;

    for (apr_size_t i = 0; reason == OLO_OK && i < sizeof(olo_claims_rules) / sizeof(void *);
         i++) {
        reason = olo_claims_rules[i](&c);
    }
    if (want->just_issued && olo_claims_is_time_reason(reason) && olo_claims_clock_apart(&c)) {
        reason = OLO_R_CLOCK_SKEW;
    }
    *preason = reason;
    return (reason == OLO_OK) ? APR_SUCCESS : APR_EGENERAL;
}

/* "1714557600 (2024-05-01T10:00:00Z)", or "none" for an absent or unusable claim. */
static const char *olo_claims_time_text(apr_pool_t *p, int present, apr_time_t t)
{
    apr_time_exp_t tm;

    if (!present || apr_time_exp_gmt(&tm, t) != APR_SUCCESS) {
        return "none";
    }
    return apr_psprintf(p, "%" APR_TIME_T_FMT " (%04d-%02d-%02dT%02d:%02d:%02dZ)",
                        apr_time_sec(t), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

const char *olo_claims_times(apr_pool_t *p, json_t *claims, apr_interval_time_t skew,
                             apr_time_t now)
{
    apr_time_t iat = 0, exp = 0, nbf = 0;
    int has_iat = olo_claims_time(&iat, claims, "iat");
    int has_exp = olo_claims_time(&exp, claims, "exp");
    int has_nbf = olo_claims_time(&nbf, claims, "nbf");
    const char *apart = "";

    if (has_iat) {
        /* whole seconds: the claims are whole seconds, and so is what an operator compares */
        apr_int64_t secs = (apr_int64_t)(apr_time_sec(now) - apr_time_sec(iat));
        apart = apr_psprintf(p, "; this server is %" APR_INT64_T_FMT " s %s the token's iat",
                             secs < 0 ? -secs : secs, secs < 0 ? "behind" : "ahead of");
    }
    return apr_psprintf(p, "server time %s; token iat %s, exp %s, nbf %s%s (skew %" APR_TIME_T_FMT
                        " s)", olo_claims_time_text(p, 1, now),
                        olo_claims_time_text(p, has_iat, iat), olo_claims_time_text(p, has_exp, exp),
                        olo_claims_time_text(p, has_nbf, nbf), apart, apr_time_sec(skew));
}

const char *olo_claims_string(json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

/* Array of strings joined with ","; NULL when any element is not a string. */
static const char *olo_claims_join(apr_pool_t *p, json_t *array)
{
    apr_size_t total = 0, off = 0;
    char *out;

    for (size_t i = 0; i < json_array_size(array); i++) {
        const char *s = json_string_value(json_array_get(array, i));

        if (s == NULL) {
            return NULL;
        }
        total += strlen(s) + 1;
    }
    out = apr_palloc(p, total + 1);
    for (size_t i = 0; i < json_array_size(array); i++) {
        const char *s = json_string_value(json_array_get(array, i));

        if (i > 0) {
            out[off++] = ',';
        }
        memcpy(out + off, s, strlen(s));
        off += strlen(s);
    }
    out[off] = '\0';
    return out;
}

const char *olo_claims_text(apr_pool_t *p, json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    if (v == NULL) {
        return NULL;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        return apr_pstrdup(p, json_string_value(v));
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    case JSON_REAL:
        return apr_psprintf(p, "%.15g", json_real_value(v));
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_ARRAY:
        return olo_claims_join(p, v);
    default:
        return NULL;
    }
}

int olo_claims_match(json_t *claims, const char *name, const char *value)
{
    json_t *v = json_object_get(claims, name);

    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (olo_claims_string_is(json_array_get(v, i), value)) {
                return 1;
            }
        }
        return 0;
    }
    return olo_claims_string_is(v, value);
}

/* True when the string claim `name` equals, or the array claim contains, one of values. */
static int olo_claims_match_any(json_t *claims, const char *name, const apr_array_header_t *values)
{
    for (int i = 0; i < values->nelts; i++) {
        if (olo_claims_match(claims, name, APR_ARRAY_IDX(values, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

static olo_reason_t olo_claims_bearer_times(json_t *claims, const olo_bearer_expect_t *want,
                                            apr_time_t now)
{
    apr_time_t t = 0;
    if (json_object_get(claims, "exp") || want->require_exp) {
        if (!olo_claims_time(&t, claims, "exp") || t <= now - want->skew) {
            return OLO_R_EXPIRED;
        }
    }
    if (json_object_get(claims, "nbf")
        && (!olo_claims_time(&t, claims, "nbf") || t > now + want->skew)) {
        return OLO_R_NBF_FUTURE;
    }
    if (json_object_get(claims, "iat")
        && (!olo_claims_time(&t, claims, "iat") || t > now + want->skew)) {
        return OLO_R_IAT_INVALID;
    }
    return OLO_OK;
}

apr_status_t olo_claims_check_bearer(olo_reason_t *preason, json_t *claims,
                                     const olo_bearer_expect_t *want, apr_time_t now)
{
    olo_reason_t reason = OLO_OK;
    if (!json_is_object(claims)) {
        reason = OLO_R_TOKEN_MALFORMED;
    }
    else if (want->issuers && !olo_claims_match_any(claims, "iss", want->issuers)) {
        reason = OLO_R_ISS_MISMATCH;
    }
    else if (want->audiences && !olo_claims_match_any(claims, "aud", want->audiences)) {
        reason = OLO_R_AUD_MISMATCH;
    }
    else {
        reason = olo_claims_bearer_times(claims, want, now);
    }
    *preason = reason;
    return (reason == OLO_OK) ? APR_SUCCESS : APR_EGENERAL;
}
