"""Interop with a second, independently written OpenID Provider: Glewlwyd (Debian's package,
a certified OP written in C), run by tests/integration/glewlwyd.py.

The module keeps its defaults but for what another issuer needs: OneLoginIssuer and
OneLoginCACertificate (the template takes them from the provider it is given) and
OneLoginClientID. Logins and logouts go through Glewlwyd's own login web app in Debian's
Chromium (tests/browser/glewlwyd.js); the renewal test signs in the way that page does, with
requests. What Glewlwyd does differently from OneLogin and tests/provider is listed in
tests/integration/README.md ("Glewlwyd")."""

import json
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import env as E
import glewlwyd as G
from oidc_client import b64url_decode, claims, header

CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT_CORE = E.REPO / "node_modules" / "playwright-core"
SCRIPT = E.REPO / "tests" / "browser" / "glewlwyd.js"
SHOTS = E.REPO / "test-output" / "browser"
FLOW_TIMEOUT = 90
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The renewal test's ID token lifetime. The module renews at most half a token's lifetime
# before it expires (OneLoginRefreshMargin, default 60, is more than that): 6 s in.
SHORT_LIFETIME = 12
HTML = "text/html,application/xhtml+xml"


@pytest.fixture(scope="module", autouse=True)
def glewlwyd_prerequisites():
    """What these tests need fails them when missing (make test installs it), never skips."""
    missing = G.missing_prerequisites()
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not PLAYWRIGHT_CORE.exists():
        missing.append(f"{PLAYWRIGHT_CORE} (npm ci)")
    if missing:
        pytest.fail("the Glewlwyd interop tests need " + "; ".join(missing), pytrace=False)


@pytest.fixture
def glewlwyd_factory(workdir, pki, request):
    """glewlwyd_factory(token_lifetime=3600) -> a provisioned Glewlwyd of this test's own
    (a fresh database: the user has granted nothing yet). Stopped after the test."""
    made = []

    def make(token_lifetime=3600):
        name = "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
        g = G.Glewlwyd(workdir / "glewlwyd" / f"{name}-{len(made) + 1}", pki.server_cert,
                       pki.server_key, pki.ca_cert, token_lifetime=token_lifetime)
        made.append(g)
        return g.start()

    yield make
    for g in made:
        g.stop()


@pytest.fixture
def glewlwyd(glewlwyd_factory):
    return glewlwyd_factory()


@pytest.fixture
def site(httpd_factory):
    """site(glewlwyd) -> an httpd instance of the template logging in at that Glewlwyd."""
    def make(g):
        return httpd_factory(provider=g, server={"OneLoginClientID": G.CLIENT_ID})
    return make


# -- helpers --------------------------------------------------------------------------------

def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def header_value(headers, name):
    found = [v for k, v in headers.items() if k.lower() == name.lower()]
    return found[0] if found else None


def seen(backend, path):
    return [e for e in backend.requests_seen() if e["path"] == path]


def only(backend, path):
    entries = seen(backend, path)
    assert len(entries) == 1, f"the backend saw {path} {len(entries)} times"
    return entries[0]


def bearer(entry):
    value = header_value(entry["headers"], "Authorization")
    if value is None:
        return None
    assert value.startswith("Bearer "), value[:40]
    return value[len("Bearer "):]


