"""Shared state that cannot be flushed, with the DEFAULT cache (shmcb) and session store: a
logged-out cookie never authenticates again, whatever fills the cache and across reloads;
server-store sessions survive anonymous floods; and a cache too small to hold its sessions
ends them (fails closed) and says so. Floods are bounded in count and in time."""

import concurrent.futures
import re
import time

import requests

import env as E
from browser import API, HTML, LOGIN_REDIRECTS

FLOOD_SECONDS = 300      # no flood may take longer than this, or the test fails
WORKERS = 3              # the machine has 2 cores: httpd, the provider and us share them


def plain_session():
    s = requests.Session()
    s.trust_env = False
    return s


def get_with_cookie(h, cookie, path="/private"):
    with plain_session() as s:
        return s.get(h.url + path, cookies={"olo_session": cookie},
                     headers={"Accept": API}, allow_redirects=False, timeout=30)


def assert_refused(h, backend, cookie, reasons=("session-revoked",)):
    """The cookie is no session: 401 with one of reasons, and the backend never sees it."""
    backend.reset()
    r = get_with_cookie(h, cookie)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["error"] in reasons, r.text
    assert backend.requests_seen() == []


def assert_alive(h, cookie, user="alice@example.com"):
    r = get_with_cookie(h, cookie)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == user


def logged_out_copy(h, browser_factory):
    """The cookie of a session that logged out afterwards (a copy an attacker kept)."""
    b = browser_factory(h)
    b.login("/")
    copy = b.cookie("olo_session")
    r = b.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    return copy


def live_session(h, browser_factory):
    b = browser_factory(h)
    b.login("/")
    return b.cookie("olo_session")


def flood(count, one, deadline_s=FLOOD_SECONDS, workers=WORKERS, setup=None):
    """Runs one(state, i) count times over `workers` threads, each with its own
    setup() state; fails when it takes longer than deadline_s."""
    deadline = time.monotonic() + deadline_s

    def worker(k):
        state = setup() if setup else None
        done = 0
        for i in range(k, count, workers):
            assert time.monotonic() < deadline, f"flood over {deadline_s}s after {done} steps"
            one(state, i)
            done += 1
        return done

    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        done = sum(ex.map(worker, range(workers)))
    assert done == count
    return done


def login_logout_flood(h, browser_factory, count):
    """count other users log in and log out (the provider remembers each worker's login,
    as OneLogin does, so only the first of a worker fills in the form)."""
    def setup():
        b = browser_factory(h)
        b.login("/")
        return b

    def one(b, i):
        r = b.get("/logout", accept=HTML)
        assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:200])
        start = b.start_login("/")
        r = b.callback(b.provider_login(start.auth_url))
        assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:200])

    flood(count, one, setup=setup)


def failed_callback_flood(h, count):
    """count anonymous /signin + /callback?error= pairs: each spends a state in the cache."""
    def one(s, i):
        r = s.get(h.url + "/signin", headers={"Accept": HTML}, allow_redirects=False,
                  timeout=30)
        assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:200])
        state = re.search(r"[?&]state=([^&]+)", r.headers["Location"]).group(1)
        r = s.get(f"{h.url}/callback?state={state}&error=access_denied",
                  headers={"Accept": HTML}, allow_redirects=False, timeout=30)
        assert r.status_code == 401, (r.status_code, r.text[:200])

    flood(count, one, setup=plain_session)


def status_counter(h, reason):
    r = requests.get(h.url + "/onelogin-status", timeout=10, proxies={"http": None})
    assert r.status_code == 200, r.text[:300]
    assert "# TYPE onelogin_oidc_sessions_refused_total counter" in r.text, r.text[:300]
    m = re.search(r'^onelogin_oidc_sessions_refused_total\{reason="%s"\} (\d+)$' % reason,
                  r.text, re.M)
    return int(m.group(1)) if m else 0


# ------------------------------------------------------------------------------------------

def test_logged_out_cookie_stays_refused_under_every_flood_and_reload(
        httpd_factory, browser_factory, openmetadata, backend, expect_log_ids):
    # The floods provoke only expected lines: failed callbacks (OLO00025) and refused bots.
    expect_log_ids("OLO00025")
    h = httpd_factory(extra_config=f"""
<Location /api/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {openmetadata.jwks_url}
    OneLoginBearerIssuer open-metadata.org
</Location>
""")
    copy = logged_out_copy(h, browser_factory)
    alive = live_session(h, browser_factory)
    assert_refused(h, backend, copy)

    login_logout_flood(h, browser_factory, 10_000)
    assert_refused(h, backend, copy)
    assert_alive(h, alive)

    failed_callback_flood(h, 10_000)
    assert_refused(h, backend, copy)
    assert_alive(h, alive)

    # 2,000 distinct bot tokens, each verified once and its verdict cached.
    tokens = [openmetadata.bot_token(claims={"jti": f"flood-{i}"}) for i in range(2_000)]

    def one(s, i):
        r = s.get(h.url + "/api/v1/tables", headers={"Accept": API,
                  "Authorization": f"Bearer {tokens[i]}"}, allow_redirects=False, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text[:200])

    flood(len(tokens), one, setup=plain_session)
    assert_refused(h, backend, copy)
    assert_alive(h, alive)

    for hard in (False, True):
        h.reload(hard=hard)
        assert_refused(h, backend, copy)
        assert_alive(h, alive)


def test_server_store_sessions_survive_anonymous_floods_and_reloads(
        httpd_factory, browser_factory, backend, expect_log_ids):
    expect_log_ids("OLO00025")
    h = httpd_factory(server={"OneLoginSessionStore": "server"})
    cookies = []

    def setup():
        b = browser_factory(h)
        b.login("/")
        cookies.append(b.cookie("olo_session"))
        return b

    def one(b, i):
        # Another login of this browser (the provider remembers it): a new stored session,
        # and the one before stays, never logged out.
        b.drop_cookie("olo_session")
        start = b.start_login("/")
        r = b.callback(b.provider_login(start.auth_url))
        assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:200])
        cookies.append(b.cookie("olo_session"))

    flood(1_000 - WORKERS, one, setup=setup)
    assert len(set(cookies)) == 1_000
    failed_callback_flood(h, 10_000)
    h.reload()
    dead = [c for c in cookies if get_with_cookie(h, c).status_code != 200]
    assert dead == [], f"{len(dead)} of {len(cookies)} stored sessions were pushed out"


def test_a_cache_too_small_ends_sessions_never_revives_them(
        httpd_factory, browser_factory, backend, expect_log_ids):
    # The cache size is what this test is about: the smallest shmcb allows, so that logins
    # push each other out. Forgetting must end a session, never bring a logged-out one back.
    expect_log_ids("OLO00052")
    h = httpd_factory(server={"OneLoginCache": "shmcb:(8192)"}, extra_config=E.STATUS_LOCATION)
    copy = logged_out_copy(h, browser_factory)
    first = live_session(h, browser_factory)
    assert_alive(h, first)
    login_logout_flood(h, browser_factory, 400)
    assert_refused(h, backend, copy, reasons=("session-revoked", "session-forgotten"))
    r = get_with_cookie(h, first)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["error"] == "session-forgotten", r.text
    assert status_counter(h, "session-forgotten") >= 1
    warnings = [ln for ln in h.error_lines() if "OLO00052" in ln and ":warn]" in ln]
    assert 1 <= len(warnings) <= 2, warnings   # rate-limited: once a minute per child
