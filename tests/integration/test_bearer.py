"""OneLoginAcceptBearer: scripts and OpenMetadata's ingestion bot call the API without a
session, with their own `Authorization: Bearer <JWT>`: a OneLogin ID token for this app, or
a bot token signed by OpenMetadata's key (OneLoginBearerJWKS, fetched over https). A token
that does not hold up gets 401 `error="invalid_token"`, never a redirect, and never reaches
OpenMetadata."""

import json
import re
import secrets

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import env as E
import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, set_cookies
from test_provider import jwk_to_pem

LOGGED_IN_USER = "/api/v1/users/loggedInUser"
BOT_ISSUER = "open-metadata.org"


def bearer_location(om, *extra):
    lines = "\n    ".join(extra)
    return f"""
<Location /api/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {om.jwks_url}
    OneLoginBearerIssuer {BOT_ISSUER}
    {lines}
</Location>
"""


def om_httpd_config(om, provider):
    return {"server": {"OneLoginScope": '"openid email profile groups"'},
            "extra_config": bearer_location(om)}


def api(browser, token, accept=API, path=LOGGED_IN_USER):
    return browser.get(path, accept=accept, headers={"Authorization": f"Bearer {token}"})


def assert_invalid_token(r):
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer "), www
    assert 'realm="OneLogin"' in www, www
    assert 'error="invalid_token"' in www, www
    assert re.search(r'error_description="[^"]+"', www), www
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert isinstance(r.json(), dict), r.text


def provider_pem(provider):
    with provider.session() as s:
        return jwk_to_pem(s.get(f"{provider.issuer}/certs", timeout=10).json()["keys"][0])


# -- accepted -----------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [API, HTML], ids=["api", "browser-accept"])
def test_onelogin_id_token_is_accepted_without_session(om_httpd, om_browser, openmetadata,
                                                       provider, accept):
    token = oc.id_token(provider)
    r = api(om_browser, token, accept)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    me = r.json()
    assert (me["name"], me["email"], me["isBot"]) == ("alice", "alice@example.com", False), me
    assert not [c for c in set_cookies(r) if c.startswith("olo_")], \
        "a Bearer request must not start a browser session"
    seen = openmetadata.requests_seen()[-1]
    assert seen["bearer"] == token, "the token was not passed on unchanged"
    assert seen["headers"].get("x-onelogin-user") == "alice@example.com", seen["headers"]
    assert seen["headers"].get("x-remote-user") == "alice@example.com", seen["headers"]
    assert seen["headers"].get("x-onelogin-groups") == "Admins,Everyone", seen["headers"]


def test_bot_token_from_openmetadata_jwks_is_accepted(om_httpd, om_browser, openmetadata):
    token = openmetadata.bot_token(exp_seconds=600)
    r = api(om_browser, token)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    me = r.json()
    assert (me["name"], me["isBot"]) == ("ingestion-bot", True), me
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER]
    assert len(calls) == 1 and calls[0]["bearer"] == token, calls
    assert calls[0]["source"] == "openmetadata", calls[0]
    h = calls[0]["headers"]
    assert h.get("x-onelogin-user") == "ingestion-bot@open-metadata.org", h
    assert h.get("x-remote-user") == "ingestion-bot@open-metadata.org", h


