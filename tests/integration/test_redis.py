"""Two httpd nodes sharing one Redis through mod_socache_redis (`OneLoginCache redis:...`):
what one node learns (provider metadata, spent login states, logouts, renewals) the other
knows, and a Redis outage is a clear 503 that heals by itself when Redis comes back. Most
tests run with both session stores: `cookie` (the sealed session is the cookie) and `server`
(the cookie is a sealed handle, the session lives in Redis). A memcached pair closes the file.

Renewals race on both nodes with the module's defaults against both kinds of refresh-token
rotation: strict (oidc-provider's own: a reused refresh token is invalid_grant and revokes the
grant) and with a reuse grace period (the provider's `refresh-grace` mode).

Both nodes share OneLoginSessionSecret, so a session cookie made by A opens on B."""

import secrets
import socket
import threading
import time

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import env as E
import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, TIMEOUT, assert_error_response, set_cookies

# ID tokens live 20 s. The module's default margin (OneLoginRefreshMargin 60) is capped at half
# the token's lifetime, so each token is renewed 10 s after it was issued.
LIFETIME = 20
RACERS = 10  # requests per node in a renewal race
XHR = {"X-Requested-With": "XMLHttpRequest"}


STORES = pytest.mark.parametrize("store", ["cookie", "server"])


def two_nodes(httpd_factory, cache, server=None, store="cookie", **kw):
    """Instances A and B: same secret, both caching in the test's Redis (or memcached)."""
    secret = secrets.token_urlsafe(36)[:48]
    shared = {**cache.cache_directives(), "OneLoginSessionSecret": secret,
              "OneLoginSessionStore": store, **(server or {})}
    a = httpd_factory(server=dict(shared), **kw)
    b = httpd_factory(server=dict(shared), **kw)
    return a, b


def copy_session(src, dst):
    """Copies the session cookie(s) of browser src into browser dst (another node)."""
    names = [c.name for c in src.s.cookies if c.name.startswith("olo_session")]
    assert names, src.cookie_names()
    for name in names:
        dst.set_cookie(name, src.cookie(name))


def grants(provider, grant_type):
    return [e for e in provider.token_log() if e.get("grant_type") == grant_type]


def assert_page(r, status, accept):
    assert_error_response(r, (status,), accept)


def stored_sessions(redis):
    return [k for k in redis.module_keys() if k.startswith("ss:")]


@STORES
def test_session_and_metadata_are_shared(httpd_factory, browser_factory, provider, backend,
                                         redis, store):
    a, b = two_nodes(httpd_factory, redis, store=store)
    ba, bb = browser_factory(a), browser_factory(b)
    report = ba.login("/")
    keys = redis.module_keys()
    assert any(k.startswith("st:") for k in keys), keys
    cookie = ba.cookie("olo_session")
    if store == "server":
        # Only a sealed handle travels: no token, no claim, and it is small.
        assert len(stored_sessions(redis)) == 1, keys
        assert len(cookie) < 120, cookie
        assert "eyJ" not in cookie and report["remote_user"] not in cookie
    else:
        assert stored_sessions(redis) == [], keys
        assert len(cookie) > 500, len(cookie)
    discovery = len(provider.endpoint_log("discovery"))
    jwks = len(provider.endpoint_log("jwks"))
    assert discovery >= 1, "A never fetched the provider's metadata"

    copy_session(ba, bb)
    r = bb.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com", r.json()

    # B needs the metadata to start a login: it comes from Redis, not from the provider.
    fresh = browser_factory(b)
    fresh.start_login("/other")
    assert len(provider.endpoint_log("discovery")) == discovery, \
        provider.endpoint_log("discovery")
    assert len(provider.endpoint_log("jwks")) == jwks, provider.endpoint_log("jwks")
    print(f"redis keys after a login on A: {keys}")


