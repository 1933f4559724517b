"""The callback refuses what is not the browser's own, fresh, unused login - with an error
page, never a redirect (a redirect would loop back into the login)."""

import glob
import secrets

import pytest
import requests

import env as E

from browser import API, HTML, REDIRECTS, assert_error_response, set_cookies


def assert_error_page(r, accept, statuses=range(400, 500)):
    assert r.status_code not in REDIRECTS, r.status_code
    assert_error_response(r, statuses, accept)
    assert "olo_session" not in set_cookies(r) or \
        set_cookies(r)["olo_session"]["value"] == "", set_cookies(r)


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_unknown_state_is_refused(httpd, browser, backend, expect_log_ids, accept):
    expect_log_ids("OLO00020")
    state = secrets.token_urlsafe(24)  # the shape of a real state, issued by nobody
    r = browser.s.get(f"{httpd.url}/callback?code=abc&state={state}",
                      headers={"Accept": accept}, allow_redirects=False, timeout=20)
    assert_error_page(r, accept)
    assert backend.requests_seen() == []


def test_state_of_another_pending_login_is_refused(httpd, browser, provider, expect_log_ids):
    expect_log_ids("OLO00020")
    start = browser.start_login("/")
    callback_url = browser.provider_login(start.auth_url)
    forged = callback_url.replace(f"state={start.state}", "state=someone-elses-state")
    assert forged != callback_url
    assert_error_page(browser.callback(forged), HTML)
    assert provider.token_log() == []


def test_expired_state_cookie_is_refused(httpd, browser, provider, backend, expect_log_ids):
    # The browser drops the state cookie when its Max-Age runs out; the provider's answer
    # arriving after that matches no pending login.
    expect_log_ids("OLO00020")
    start = browser.start_login("/")
    callback_url = browser.provider_login(start.auth_url)
    browser.drop_cookie(f"olo_state_{start.state}")
    assert_error_page(browser.callback(callback_url), HTML)
    assert provider.token_log() == []
    assert backend.requests_seen() == []


def test_replayed_callback_is_refused_before_the_token_endpoint(httpd, browser, provider,
                                                                 expect_log_ids):
    expect_log_ids("OLO00022")
    start = browser.start_login("/")
    state_value = browser.cookie(f"olo_state_{start.state}")
    callback_url = browser.provider_login(start.auth_url)
    browser.check_logged_in_redirect(browser.callback(callback_url), start, "/")
    assert len(provider.token_log()) == 1

    # An attacker who captured the callback URL and the state cookie replays both.
    with requests.Session() as attacker:
        attacker.trust_env = False
        attacker.cookies.set(f"olo_state_{start.state}", state_value, domain="127.0.0.1",
                             path="/")
        r = attacker.get(callback_url, headers={"Accept": HTML}, allow_redirects=False,
                         timeout=20)
    assert_error_page(r, HTML)
    assert len(provider.token_log()) == 1, "the replay reached the token endpoint"


def test_same_callback_twice_in_one_browser_does_not_loop(httpd, browser, provider,
                                                          expect_log_ids):
    expect_log_ids("OLO00020", "OLO00022")
    start = browser.start_login("/")
    state_value = browser.cookie(f"olo_state_{start.state}")
    callback_url = browser.provider_login(start.auth_url)
    browser.check_logged_in_redirect(browser.callback(callback_url), start, "/")
    browser.set_cookie(f"olo_state_{start.state}", state_value)
    r = browser.callback(callback_url)
    assert_error_page(r, HTML)
    assert len(provider.token_log()) == 1


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_access_denied_from_provider_is_an_error_page(httpd, browser, provider, backend,
                                                      expect_log_ids, accept):
    expect_log_ids("OLO00025")
    start = browser.start_login("/")
    callback_url = browser.provider_abort(start.auth_url)
    assert "error=access_denied" in callback_url, callback_url
    assert_error_page(browser.callback(callback_url, accept=accept), accept)
    assert provider.token_log() == []
    assert backend.requests_seen() == []
    # Not logged in, and a new attempt starts cleanly.
    browser.start_login("/")


@pytest.mark.parametrize("query", [
    "code=abc",
    "state=",
    "code=a&code=b&state=s",
    "state=" + "s" * 5000,
], ids=["no-state", "empty-state", "repeated-code", "oversized-state"])
def test_malformed_callback_is_refused(httpd, browser, expect_log_ids, query):
    expect_log_ids("OLO00020", "OLO00024")
    r = browser.s.get(f"{httpd.url}/callback?{query}", headers={"Accept": HTML},
                      allow_redirects=False, timeout=20)
    assert_error_page(r, HTML)


def test_state_older_than_ten_minutes_is_refused(httpd_factory, browser_factory, provider,
                                                 backend, expect_log_ids):
    # The state cookie is sealed with its birth time; a callback more than 600 s later is
    # refused even when the browser still sends the cookie. The same instance, restarted
    # with the same secret under libfaketime 11 minutes ahead, gets that late callback.
    expect_log_ids("OLO00021")
    libs = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    assert libs, "this test needs libfaketime (apt-get install faketime)"
    first = httpd_factory()
    browser = browser_factory(first)
    start = browser.start_login("/")
    callback_url = browser.provider_login(start.auth_url)
    first.stop()

    # LD_PRELOAD rather than the faketime wrapper, which would stand between us and
    # apache2's signals. Monotonic clocks stay real so httpd's own timers behave.
    later = httpd_factory(port=first.port,
                          env={"LD_PRELOAD": libs[0], "FAKETIME": "+11m",
                               "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
                          server={"OneLoginSessionSecret": first.session_secret})
    assert browser.cookie(f"olo_state_{start.state}")
    assert_error_page(browser.callback(callback_url), HTML)
    assert provider.token_log() == []
    assert backend.requests_seen() == []
    assert "OLO00021" in E.LogExpectations().seen_ids(later.error_lines()), \
        "refused, but not for the state's age"
