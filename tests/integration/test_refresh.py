"""Refreshing the ID token before it expires (OpenMetadata checks exp with no leeway), once
per session however many requests race, and the session's end when a refresh fails or the
browser went idle.

The provider issues ID tokens that live LIFETIME seconds and the module refreshes them
MARGIN seconds before they expire, so a refresh is due LIFETIME - MARGIN seconds after
login."""

import threading
import time

import pytest
import requests

import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, TIMEOUT, set_cookies

LIFETIME = 8
MARGIN = 5
LOGGED_IN_USER = "/api/v1/users/loggedInUser"
XHR = {"X-Requested-With": "XMLHttpRequest"}


def refresh_entries(provider):
    return [e for e in provider.token_log() if e.get("grant_type") == "refresh_token"]


def forwarded_token(openmetadata):
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER]
    assert calls, openmetadata.requests_seen()
    return calls[-1]


def wait_until_refresh_is_due(token, margin=MARGIN, slack=1.0):
    """Sleeps until the module should refresh `token` (exp - margin), plus slack."""
    due = oc.claims(token)["exp"] - margin + slack
    time.sleep(max(0.0, due - time.time()))


def short_lived_instance(httpd_factory, provider, openmetadata, lifetime=LIFETIME,
                         margin=MARGIN, **kw):
    provider.set_lifetimes(id_token=lifetime, access_token=lifetime)
    return httpd_factory(backend=openmetadata,
                         server={"OneLoginRefreshMargin": str(margin), **kw.pop("server", {})},
                         **kw)


def me(browser, accept=API, headers=None):
    return browser.get(LOGGED_IN_USER, accept=accept, headers=headers)


def test_provider_refreshes_a_public_clients_id_token(provider):
    # What the module relies on: a public client (no secret) may use the refresh token
    # handed out at login, and the answer carries a new ID token with the same user.
    tokens = oc.code_flow(provider)
    assert "refresh_token" in tokens, tokens
    status, fresh = oc.refresh(provider, tokens["refresh_token"])
    assert status == 200, fresh
    assert fresh["id_token"] != tokens["id_token"]
    old, new = oc.claims(tokens["id_token"]), oc.claims(fresh["id_token"])
    assert new["sub"] == old["sub"] and new["email"] == "alice@example.com", new
    assert new.get("nonce") == old.get("nonce"), "oidc-provider repeats the login's nonce"
    assert new["aud"] == "olo-test-client" and new["iss"] == provider.issuer, new
    assert new["exp"] >= old["exp"], (old, new)
    # oidc-provider rotates a public client's refresh token: the old one is used up.
    assert fresh["refresh_token"] != tokens["refresh_token"]
    status, again = oc.refresh(provider, tokens["refresh_token"])
    assert status == 400 and again["error"] == "invalid_grant", again
    entry = refresh_entries(provider)[0]
    assert entry["client_id"] == "olo-test-client" and entry["id_token_returned"], entry


def test_provider_lifetime_control(provider):
    provider.set_lifetimes(id_token=5, access_token=5)
    tokens = oc.code_flow(provider)
    c = oc.claims(tokens["id_token"])
    assert c["exp"] - c["iat"] == 5, c
    assert tokens["expires_in"] <= 5, tokens


def test_id_token_is_refreshed_before_it_expires(httpd_factory, browser_factory, provider,
                                                 openmetadata):
    h = short_lived_instance(httpd_factory, provider, openmetadata)
    b = browser_factory(h)
    start = b.start_login("/")
    assert "offline_access" not in start.params["scope"].split(), start.params
    b.check_logged_in_redirect(b.callback(b.provider_login(start.auth_url)), start, "/")

    # Fresh: no refresh.
    assert me(b).status_code == 200
    first = forwarded_token(openmetadata)["bearer"]
    assert refresh_entries(provider) == []

    previous = first
    for cycle in (1, 2):  # the second refresh uses the rotated refresh token
        wait_until_refresh_is_due(previous)
        r = me(b)
        assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text)
        assert "olo_session" in set_cookies(r), "the refreshed session was not sent back"
        entries = refresh_entries(provider)
        assert len(entries) == cycle, entries
        entry = entries[-1]
        assert entry["status"] == 200 and entry["client_id"] == "olo-test-client", entry
        assert entry["refresh_token_present"], entry
        assert not entry["client_secret_present"] and not entry["authorization_present"], entry
        seen = forwarded_token(openmetadata)
        assert seen["verified"], seen
        assert seen["bearer"] != previous, "OpenMetadata still got the old ID token"
        assert oc.claims(seen["bearer"])["exp"] > oc.claims(previous)["exp"]
        previous = seen["bearer"]
        # The new session is used from now on: no second refresh right away.
        assert me(b).status_code == 200
        assert len(refresh_entries(provider)) == cycle
        assert forwarded_token(openmetadata)["bearer"] == previous