def test_state_spent_on_a_cannot_be_spent_on_b(httpd_factory, browser_factory, provider,
                                               redis, expect_log_ids):
    expect_log_ids("OLO00022")
    a, b = two_nodes(httpd_factory, redis)
    ba = browser_factory(a)
    start = ba.start_login("/")
    state_cookie = ba.cookie(f"olo_state_{start.state}")
    callback_url = ba.provider_login(start.auth_url)
    ba.check_logged_in_redirect(ba.callback(callback_url), start, "/")
    assert len(grants(provider, "authorization_code")) == 1

    # The same callback and state cookie, replayed on the other node.
    replay = b.url + callback_url[len(a.url):]
    with requests.Session() as attacker:
        attacker.trust_env = False
        attacker.cookies.set(f"olo_state_{start.state}", state_cookie, domain="127.0.0.1",
                             path="/")
        r = attacker.get(replay, headers={"Accept": HTML}, allow_redirects=False,
                         timeout=TIMEOUT)
    assert_page(r, 400, HTML)
    assert "olo_session" not in set_cookies(r) or set_cookies(r)["olo_session"]["value"] == ""
    assert len(grants(provider, "authorization_code")) == 1, \
        "the replay on B reached the token endpoint"
    replayed = [l for l in b.error_lines() if "OLO00022" in l]
    assert replayed and "state-replayed" in replayed[-1], b.error_lines()[-5:]


@STORES
def test_logout_on_a_ends_the_cookie_copy_on_b(httpd_factory, browser_factory, provider,
                                               redis, store):
    a, b = two_nodes(httpd_factory, redis, store=store)
    ba, bb = browser_factory(a), browser_factory(b)
    ba.login("/")
    copy_session(ba, bb)
    assert bb.get("/private", accept=API).status_code == 200

    r = ba.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    if store == "server":
        # The session itself is gone from Redis: the cookie names nothing any more.
        assert stored_sessions(redis) == [], redis.module_keys()
    else:
        assert any(k.startswith("rv:") for k in redis.module_keys()), redis.module_keys()

    r = bb.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?"), r.headers
    r = bb.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers


@STORES
def test_redis_outage_is_503_and_heals(httpd_factory, browser_factory, provider, backend,
                                       redis, expect_log_ids, store):
    expect_log_ids("OLO00041", "OLO00068", "OLO00010", "OLO00023", "OLO00052")
    a, b = two_nodes(httpd_factory, redis, store=store)
    logged_in = browser_factory(a)
    logged_in.login("/")
    # Two logins waiting at their callback when Redis goes away.
    pending = []
    for accept in (HTML, API):
        p = browser_factory(a)
        start = p.start_login("/")
        pending.append((p, start, p.provider_login(start.auth_url), accept))

    redis.stop()
    first_line_a, first_line_b = len(a.error_lines()), len(b.error_lines())

    # The callback must record its state as spent: it cannot, so 503, never a session.
    codes_before = len(grants(provider, "authorization_code"))
    for p, start, callback_url, accept in pending:
        r = p.callback(callback_url, accept=accept)
        assert_page(r, 503, accept)
        assert "olo_session" not in set_cookies(r) or \
            set_cookies(r)["olo_session"]["value"] == "", set_cookies(r)
    assert len(grants(provider, "authorization_code")) == codes_before, \
        "a callback exchanged its code although its state could not be recorded"

    # A valid session cannot be checked (against logouts, or read at all with the server
    # store): 503, and the cookie is kept for when Redis returns. Checked to the end of the
    # test, then reported, so the recovery is seen as well.
    fail_open = []
    for accept, expected in ((HTML, (503,)), (API, (503,))):
        r = logged_in.get("/private", accept=accept, headers=XHR if accept == API else None)
        if r.status_code not in expected:
            fail_open.append((accept.split(",")[0], r.status_code))
        else:
            assert_page(r, 503, accept)
            assert "olo_session" not in set_cookies(r), set_cookies(r)

    # B has never fetched metadata itself (it came from Redis): a new login there.
    for accept in (HTML, API):
        r = browser_factory(b).get("/new", accept=accept)
        assert r.status_code in (503,) + LOGIN_REDIRECTS + (401,), \
            (accept, r.status_code, r.text[:300])
        if r.status_code == 503:
            assert_page(r, 503, accept)
        print(f"B without Redis, {accept.split(',')[0]}: {r.status_code}")

    # httpd itself stays up.
    for h in (a, b):
        r = requests.get(f"{h.url}/public", timeout=TIMEOUT,
                         proxies={"http": None, "https": None})
        assert r.status_code == 200, (h.url, r.status_code)
        assert h.proc.poll() is None

    lines = a.error_lines()[first_line_a:] + b.error_lines()[first_line_b:]
    module_errors = [l for l in lines if "[onelogin_oidc:error]" in l]
    assert module_errors, "Redis is down and the module logged no error"
    print("log during the outage:\n  " + "\n  ".join(lines[-12:]))

    # Redis comes back on the same port: service resumes with nothing restarted.
    redis.start()
    time.sleep(0.5)
    deadline = time.monotonic() + 15
    while True:
        try:
            browser_factory(a).login("/")
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    r = browser_factory(b).get("/again", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    # The Redis that came back is empty: the session was in it (the server store), or its
    # allow-list entry was (the cookie store). Either way it is over, never valid unchecked.
    r = logged_in.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["error"] in ("session-forgotten", "session-revoked"), r.text
    assert not fail_open, "with Redis down a session cookie was still accepted (the " \
        f"logout check failed open): {fail_open}"


# ---------------------------------------------------------------------------------------------
# A cache outage under load: 503 while it lasts, 200 again within 2 s of its return

CLIENTS = 4          # threads sending requests with one session, both nodes in turn
OUTAGE = 6           # seconds the cache is stopped
RECOVERY = 2         # seconds from "the cache answers again" to "every request is 200"
AFTER = 4            # seconds of load after that bound
THROTTLED = 6        # most OLO00041-like lines a node may write for one outage


def cache_answers(daemon):
    """Whether the cache server answers a command (not just accepts connections)."""
    try:
        if isinstance(daemon, E.Redis):
            return daemon.command("PING").startswith(b"+PONG")
        with socket.create_connection((E.HOST, daemon.port), timeout=2) as s:
            s.sendall(b"version\r\n")
            return s.recv(64).startswith(b"VERSION")
    except OSError:
        return False


class Load:
    """CLIENTS threads sending one session's cookies to the nodes in turn until stopped, each
    answer recorded as (started, ended, node index, status, session cookie deleted)."""

    def __init__(self, nodes, cookies):
        self.nodes, self.cookies = nodes, cookies
        self.stop_at = time.monotonic() + 120  # a bound should the test never stop it
        self.stopped = threading.Event()
        self.records = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, i):
        n = i % len(self.nodes)
        with requests.Session() as s:
            s.trust_env = False
            while not self.stopped.is_set() and time.monotonic() < self.stop_at:
                started = time.monotonic()
                try:
                    r = s.get(f"{self.nodes[n].url}/private", cookies=self.cookies,
                              headers={"Accept": API, **XHR}, timeout=TIMEOUT,
                              allow_redirects=False)
                    status = r.status_code
                    set_c = set_cookies(r).get("olo_session")
                    deleted = set_c is not None and set_c["value"] == ""
                except requests.RequestException as err:
                    status, deleted = repr(err), False
                with self.lock:
                    self.records.append((started, time.monotonic(), n, status, deleted))
                n = (n + 1) % len(self.nodes)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for t in self.threads:
            t.join(timeout=TIMEOUT + 5)

    def between(self, start, end):
        """The answers to requests started at or after start and ended before end."""
        return [r for r in self.records if r[0] >= start and r[1] < end]


