"""An operator's bad day, with the module's defaults: the provider hangs or dies while sessions
need their ID tokens renewed, and httpd is reloaded again and again under load.

The provider is a process of the test's own (`own_provider`), frozen with SIGSTOP (it hangs:
calls time out after OneLoginHTTPTimeout's 5 s) or killed (connections refused). Its ID tokens
live LIFETIME seconds, so the default margin (60 s, at most half a token's life) makes a
renewal due LIFETIME / 2 after login."""

import re
import signal
import threading
import time
from pathlib import Path

import requests

import oidc_client as oc
from browser import API, Browser, cookie_cleared, set_cookies

LIFETIME = 20
PRIVATE = "/private"


def bearer(report):
    return report["headers"]["Authorization"].split(" ", 1)[1]


def log_lines(h, log_id, first=0):
    return [ln for ln in h.error_lines()[first:] if f"{log_id}:" in ln]


def sleep_until(when):
    time.sleep(max(0.0, when - time.time()))


def logged_in(httpd_factory, browser_factory, provider):
    """A fresh instance in front of the echo backend, a browser logged in there, and the ID
    token the backend got."""
    provider.set_lifetimes(id_token=LIFETIME, access_token=3600)
    h = httpd_factory(provider=provider)
    b = browser_factory(h, provider=provider)
    return h, b, bearer(b.login(PRIVATE))


def served_with(b, token):
    """A script's request is served, with `token` forwarded and still valid on arrival; the
    session cookie is neither renewed nor deleted."""
    r = b.get(PRIVATE, accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert bearer(r.json()) == token, "another token was forwarded"
    assert oc.claims(token)["exp"] > time.time(), "an expired ID token reached the backend"
    assert "olo_session" not in set_cookies(r), set_cookies(r)
    return r


def test_renewal_while_the_provider_hangs_serves_the_valid_token(
        httpd_factory, browser_factory, own_provider, expect_log_ids):
    expect_log_ids("OLO00054")
    h, b, token = logged_in(httpd_factory, browser_factory, own_provider)
    sleep_until(oc.claims(token)["iat"] + LIFETIME / 2 + 0.5)

    own_provider.proc.send_signal(signal.SIGSTOP)
    first = len(h.error_lines())
    # The renewal times out; the token has about 5 s left and serves.
    served_with(b, token)
    postponed = log_lines(h, "OLO00054", first)
    assert len(postponed) == 1 and "next try in" in postponed[0], postponed
    # Within the backoff nobody asks the hung provider again (no second timeout, no line).
    served_with(b, token)
    assert len(log_lines(h, "OLO00054", first)) == 1, h.error_lines()[first:]

    # The provider is back before the token expires: the next try after the backoff renews.
    # The provider is back before the token expires: a try after the backoff (a third of the
    # token's remaining life) renews, while the old token keeps serving until then.
    own_provider.proc.send_signal(signal.SIGCONT)
    backoff = int(re.search(r"next try in (\d+) s", postponed[0]).group(1))
    time.sleep(backoff + 1.0)
    while True:
        r = b.get(PRIVATE, accept=API)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        renewed = bearer(r.json())
        if renewed != token or time.time() > oc.claims(token)["exp"]:
            break
        assert oc.claims(token)["exp"] > time.time(), "an expired ID token reached the backend"
        time.sleep(0.5)
    assert renewed != token and oc.claims(renewed)["exp"] > oc.claims(token)["exp"]
    assert "olo_session" in set_cookies(r), "the renewed session was not sent back"
    assert [e for e in own_provider.token_log() if e.get("grant_type") == "refresh_token"
            and e["status"] == 200], own_provider.token_log()


def test_provider_dead_until_the_token_expires_ends_the_session_everywhere(
        httpd_factory, browser_factory, own_provider, expect_log_ids):
    expect_log_ids("OLO00054", "OLO00043")
    h, b, token = logged_in(httpd_factory, browser_factory, own_provider)
    sleep_until(oc.claims(token)["iat"] + LIFETIME / 2 + 0.5)
    sealed = {c.name: c.value for c in b.s.cookies if c.name.startswith("olo_session")}

    own_provider.kill()
    first = len(h.error_lines())
    served_with(b, token)       # refused connection: at once, and the valid token serves
    assert len(log_lines(h, "OLO00054", first)) == 1, h.error_lines()[first:]

    # Still down when the token expires: it is never forwarded, and the session ends.
    sleep_until(oc.claims(token)["exp"] + 1)
    r = b.get(PRIVATE, accept=API)
    assert r.status_code == 401 and r.json()["error"] == "refresh-failed", (r.status_code,
                                                                             r.text[:300])
    assert cookie_cleared(set_cookies(r)["olo_session"]), set_cookies(r)
    ended = log_lines(h, "OLO00043", first)
    assert len(ended) == 1 and "provider-unreachable" in ended[0], ended

    # Ended everywhere: the same cookie, sent again, does not come back to life.
    for name, value in sealed.items():
        b.set_cookie(name, value)
    r = b.get(PRIVATE, accept=API)
    assert r.status_code == 401, (r.status_code, r.text[:300])

    # The provider restarts (empty: its refresh tokens are gone) and people log in again.
    own_provider.start()
    own_provider.allow_client_urls([f"{h.url}/callback"], [f"{h.url}/"])
    b2 = Browser(h, own_provider)
    try:
        # A fetch that failed moments ago is remembered for a few seconds (one timeout per
        # few seconds while the provider is down, not one per request).
        deadline = time.monotonic() + 15
        while b2.get(PRIVATE).status_code == 503:
            assert time.monotonic() < deadline, "login still refused 15 s after the restart"
            time.sleep(0.5)
        assert b2.login(PRIVATE)["remote_user"] == "alice@example.com"
    finally:
        b2.close()


def parent_rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_ten_graceful_restarts_under_load_drop_no_request(httpd_factory, browser_factory,
                                                          provider):
    h = httpd_factory()
    b = browser_factory(h)
    b.login(PRIVATE)
    cookies = {c.name: c.value for c in b.s.cookies}
    stop = threading.Event()
    statuses, problems, retried = [], [], []

    def load():
        with requests.Session() as s:
            s.trust_env = False
            s.cookies.update(cookies)
            while not stop.is_set():
                try:
                    r = s.get(h.url + PRIVATE, headers={"Accept": API}, timeout=10)
                except requests.ConnectionError:
                    # An old child closed its idle keep-alive connection as the request went
                    # out (HTTP's own race; browsers send it again on a new connection).
                    retried.append(1)
                    try:
                        r = s.get(h.url + PRIVATE, headers={"Accept": API}, timeout=10)
                    except requests.RequestException as exc:
                        problems.append(repr(exc))
                        continue
                statuses.append(r.status_code)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        time.sleep(1.0)
        rss = [parent_rss_kb(h.proc.pid)]
        for _ in range(10):
            h.reload()
            time.sleep(0.5)
            rss.append(parent_rss_kb(h.proc.pid))
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=15)
    bad = [s for s in statuses if not 200 <= s < 300]
    assert len(statuses) > 100 and not bad and not problems, (len(statuses), bad[:10],
                                                                problems[:5])
    print(f"{len(statuses)} requests, {len(retried)} sent again on a new connection, "
          f"parent RSS {rss} kB")
    # The parent grows a little on the first reloads (pools reach their size), then not.
    assert rss[-1] - rss[2] <= 256, f"parent RSS over 10 graceful restarts: {rss} kB"
