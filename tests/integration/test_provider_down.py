"""A provider that is down when logins start: a failed fetch is remembered for a few seconds
in the shared cache, so a hung provider costs one timeout per few seconds instead of one per
request; a login start with cached metadata is not sent to a provider found unreachable
moments ago; and every 503 for a provider or cache that is unavailable carries Retry-After.

Each test has a fresh httpd instance (metadata, keys and marks are cached in it), with the
module's defaults: OneLoginHTTPTimeout 2 s to connect, 5 s in all."""

import threading
import time

import pytest

import env as E
import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, TIMEOUT, assert_error_response, set_cookies

CONCURRENT = 10
# The provider answers discovery this long after the request, so the module (5 s) has given up;
# the provider's log records a request when it answers.
SLOW = 6
XHR = {"X-Requested-With": "XMLHttpRequest"}


def assert_unavailable(r, accept, reason="provider-unreachable"):
    """The module's own 503, with Retry-After in whole seconds, never a redirect."""
    assert_error_response(r, (503,), accept)
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and 1 <= int(retry) <= 60, r.headers
    if accept == API:
        assert r.json()["error"] == reason, r.text
    else:
        assert f"503 {reason}" in r.text, r.text[:500]
    assert "olo_session" not in set_cookies(r) or \
        set_cookies(r)["olo_session"]["value"] == "", set_cookies(r)
    return int(retry)


def wait_for_login_redirect(browser, bound=20.0):
    """Asks for a login again every half second until one is sent to the provider."""
    deadline = time.monotonic() + bound
    while True:
        r = browser.get("/private", accept=HTML)
        if r.status_code in LOGIN_REDIRECTS:
            return r
        assert_unavailable(r, HTML)
        assert time.monotonic() < deadline, "logins still refused long after the provider returned"
        time.sleep(0.5)


def test_hung_discovery_is_asked_once_for_ten_concurrent_login_starts(
        httpd_factory, browser_factory, provider, expect_log_ids):
    expect_log_ids("OLO00010")
    provider.set_mode("discovery-slow", delay=SLOW)
    h = httpd_factory()
    browsers = [browser_factory(h) for _ in range(CONCURRENT)]
    answers = [None] * CONCURRENT

    def start(i):
        try:
            answers[i] = browsers[i].get("/private", accept=HTML)
        except Exception as err:  # reported below, with the others' answers
            answers[i] = err

    threads = [threading.Thread(target=start, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT + 5)
    assert not any(t.is_alive() for t in threads), "a login start never answered"
    for r in answers:
        assert not isinstance(r, Exception), answers
        assert_unavailable(r, HTML)
    # Within the mark a new login start is refused at once, without asking the provider.
    assert_unavailable(browser_factory(h).get("/private", accept=HTML), HTML)

    # The provider records a request when it answers it, SLOW seconds after it came.
    time.sleep(SLOW + 2)
    asked = provider.endpoint_log("discovery")
    assert 1 <= len(asked) <= 2, f"{len(asked)} discovery requests for {CONCURRENT + 1} logins"
    marks = [ln for ln in h.error_lines() if "OLO00063:" in ln]
    assert len(marks) == len(asked), marks
    assert "provider-unreachable" in marks[0], marks


def test_login_start_after_the_provider_died_is_a_503_page_not_a_redirect(
        httpd_factory, browser_factory, own_provider, expect_log_ids):
    expect_log_ids("OLO00026")
    p = own_provider
    h = httpd_factory(provider=p)
    alice = browser_factory(h, provider=p)
    alice.login("/private")     # metadata and keys are cached from here on
    pending = browser_factory(h, provider=p)
    start = pending.start_login("/private")
    callback_url = pending.provider_login(start.auth_url)

    p.kill()
    # The callback cannot reach the token endpoint: that failure is remembered.
    assert_unavailable(pending.callback(callback_url), HTML)
    # A new login is not sent to the dead provider: the module answers its own page.
    newcomer = browser_factory(h, provider=p)
    r = newcomer.get("/private", accept=HTML)
    assert_unavailable(r, HTML)
    assert not [n for n in set_cookies(r) if n.startswith("olo_state_")], set_cookies(r)
    # A session needs nothing from the provider: it is served as before.
    r = alice.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    lines = h.error_lines()
    assert len([ln for ln in lines if "OLO00063:" in ln]) == 1, lines
    assert [ln for ln in lines if "OLO00064:" in ln], lines     # at debug, once per refusal

    # Back in service (same port, same key): once the mark is over, logins work again.
    p.start()
    p.allow_client_urls([f"{h.url}/callback"])     # a restarted provider forgot them
    start = newcomer.check_auth_redirect(wait_for_login_redirect(newcomer))
    r = newcomer.callback(newcomer.provider_login(start.auth_url))
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert newcomer.get("/private", accept=API).status_code == 200


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_callback_with_the_token_endpoint_down_has_retry_after(
        httpd_factory, browser_factory, own_provider, accept, expect_log_ids):
    expect_log_ids("OLO00026")
    p = own_provider
    h = httpd_factory(provider=p)
    b = browser_factory(h, provider=p)
    start = b.start_login("/private")
    callback_url = b.provider_login(start.auth_url)
    p.kill()
    assert_unavailable(b.callback(callback_url, accept=accept), accept)


def test_login_start_with_the_provider_port_closed_has_retry_after(
        httpd_factory, browser_factory, expect_log_ids):
    expect_log_ids("OLO00010")
    h = httpd_factory(issuer=f"https://127.0.0.1:{E.free_port()}/oidc/2")
    for _ in range(3):      # the first asks; the others get the remembered failure
        assert_unavailable(browser_factory(h).get("/private", accept=HTML), HTML)
    marks = [ln for ln in h.error_lines() if "OLO00063:" in ln]
    assert len(marks) == 1, marks
    # logged once at error; the refusals that followed at debug
    assert len([ln for ln in h.error_lines() if "OLO00010:" in ln and ":error]" in ln]) == 1


def test_bearer_token_with_the_provider_down_has_retry_after(httpd_factory, browser_factory,
                                                             provider, expect_log_ids):
    expect_log_ids("OLO00046")
    token = oc.id_token(provider)
    h = httpd_factory(issuer=f"https://127.0.0.1:{E.free_port()}/oidc/2",
                      location_extra=["OneLoginAcceptBearer On"])
    b = browser_factory(h)
    r = b.get("/private", accept=API, headers={"Authorization": f"Bearer {token}"})
    assert_unavailable(r, API)
    assert 'error="invalid_token"' not in r.headers.get("WWW-Authenticate", ""), r.headers


def test_cache_down_has_retry_after(httpd_factory, browser_factory, redis, expect_log_ids):
    # OLO00068: the cache's own outage line (mod_onelogin_oidc_cache.c), when it exists.
    expect_log_ids("OLO00041", "OLO00068")
    h = httpd_factory(server=redis.cache_directives())
    b = browser_factory(h)
    b.login("/private")
    redis.stop()
    assert_unavailable(b.get("/private", accept=HTML), HTML, "cache-unavailable")
    assert_unavailable(b.get("/private", accept=API, headers=XHR), API, "cache-unavailable")