def outage_under_load(daemon, nodes, cookies):
    """Load through: 1 s normal, the cache stopped for OUTAGE s, then RECOVERY + AFTER s.
    Returns the load and the moments the cache stopped, was started, and answered again."""
    with Load(nodes, cookies) as load:
        time.sleep(1)
        load.stopping = time.monotonic()
        daemon.stop()
        down = time.monotonic()
        time.sleep(OUTAGE)
        starting = time.monotonic()
        daemon.start()
        deadline = time.monotonic() + 20
        while not cache_answers(daemon) and time.monotonic() < deadline:
            time.sleep(0.05)
        up = time.monotonic()
        assert cache_answers(daemon), "the cache server did not come back"
        time.sleep(RECOVERY + AFTER)
    return load, down, starting, up


def outage_report(name, load, down, starting, up, nodes, lines_from, after_return=200):
    """What users and operators saw, printed (the before/after figures of issue #13)."""
    def counts(recs):
        out = {}
        for r in recs:
            out[r[3]] = out.get(r[3], 0) + 1
        return out
    late = [r for r in load.records if r[0] >= up and r[3] != after_return]
    healed = max((r[1] for r in late), default=up) - up
    logs = [h.error_lines()[first:] for h, first in zip(nodes, lines_from)]
    ids = {i: [sum(1 for l in lines if i in l) for lines in logs]
           for i in ("OLO00041", "OLO00068", "OLO00069", "AH03478", "AH03479", "AH00790",
                     "AH00791")}
    print(f"\n{name}: before {counts(load.between(0, load.stopping))}, outage "
          f"{counts(load.between(down, starting))}, back {counts([r for r in load.records if r[0] >= starting])}; "
          f"answers other than {after_return} end {healed:.2f} s after the cache answered; "
          f"deleted cookies {sum(r[4] for r in load.records)}; log lines per node {ids}")
    return logs


def assert_outage_answers(load, down, starting, up, after_return=200):
    records = load.records
    assert not [r for r in records if isinstance(r[3], str)], \
        [r for r in records if isinstance(r[3], str)][:5]
    before = load.between(0, load.stopping)
    assert before and all(r[3] == 200 for r in before), sorted({r[3] for r in before}, key=str)
    # While the cache is away a session can be checked by nobody: 503, the cookie kept.
    assert not [r for r in records if r[4]], "a session cookie was deleted"
    during = load.between(down, starting)
    assert during and all(r[3] == 503 for r in during), \
        sorted({r[3] for r in during}, key=str)
    # Whatever happens while the cache comes back, never "session over" but for the reason
    # the test expects (after_return), and from RECOVERY s on only that answer, on both nodes.
    back = [r for r in records if r[0] >= starting]
    assert {r[3] for r in back} <= {503, after_return}, sorted({r[3] for r in back})
    settled = [r for r in records if r[0] >= up + RECOVERY]
    assert {r[2] for r in settled} == {0, 1}, "no answers from both nodes after the outage"
    late = [(round(r[0] - up, 2), r[2], r[3]) for r in settled if r[3] != after_return]
    assert not late, f"answers other than {after_return} more than {RECOVERY} s after the " \
                     f"cache answered again (s after, node, status): {late[:10]}"


def assert_outage_logged_once(logs):
    for lines in logs:
        errors = [l for l in lines if ("OLO00041" in l or "OLO00068" in l)
                  and "[onelogin_oidc:error]" in l]
        assert 1 <= len(errors) <= THROTTLED, f"{len(errors)} lines: {errors[:8]}"
        assert any("OLO00069" in l and "refused" in l for l in lines), \
            "no line says the cache is back, with the count of refused calls"


@STORES
def test_redis_outage_under_load_is_503_then_200_within_2s(httpd_factory, browser_factory,
                                                           provider, backend, redis, store,
                                                           expect_log_ids):
    expect_log_ids("OLO00041", "OLO00068")
    a, b = two_nodes(httpd_factory, redis, store=store)
    ba = browser_factory(a)
    ba.login("/")
    cookies = {c.name: c.value for c in ba.s.cookies if c.name.startswith("olo_session")}
    lines_from = [len(a.error_lines()), len(b.error_lines())]
    # Redis keeps what it held across this restart (as with appendonly or a replica), so
    # the session must work again as soon as Redis answers.
    assert redis.command("SAVE").startswith(b"+OK")
    try:
        load, down, starting, up = outage_under_load(redis, (a, b), cookies)
    finally:
        (redis.dir / "dump.rdb").unlink(missing_ok=True)
    logs = outage_report(f"redis {store}", load, down, starting, up, (a, b), lines_from)
    assert_outage_answers(load, down, starting, up)
    assert_outage_logged_once(logs)


