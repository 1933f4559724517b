"""Renewing the ID token before it expires (OpenMetadata checks exp with no leeway), once per
token however many requests race, and the session's end when a renewal is refused or the
browser went idle.

Every instance here runs with the module's defaults: no OneLoginRefreshMargin. The module
renews a token OneLoginRefreshMargin (60 s) before its exp, but never before half its
lifetime (exp - iat) has passed: a 10 s token is renewed from 5 s on, a 20 s one from 10 s,
a 60 s one from 30 s, a 3600 s one 60 s before exp. The provider issues short-lived tokens on
request (POST /__test/lifetimes), and the tests sleep to the point of a token's life they
need, with SLACK for a busy machine; they never assert on how long anything took."""

import math
import os
import threading
import time

import pytest
import requests

import env as E
import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, TIMEOUT, set_cookies

LIFETIME = 10           # seconds an ID token lives in the shorter tests: renewal due at 5 s
DEFAULT_MARGIN = 60     # OneLoginRefreshMargin's default
SLACK = 1.5             # seconds past a point in a token's life before acting on it
RACERS = 20
LOGGED_IN_USER = "/api/v1/users/loggedInUser"
XHR = {"X-Requested-With": "XMLHttpRequest"}
USERS = {"alice": ("alice@example.com", "alice-password", "10001"),
         "bob": ("bob@example.com", "bob-password", "10002")}


def refresh_entries(provider):
    return [e for e in provider.token_log() if e.get("grant_type") == "refresh_token"]


def forwarded_token(openmetadata):
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER]
    assert calls, openmetadata.requests_seen()
    return calls[-1]


def life(token):
    c = oc.claims(token)
    return c["iat"], c["exp"]


def refresh_due_at(token, margin=DEFAULT_MARGIN):
    """When the module renews `token`: exp - min(margin, half the token's lifetime)."""
    iat, exp = life(token)
    return exp - min(margin, (exp - iat) / 2)


def sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))


def wait_until_refresh_is_due(token, slack=SLACK):
    """Sleeps until the module should renew `token`, plus slack."""
    sleep_until(refresh_due_at(token) + slack)


def short_lived_instance(httpd_factory, provider, openmetadata, lifetime=LIFETIME, **kw):
    """An instance with the module's defaults in front of the OpenMetadata stand-in, logging
    in at a provider whose ID tokens live `lifetime` seconds."""
    provider.set_lifetimes(id_token=lifetime, access_token=3600)
    return httpd_factory(backend=openmetadata, **kw)


def me(browser, accept=API, headers=None):
    return browser.get(LOGGED_IN_USER, accept=accept, headers=headers)


def logged(h, log_id, first=0):
    """The error-log lines with `log_id` from line `first` on."""
    return [ln for ln in h.error_lines()[first:] if f"{log_id}:" in ln]


def assert_only_live_tokens(openmetadata):
    """Every token the stand-in received verified, exp included: it checks exp the way
    OpenMetadata does, with no leeway, when the request arrives, so an expired ID token
    forwarded by the module shows up here as unverified."""
    seen = [e for e in openmetadata.requests_seen() if e.get("bearer")]
    assert seen, "the stand-in received no token at all"
    bad = [(e["path"], e.get("error"), (e.get("unverified_claims") or {}).get("exp"), e["time"])
           for e in seen if not e["verified"]]
    assert not bad, f"tokens the backend refused (path, error, exp, received at): {bad}"
    for e in seen:
        assert e["claims"]["exp"] >= math.floor(e["time"]), e


def race(h, browser, n=RACERS, path=LOGGED_IN_USER):
    """`n` API requests at once with the browser's cookies, each on its own connection."""
    cookies = {c.name: c.value for c in browser.s.cookies}
    gate = threading.Barrier(n)
    results = [None] * n

    def call(i):
        with requests.Session() as s:
            s.trust_env = False
            gate.wait(timeout=10)
            try:
                results[i] = s.get(f"{h.url}{path}", cookies=cookies,
                                   headers={"Accept": API, **XHR}, timeout=TIMEOUT,
                                   allow_redirects=False)
            except requests.RequestException as err:  # reported by the caller
                results[i] = err

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def assert_all_served(results, user="alice"):
    statuses = [getattr(r, "status_code", r) for r in results]
    assert statuses == [200] * len(results), statuses
    names = {r.json()["name"] for r in results}
    assert names == {user}, names