# Two httpd children with five threads each, so that the racing requests are served by both
# processes and the refresh lock must hold across them (it lives in the shared cache).
TWO_CHILDREN = """
StartServers 2
ThreadsPerChild 5
MaxRequestWorkers 10
MinSpareThreads 5
MaxSpareThreads 10
LogFormat "%P %>s %U" pid
CustomLog "logs/pid_log" pid
"""


def test_racing_requests_refresh_once(httpd_factory, browser_factory, provider, openmetadata):
    h = short_lived_instance(httpd_factory, provider, openmetadata, extra_config=TWO_CHILDREN)
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    token = forwarded_token(openmetadata)["bearer"]
    wait_until_refresh_is_due(token)

    cookies = {c.name: c.value for c in b.s.cookies}
    gate = threading.Barrier(10)
    results = [None] * 10

    def call(i):
        with requests.Session() as s:
            s.trust_env = False
            gate.wait(timeout=10)
            try:
                results[i] = s.get(f"{h.url}{LOGGED_IN_USER}", cookies=cookies,
                                   headers={"Accept": API, **XHR}, timeout=TIMEOUT,
                                   allow_redirects=False)
            except requests.RequestException as err:  # reported below
                results[i] = err

    threads = [threading.Thread(target=call, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    statuses = [getattr(r, "status_code", r) for r in results]
    assert statuses == [200] * 10, statuses
    assert all(r.json()["name"] == "alice" for r in results)
    entries = refresh_entries(provider)
    assert len(entries) == 1, f"{len(entries)} refreshes for one session: {entries}"
    assert entries[0]["status"] == 200, entries[0]
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER][-10:]
    assert all(c["verified"] for c in calls), [c.get("error") for c in calls]
    pids = {line.split()[0] for line in (h.root / "logs" / "pid_log").read_text().splitlines()
            if line.endswith(LOGGED_IN_USER)}
    print(f"racing requests served by {len(pids)} httpd children")

    # The browser takes the refreshed session from the response that carried it.
    renewed = [r for r in results if "olo_session" in set_cookies(r)]
    assert renewed, "no response carried the refreshed session"
    newest = max(renewed, key=lambda r: int(r.headers.get("X-Standin-Token-Exp", "0")))
    for name, attrs in set_cookies(newest).items():
        if name.startswith("olo_session"):
            b.drop_cookie(name)
            b.set_cookie(name, attrs["value"])
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == 1
    assert forwarded_token(openmetadata)["bearer"] != token


@pytest.mark.parametrize("mode", ["refresh-500", "refresh-invalid-grant", "refresh-bad-token"])
def test_failed_refresh_ends_the_session(httpd_factory, browser_factory, provider, openmetadata,
                                         expect_log_ids, mode):
    expect_log_ids("OLO00043")
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=7)
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    token = forwarded_token(openmetadata)["bearer"]
    wait_until_refresh_is_due(token)
    provider.set_mode(mode)
    openmetadata.reset()

    r = me(b, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert "Location" not in r.headers
    r = b.get("/", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?"), r.headers
    assert openmetadata.requests_seen() == [], "a request without a valid session got through"
    # Ended, not retried: one attempt at the token endpoint for both requests.
    assert len(refresh_entries(provider)) == 1, refresh_entries(provider)


def test_expired_id_token_without_refresh_token_ends_the_session(httpd_factory, browser_factory,
                                                                provider, openmetadata):
    # A provider that hands out no refresh token: the expired ID token cannot be renewed, and
    # OpenMetadata would refuse it, so the module ends the session instead of forwarding it.
    provider.set_mode("no-refresh-token")
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=4)
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    token = forwarded_token(openmetadata)["bearer"]
    time.sleep(max(0.0, oc.claims(token)["exp"] + 1 - time.time()))
    openmetadata.reset()
    r = me(b, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert "session-expired" in r.text
    r = b.get("/", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert openmetadata.requests_seen() == [], "an expired ID token was forwarded"
    assert refresh_entries(provider) == []


def test_idle_session_needs_a_new_login(httpd_factory, browser_factory, provider, backend):
    h = httpd_factory(server={"OneLoginSessionIdleTimeout": "2"})
    b = browser_factory(h)
    b.login("/")
    # Activity keeps the session alive past the idle timeout.
    for _ in range(4):
        time.sleep(0.8)
        r = b.get("/busy", accept=API)
        assert r.status_code == 200, (r.status_code, r.text[:300])
    backend.reset()
    time.sleep(3)
    r = b.get("/after-lunch", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
    assert b.get("/after-lunch", accept=API).status_code == 401
    assert backend.requests_seen() == []


def test_session_max_age_holds_despite_activity(httpd_factory, browser_factory, provider,
                                                backend):
    h = httpd_factory(server={"OneLoginSessionMaxAge": "3"})
    b = browser_factory(h)
    b.login("/")
    started = time.monotonic()
    while time.monotonic() - started < 2.0:
        assert b.get("/busy", accept=API).status_code == 200
        time.sleep(0.5)
    time.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
    r = b.get("/too-late", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
