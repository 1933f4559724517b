"""ID tokens forged by a misbehaving provider: every one is refused at the callback, no
session is made and the backend never sees the browser. The valid oddities log in."""

import time

import pytest

from browser import API, HTML, LOGIN_REDIRECTS, set_cookies

REFUSED = [
    "bad-signature",
    "wrong-aud",
    "wrong-iss",
    "expired",
    "future-iat",
    "nbf-future",
    "nonce-mismatch",
    "alg-none",
    "hmac-confusion",
    "multi-aud-no-azp",
]


def login_until_callback(browser, provider, mode, **options):
    start = browser.start_login("/private")
    provider.set_mode(mode, **options)
    callback_url = browser.provider_login(start.auth_url)
    return start, browser.callback(callback_url)


@pytest.mark.parametrize("mode", REFUSED)
def test_forged_id_token_is_refused(httpd, browser, provider, backend, expect_log_ids, mode):
    expect_log_ids("OLO00026")
    start, r = login_until_callback(browser, provider, mode)
    assert r.status_code == 401, (mode, r.status_code, r.text[:400])
    assert "Location" not in r.headers, r.headers
    assert r.headers.get("Content-Type", "").startswith("text/html")
    assert "olo_session" not in set_cookies(r) or \
        set_cookies(r)["olo_session"]["value"] == "", set_cookies(r)
    assert browser.cookie("olo_session") in (None, "")
    assert len(provider.token_log()) == 1  # the module did fetch, and then refused
    assert backend.requests_seen() == []

    provider.reset()
    r = browser.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, "refused login left a session behind"


@pytest.mark.parametrize("variant", ["pem", "pem-nonl", "jwk"])
def test_hmac_with_public_key_variants_are_refused(httpd, browser, provider, backend,
                                                   expect_log_ids, variant):
    expect_log_ids("OLO00026")
    _, r = login_until_callback(browser, provider, "hmac-confusion", secret=variant)
    assert r.status_code == 401, (r.status_code, r.text[:400])
    assert backend.requests_seen() == []


@pytest.mark.parametrize("mode", ["no-kid", "multi-aud-azp"])
def test_valid_unusual_id_token_logs_in(httpd, browser, provider, mode):
    start, r = login_until_callback(browser, provider, mode)
    browser.check_logged_in_redirect(r, start, "/private")
    r = browser.get("/private", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com"


def test_key_rotation_refetches_jwks(httpd_factory, browser_factory, provider):
    # Refetches on an unknown kid are rate limited; 1 s keeps the test short.
    h = httpd_factory(server={"OneLoginJWKSRefetchInterval": "1"})
    # A first login caches the provider's keys.
    browser_factory(h).login("/")
    fetches_before = len(provider.endpoint_log("jwks"))
    assert fetches_before >= 1

    second = browser_factory(h)
    start = second.start_login("/private")
    # The provider rotates: tokens now carry a kid the module has not seen.
    rotated = provider.set_mode("rotate")["rotated_kid"]
    time.sleep(1.2)
    r = second.callback(second.provider_login(start.auth_url))
    second.check_logged_in_redirect(r, start, "/private")
    jwks = provider.endpoint_log("jwks")
    assert len(jwks) > fetches_before, "the module did not fetch the keys again"
    r = second.get("/private", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com"
    assert rotated.startswith("rotated-")