def adopt_renewed_session(browser, results):
    """The browser takes the renewed session from the response that carried the newest."""
    renewed = [r for r in results if "olo_session" in set_cookies(r)]
    assert renewed, "no response carried the renewed session"
    newest = max(renewed, key=lambda r: int(r.headers.get("X-Standin-Token-Exp", "0")))
    for name, attrs in set_cookies(newest).items():
        if name.startswith("olo_session"):
            browser.drop_cookie(name)
            browser.set_cookie(name, attrs["value"])


# Two httpd children with ten threads each, so that racing requests are served by both
# processes at once and the renewal lock must hold across them (it lives in the shared cache).
RACE_CHILDREN = """
StartServers 2
ThreadsPerChild 10
MaxRequestWorkers 20
MinSpareThreads 10
MaxSpareThreads 20
"""


def assert_one_renewal_in_race(provider, before, results, replaced):
    """After a race on a session whose token `replaced` was due: every request served, one
    renewal at the provider (two at the most), the renewed token forwarded."""
    assert_all_served(results)
    entries = refresh_entries(provider)[before:]
    assert 1 <= len(entries) <= 2, f"{len(entries)} refreshes for one renewal: {entries}"
    assert all(e["status"] == 200 for e in entries), entries
    exps = {int(r.headers["X-Standin-Token-Exp"]) for r in results}
    assert max(exps) > life(replaced)[1], "no racing request forwarded the renewed token"


# -- what the module relies on at the provider ------------------------------------------------

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


def test_provider_lifetime_control(provider, openmetadata):
    provider.set_lifetimes(id_token=5, access_token=5)
    tokens = oc.code_flow(provider)
    c = oc.claims(tokens["id_token"])
    assert c["exp"] - c["iat"] == 5, c
    assert tokens["expires_in"] <= 5, tokens

    # "age": the same lifetime, dated back, signed again with the real key under its kid.
    state = provider.set_lifetimes(id_token=3600, age=3550)
    assert state["lifetimes"]["age"] == 3550, state
    before = time.time()
    token = oc.code_flow(provider)["id_token"]
    c = oc.claims(token)
    assert c["exp"] - c["iat"] == 3600, c
    assert math.floor(before) - 3551 <= c["iat"] <= time.time() - 3549, c
    assert oc.header(token)["kid"] == state["kid"], oc.header(token)
    # The stand-in verifies it against the provider's JWKS (50 s of life left).
    r = requests.get(f"{openmetadata.url}{LOGGED_IN_USER}", timeout=10,
                     headers={"Authorization": f"Bearer {token}", "Accept": API},
                     proxies={"http": None, "https": None})
    assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text)
    assert provider.reset()["lifetimes"]["age"] == 0


# -- renewal on time, with the defaults ---------------------------------------------------------

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
    assert refresh_entries(provider) == [], "renewed right after login"

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
    assert_only_live_tokens(openmetadata)


def test_twenty_second_token_is_renewed_at_half_its_life(httpd_factory, browser_factory,
                                                         provider, openmetadata):
    # The default margin (60 s) is longer than the whole token: renewing "60 s before exp"
    # would renew on every request from the login on. Half the lifetime holds instead.
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=20,
                             extra_config=RACE_CHILDREN)
    b = browser_factory(h)
    b.sign_in("/")
    for _ in range(3):
        assert me(b).status_code == 200
    first = forwarded_token(openmetadata)["bearer"]
    iat, exp = life(first)
    assert exp - iat == 20, oc.claims(first)
    assert refresh_entries(provider) == [], "a 20 s token renewed right after login"
    sleep_until(iat + 8)
    assert me(b).status_code == 200
    assert refresh_entries(provider) == [], "renewed before half the token's life"

    # Half its life: one renewal, and the new token is the one forwarded.
    sleep_until(iat + 10 + SLACK)
    r = me(b)
    assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text)
    assert len(refresh_entries(provider)) == 1, refresh_entries(provider)
    second = forwarded_token(openmetadata)["bearer"]
    assert second != first and life(second)[1] > exp, "OpenMetadata still got the old token"
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == 1, "renewed again right after the renewal"

    # Past the first token's exp, with the second due: a burst of requests renews it once
    # and never forwards an expired token.
    sleep_until(exp + 5)
    assert time.time() >= refresh_due_at(second), "the second token should be due by now"
    results = race(h, b)
    assert_one_renewal_in_race(provider, 1, results, second)
    assert_only_live_tokens(openmetadata)
    adopt_renewed_session(b, results)
    count = len(refresh_entries(provider))
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == count
    assert life(forwarded_token(openmetadata)["bearer"])[1] > life(second)[1]