@STORES
def test_memcached_outage_under_load_is_503_then_answered_within_2s(
        httpd_factory, browser_factory, provider, backend, memcached, store, expect_log_ids):
    # memcached restarts empty: once it answers, the session is over (401, fail closed),
    # never a 503 more than RECOVERY s after it answers.
    expect_log_ids("OLO00041", "OLO00068", "OLO00052")
    a, b = two_nodes(httpd_factory, memcached, store=store)
    ba = browser_factory(a)
    ba.login("/")
    cookies = {c.name: c.value for c in ba.s.cookies if c.name.startswith("olo_session")}
    lines_from = [len(a.error_lines()), len(b.error_lines())]
    load, down, starting, up = outage_under_load(memcached, (a, b), cookies)
    logs = outage_report(f"memcached {store}", load, down, starting, up, (a, b), lines_from,
                         after_return=401)
    # The forgotten session's answer deletes the cookie; only the outage must not.
    load.records = [r if r[3] != 401 else r[:4] + (False,) for r in load.records]
    assert_outage_answers(load, down, starting, up, after_return=401)
    assert_outage_logged_once(logs)


# ---------------------------------------------------------------------------------------------
# Renewal across the nodes: one refresh token, spent once by the fleet

def bearer(r):
    """The ID token the echo backend got with response r."""
    value = r.json()["headers"].get("Authorization", "")
    assert value.startswith("Bearer "), r.json()["headers"]
    return value[len("Bearer "):]


def wait_until_renewal_is_due(token, slack=1.0):
    """Sleeps until the module renews `token` with its default margin: half its lifetime."""
    c = oc.claims(token)
    due = c["exp"] - (c["exp"] - c["iat"]) / 2 + slack
    time.sleep(max(0.0, due - time.time()))


def refresh_answers(provider):
    """Token-endpoint answers to refresh grants: oidc-provider's own, and the grace mode's
    replays (marked `replayed`)."""
    return grants(provider, "refresh_token")


def token_errors(provider):
    return [e for e in provider.token_log() if e.get("error") or e.get("status") != 200]