def test_bearer_beats_no_session_but_a_session_still_works(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    r = om_browser.get(LOGGED_IN_USER, accept=API)
    assert r.status_code == 200 and r.json()["name"] == "alice", r.text
    # A logged-in browser calling with a bot's valid token: the token is passed on.
    bot = openmetadata.bot_token()
    r = api(om_browser, bot)
    assert r.status_code == 200 and r.json()["name"] == "ingestion-bot", r.text


# -- refused --------------------------------------------------------------------------------

def refused_tokens(kind, provider, om):
    """(token, why) for each way a Bearer token must be refused."""
    if kind in ("expired", "wrong-aud", "wrong-iss", "bad-signature"):
        provider.set_mode(kind)
        try:
            return oc.id_token(provider)
        finally:
            provider.reset()
    alice = oc.id_token(provider)
    return {
        "tampered-claims": lambda: oc.with_claims(alice, email="bob@example.com"),
        "alg-none": lambda: oc.alg_none(alice),
        "hs256-confusion": lambda: oc.hs256(alice, provider_pem(provider).encode()),
        "garbage": lambda: "not-a-jwt",
        "three-garbage-parts": lambda: "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
        # Well past OneLoginClockSkew (60 s), which the module allows on exp.
        "bot-expired": lambda: om.bot_token(exp_seconds=-300),
        "bot-no-exp": lambda: om.bot_token(exp_seconds=None),
        "bot-wrong-iss": lambda: om.bot_token(claims={"iss": "https://evil.example"}),
        "bot-unknown-kid": lambda: om.bot_token(kid="om-bot-unknown"),
        # OpenMetadata's key must not mint OneLogin users: its tokens need iss open-metadata.org.
        "bot-key-as-onelogin": lambda: om.bot_token(claims={
            "iss": provider.issuer, "aud": "olo-test-client", "sub": "10002",
            "email": "bob@example.com", "isBot": None, "tokenType": None}),
    }[kind]()


REFUSED = ["expired", "wrong-aud", "wrong-iss", "bad-signature", "tampered-claims", "alg-none",
           "hs256-confusion", "garbage", "three-garbage-parts", "bot-expired", "bot-no-exp",
           "bot-wrong-iss", "bot-unknown-kid", "bot-key-as-onelogin"]


@pytest.mark.parametrize("kind", REFUSED)
def test_bad_bearer_gets_401_invalid_token(om_httpd, om_browser, openmetadata, provider,
                                           expect_log_ids, kind):
    expect_log_ids("OLO00046")
    token = refused_tokens(kind, provider, openmetadata)
    openmetadata.reset()
    for accept in (API, HTML):
        assert_invalid_token(api(om_browser, token, accept))
    assert [e for e in openmetadata.requests_seen()
            if e["path"] != "/api/v1/system/config/jwks"] == [], \
        "a refused token reached OpenMetadata"


def test_bearer_is_only_accepted_where_accept_bearer_is_on(om_httpd, om_browser, openmetadata,
                                                           provider):
    token = oc.id_token(provider)
    r = om_browser.get("/table/x", accept=API, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json().get("error") == "login-required", r.text
    # A request that carries Authorization is no page navigation: 401 or the login page,
    # either way not through.
    r = om_browser.get("/table/x", accept=HTML, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (401, *LOGIN_REDIRECTS), (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == []


def test_require_exp_off_and_audience(httpd_factory, browser_factory, openmetadata,
                                      expect_log_ids):
    expect_log_ids("OLO00046")
    h = httpd_factory(backend=openmetadata, extra_config=bearer_location(
        openmetadata, "OneLoginBearerRequireExp Off", "OneLoginBearerAudience om-api other-api"))
    b = browser_factory(h)
    # "Unlimited" bot token (no exp) for the right audience: accepted.
    r = api(b, openmetadata.bot_token(exp_seconds=None, claims={"aud": "om-api"}))
    assert r.status_code == 200 and r.json()["name"] == "ingestion-bot", r.text
    # This fresh instance fetched the bot keys itself, over https.
    assert [e for e in openmetadata.requests_seen()
            if e["path"] == "/api/v1/system/config/jwks" and e["listener"] == "https"], \
        "the module never fetched OpenMetadata's JWKS over https"
    r = api(b, openmetadata.bot_token(claims={"aud": ["x", "other-api"]}))
    assert r.status_code == 200, r.text
    # No aud, or another one: refused.
    assert_invalid_token(api(b, openmetadata.bot_token(exp_seconds=None)))
    assert_invalid_token(api(b, openmetadata.bot_token(claims={"aud": "someone-else"})))
    # exp, when present, still counts.
    assert_invalid_token(api(b, openmetadata.bot_token(exp_seconds=-300,
                                                       claims={"aud": "om-api"})))


def test_require_onelogin_claim_applies_to_bearer_tokens(httpd_factory, browser_factory,
                                                        openmetadata, provider):
    h = httpd_factory(backend=openmetadata,
                      server={"OneLoginScope": '"openid email profile groups"'},
                      extra_config=bearer_location(openmetadata,
                                                   "Require onelogin-claim groups:Admins"))
    b = browser_factory(h)
    # alice is in Admins: her ID token as a bearer passes the claim check.
    r = api(b, oc.id_token(provider))
    assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text[:300])
    # bob is not: a valid token, yet 403 and the backend never sees the request.
    openmetadata.reset()
    r = api(b, oc.id_token(provider, "bob@example.com", "bob-password"))
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == []


def test_bearer_jwks_must_be_https(config_test, openmetadata):
    rc, out = config_test(extra_config=f"""
<Location /api/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS http://{E.HOST}:{openmetadata.port}/api/v1/system/config/jwks
</Location>
""")
    assert rc != 0, f"apache2 -t accepted an http:// JWKS URL:\n{out}"
    assert "OneLoginBearerJWKS" in out, out


# -- unknown kids: the keys are fetched again, bearer tokens within a rate limit ---------------
# With the module's defaults (OneLoginJWKSRefetchInterval 30): OneLoginAcceptBearer is the one
# directive set, on the echo backend, whose report shows what the module forwarded.

def accept_bearer_instance(httpd_factory):
    return httpd_factory(location_extra=["OneLoginAcceptBearer On"])


def jwks_fetches(provider):
    return len(provider.endpoint_log("jwks"))


def signed_by_unknown_key(token, key, kid):
    """The claims of a genuine ID token under a kid the provider never had, signed (RS256) by
    a key it never published: only a refetch could tell whether the provider rotated."""
    head = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = f"{oc.b64url(json.dumps(head))}.{oc.b64url(json.dumps(oc.claims(token)))}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{oc.b64url(signature)}"


def test_unknown_bearer_kids_refetch_the_keys_once_per_interval(httpd_factory, browser_factory,
                                                               provider, backend,
                                                               expect_log_ids):
    expect_log_ids("OLO00046")
    h = accept_bearer_instance(httpd_factory)
    b = browser_factory(h)
    genuine = oc.id_token(provider)
    # A genuine token: the module fetches the keys the ordinary way and caches them.
    r = api(b, genuine, path="/api/whoami")
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
    before = jwks_fetches(provider)
    assert before >= 1

    backend.reset()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kids = [f"invented-{i}-{secrets.token_hex(4)}" for i in range(20)]
    for kid in kids:
        assert_invalid_token(api(b, signed_by_unknown_key(genuine, key, kid),
                                 path="/api/whoami"))
    # The first unknown kid made the module ask the provider once more (it might have
    # rotated); the 19 others within the interval did not.
    assert jwks_fetches(provider) == before + 1, provider.endpoint_log("jwks")
    assert backend.requests_seen() == [], "a refused token reached the backend"
    refused = [ln for ln in h.error_lines() if "OLO00046:" in ln]
    assert len(refused) == len(kids), refused[-3:]


def test_an_ordinary_key_fetch_does_not_hold_back_a_rotated_bearer_token(
        httpd_factory, browser_factory, provider, backend, expect_log_ids):
    expect_log_ids("OLO00046")
    h = accept_bearer_instance(httpd_factory)
    # A login: the module's ordinary, first fetch of the provider's keys.
    browser_factory(h).login("/")
    before = jwks_fetches(provider)
    assert before >= 1

    # The provider rotates; a script gets a token straight from it and calls at once.
    rotated = provider.set_mode("rotate")["rotated_kid"]
    token = oc.id_token(provider)
    assert oc.header(token)["kid"] == rotated
    client = browser_factory(h)
    backend.reset()
    r = api(client, token, path="/api/whoami")
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    report = r.json()
    assert report["remote_user"] == "alice@example.com", report
    assert report["headers"]["Authorization"] == f"Bearer {token}", report["headers"]
    assert jwks_fetches(provider) == before + 1, "the new kid did not make one refetch"

    # That refetch, which a client's token forced, now holds back the next unknown kid.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_invalid_token(api(client, signed_by_unknown_key(token, key, "invented-kid"),
                             path="/api/whoami"))
    assert jwks_fetches(provider) == before + 1


def test_bearer_refetches_do_not_hold_back_a_login_after_rotation(
        httpd_factory, browser_factory, provider, backend, expect_log_ids):
    expect_log_ids("OLO00046")
    h = accept_bearer_instance(httpd_factory)
    client = browser_factory(h)
    genuine = oc.id_token(provider)
    assert api(client, genuine, path="/api/whoami").status_code == 200
    # A client's unknown kid uses up the bearer refetch of this interval.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_invalid_token(api(client, signed_by_unknown_key(genuine, key, "invented-kid"),
                             path="/api/whoami"))
    before = jwks_fetches(provider)

    # The provider rotates: the token endpoint's own ID token is no client's word, and its
    # new kid is fetched at once all the same.
    rotated = provider.set_mode("rotate")["rotated_kid"]
    report = browser_factory(h).login("/app")
    assert oc.header(report["headers"]["Authorization"].split(" ", 1)[1])["kid"] == rotated
    assert jwks_fetches(provider) == before + 1
    # A client's token with the new kid now verifies from the cache.
    r = api(client, oc.id_token(provider), path="/api/whoami")
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
    assert jwks_fetches(provider) == before + 1