def test_sixty_second_token_is_renewed_at_half_its_life(httpd_factory, browser_factory,
                                                        provider, openmetadata):
    # As long as the default margin: renewing 60 s before exp would renew at once.
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=60,
                             extra_config=RACE_CHILDREN)
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    first = forwarded_token(openmetadata)["bearer"]
    iat, exp = life(first)
    assert exp - iat == 60, oc.claims(first)
    assert refresh_entries(provider) == [], "a 60 s token renewed right after login"
    sleep_until(iat + 26)
    assert me(b).status_code == 200
    assert refresh_entries(provider) == [], "renewed before half the token's life"

    wait_until_refresh_is_due(first)    # 30 s
    results = race(h, b)
    assert_one_renewal_in_race(provider, 0, results, first)
    assert_only_live_tokens(openmetadata)
    adopt_renewed_session(b, results)
    count = len(refresh_entries(provider))
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == count
    renewed = forwarded_token(openmetadata)["bearer"]
    assert life(renewed)[1] > exp and oc.claims(renewed)["sub"] == "10001", oc.claims(renewed)




def set_clock(path, offset):
    """httpd's clock `offset` seconds ahead from now on (libfaketime re-reads the file)."""
    tmp = path.with_suffix(".new")
    tmp.write_text(f"{offset:+d}\n")
    tmp.chmod(0o644)
    os.replace(tmp, path)


