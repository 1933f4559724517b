"""The module in front of OpenMetadata (the stand-in, tests/backend/openmetadata.js): what
OpenMetadata's API receives, and the paths the module shares with OpenMetadata's web app."""

import time

import pytest

import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS
from test_provider import jwk_to_pem

XHR = {"X-Requested-With": "XMLHttpRequest"}
LOGGED_IN_USER = "/api/v1/users/loggedInUser"
# What OpenMetadata's web app (oidc-client-ts) puts in its own login's state: 32 hex digits.
SPA_STATE = "5f0c2d8e9b7a41c3a6e2f1d0b9c8a7e6"


def om_httpd_config(om, provider):
    return {
        "server": {"OneLoginScope": '"openid email profile groups"'},
        "extra_config": """
<Location /explore>
    OneLoginUnauthAction pass
</Location>
<Location /always-401>
    OneLoginUnauthAction 401
</Location>
<Location /always-redirect>
    OneLoginUnauthAction redirect
</Location>
LogFormat "%U|%{ONELOGIN_USER}e|%{ONELOGIN_EMAIL}e|%{ONELOGIN_NAME}e|%{ONELOGIN_GROUPS}e" olo_env
CustomLog "logs/env_log" olo_env
""",
    }


def last(om, path_prefix):
    seen = [e for e in om.requests_seen() if e["path"].startswith(path_prefix)]
    assert seen, f"OpenMetadata never saw {path_prefix}: {[e['path'] for e in om.requests_seen()]}"
    return seen[-1]


