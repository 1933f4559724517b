"""ID tokens forged by a misbehaving provider: every one is refused at the callback, no
session is made and the backend never sees the browser. The valid oddities log in."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import oidc_client as O
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


def jwks_fetches(provider):
    return len(provider.endpoint_log("jwks"))


def forwarded_kid(report):
    """The kid of the ID token the backend got (Authorization: Bearer <ID token>)."""
    return O.header(report["headers"]["Authorization"].split(" ", 1)[1])["kid"]


def test_key_rotation_refetches_jwks(httpd_factory, browser_factory, provider):
    # The defaults: an ID token from the token endpoint naming an unknown kid makes the module
    # ask for the keys again at once, however recently it fetched them.
    h = httpd_factory()
    # A first login fetches the provider's keys and caches them.
    first = browser_factory(h).login("/")
    fetches_before = jwks_fetches(provider)
    assert fetches_before >= 1

    second = browser_factory(h)
    start = second.start_login("/private")
    # The provider rotates: tokens now carry a kid the module has not seen.
    rotated = provider.set_mode("rotate")["rotated_kid"]
    assert rotated.startswith("rotated-") and rotated != forwarded_kid(first)
    r = second.callback(second.provider_login(start.auth_url))
    second.check_logged_in_redirect(r, start, "/private")
    assert jwks_fetches(provider) == fetches_before + 1, \
        "the module did not fetch the keys again, exactly once, for the new kid"
    r = second.get("/private", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
    assert forwarded_kid(r.json()) == rotated


def test_after_rotation_the_new_keys_serve_the_next_logins(httpd_factory, browser_factory,
                                                           provider):
    h = httpd_factory()
    browser_factory(h).login("/")
    fetches_before = jwks_fetches(provider)
    rotated = provider.set_mode("rotate")["rotated_kid"]
    # The first login after the rotation fetches the keys again; the next ones, one after the
    # other, find the new key in the cache.
    for i, (login, password) in enumerate([("alice@example.com", "alice-password"),
                                           ("bob@example.com", "bob-password"),
                                           ("alice@example.com", "alice-password"),
                                           ("bob@example.com", "bob-password")]):
        report = browser_factory(h).login(f"/after/{i}", login, password)
        assert forwarded_kid(report) == rotated, report
        assert jwks_fetches(provider) == fetches_before + 1, \
            f"login {i} after the rotation fetched the keys again"


CONCURRENT_CALLBACKS = 10


def test_concurrent_logins_right_after_rotation_all_succeed(httpd_factory, browser_factory,
                                                            provider):
    h = httpd_factory()
    browser_factory(h).login("/")
    fetches_before = jwks_fetches(provider)
    # Every browser signs in at the provider and holds its callback URL; the provider signs
    # each ID token only when the module redeems the code, so after the rotation all of them
    # carry the new kid.
    waiting = []
    for i in range(CONCURRENT_CALLBACKS):
        b = browser_factory(h)
        # A connection per request (see test_concurrency.one_login).
        b.s.headers["Connection"] = "close"
        start = b.start_login(f"/rush/{i}")
        waiting.append((i, b, start, b.provider_login(start.auth_url)))
    rotated = provider.set_mode("rotate")["rotated_kid"]

    barrier = threading.Barrier(CONCURRENT_CALLBACKS)

    def complete(item):
        i, b, start, callback_url = item
        try:
            barrier.wait(timeout=30)
            r = b.callback(callback_url)
            b.check_logged_in_redirect(r, start, f"/rush/{i}")
            page = b.get(f"/rush/{i}", accept=API)
            return {"i": i, "status": page.status_code, "report": page.json()}
        except Exception as err:  # collected, so one failure does not hide the others
            return {"i": i, "error": f"{type(err).__name__}: {err}"[:400]}

    with ThreadPoolExecutor(max_workers=CONCURRENT_CALLBACKS) as pool:
        results = list(pool.map(complete, waiting))
    failed = [r for r in results if "error" in r or r["status"] != 200]
    assert not failed, f"{len(failed)} of {CONCURRENT_CALLBACKS} logins failed:\n" + \
        "\n".join(str(r)[:400] for r in failed[:5])
    for r in results:
        assert r["report"]["remote_user"] == "alice@example.com", r
        assert r["report"]["path"] == f"/rush/{r['i']}", r
        assert forwarded_kid(r["report"]) == rotated, r
    # The keys were fetched again, and not once per login: one thread per child asks the
    # provider while the others wait for its answer.
    refetches = jwks_fetches(provider) - fetches_before
    assert 1 <= refetches < CONCURRENT_CALLBACKS, refetches