def test_hour_long_token_is_renewed_a_minute_before_exp(httpd_factory, browser_factory,
                                                        provider, openmetadata):
    # An hour-long token (OneLogin's default) cannot be waited for, and cannot be handed to the
    # module already old: an ID token issued more than ten minutes before it arrives is
    # refused. So httpd runs under libfaketime with a clock the test moves forward after the
    # login, and the provider dates the renewed token by httpd's clock (age < 0). The
    # stand-in keeps the real clock: the hour-long tokens are valid for it throughout.
    assert E.FAKETIME_LIBS, "this test needs libfaketime (apt-get install faketime)"
    provider.set_lifetimes(id_token=3600, access_token=3600)
    h = httpd_factory(backend=openmetadata, extra_config=RACE_CHILDREN, start=False)
    clock = h.root / "clock"
    h.root.mkdir(parents=True, exist_ok=True)
    set_clock(clock, 0)
    h.env = {"LD_PRELOAD": E.FAKETIME_LIBS[0], "FAKETIME_TIMESTAMP_FILE": str(clock),
             "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    h.start()
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    first = forwarded_token(openmetadata)["bearer"]
    iat, exp = life(first)
    assert exp - iat == 3600, oc.claims(first)

    # 110 s left by httpd's clock: more than the margin, no renewal.
    set_clock(clock, 3490)
    time.sleep(0.5)     # the event MPM closes keep-alive connections the jump timed out
    assert me(b).status_code == 200
    assert refresh_entries(provider) == [], "renewed with more than a minute left"
    assert forwarded_token(openmetadata)["bearer"] == first

    # 50 s left: due at once.
    offset = 3550
    provider.set_lifetimes(age=-offset)
    set_clock(clock, offset)
    time.sleep(0.5)
    assert exp - (time.time() + offset) < DEFAULT_MARGIN
    results = race(h, b)
    assert_one_renewal_in_race(provider, 0, results, first)
    assert_only_live_tokens(openmetadata)
    adopt_renewed_session(b, results)
    count = len(refresh_entries(provider))
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == count, "the renewed hour-long token renewed again"
    renewed = forwarded_token(openmetadata)["bearer"]
    assert renewed != first and oc.claims(renewed)["exp"] - oc.claims(renewed)["iat"] == 3600


# -- racing requests ----------------------------------------------------------------------------

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

    results = race(h, b, n=10)
    assert_all_served(results)
    entries = refresh_entries(provider)
    assert len(entries) == 1, f"{len(entries)} refreshes for one session: {entries}"
    assert entries[0]["status"] == 200, entries[0]
    calls = [e for e in openmetadata.requests_seen() if e["path"] == LOGGED_IN_USER][-10:]
    assert all(c["verified"] for c in calls), [c.get("error") for c in calls]
    pids = {line.split()[0] for line in (h.root / "logs" / "pid_log").read_text().splitlines()
            if line.endswith(LOGGED_IN_USER)}
    print(f"racing requests served by {len(pids)} httpd children")

    # The browser takes the refreshed session from the response that carried it.
    adopt_renewed_session(b, results)
    assert me(b).status_code == 200
    assert len(refresh_entries(provider)) == 1
    assert forwarded_token(openmetadata)["bearer"] != token


def login_pair_in_one_second(h, browser_factory, attempts=3):
    """Alice and Bob logged in on two browsers, their ID tokens issued in the same second
    (the code exchanges, where the tokens are issued, run right after a second begins)."""
    for _ in range(attempts):
        pair = {}
        for name, (login, password, _) in USERS.items():
            b = browser_factory(h)
            start = b.start_login("/")
            pair[name] = (b, start, b.provider_login(start.auth_url, login, password))
        sleep_until(math.floor(time.time()) + 1.05)
        for b, start, callback_url in pair.values():
            b.check_logged_in_redirect(b.callback(callback_url), start, "/")
        tokens = {}
        for name, (b, _, _) in pair.items():
            r = me(b)
            assert r.status_code == 200 and r.json()["name"] == name, (r.status_code, r.text)
            tokens[name] = r.headers["X-Standin-Token-Exp"]
        if len(set(tokens.values())) == 1:
            return {name: b for name, (b, _, _) in pair.items()}
    raise AssertionError(f"no two logins in one second in {attempts} attempts")


def tokens_of(openmetadata, email):
    return [e["bearer"] for e in openmetadata.requests_seen()
            if e["path"] == LOGGED_IN_USER and (e.get("claims") or {}).get("email") == email]


def test_tokens_expiring_in_the_same_second_renew_apart(httpd_factory, browser_factory,
                                                        provider, openmetadata):
    # The renewal lock and result are keyed by the token being replaced, not by its exp
    # second: two sessions whose tokens expire together renew each its own.
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=20)
    browsers = login_pair_in_one_second(h, browser_factory)
    first = {name: tokens_of(openmetadata, USERS[name][0])[-1] for name in USERS}
    assert life(first["alice"]) == life(first["bob"]), "not in the same second"
    assert refresh_entries(provider) == [], "renewed right after login"

    # Both due: each session renews its own token, at the same moment.
    wait_until_refresh_is_due(first["alice"])
    results = {}

    def call(name):
        results[name] = me(browsers[name])

    threads = [threading.Thread(target=call, args=(name,)) for name in USERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for name, r in results.items():
        assert r.status_code == 200 and r.json()["name"] == name, (name, r.status_code, r.text)
        assert "olo_session" in set_cookies(r), f"{name}'s renewed session was not sent back"
    entries = refresh_entries(provider)
    assert len(entries) == 2 and all(e["status"] == 200 for e in entries), entries

    for name, (email, _, sub) in USERS.items():
        renewed = tokens_of(openmetadata, email)[-1]
        assert renewed != first[name], f"{name} still got the old token"
        c = oc.claims(renewed)
        assert c["sub"] == sub and c["email"] == email, (name, c)
        assert c["nonce"] == oc.claims(first[name])["nonce"], f"{name} got another login's token"
        assert c["exp"] > life(first[name])[1], c
        # And the next request forwards that same token, with no further renewal.
        r = me(browsers[name])
        assert r.status_code == 200 and r.json()["name"] == name, (r.status_code, r.text)
        assert tokens_of(openmetadata, email)[-1] == renewed
    assert len(refresh_entries(provider)) == 2
    assert_only_live_tokens(openmetadata)


# -- renewals that fail -------------------------------------------------------------------------

def test_refresh_answer_without_id_token_keeps_the_token_until_it_expires(
        httpd_factory, browser_factory, provider, openmetadata):
    # OIDC Core 12.2 lets a refresh answer carry no ID token (Glewlwyd's always do): the
    # session goes on with the token it has, and ends when that one expires.
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=20)
    b = browser_factory(h)
    b.sign_in("/")
    assert me(b).status_code == 200
    token = forwarded_token(openmetadata)["bearer"]
    provider.set_mode("refresh-no-id-token")
    assert refresh_entries(provider) == []

    wait_until_refresh_is_due(token)
    r = me(b)
    assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text)
    assert forwarded_token(openmetadata)["bearer"] == token
    entries = refresh_entries(provider)
    assert len(entries) == 1 and not entries[0]["id_token_returned"], entries
    lines = logged(h, "OLO00044")
    assert lines and "no id_token" in lines[-1], lines
    # The refresh token was let go: nothing to renew with, so no further attempt.
    for _ in range(3):
        assert me(b).status_code == 200
        assert forwarded_token(openmetadata)["bearer"] == token
    assert len(refresh_entries(provider)) == 1, refresh_entries(provider)

    sleep_until(life(token)[1] + SLACK)
    r = me(b, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert logged(h, "OLO00047"), "no OLO00047 for the session's end"
    r = b.get("/", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert len(refresh_entries(provider)) == 1
    assert_only_live_tokens(openmetadata)


@pytest.mark.parametrize("mode, cause", [
    ("refresh-invalid-grant", "error=invalid_grant"),
    ("refresh-bad-token", "signature"),
], ids=["refresh-invalid-grant", "refresh-bad-token"])
def test_refused_refresh_ends_the_session(httpd_factory, browser_factory, provider, openmetadata,
                                          expect_log_ids, mode, cause):
    expect_log_ids("OLO00043")
    h = short_lived_instance(httpd_factory, provider, openmetadata)
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
    lines = logged(h, "OLO00043")
    assert len(lines) == 1 and cause in lines[0], lines
    r = b.get("/", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?"), r.headers
    assert openmetadata.requests_seen() == [], "a request without a valid session got through"
    # Ended, not retried: one attempt at the token endpoint for both requests.
    assert len(refresh_entries(provider)) == 1, refresh_entries(provider)


def fail_renewal_while_valid(h, b, provider, openmetadata, mode):
    """Logs in, lets the renewal fall due and fail in `mode` while the token is valid:
    returns (token, the time the failure came, token endpoint requests so far)."""
    b.sign_in("/")
    assert me(b).status_code == 200
    token = forwarded_token(openmetadata)["bearer"]
    wait_until_refresh_is_due(token)
    provider.set_mode(mode)
    openmetadata.reset()
    failed_at = time.time()
    # The first request tries and fails; the second comes within the backoff.
    answers = [me(b, headers=XHR), me(b, headers=XHR)]
    for r in answers:
        assert r.status_code == 200 and r.json()["name"] == "alice", \
            (r.status_code, r.text[:300])
    seen = [e["bearer"] for e in openmetadata.requests_seen()]
    assert seen == [token, token], "not the current token"
    lines = logged(h, "OLO00054")
    assert len(lines) == 1 and "next try in" in lines[0], lines
    assert not logged(h, "OLO00043"), "the session ended"
    # The login's code exchange and one renewal: none during the backoff.
    calls = len(provider.token_log())
    assert calls == 2, provider.token_log()
    return token, failed_at, calls


def past_the_backoff(token, failed_at):
    """The backoff is a third of the token's remaining life (1 to 30 s)."""
    return failed_at + max(1.0, (life(token)[1] - failed_at) / 3) + SLACK


def test_provider_down_at_renewal_serves_the_valid_token_then_renews(
        httpd_factory, browser_factory, provider, openmetadata, expect_log_ids):
    # The token endpoint fails before doing anything (token-500): a passing failure while the
    # token is valid keeps the session on its current token, and the renewal is tried again
    # once the backoff has passed.
    expect_log_ids("OLO00054")
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=16)
    b = browser_factory(h)
    token, failed_at, calls = fail_renewal_while_valid(h, b, provider, openmetadata,
                                                       "token-500")
    provider.set_mode("normal")
    sleep_until(past_the_backoff(token, failed_at))
    r = me(b, headers=XHR)
    assert r.status_code == 200 and r.json()["name"] == "alice", (r.status_code, r.text[:300])
    entries = refresh_entries(provider)
    assert len(entries) == 1 and entries[0]["status"] == 200, entries
    assert len(provider.token_log()) == calls + 1
    renewed = forwarded_token(openmetadata)["bearer"]
    assert renewed != token and life(renewed)[1] > life(token)[1]
    assert logged(h, "OLO00044"), "no OLO00044 for the renewal"
    assert_only_live_tokens(openmetadata)


def test_refresh_500_keeps_the_session_while_the_token_is_valid(
        httpd_factory, browser_factory, provider, openmetadata, expect_log_ids):
    # refresh-500 answers 500 after the provider did the work: the current token serves
    # (OLO00054) and the session is kept. The refresh token was used up all the same, so the
    # next try, after the backoff, is refused (invalid_grant): that ends the session.
    expect_log_ids("OLO00054", "OLO00043")
    h = short_lived_instance(httpd_factory, provider, openmetadata, lifetime=16)
    b = browser_factory(h)
    token, failed_at, calls = fail_renewal_while_valid(h, b, provider, openmetadata,
                                                       "refresh-500")
    assert refresh_entries(provider)[-1]["status"] == 500, refresh_entries(provider)
    provider.set_mode("normal")
    sleep_until(past_the_backoff(token, failed_at))
    r = me(b, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    entries = refresh_entries(provider)
    assert len(entries) == 2 and entries[-1]["error"] == "invalid_grant", entries
    lines = logged(h, "OLO00043")
    assert len(lines) == 1 and "invalid_grant" in lines[0], lines
    assert_only_live_tokens(openmetadata)


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


# -- idle time and max age ----------------------------------------------------------------------

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