def verify_rs256(provider, token):
    """The token's claims, once its RS256 signature verified with the provider's JWKS."""
    h = oc.header(token)
    with provider.session() as s:
        jwks = s.get(f"{provider.issuer}/certs", timeout=TIMEOUT).json()
    [key] = [k for k in jwks["keys"] if k.get("kid") == h.get("kid")]
    public = rsa.RSAPublicNumbers(int.from_bytes(oc.b64url_decode(key["e"]), "big"),
                                  int.from_bytes(oc.b64url_decode(key["n"]), "big")).public_key()
    signing_input, _, signature = token.rpartition(".")
    try:
        public.verify(oc.b64url_decode(signature), signing_input.encode("ascii"),
                      padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        pytest.fail(f"the forwarded token does not verify with the provider's key {h}")
    return oc.claims(token)


def race(nodes, browser, per_node=RACERS):
    """per_node requests to each node with the browser's session cookies, all released at
    once. The responses (or errors), node by node."""
    cookies = {c.name: c.value for c in browser.s.cookies if c.name.startswith("olo_session")}
    gate = threading.Barrier(per_node * len(nodes))
    results = [[None] * per_node for _ in nodes]

    def call(n, i):
        with requests.Session() as s:
            s.trust_env = False
            gate.wait(timeout=20)
            try:
                results[n][i] = s.get(f"{nodes[n].url}/private", cookies=cookies,
                                      headers={"Accept": API, **XHR}, timeout=TIMEOUT,
                                      allow_redirects=False)
            except requests.RequestException as err:  # reported below
                results[n][i] = err

    threads = [threading.Thread(target=call, args=(n, i))
               for n in range(len(nodes)) for i in range(per_node)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = [r for node in results for r in node]
    statuses = [getattr(r, "status_code", r) for r in every]
    assert statuses == [200] * len(every), [(s, getattr(r, "text", "")[:200])
                                            for s, r in zip(statuses, every) if s != 200]
    assert all(r.json()["remote_user"] == "alice@example.com" for r in every)
    return results


def forwards(browser, expected=None):
    """The ID token the browser's next request forwards (checked against expected)."""
    r = browser.get("/private", accept=API, headers=XHR)
    assert r.status_code == 200, (browser.httpd.url, r.status_code, r.text[:300])
    token = bearer(r)
    if expected is not None:
        assert token == expected, (browser.httpd.url, "forwarded another ID token than the "
                                   "fleet's current one", oc.claims(token), oc.claims(expected))
    return token


@STORES
def test_renewal_racing_on_a_and_b_refreshes_once(httpd_factory, browser_factory, provider,
                                                  backend, redis, store):
    # Strict rotation, oidc-provider's own: a refresh token used a second time is invalid_grant
    # and revokes the grant, so the fleet must spend each refresh token exactly once.
    provider.set_lifetimes(id_token=LIFETIME, access_token=3600)
    a, b = two_nodes(httpd_factory, redis, store=store)
    ba, bb = browser_factory(a), browser_factory(b)
    token = ba.login("/")["headers"]["Authorization"].split(" ", 1)[1]
    wait_until_renewal_is_due(token)
    assert grants(provider, "refresh_token") == []

    on_a, on_b = race((a, b), ba)
    entries = grants(provider, "refresh_token")
    assert len(entries) == 1, f"{len(entries)} refreshes for one session: {entries}"
    assert entries[0]["status"] == 200 and entries[0]["refresh_token_returned"], entries[0]
    assert token_errors(provider) == [], token_errors(provider)
    # Both nodes forwarded the renewed ID token, not the old one.
    bearers = {bearer(r) for r in on_a + on_b}
    assert token not in bearers, "a node forwarded the ID token that was due for renewal"
    assert len(bearers) == 1, "the racing requests forwarded different renewed tokens"
    [renewed] = bearers
    assert oc.claims(renewed)["exp"] > oc.claims(token)["exp"]
    if store == "cookie":
        assert any("olo_session" in set_cookies(r) for r in on_a + on_b), \
            "no response carried the renewed session"
    else:
        # The renewed session replaced the stored one; the browser's handle stays as it was.
        assert all("olo_session" not in set_cookies(r) for r in on_a + on_b), \
            [set_cookies(r) for r in on_a + on_b]

    # Afterwards both nodes forward the renewed token: A to the browser, whose cookie (cookie
    # store) still holds the replaced token and takes the renewal's result, then B to a copy
    # of the session the browser holds now.
    forwards(ba, renewed)
    copy_session(ba, bb)
    forwards(bb, renewed)
    assert len(grants(provider, "refresh_token")) == 1

    # The next renewal spends the rotated refresh token, on B alone; A learns its result
    # through Redis (its browser's cookie still holds the token B replaced).
    wait_until_renewal_is_due(renewed)
    third = forwards(bb)
    assert third not in (token, renewed), "B did not renew the ID token when it was due"
    assert oc.claims(third)["exp"] > oc.claims(renewed)["exp"]
    entries = grants(provider, "refresh_token")
    assert len(entries) == 2, entries
    assert entries[1]["status"] == 200 and entries[1]["refresh_token_present"], entries[1]
    forwards(ba, third)
    forwards(bb, third)
    assert len(grants(provider, "refresh_token")) == 2
    assert token_errors(provider) == [], token_errors(provider)


@STORES
def test_renewal_racing_on_a_and_b_with_a_reuse_grace(httpd_factory, browser_factory,
                                                      provider, backend, redis, store):
    # Rotation with a reuse grace period: a refresh token spent twice within 10 s gets the
    # same answer again. The fleet still renews once or, at worst, twice with one answer.
    provider.set_mode("refresh-grace")
    provider.set_lifetimes(id_token=LIFETIME, access_token=3600)
    a, b = two_nodes(httpd_factory, redis, store=store)
    ba, bb = browser_factory(a), browser_factory(b)
    token = ba.login("/")["headers"]["Authorization"].split(" ", 1)[1]
    wait_until_renewal_is_due(token)
    assert refresh_answers(provider) == []

    on_a, on_b = race((a, b), ba)
    answers = refresh_answers(provider)
    replays = [e for e in answers if e.get("replayed")]
    assert 1 <= len(answers) <= 2, f"{len(answers)} refreshes for one session: {answers}"
    assert len(answers) - len(replays) == 1, answers
    assert token_errors(provider) == [], token_errors(provider)
    print(f"{store}: {len(answers)} refresh answers, {len(replays)} of them replayed")
    now = time.time()
    for r in on_a + on_b:
        c = verify_rs256(provider, bearer(r))
        assert c["exp"] > now and c["sub"] == oc.claims(token)["sub"], c

    # Whether or not a node's refresh was answered by a replay, the session forwards one valid
    # renewed token on both nodes from now on, and nothing is refreshed again.
    renewed = forwards(ba)
    assert renewed != token, "A still forwards the ID token that was due for renewal"
    copy_session(ba, bb)
    forwards(bb, renewed)
    c = verify_rs256(provider, renewed)
    assert c["exp"] > time.time() and c["exp"] > oc.claims(token)["exp"], c
    assert refresh_answers(provider) == answers
    assert token_errors(provider) == [], token_errors(provider)


# ---------------------------------------------------------------------------------------------
# OneLoginSessionStore server: what only the server store does

def raw_key(redis, module_key):
    """The Redis key mod_socache_redis made for one of the module's keys."""
    for k in redis.keys():
        if redis.module_key_of(k) == module_key:
            return k
    raise AssertionError(f"{module_key} not in {redis.keys()}")


def test_server_store_entry_that_does_not_open_counts_as_absent(
        httpd_factory, browser_factory, provider, backend, redis, expect_log_ids):
    expect_log_ids("OLO00030", "OLO00051")
    a, b = two_nodes(httpd_factory, redis, store="server")
    first, second = browser_factory(a), browser_factory(b)
    first.login("/")
    [key1] = stored_sessions(redis)
    second.login("/")
    [key2] = [k for k in stored_sessions(redis) if k != key1]
    raw1, raw2 = raw_key(redis, key1), raw_key(redis, key2)

    # Another session's sealed entry under this key: it opens, but names another session.
    entry2 = redis.command("GET", raw2).split(b"\r\n")[1]
    assert redis.command("SET", raw1, entry2).startswith(b"+OK")
    r = first.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert second.get("/private", accept=API).status_code == 200

    # Garbage under the second key: no session, a log line, never a 500.
    assert redis.command("SET", raw2, "not-a-sealed-session").startswith(b"+OK")
    r = second.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    lines = [l for l in a.error_lines() + b.error_lines() if "OLO00051" in l]
    assert len(lines) == 2, lines


def test_server_store_lives_for_the_idle_timeout(httpd_factory, browser_factory, provider,
                                                 backend, redis):
    a, _ = two_nodes(httpd_factory, redis, store="server",
                     server={"OneLoginSessionIdleTimeout": "40"})
    ba = browser_factory(a)
    ba.login("/")
    raw = raw_key(redis, stored_sessions(redis)[0])
    ttl_ms = int(redis.command("PTTL", raw).strip().lstrip(b":"))
    assert 30_000 < ttl_ms <= 40_000, ttl_ms
    # Redis drops it when the idle time is over: the handle then names nothing.
    assert redis.command("PEXPIRE", raw, "1").startswith(b":1")
    time.sleep(0.2)
    r = ba.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert "olo_session" in set_cookies(r) and set_cookies(r)["olo_session"]["value"] == ""


def test_server_store_keeps_a_large_session_out_of_the_cookie(httpd_factory, browser_factory,
                                                              provider, backend, redis):
    groups = [f"department-{i:03d}-readers" for i in range(150)]
    provider.set_mode("claims", claims={"groups": groups})
    a, b = two_nodes(httpd_factory, redis, store="server",
                     server={"OneLoginScope": '"openid email profile groups"'})
    ba = browser_factory(a)
    start = ba.start_login("/big")
    r = ba.callback(ba.provider_login(start.auth_url))
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    raw = r.raw.headers.getlist("Set-Cookie")
    sessions = [c for c in raw if c.startswith("olo_session")]
    assert len(sessions) == 1 and len(sessions[0]) < 250, sessions
    bb = browser_factory(b)
    copy_session(ba, bb)
    r = bb.get("/big", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["headers"].get("X-OneLogin-Groups") == ",".join(groups)
    entry = redis.command("GET", raw_key(redis, stored_sessions(redis)[0]))
    assert len(entry) > 4096, len(entry)


def test_server_store_on_shmcb_keeps_a_large_session(httpd_factory, browser_factory, provider,
                                                     backend):
    # One node, the default cache: a session of several KiB must fit shmcb's entries too.
    groups = [f"department-{i:03d}-readers" for i in range(150)]
    provider.set_mode("claims", claims={"groups": groups})
    h = httpd_factory(server={"OneLoginSessionStore": "server",
                              "OneLoginScope": '"openid email profile groups"'})
    b = browser_factory(h)
    b.login("/big")
    r = b.get("/big", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["headers"].get("X-OneLogin-Groups") == ",".join(groups)
    assert len(b.cookie("olo_session")) < 250


def test_server_store_session_ends_at_its_max_age_quietly(httpd_factory, browser_factory,
                                                          provider, backend):
    # No OLO00051 ("tampered") warning when the stored session simply reached its max age;
    # the log watcher fails the test on any warning not declared.
    h = httpd_factory(server={"OneLoginSessionStore": "server", "OneLoginSessionMaxAge": "2"})
    b = browser_factory(h)
    b.login("/")
    assert b.get("/private", accept=API).status_code == 200
    time.sleep(2.5)
    r = b.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert not [l for l in h.error_lines() if "OLO00051" in l]


# ---------------------------------------------------------------------------------------------
# The same fleet on memcached (mod_socache_memcache)

@STORES
def test_memcache_nodes_share_sessions_and_logouts(httpd_factory, browser_factory, provider,
                                                   backend, memcached, store,
                                                   expect_log_ids):
    expect_log_ids("OLO00041", "OLO00068", "OLO00052")
    a, b = two_nodes(httpd_factory, memcached, store=store)
    ba, bb = browser_factory(a), browser_factory(b)
    ba.login("/")
    copy_session(ba, bb)
    r = bb.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com"

    r = ba.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    r = bb.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])

    # memcached stopped: a session cannot be checked, so 503, and it heals when it returns.
    again = browser_factory(a)
    again.login("/")
    memcached.stop()
    r = again.get("/private", accept=API, headers=XHR)
    assert_page(r, 503, API)
    memcached.start()
    # The module tries it again on fresh connections within a second (apr_memcache alone
    # would try a server it marked dead only every 5 s).
    deadline = time.monotonic() + 15
    while (r := again.get("/private", accept=API, headers=XHR)).status_code == 503 \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    # The restarted memcached is empty: the session (server store) or its allow-list entry
    # (cookie store) is gone with it, so the session is over: it fails closed.
    assert r.status_code == 401, (r.status_code, r.text[:300])
