"""The login as a browser and an API client see it: redirects, cookies, PKCE, what the
backend receives."""

import base64
import json
from urllib.parse import quote, urljoin, urlsplit

import pytest

from browser import API, HTML, LOGIN_REDIRECTS, cookie_cleared, pkce_challenge, set_cookies


def header(report, name):
    for k, v in report["headers"].items():
        if k.lower() == name.lower():
            return v
    return None


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_browser_login_reaches_backend_as_alice(httpd, browser, provider):
    report = browser.login("/app/page?x=1")
    assert report["path"] == "/app/page?x=1"
    assert header(report, "X-Remote-User") == "alice@example.com"
    assert header(report, "X-OneLogin-User") == "alice@example.com"
    assert header(report, "X-OneLogin-Email") == "alice@example.com"
    assert header(report, "X-OneLogin-Name") == "Alice Example"
    # OneLoginForwardIDToken defaults to On: the backend gets the ID token as a Bearer.
    auth = header(report, "Authorization") or ""
    assert auth.startswith("Bearer "), report["headers"]
    claims = jwt_claims(auth.split(" ", 1)[1])
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == "olo-test-client"
    assert claims["email"] == "alice@example.com"


def test_token_request_uses_pkce_and_no_secret(httpd, browser, provider):
    start = browser.start_login("/")
    callback_url = browser.provider_login(start.auth_url)
    browser.check_logged_in_redirect(browser.callback(callback_url), start, "/")

    log = provider.token_log()
    assert len(log) == 1, log
    entry = log[0]
    assert entry["status"] == 200, entry
    assert entry["grant_type"] == "authorization_code"
    assert entry["client_id"] == "olo-test-client"
    assert entry["redirect_uri"] == f"{httpd.url}/callback"
    assert entry["code_verifier_present"], entry
    assert pkce_challenge(entry["code_verifier"]) == start.params["code_challenge"]
    assert 43 <= len(entry["code_verifier"]) <= 128
    assert not entry["client_secret_present"], entry
    assert not entry["authorization_present"], entry


def test_session_is_reused_without_the_provider(httpd, browser, provider):
    browser.login("/")
    for path in ("/a", "/b?c=d"):
        r = browser.get(path, accept=API)
        assert r.status_code == 200, r.text
        assert r.json()["remote_user"] == "alice@example.com"
    assert len(provider.token_log()) == 1


def test_state_cookie_is_short_lived_and_locked_down(httpd, browser):
    start = browser.start_login("/")
    c = start.state_cookie
    assert c.get("httponly") is True, c["raw"]
    assert str(c.get("samesite", "")).lower() == "lax", c["raw"]
    assert c.get("path") == "/", c["raw"]
    assert "secure" not in c, f"OneLoginCookieSecure Off, yet: {c['raw']}"
    assert c.get("max-age") not in (None, True), f"no Max-Age: {c['raw']}"
    assert 0 < int(c["max-age"]) <= 600, c["raw"]


def test_pending_logins_are_capped_at_eight(httpd, browser):
    starts = [browser.start_login(f"/page{i}") for i in range(10)]
    assert len(browser.cookie_names("olo_state_")) <= 8, browser.cookie_names("olo_state_")
    # The newest login still completes.
    last = starts[-1]
    r = browser.callback(browser.provider_login(last.auth_url))
    browser.check_logged_in_redirect(r, last, "/page9")


def test_two_tabs_each_land_on_their_own_page(httpd, browser):
    first = browser.start_login("/tab/one")
    second = browser.start_login("/tab/two")
    assert first.state != second.state
    assert {f"olo_state_{first.state}", f"olo_state_{second.state}"} <= \
        set(browser.cookie_names("olo_state_"))

    # The second tab completes first (login form); the first then rides the provider session.
    r2 = browser.callback(browser.provider_login(second.auth_url))
    assert browser.check_logged_in_redirect(r2, second, "/tab/two").endswith("/tab/two")
    r1 = browser.callback(browser.provider_login(first.auth_url))
    assert browser.check_logged_in_redirect(r1, first, "/tab/one").endswith("/tab/one")

    r = browser.get("/tab/one", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com"


@pytest.mark.parametrize("headers", [
    {"Accept": "application/json"},
    {"Accept": "*/*"},
    {"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"},
], ids=["json", "any", "xhr"])
def test_api_request_without_session_gets_401_json(httpd, browser, backend, headers):
    r = browser.get("/api/items", accept=headers["Accept"], headers=headers)
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert isinstance(r.json(), dict)
    assert "Location" not in r.headers
    assert backend.requests_seen() == []


def test_signin_with_local_target_lands_there(httpd, browser):
    start = browser.start_login("/signin?target=" + quote("/local/path?x=1", safe=""))
    r = browser.callback(browser.provider_login(start.auth_url))
    browser.check_logged_in_redirect(r, start, "/local/path?x=1")


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "///evil.example",
    "/\t/evil.example",
    "http:evil.example",
], ids=["absolute", "scheme-relative", "backslash", "triple-slash", "tab", "scheme-no-slash"])
def test_signin_with_foreign_target_lands_on_root(httpd, browser, target):
    start = browser.start_login("/signin?target=" + quote(target, safe=""))
    r = browser.callback(browser.provider_login(start.auth_url))
    browser.check_logged_in_redirect(r, start, "/")


