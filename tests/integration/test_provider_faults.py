"""A provider that is down, slow or answers nonsense: the browser gets a 502/503 page
within seconds, never a hang, a 500 or a redirect, and httpd keeps serving.

Metadata is cached in shmcb, so each test has its own fresh httpd instance and the
provider's mode is set before that instance first asks."""

import time

import pytest

import env as E
from browser import API, HTML, LOGIN_REDIRECTS, assert_error_response, set_cookies

PROVIDER_DOWN = (502, 503, 504)


def assert_provider_error(r, accept, started, limit=10.0):
    elapsed = time.monotonic() - started
    assert elapsed < limit, f"took {elapsed:.1f}s"
    assert_error_response(r, PROVIDER_DOWN, accept)
    assert "olo_session" not in set_cookies(r) or \
        set_cookies(r)["olo_session"]["value"] == "", set_cookies(r)


def assert_still_serving(browser):
    r = browser.get("/public/ping", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["path"] == "/public/ping"


@pytest.mark.parametrize("mode", ["discovery-500", "discovery-badjson",
                                  "discovery-wrong-issuer"])
def test_bad_discovery_gives_502_at_login_start(httpd_factory, browser_factory, provider,
                                                 backend, expect_log_ids, mode):
    expect_log_ids("OLO00010")
    provider.set_mode(mode)
    h = httpd_factory()
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    assert_provider_error(r, HTML, started)
    assert_still_serving(browser)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


def test_slow_discovery_times_out(httpd_factory, browser_factory, provider, expect_log_ids):
    expect_log_ids("OLO00010")
    provider.set_mode("discovery-slow", delay=30)
    h = httpd_factory(server={"OneLoginHTTPTimeout": "2 3"})
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    assert_provider_error(r, HTML, started, limit=8.0)
    assert_still_serving(browser)


def test_provider_port_closed(httpd_factory, browser_factory, provider, expect_log_ids):
    expect_log_ids("OLO00010")
    closed = E.free_port()
    h = httpd_factory(issuer=f"https://127.0.0.1:{closed}/oidc/2")
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    assert_provider_error(r, HTML, started)
    assert_still_serving(browser)


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_token_endpoint_500_at_callback(httpd_factory, browser_factory, provider, backend,
                                        expect_log_ids, accept):
    expect_log_ids("OLO00026")
    h = httpd_factory()
    browser = browser_factory(h)
    start = browser.start_login("/private")
    callback_url = browser.provider_login(start.auth_url)
    provider.set_mode("token-500")
    started = time.monotonic()
    r = browser.callback(callback_url, accept=accept)
    assert_provider_error(r, accept, started)
    assert_still_serving(browser)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


def test_jwks_500_fails_the_login(httpd_factory, browser_factory, provider, backend,
                                  expect_log_ids):
    # The keys may be fetched at login start or at the callback: either step may fail.
    expect_log_ids("OLO00010", "OLO00026")
    provider.set_mode("jwks-500")
    h = httpd_factory()
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    if r.status_code in LOGIN_REDIRECTS:
        start = browser.check_auth_redirect(r)
        callback_url = browser.provider_login(start.auth_url)
        started = time.monotonic()
        r = browser.callback(callback_url)
    assert_provider_error(r, HTML, started)
    assert_still_serving(browser)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


def test_recovers_when_the_provider_is_back(httpd_factory, browser_factory, provider,
                                            expect_log_ids):
    expect_log_ids("OLO00010")
    provider.set_mode("discovery-500")
    h = httpd_factory()
    browser = browser_factory(h)
    assert browser.get("/private").status_code in PROVIDER_DOWN
    provider.reset()
    # A short negative cache is fine; staying broken after the provider is back is not.
    deadline = time.monotonic() + 10
    while browser.get("/private").status_code in PROVIDER_DOWN:
        assert time.monotonic() < deadline, "still failing 10 s after the provider recovered"
        time.sleep(0.5)
    browser.login("/private")


@pytest.fixture
def wrong_host_provider(workdir, pki):
    """A second provider whose certificate (same CA) names wrong.example, not 127.0.0.1."""
    p = E.Provider(workdir / "provider-wrong-host", pki.wrong_cert, pki.wrong_key, pki.ca_cert,
                   cert_names_host=False)
    p.start()
    yield p
    p.stop()


def test_provider_certificate_for_another_host_is_refused(httpd_factory, browser_factory,
                                                          wrong_host_provider, expect_log_ids):
    expect_log_ids("OLO00010")
    h = httpd_factory(issuer=wrong_host_provider.issuer)
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    assert_provider_error(r, HTML, started)
    assert wrong_host_provider.endpoint_log("discovery") == [], \
        "the module completed a request over TLS to a host with the wrong name"


def test_provider_certificate_from_an_untrusted_ca_is_refused(workdir, httpd_factory,
                                                              browser_factory, provider,
                                                              expect_log_ids):
    expect_log_ids("OLO00010")
    other = E.Pki(workdir / "pki-other")
    other_ca = other.create_ca()
    E.make_readable(other.dir)
    h = httpd_factory(server={"OneLoginCACertificate": str(other_ca)})
    browser = browser_factory(h)
    started = time.monotonic()
    r = browser.get("/private", accept=HTML)
    assert_provider_error(r, HTML, started)
    assert provider.endpoint_log("discovery") == []