# -- the principal: OneLoginRemoteUserClaim's default list (email preferred_username sub) ----

def test_bot_token_with_only_sub_names_the_bot(httpd_factory, browser_factory, openmetadata):
    # OneLoginBearerJWKS and OneLoginBearerIssuer are what makes a bot token acceptable at all.
    h = httpd_factory(backend=openmetadata, extra_config=bearer_location(openmetadata))
    token = openmetadata.bot_token(exp_seconds=600, claims={"email": None})
    assert "email" not in oc.claims(token) and "preferred_username" not in oc.claims(token)
    assert oc.claims(token)["sub"] == "ingestion-bot"
    r = api(browser_factory(h), token)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert (r.json()["name"], r.json()["isBot"]) == ("ingestion-bot", True), r.json()
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER]
    assert len(calls) == 1, calls
    assert calls[0]["bearer"] == token, "the token was not passed on byte for byte"
    headers = calls[0]["headers"]
    assert headers.get("x-remote-user") == "ingestion-bot", headers
    assert headers.get("x-onelogin-user") == "ingestion-bot", headers
    assert "x-onelogin-email" not in headers, headers


@pytest.mark.parametrize("removed, user", [
    ({"email": None, "preferred_username": "alice"}, "alice"),
    ({"email": None, "preferred_username": None}, "10001"),
], ids=["preferred_username", "sub"])
def test_bearer_id_token_without_email_is_named_by_the_next_claim(httpd_factory,
                                                                  browser_factory, provider,
                                                                  backend, removed, user):
    h = accept_bearer_instance(httpd_factory)
    provider.set_mode("claims", claims=removed)
    token = oc.id_token(provider)
    provider.reset()
    assert "email" not in oc.claims(token)
    r = api(browser_factory(h), token, path="/api/whoami")
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    report = r.json()
    assert report["remote_user"] == user, report
    headers = {k.lower(): v for k, v in report["headers"].items()}
    assert headers.get("x-onelogin-user") == user, headers
    assert "x-onelogin-email" not in headers, headers
    assert headers.get("authorization") == f"Bearer {token}", headers