def test_signin_with_encoded_backslash_stays_on_this_host(httpd, browser):
    # target=/%5Cevil.example (the %5C itself encoded once more in the query): landing on
    # "/" or on the literal same-host path are both safe; leaving the host is not.
    start = browser.start_login("/signin?target=" + quote("/%5Cevil.example", safe=""))
    r = browser.callback(browser.provider_login(start.auth_url))
    assert r.status_code in LOGIN_REDIRECTS, r.text[:300]
    location = r.headers["Location"]
    resolved = urljoin(httpd.url + "/", location.replace("\\", "/"))
    assert urlsplit(resolved).netloc == urlsplit(httpd.url).netloc, location
    assert not location.startswith(("//", "/\\")), location


def test_client_supplied_identity_headers_are_removed(httpd, browser):
    browser.login("/")
    r = browser.get("/whoami", accept=API, headers={
        "X-OneLogin-User": "mallory@example.com",
        "X-OneLogin-Email": "mallory@example.com",
        "X-OneLogin-Groups": "Admins",
        "X-OneLogin-Anything": "x",
        "X-Auth-Params-Email": "mallory@example.com",
    })
    assert r.status_code == 200, r.text
    report = r.json()
    assert header(report, "X-OneLogin-User") == "alice@example.com"
    assert header(report, "X-OneLogin-Email") == "alice@example.com"
    assert header(report, "X-OneLogin-Groups") is None  # groups scope not requested
    assert header(report, "X-OneLogin-Anything") is None
    assert header(report, "X-Auth-Params-Email") is None


def test_groups_claim_and_require_onelogin_claim(httpd_factory, browser_factory):
    h = httpd_factory(server={"OneLoginScope": '"openid email profile groups"'},
                      location={"Require": "onelogin-claim groups:Admins"})
    alice = browser_factory(h)
    report = alice.login("/admin")
    assert header(report, "X-OneLogin-Groups") == "Admins,Everyone"

    bob = browser_factory(h)
    start = bob.start_login("/admin")
    r = bob.callback(bob.provider_login(start.auth_url, "bob@example.com", "bob-password"))
    bob.check_logged_in_redirect(r, start, "/admin")
    r = bob.get("/admin")
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert "signed in, but your account may not see this page" in r.text, r.text[:300]
    assert "login-required" not in r.text and "Location" not in r.headers


def test_remote_user_claim_can_be_sub(httpd_factory, browser_factory):
    h = httpd_factory(server={"OneLoginRemoteUserClaim": "sub"})
    report = browser_factory(h).login("/", user="10001")
    assert header(report, "X-OneLogin-User") == "10001"


def claims_login(b, provider, claims, path, user):
    """A login whose ID token has `claims` changed (None removes one): the backend's report."""
    provider.set_mode("claims", claims=claims)
    try:
        return b.login(path, user=user)
    finally:
        provider.reset()


@pytest.mark.parametrize("claims, user, email", [
    # alice's preferred_username is her email address: another value tells them apart.
    ({"preferred_username": "alice"}, "alice@example.com", "alice@example.com"),
    ({"email": None, "preferred_username": "alice"}, "alice", None),
    ({"email": None, "preferred_username": None}, "10001", None),
], ids=["email-first", "preferred_username-without-email", "sub-without-both"])
def test_remote_user_is_the_first_present_default_claim(httpd, browser_factory, provider,
                                                        claims, user, email):
    # The default OneLoginRemoteUserClaim: email, then preferred_username, then sub
    # (OpenMetadata's jwtPrincipalClaims order). The template's X-Remote-User is REMOTE_USER.
    b = browser_factory(httpd)
    report = claims_login(b, provider, claims, "/who", user)
    assert header(report, "X-Remote-User") == user, report["headers"]
    assert header(report, "X-OneLogin-User") == user, report["headers"]
    assert header(report, "X-OneLogin-Email") == email, report["headers"]
    # The session keeps that name.
    r = b.get("/who/again", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == user, r.text


def test_remote_user_claim_list_is_followed_in_order(httpd_factory, browser_factory, provider,
                                                     expect_log_ids):
    expect_log_ids("OLO00026")
    h = httpd_factory(server={"OneLoginRemoteUserClaim": "preferred_username email"})
    report = claims_login(browser_factory(h), provider, {"preferred_username": "alice"}, "/",
                          "alice")
    assert header(report, "X-OneLogin-User") == "alice"
    assert header(report, "X-OneLogin-Email") == "alice@example.com"
    report = claims_login(browser_factory(h), provider, {"preferred_username": None}, "/",
                          "alice@example.com")
    assert header(report, "X-OneLogin-User") == "alice@example.com"

    # Neither claim: sub is not on this list, so there is no user name and no session.
    b = browser_factory(h)
    start = b.start_login("/")
    provider.set_mode("claims", claims={"preferred_username": None, "email": None})
    r = b.callback(b.provider_login(start.auth_url))
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert "user-claim-missing" in r.text, r.text[:500]
    assert b.cookie("olo_session") in (None, "")


def test_logout_clears_session_and_goes_to_provider(httpd, browser, provider):
    browser.login("/")
    r = browser.get("/logout")
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    location = urljoin(httpd.url + "/", r.headers["Location"])
    assert location.startswith(provider.issuer + "/logout"), location
    session = set_cookies(r).get("olo_session")
    assert session is not None and cookie_cleared(session), set_cookies(r)
    r = browser.get("/", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")


def test_client_secret_is_sent_with_basic_auth(httpd_factory, browser_factory, provider):
    # OneLoginClientSecret set: client_secret_basic at the token endpoint, PKCE still used.
    h = httpd_factory(server={"OneLoginClientID": "olo-test-confidential-client",
                              "OneLoginClientSecret": "olo-test-client-secret"})
    browser_factory(h).login("/")
    entry = provider.token_log()[-1]
    assert entry["status"] == 200, entry
    assert entry["authorization_scheme"] == "Basic", entry
    assert entry["code_verifier_present"], entry
    assert not entry["client_secret_present"], entry