def verify_rs256(token, jwks):
    """The token's claims, once its RS256 signature verified with the JWKS key its kid names."""
    h = header(token)
    assert h.get("alg") == "RS256", h
    keys = [k for k in jwks["keys"] if k.get("kid") == h.get("kid")]
    assert len(keys) == 1, (h, [k.get("kid") for k in jwks["keys"]])
    key = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(keys[0]["e"]), "big"),
                               int.from_bytes(b64url_decode(keys[0]["n"]), "big")).public_key()
    signing_input, _, signature = token.rpartition(".")
    try:
        key.verify(b64url_decode(signature), signing_input.encode("ascii"),
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        pytest.fail(f"the forwarded token does not verify with Glewlwyd's key {h['kid']}")
    return claims(token)


def check_identity(entry, g, user=G.USER):
    """What the backend got for one request: the user's email as REMOTE_USER and
    X-OneLogin-User, and Glewlwyd's ID token for this client and user. Returns its claims."""
    assert entry["remote_user"] == user.email, entry["headers"]
    assert header_value(entry["headers"], "X-OneLogin-User") == user.email, entry["headers"]
    token = bearer(entry)
    assert token, f"no Authorization header reached the backend: {entry['headers']}"
    c = verify_rs256(token, g.jwks())
    assert header(token)["kid"] == G.KID
    assert c["iss"] == g.issuer, c
    assert c["aud"] == G.CLIENT_ID, c  # the ID token (an access token's aud is its scopes)
    assert c["sub"] == g.subject_of(user.username), c
    assert c["email"] == user.email, c
    return c


def grants(g, table):
    return [t["grant"] for t in g.issued(table)]


def get(session, h, path):
    return session.get(h.url + path, headers={"Accept": HTML}, allow_redirects=False,
                       timeout=G.TIMEOUT)


def wait_until(moment):
    """Sleeps until time.time() >= moment: waiting for a point in a token's life."""
    time.sleep(max(0.0, moment - time.time()))


def run_flow(scenario, h, g, label, user=G.USER, **args):
    """Runs tests/browser/glewlwyd.js SCENARIO; returns its JSON output (ok is checked).
    Screenshots go to test-output/browser/<label>/, emptied first."""
    shots = SHOTS / label
    shutil.rmtree(shots, ignore_errors=True)
    args.update(app=h.url, provider=g.base, shots=str(shots), username=user.username,
                password=user.password, scopes=list(G.SCOPES[1:]))
    proc = subprocess.run(["node", str(SCRIPT), scenario, json.dumps(args)], cwd=E.REPO,
                          env=E.clean_env(), capture_output=True, text=True,
                          timeout=FLOW_TIMEOUT)
    lines = proc.stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"glewlwyd.js {scenario} printed no JSON (exit {proc.returncode}):\n"
                    f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    (shots / "result.json").write_text(E.dump_json(out) + "\n")
    if not out.get("ok"):
        pytest.fail(f"browser scenario {scenario} failed; pages open: {out.get('url')}\n"
                    f"{out.get('error')}\nscreenshots: {out.get('screenshots')}\n"
                    f"{proc.stderr[-2000:]}\nglewlwyd log:\n{g.log_tail(2000)}",
                    pytrace=False)
    hosts = {urlsplit(r["url"]).hostname for r in out["requests"]
             if r["url"].startswith(("http:", "https:"))}
    assert hosts <= {E.HOST}, f"the browser left loopback: {hosts}"
    return out


def check_screenshots(label, steps):
    folder = SHOTS / label
    expected = [f"{n:02d}-{step}.png" for n, step in enumerate(steps, 1)]
    assert sorted(p.name for p in folder.glob("*.png")) == expected
    for name in expected:
        data = (folder / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, f"{name}: not a screenshot"


def navigations(requests_made):
    return [r["url"] for r in requests_made if r["navigation"]]


LOGIN_STEPS = ["glewlwyd-login-form", "glewlwyd-consent", "glewlwyd-continue", "logged-in"]


# -- the tests ------------------------------------------------------------------------------

def test_login_in_chromium_on_glewlwyds_pages_forwards_its_id_token(glewlwyd, site, backend):
    h = site(glewlwyd)
    path = "/reports/weekly?team=data"
    url = h.url + path
    out = run_flow("login", h, glewlwyd, "glewlwyd-login", path=path)
    result = out["result"]

    assert result["landed"]["url"] == url, result["landed"]
    # A new user: password form, consent (email and profile unticked until the user ticks
    # them), then Glewlwyd's "Continue" page, which it never skips.
    assert result["shown"] == {"form": True, "consent": True, "continue": True}, result
    hops = navigations(out["requests"])
    assert hops[0] == url and hops[-1] == url, hops
    auth = [u for u in hops if u.startswith(glewlwyd.issuer + "/auth?")]
    assert auth, hops
    asked = query(auth[0])
    assert asked["client_id"] == G.CLIENT_ID and asked["code_challenge_method"] == "S256"
    assert asked["scope"].split() == list(G.SCOPES), asked
    assert any(u.startswith(glewlwyd.base + "/login.html?") for u in hops), hops
    callbacks = [u for u in hops if u.startswith(h.url + "/callback?")]
    assert len(callbacks) == 1, hops
    # Glewlwyd's answer carries session_state (Session Management) beside code and state.
    assert set(query(callbacks[0])) == {"code", "state", "session_state"}, callbacks
    assert [c["name"] for c in result["cookies"]] == ["olo_session"], result["cookies"]
    assert all(c["httpOnly"] and c["path"] == "/" for c in result["cookies"]), result

    c = check_identity(only(backend, path), glewlwyd)
    assert c["nonce"] == asked["nonce"], c
    assert c["exp"] > time.time(), c
    assert grants(glewlwyd, "access_token") == ["authorization_code"]
    assert grants(glewlwyd, "id_token") == ["authorization_code"]
    check_screenshots("glewlwyd-login", LOGIN_STEPS)


def test_renewal_without_an_id_token_keeps_the_session_and_forwards_no_expired_token(
        glewlwyd_factory, site, backend):
    g = glewlwyd_factory(token_lifetime=SHORT_LIFETIME)
    # Glewlwyd announces neither the refresh_token grant (it lists it among response types)
    # nor token endpoint auth "none"; it grants both to this client all the same.
    metadata = g.discovery()
    assert "refresh_token" not in metadata["grant_types_supported"], metadata
    assert "none" not in metadata["token_endpoint_auth_methods_supported"], metadata
    h = site(g)
    s = g.session()
    r, hops = G.scripted_login(s, g, h.url, "/start")
    assert r.status_code == 200 and hops[-1] == h.url + "/start", (r.status_code, hops)
    first = check_identity(only(backend, "/start"), g)
    assert first["exp"] - first["iat"] == SHORT_LIFETIME, first
    renewal_point = first["exp"] - SHORT_LIFETIME / 2

    # Long before the renewal point: the session as it is, no refresh.
    r = get(s, h, "/early")
    assert r.status_code == 200, (r.status_code, r.headers)
    assert bearer(only(backend, "/early")) == bearer(only(backend, "/start"))
    assert grants(g, "access_token") == ["authorization_code"]

    # Past the renewal point, the ID token still valid for a few seconds: the module renews
    # once. Glewlwyd's refresh answer has an access token and no id_token (OIDC Core 12.2
    # allows that), and no new refresh token either. The session goes on with the ID token
    # it has; every request is served, as the same user, with a token that has not expired.
    wait_until(renewal_point + 1.5)
    for n in range(3):
        r = get(s, h, f"/renewed/{n}")
        answered = time.time()
        assert r.status_code == 200, (n, r.status_code, r.headers.get("Location"))
        c = check_identity(only(backend, f"/renewed/{n}"), g)
        assert c["sub"] == first["sub"], c
        assert c["exp"] > answered, f"request {n} forwarded a token expired at {c['exp']}"
    assert grants(g, "access_token") == ["authorization_code", "refresh_token"], \
        "the module should have renewed exactly once (grant_type=refresh_token)"
    assert grants(g, "id_token") == ["authorization_code"]  # no ID token came with the renewal

    # Past the ID token's exp: whatever the module does with the session (a new login, or
    # serving on without a token), no expired ID token reaches the backend.
    wait_until(first["exp"] + 1.5)
    sent = time.time()
    r = get(s, h, "/after-expiry")
    assert r.status_code in (200, 302), (r.status_code, r.headers)
    if r.status_code == 302:
        assert r.headers["Location"].startswith(g.issuer + "/auth?"), r.headers
    for entry in seen(backend, "/after-expiry"):
        token = bearer(entry)
        if token is not None:
            assert claims(token)["exp"] > sent, "an expired ID token reached the backend"


def test_logout_returns_to_the_site_and_the_old_cookie_is_refused(glewlwyd, site, backend):
    h = site(glewlwyd)
    path = "/explore?tab=tables"
    out = run_flow("logout", h, glewlwyd, "glewlwyd-logout", path=path)
    result = out["result"]
    assert result["cookiesLoggedIn"] == ["olo_session"], result

    hops = navigations(result["logoutRequests"])
    assert hops[0] == h.url + "/logout", hops
    ends = [u for u in hops if u.startswith(glewlwyd.issuer + "/end_session?")]
    assert len(ends) == 1, hops
    asked = query(ends[0])
    assert asked["client_id"] == G.CLIENT_ID, asked
    assert asked["post_logout_redirect_uri"] == h.url + "/", asked  # OneLoginPostLogoutURI /
    hint = claims(asked["id_token_hint"])
    assert hint["iss"] == glewlwyd.issuer and hint["aud"] == G.CLIENT_ID and hint["sid"], hint
    # Glewlwyd sends the browser back only when the request carries a state.
    state = asked.get("state", "")
    assert len(state) >= 16, f"no random state on the end-session request: {asked}"
    back = f"{h.url}/?state={state}"
    # Its end-session page asks; it names where it will send the browser.
    assert back in result["endSessionPage"]["text"], result["endSessionPage"]
    # Pressing Logout ends the OIDC session and Glewlwyd's own; the browser lands on the
    # site (the state appended to post_logout_redirect_uri), whose "/" starts a login that
    # shows Glewlwyd's password form again.
    deletes = [r["url"] for r in result["logoutRequests"] if r["method"] == "DELETE"]
    assert f"{glewlwyd.issuer}/session/{hint['sid']}" in deletes, deletes
    assert back in hops, hops
    assert hops.index(back) > hops.index(ends[0]), hops
    assert any(u.startswith(glewlwyd.issuer + "/auth?") for u in hops[hops.index(back):]), hops
    assert "olo_session" not in result["cookiesAfterLogout"], result["cookiesAfterLogout"]

    # The session cookie from before the logout, put back: Glewlwyd's login page, not the page.
    replay = result["replay"]
    assert urlsplit(replay["url"])._replace(query="").geturl() == glewlwyd.base + "/login.html"
    assert any(u.startswith(glewlwyd.issuer + "/auth?")
               for u in navigations(replay["requests"])), replay
    assert len(seen(backend, path)) == 1, "the backend saw the page after the logout"
    refused = [ln for ln in h.error_lines() if "OLO00030:" in ln]
    assert len(refused) == 1 and "(session-revoked)" in refused[0], refused
    check_screenshots("glewlwyd-logout", LOGIN_STEPS + [
        "glewlwyd-end-session", "glewlwyd-login-form-after-logout", "old-cookie-replayed"])