def session_token(browser, om):
    """The ID token the module forwards for this browser's session."""
    r = browser.get(LOGGED_IN_USER, accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    entry = last(om, LOGGED_IN_USER)
    assert entry["verified"], entry
    return entry["bearer"]


def provider_key_pem(provider):
    with provider.session() as s:
        jwks = s.get(f"{provider.issuer}/certs", timeout=10).json()
    return jwk_to_pem(jwks["keys"][0]).encode()


def forged_authorization(kind, token, provider):
    """An Authorization header value that must not reach the backend: built from `token`
    (a real ID token of alice) and claiming to be bob."""
    bob = {"email": "bob@example.com", "sub": "10002"}
    if kind == "other-user":
        return "Bearer " + oc.with_claims(token, **bob)
    if kind == "alg-none":
        return "Bearer " + oc.alg_none(token, **bob)
    if kind == "hs256-pem":
        return "Bearer " + oc.hs256(token, provider_key_pem(provider), **bob)
    if kind == "garbage":
        return "Bearer " + "A" * 300
    if kind == "not-a-jwt":
        return "Bearer a.b.c"
    return "Basic Ym9iOnBhc3N3b3Jk"


def assert_login_required_401(r):
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer"), r.headers
    assert 'realm="OneLogin"' in www, www
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.json().get("error") == "login-required", r.text
    assert "Location" not in r.headers, r.headers


# -- the forwarded identity ---------------------------------------------------------------

def test_forwarded_id_token_is_accepted_by_openmetadata(om_httpd, om_browser, openmetadata,
                                                        provider):
    om_browser.sign_in("/")
    r = om_browser.get(LOGGED_IN_USER, accept=API, headers=XHR)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    me = r.json()
    assert (me["name"], me["email"], me["isBot"]) == ("alice", "alice@example.com", False), me
    entry = last(openmetadata, LOGGED_IN_USER)
    assert entry["verified"] and entry["source"] == "provider", entry
    assert entry["claims"]["iss"] == provider.issuer
    assert entry["claims"]["aud"] == "olo-test-client"


def test_openmetadata_page_shows_the_verified_user(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    r = om_browser.get("/", accept=HTML)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert "OpenMetadata stand-in" in r.text
    assert 'id="token-status" class="ok"' in r.text, r.text
    assert '<b id="user">alice</b>' in r.text, r.text


def test_identity_headers_reach_openmetadata(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    om_browser.get(LOGGED_IN_USER, accept=API)
    h = last(openmetadata, LOGGED_IN_USER)["headers"]
    assert h.get("x-onelogin-user") == "alice@example.com", h
    assert h.get("x-onelogin-email") == "alice@example.com", h
    assert h.get("x-onelogin-name") == "Alice Example", h
    assert h.get("x-onelogin-groups") == "Admins,Everyone", h
    assert h.get("x-remote-user") == "alice@example.com", h


def test_identity_is_in_the_environment(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    assert om_browser.get("/env-check", accept=HTML).status_code == 200
    log = om_httpd.root / "logs" / "env_log"
    deadline = time.monotonic() + 3
    lines = []
    while time.monotonic() < deadline:
        lines = [ln for ln in log.read_text().splitlines() if ln.startswith("/env-check|")]
        if lines:
            break
        time.sleep(0.1)
    assert lines == ["/env-check|alice@example.com|alice@example.com|Alice Example|"
                     "Admins,Everyone"], lines


def test_client_sent_identity_headers_never_reach_openmetadata(om_httpd, om_browser,
                                                                openmetadata):
    om_browser.sign_in("/")
    r = om_browser.get(LOGGED_IN_USER, accept=API, headers={
        "X-OneLogin-User": "mallory@example.com", "X-OneLogin-Email": "mallory@example.com",
        "X-OneLogin-Groups": "Admins", "X-OneLogin-Anything": "x",
        "X-Auth-Params-Email": "mallory@example.com"})
    assert r.status_code == 200 and r.json()["name"] == "alice", r.text
    h = last(openmetadata, LOGGED_IN_USER)["headers"]
    assert h.get("x-onelogin-user") == "alice@example.com", h
    assert h.get("x-onelogin-groups") == "Admins,Everyone", h
    assert "x-onelogin-anything" not in h, h
    assert "x-auth-params-email" not in h, h
    assert "mallory" not in repr(h), h


def test_module_cookies_are_not_forwarded(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    om_browser.set_cookie("om_theme", "dark")
    om_browser.get(LOGGED_IN_USER, accept=API)
    cookie = last(openmetadata, LOGGED_IN_USER)["headers"].get("cookie", "")
    assert "om_theme=dark" in cookie, cookie
    assert "olo_" not in cookie, cookie


# -- a token the client brings itself (OpenMetadata's web app keeps its own) -------------

def test_clients_own_valid_id_token_is_replaced_without_accept_bearer(om_httpd, om_browser,
                                                                      openmetadata, provider):
    # OneLoginAcceptBearer is Off here (the default): the request's identity is the session,
    # and the backend sees the session's token with it, never the client's own, even a valid
    # one (test_bearer.py has the AcceptBearer On side).
    om_browser.sign_in("/")
    forwarded = session_token(om_browser, openmetadata)
    own = oc.id_token(provider)  # alice's web app did its own login
    assert own != forwarded
    r = om_browser.get(LOGGED_IN_USER, accept=API, headers={"Authorization": f"Bearer {own}"})
    assert r.status_code == 200 and r.json()["name"] == "alice", r.text
    entry = last(openmetadata, LOGGED_IN_USER)
    assert entry["bearer"] == forwarded, "the client's own token reached the backend"


@pytest.mark.parametrize("forge", ["other-user", "alg-none", "hs256-pem", "garbage",
                                   "not-a-jwt", "basic"])
def test_forged_authorization_is_replaced_by_the_session_token(om_httpd, om_browser,
                                                               openmetadata, provider, forge):
    om_browser.sign_in("/")
    forwarded = session_token(om_browser, openmetadata)
    value = forged_authorization(forge, forwarded, provider)
    openmetadata.reset()
    r = om_browser.get(LOGGED_IN_USER, accept=API, headers={"Authorization": value})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["name"] == "alice", r.text
    for entry in openmetadata.requests_seen():
        assert entry["bearer"] == forwarded, entry["path"]
        assert value.split(" ", 1)[1] not in repr(entry), "the forged token reached OpenMetadata"


def test_expired_own_token_is_replaced_so_openmetadata_accepts_the_request(
        om_httpd, om_browser, openmetadata, provider):
    # Not a forgery, but OpenMetadata would refuse it: the backend must get a token it takes.
    om_browser.sign_in("/")
    forwarded = session_token(om_browser, openmetadata)
    provider.set_mode("expired")
    expired = oc.id_token(provider)
    provider.reset()
    r = om_browser.get(LOGGED_IN_USER, accept=API, headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    entry = last(openmetadata, LOGGED_IN_USER)
    assert entry["verified"] and entry["bearer"] == forwarded, entry


# -- without a session --------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{"Accept": API}, {"Accept": HTML, **XHR}, {"Accept": "*/*"}],
                         ids=["json", "xhr", "any"])
def test_api_call_without_session_gets_401_json(om_httpd, om_browser, openmetadata, headers):
    r = om_browser.get("/api/v1/tables?limit=10", accept=headers["Accept"], headers=headers)
    assert_login_required_401(r)
    assert openmetadata.requests_seen() == []


def test_browser_without_session_is_sent_to_login(om_httpd, om_browser, openmetadata):
    om_browser.start_login("/table/sample_data.ecommerce_db.shopify.dim_address")
    assert openmetadata.requests_seen() == []


def test_unauth_action_401_and_redirect_are_per_location(om_httpd, om_browser, openmetadata,
                                                         provider):
    r = om_browser.get("/always-401/page", accept=HTML)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert 'realm="OneLogin"' in r.headers.get("WWW-Authenticate", ""), r.headers
    assert "Location" not in r.headers, r.headers
    r = om_browser.get("/always-redirect/data", accept=API, headers=XHR)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?"), r.headers
    assert openmetadata.requests_seen() == []


def test_unauth_action_pass_lets_anonymous_requests_through_without_identity(
        om_httpd, om_browser, openmetadata):
    r = om_browser.get("/explore/glossary", accept=HTML, headers={
        "X-OneLogin-User": "mallory@example.com", "X-Auth-Params-Email": "mallory@example.com"})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert 'id="token-status" class="bad"' in r.text, r.text
    entry = last(openmetadata, "/explore/glossary")
    h = entry["headers"]
    assert "authorization" not in h, h
    assert not [k for k in h if k.startswith("x-onelogin-")], h
    assert "x-auth-params-email" not in h, h


def test_unauth_action_pass_still_forwards_a_session(om_httpd, om_browser, openmetadata):
    om_browser.sign_in("/")
    r = om_browser.get("/explore/glossary", accept=HTML)
    assert r.status_code == 200
    entry = last(openmetadata, "/explore/glossary")
    assert entry["verified"] and entry["user"] == "alice", entry
    assert entry["headers"].get("x-onelogin-user") == "alice@example.com", entry["headers"]


# -- paths shared with OpenMetadata's web app ----------------------------------------------

@pytest.mark.parametrize("path", [
    f"/callback?code=spa-code&state={SPA_STATE}",
    "/callback",
    f"/silent-callback?code=spa-code&state={SPA_STATE}",
], ids=["callback-foreign-state", "callback-bare", "silent-callback"])
def test_web_app_callback_with_session_reaches_openmetadata(om_httpd, om_browser, openmetadata,
                                                            path):
    om_browser.sign_in("/")
    openmetadata.reset()
    r = om_browser.get(path, accept=HTML)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert "OpenMetadata stand-in" in r.text
    entry = last(openmetadata, path.split("?")[0])
    assert entry["path"] == path, entry
    assert entry["verified"] and entry["user"] == "alice", entry


def test_callback_with_unknown_state_and_no_session_stays_a_400(om_httpd, om_browser,
                                                                openmetadata, expect_log_ids):
    expect_log_ids("OLO00020")
    r = om_browser.get(f"/callback?code=spa-code&state={SPA_STATE}", accept=HTML)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == []


def test_signin_with_session_reaches_openmetadata(om_httpd, om_browser, openmetadata, provider):
    om_browser.sign_in("/")
    openmetadata.reset()
    r = om_browser.get("/signin", accept=HTML)
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert last(openmetadata, "/signin")["user"] == "alice"
    assert provider.token_log()[-1]["grant_type"] == "authorization_code"
    assert len(provider.token_log()) == 1


def test_signin_without_session_starts_a_login(om_httpd, om_browser, openmetadata):
    om_browser.start_login("/signin")
    assert openmetadata.requests_seen() == []


# -- authorization --------------------------------------------------------------------------

def test_require_onelogin_claim_groups_admins(httpd_factory, browser_factory, openmetadata):
    h = httpd_factory(backend=openmetadata,
                      server={"OneLoginScope": '"openid email profile groups"'},
                      location={"Require": "onelogin-claim groups:Admins"})
    alice = browser_factory(h)
    alice.sign_in("/")
    r = alice.get(LOGGED_IN_USER, accept=API)
    assert r.status_code == 200 and r.json()["name"] == "alice", r.text

    bob = browser_factory(h)
    bob.sign_in("/", "bob@example.com", "bob-password")
    openmetadata.reset()
    for accept in (HTML, API):
        r = bob.get(LOGGED_IN_USER, accept=accept)
        assert r.status_code == 403, (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == []
