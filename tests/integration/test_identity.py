"""One identity per request, and nothing forged reaches the backend.

- Identity headers come only from the module: whatever a client sends under those names (in
  any case, with dashes or underscores, and mod_auth_openidc's `OIDC_*` family) is gone before
  the backend sees the request, which is what a WSGI/CGI/PHP application would read.
- Without `OneLoginAcceptBearer`, a client's `Authorization` never reaches the backend: the
  session's ID token replaces it, or nothing does.
- With `OneLoginAcceptBearer On`, a verified bearer token is the request's identity, even beside
  a session; a token that does not verify falls back to the session.
- `OneLoginUnauthAction pass` lets the anonymous user through one location, not into the
  locations an internal redirect or subrequest reaches.
- Keys trusted for bearer tokens (`OneLoginBearerJWKS`) cannot mint the provider's users, and a
  cached bearer verdict or a session cookie holds only for the policy and client it was made for.

Each test keeps the module's defaults but for the directive it is about. The echo backend
reports headers as they arrived; they are compared by normalized name (upper case, `-` -> `_`),
the way CGI and WSGI name them.
"""

import pytest
import requests

import env as E
import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, query, set_cookies

FORGED = "mallory-forged@example.com"
# What a client may try to pass for an identity; none of these names may reach the backend.
FORGED_HEADERS = {
    "X-OneLogin-User": FORGED,
    "X_OneLogin_User": FORGED,
    "x_onelogin_groups": "Admins-forged",
    "X-ONELOGIN-EMAIL": FORGED,
    "x-onelogin-name": "Mallory Forged",
    "X-OneLogin-Anything": "forged-anything",
    "X-Auth-Params-Email": FORGED,
    "X_Auth_Params_Email": FORGED,
    "OIDC_CLAIM_email": FORGED,
    "OIDC-CLAIM-groups": "Admins-forged",
    "oidc_claim_sub": "forged-sub",
    "OIDC_access_token": "forged-access-token",
    "OIDC_id_token": "forged-id-token",
    "OIDC_access_token_expires": "4102444800",
}
FORGED_VALUES = sorted(set(FORGED_HEADERS.values()))
BOT_USER = "ingestion-bot@open-metadata.org"
# The provider's second client (tests/provider/server.js): vhost B's OneLoginClientID.
CLIENT_B = "olo-test-confidential-client"
HOST_B = "b.test"
MOD_REWRITE = E.APACHE_MODULES / "mod_rewrite.so"
MOD_INCLUDE = E.APACHE_MODULES / "mod_include.so"


def norm(name):
    return name.upper().replace("-", "_")


def by_norm(headers):
    """{normalized name: [values]} of a backend report's headers."""
    out = {}
    for name, value in headers.items():
        out.setdefault(norm(name), []).append(value)
    return out


def header(headers, name):
    """The one value of a header (case-insensitive, exact spelling otherwise), or None."""
    values = [v for k, v in headers.items() if k.lower() == name.lower()]
    assert len(values) <= 1, (name, headers)
    return values[0] if values else None


def seen(backend, path):
    """The backend's reports for requests whose path starts with `path`."""
    return [e for e in backend.requests_seen() if e["path"].startswith(path)]


def only(backend, path):
    entries = seen(backend, path)
    assert len(entries) == 1, (path, [e["path"] for e in backend.requests_seen()])
    return entries[0]


def assert_no_forged_identity(headers):
    """None of FORGED_HEADERS' names (normalized) came through with a client's value, and no
    forged value arrived under any name."""
    got = by_norm(headers)
    for name in FORGED_HEADERS:
        values = got.get(norm(name), [])
        assert len(values) <= 1, f"{name} reached the backend twice: {headers}"
        assert not any(v in FORGED_VALUES for v in values), \
            f"client-sent {name} reached the backend: {headers}"
    for k, v in headers.items():
        assert not any(f in v for f in FORGED_VALUES), f"forged value under {k}: {headers}"
    oidc = [k for k in headers if norm(k).startswith("OIDC_")]
    assert oidc == [], f"OIDC_* headers reached the backend: {oidc}"
    auth_params = [k for k in headers if norm(k).startswith("X_AUTH_PARAMS_")]
    assert auth_params == [], f"X-Auth-Params-* reached the backend: {auth_params}"


def assert_login_required(r, accept, provider, client_id=E.CLIENT_ID,
                          errors=("login-required",)):
    """No session: 401 JSON for an API client, a redirect to the provider for a browser."""
    if accept == API:
        assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
        assert r.json().get("error") in errors, r.text
        assert "Location" not in r.headers, r.headers
    else:
        assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.headers, r.text[:300])
        location = r.headers["Location"]
        assert location.startswith(provider.issuer + "/auth?"), location
        assert query(location).get("client_id") == client_id, location


def assert_invalid_token(r):
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer ") and 'error="invalid_token"' in www, www
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert isinstance(r.json(), dict), r.text


def session_cookies_set(r):
    return [name for name in set_cookies(r) if name.startswith("olo_session")]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def session_id_token(browser, backend, path="/private/whoami"):
    """The ID token the module forwards for this browser's session (no client Authorization)."""
    backend.reset()
    r = browser.get(path, accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    auth = header(only(backend, path)["headers"], "Authorization")
    assert auth and auth.startswith("Bearer "), auth
    token = auth[len("Bearer "):]
    assert oc.claims(token)["email"] == "alice@example.com", oc.claims(token)
    return token


def bob_id_token(provider):
    return oc.id_token(provider, "bob@example.com", "bob-password")


# -- one instance for the tests of rules 1 to 3 (each location: one directive) --------------

def shared_extra(om):
    return f"""
<Location /open>
    OneLoginUnauthAction pass
</Location>
<Location /no-forward>
    OneLoginForwardIDToken Off
</Location>
<Location /api/>
    OneLoginAcceptBearer On
</Location>
<Location /bot-api/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {om.jwks_url}
</Location>
"""


@pytest.fixture(scope="module")
def _identity_httpd(workdir, provider_proc, backend_proc, openmetadata_proc):
    h = E.Httpd(workdir / "httpd" / "shared-test_identity", provider=provider_proc,
                backend=backend_proc, extra_config=shared_extra(openmetadata_proc))
    h.start()
    yield h
    first = len(h.error_lines())
    h.stop()
    bad = E.LogExpectations().problems(h.error_lines()[first:])
    if bad:
        pytest.fail(f"{h.error_log} at stop:\n  " + "\n  ".join(bad), pytrace=False)


@pytest.fixture
def ident(_identity_httpd, provider, backend, openmetadata, _watch):
    """The shared instance of this file; its error log is checked per test."""
    _watch.add(_identity_httpd, own=False)
    return _identity_httpd


@pytest.fixture
def alice(ident, browser_factory):
    b = browser_factory(ident)
    b.login("/")
    return b


# -- 1. client-sent identity headers ------------------------------------------------------

def test_forged_identity_headers_never_reach_the_backend_beside_a_session(alice, backend):
    backend.reset()
    r = alice.get("/private/headers", accept=API, headers=FORGED_HEADERS)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    h = only(backend, "/private/headers")["headers"]
    assert_no_forged_identity(h)
    got = by_norm(h)
    assert got.get("X_ONELOGIN_USER") == ["alice@example.com"], h
    assert got.get("X_ONELOGIN_EMAIL") == ["alice@example.com"], h
    assert got.get("X_ONELOGIN_NAME") == ["Alice Example"], h
    assert header(h, "X-Remote-User") == "alice@example.com", h
    # The default scope has no groups: the module sends none, and the forged one is gone.
    assert "X_ONELOGIN_GROUPS" not in got, h
    assert "X_ONELOGIN_ANYTHING" not in got, h


def test_forged_identity_headers_never_reach_an_anonymous_pass_location(ident, browser_factory,
                                                                         backend):
    b = browser_factory(ident)
    r = b.get("/open/headers", accept=API, headers=FORGED_HEADERS)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    h = only(backend, "/open/headers")["headers"]
    assert_no_forged_identity(h)
    assert [k for k in h if norm(k).startswith("X_ONELOGIN_")] == [], h
    assert not header(h, "X-Remote-User"), h


@pytest.mark.parametrize("accept", [API, HTML], ids=["api", "browser"])
def test_forged_identity_headers_without_session_are_not_a_login(ident, browser_factory,
                                                                 backend, provider, accept):
    b = browser_factory(ident)
    r = b.get("/private/headers", accept=accept, headers=FORGED_HEADERS)
    assert_login_required(r, accept, provider)
    assert backend.requests_seen() == []


# -- 2. Authorization without OneLoginAcceptBearer ------------------------------------------

def client_authorization(kind, provider, session_token):
    """An Authorization value of kind, never the session's own token."""
    if kind == "other-user-valid":
        return "Bearer " + bob_id_token(provider)
    if kind == "same-user-valid":
        token = oc.id_token(provider)
        assert token != session_token
        return "Bearer " + token
    if kind == "tampered":
        return "Bearer " + oc.with_claims(session_token, email=FORGED)
    if kind == "alg-none":
        return "Bearer " + oc.alg_none(session_token, email=FORGED, sub="10002")
    return "Basic bWFsbG9yeTpwYXNzd29yZA=="


@pytest.mark.parametrize("kind", ["other-user-valid", "same-user-valid", "tampered", "alg-none",
                                  "basic"])
def test_client_authorization_is_replaced_by_the_session_id_token(alice, backend, provider,
                                                                  kind):
    token = session_id_token(alice, backend)
    value = client_authorization(kind, provider, token)
    backend.reset()
    r = alice.get("/private/token", accept=API, headers={"Authorization": value})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com", r.text
    h = only(backend, "/private/token")["headers"]
    assert header(h, "Authorization") == f"Bearer {token}", \
        f"the backend got the client's {kind} Authorization instead of the session's token"
    assert header(h, "X-OneLogin-User") == "alice@example.com", h
    assert value.split(" ", 1)[1] not in repr(h), "the client's credentials reached the backend"


@pytest.mark.parametrize("kind", ["other-user-valid", "same-user-valid", "alg-none", "basic"])
def test_forward_id_token_off_removes_client_authorization(alice, backend, provider,
                                                           kind):
    token = session_id_token(alice, backend)
    value = client_authorization(kind, provider, token)
    backend.reset()
    r = alice.get("/no-forward/x", accept=API, headers={"Authorization": value})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    h = only(backend, "/no-forward/x")["headers"]
    assert header(h, "X-OneLogin-User") == "alice@example.com", h
    assert header(h, "Authorization") is None, \
        f"with OneLoginForwardIDToken Off the client's {kind} Authorization reached the backend"
    assert "AUTHORIZATION" not in by_norm(h), h


@pytest.mark.parametrize("kind", ["bearer-forged", "bearer-valid", "basic"])
def test_unauth_pass_removes_client_authorization(ident, browser_factory, backend, provider,
                                                  kind):
    alice_token = oc.id_token(provider)
    value = {"bearer-forged": "Bearer " + oc.alg_none(alice_token, email=FORGED),
             "bearer-valid": "Bearer " + alice_token,
             "basic": "Basic bWFsbG9yeTpwYXNzd29yZA=="}[kind]
    b = browser_factory(ident)
    r = b.get("/open/x", accept=API, headers={"Authorization": value})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    h = only(backend, "/open/x")["headers"]
    assert header(h, "Authorization") is None, \
        f"an anonymous request's {kind} Authorization reached the backend"
    assert [k for k in h if norm(k).startswith("X_ONELOGIN_")] == [], h
    assert not header(h, "X-Remote-User"), h


# -- 3. OneLoginAcceptBearer On: the verified token is the identity ------------------------

def assert_identity_is(h, user, absent):
    """The identity headers name `user`, and nothing of the `absent` identity remains."""
    assert header(h, "X-OneLogin-User") == user, h
    assert header(h, "X-Remote-User") == user, h
    for k, v in h.items():
        if norm(k).startswith("X_ONELOGIN_") or norm(k) == "X_REMOTE_USER":
            for word in absent:
                assert word not in v, f"{k}: {v} comes from the session, not the token"


def test_accepted_bearer_beats_the_session(alice, backend, provider):
    bob = bob_id_token(provider)
    backend.reset()
    r = alice.get("/api/me", accept=API, headers=bearer(bob))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert not session_cookies_set(r), \
        f"a bearer request changed the session cookie: {set_cookies(r)}"
    h = only(backend, "/api/me")["headers"]
    assert_identity_is(h, "bob@example.com", ["alice", "Alice", "Admins"])
    assert header(h, "X-OneLogin-Email") == "bob@example.com", h
    assert header(h, "X-OneLogin-Name") == "Bob Example", h
    assert header(h, "Authorization") == f"Bearer {bob}", "the token was not passed on as sent"
    # The session is still alice's, for requests without a token.
    backend.reset()
    r = alice.get("/api/me", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text


def test_accepted_bot_token_beats_the_session(alice, backend, openmetadata):
    bot = openmetadata.bot_token()
    backend.reset()
    r = alice.get("/bot-api/me", accept=API, headers=bearer(bot))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert not session_cookies_set(r), \
        f"a bearer request changed the session cookie: {set_cookies(r)}"
    h = only(backend, "/bot-api/me")["headers"]
    assert_identity_is(h, BOT_USER, ["alice", "Alice"])
    # The bot token has no name and no groups: none may be left over from the session.
    assert header(h, "X-OneLogin-Name") is None, h
    assert header(h, "X-OneLogin-Groups") is None, h
    assert header(h, "Authorization") == f"Bearer {bot}", "the token was not passed on as sent"


@pytest.mark.parametrize("kind", ["garbage", "alg-none"])
def test_unverified_bearer_falls_back_to_the_session(alice, backend, provider, kind):
    token = session_id_token(alice, backend, "/api/whoami")
    forged = "A" * 300 if kind == "garbage" else \
        oc.alg_none(token, email="bob@example.com", sub="10002")
    backend.reset()
    r = alice.get("/api/me", accept=API, headers=bearer(forged))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com", r.text
    h = only(backend, "/api/me")["headers"]
    assert_identity_is(h, "alice@example.com", ["bob"])
    assert header(h, "Authorization") == f"Bearer {token}", "the session's token was not sent"
    assert forged not in repr(h), "the forged token reached the backend"


# -- 4. OneLoginUnauthAction pass stops at the location ----------------------------------

def rewrite_config():
    load = "" if "mod_rewrite.c" in E.builtin_modules() \
        else f"LoadModule rewrite_module {MOD_REWRITE}"
    # Per-directory rewriting (in a <Location>) runs after authentication and hands the
    # request to /private/x by an internal redirect.
    return f"""
{load}
<Location /open>
    OneLoginUnauthAction pass
    RewriteEngine On
    RewriteRule ^ /private/x [PT]
</Location>
"""


@pytest.mark.parametrize("accept", [API, HTML], ids=["api", "browser"])
def test_pass_does_not_carry_the_anonymous_user_into_an_internal_redirect(
        httpd_factory, browser_factory, backend, provider, accept):
    h = httpd_factory(extra_config=rewrite_config())
    b = browser_factory(h)
    r = b.get("/open/page", accept=accept)
    assert backend.requests_seen() == [], \
        f"an anonymous request reached {[e['path'] for e in backend.requests_seen()]}"
    assert_login_required(r, accept, provider)


def test_internal_redirect_from_a_pass_location_keeps_the_session_user(httpd_factory,
                                                                       browser_factory, backend):
    h = httpd_factory(extra_config=rewrite_config())
    b = browser_factory(h)
    b.login("/")
    backend.reset()
    r = b.get("/open/page", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["path"] == "/private/x", r.text
    assert only(backend, "/private/x")["remote_user"] == "alice@example.com"


def include_instance(httpd_factory):
    """/ssi/page.shtml, under OneLoginUnauthAction pass, includes /private/x (a subrequest)."""
    load = "" if "mod_include.c" in E.builtin_modules() \
        else f"LoadModule include_module {MOD_INCLUDE}"
    h = httpd_factory(start=False, extra_config=f"""
{load}
<Location /ssi>
    OneLoginUnauthAction pass
    ProxyPass "!"
    Options +Includes
    SetOutputFilter INCLUDES
</Location>
""")
    (h.root / "htdocs" / "ssi").mkdir(parents=True, exist_ok=True)
    (h.root / "htdocs" / "ssi" / "page.shtml").write_text(
        'before|<!--#include virtual="/private/x" -->|after\n')
    return h.start()


def test_pass_does_not_carry_the_anonymous_user_into_a_subrequest(httpd_factory,
                                                                  browser_factory, backend):
    h = include_instance(httpd_factory)
    b = browser_factory(h)
    r = b.get("/ssi/page.shtml", accept=API)
    assert backend.requests_seen() == [], \
        f"an anonymous subrequest reached {[e['path'] for e in backend.requests_seen()]}"
    # The page itself is open (pass); only what it includes from /private is not.
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.text.startswith("before|") and r.text.rstrip().endswith("|after"), r.text[:500]
    assert "/private/x" not in r.text, r.text[:500]


def test_subrequest_from_a_pass_location_keeps_the_session_user(httpd_factory, browser_factory,
                                                                backend):
    h = include_instance(httpd_factory)
    b = browser_factory(h)
    b.login("/")
    backend.reset()
    r = b.get("/ssi/page.shtml", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.text.startswith("before|") and '"path": "/private/x"' in r.text, r.text[:500]
    assert only(backend, "/private/x")["remote_user"] == "alice@example.com"


@pytest.mark.parametrize("how", ["internal-redirect", "subrequest"])
def test_session_identity_headers_reach_the_backend_after_a_redirect_or_subrequest(
        httpd_factory, browser_factory, backend, how):
    # Beyond REMOTE_USER: the request that reaches the backend carries the session's
    # X-OneLogin-* headers, as any request of that session does.
    if how == "internal-redirect":
        h, path = httpd_factory(extra_config=rewrite_config()), "/open/page"
    else:
        h, path = include_instance(httpd_factory), "/ssi/page.shtml"
    b = browser_factory(h)
    b.login("/")
    backend.reset()
    assert b.get(path, accept=API).status_code == 200
    got = by_norm(only(backend, "/private/x")["headers"])
    assert got.get("X_ONELOGIN_USER") == ["alice@example.com"], \
        f"after the {how} the backend got no X-OneLogin-User: {sorted(got)}"
    assert got.get("X_ONELOGIN_EMAIL") == ["alice@example.com"], sorted(got)
    assert got.get("X_ONELOGIN_NAME") == ["Alice Example"], sorted(got)


# -- 5. OneLoginBearerJWKS keys cannot mint the provider's users ---------------------------

def jwks_locations(om):
    return f"""
<Location /bot/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {om.jwks_url}
</Location>
<Location /bot-admins/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {om.jwks_url}
    Require onelogin-claim groups:Admins
</Location>
"""


def provider_lookalike(om, provider, kind):
    """A token signed by OpenMetadata's bot key that claims to be the provider's alice."""
    claims = {"iss": provider.issuer, "email": "alice@example.com", "groups": ["Admins"]}
    if kind == "full":
        claims.update({"aud": E.CLIENT_ID, "sub": "10001", "name": "Alice Example",
                       "isBot": None, "tokenType": None})
    return om.bot_token(claims=claims)


@pytest.mark.parametrize("path", ["/bot/me", "/bot-admins/me"], ids=["accept", "require-claim"])
@pytest.mark.parametrize("kind", ["minimal", "full"])
def test_bearer_jwks_key_cannot_claim_the_provider_issuer(httpd_factory, browser_factory,
                                                         backend, openmetadata, provider,
                                                         expect_log_ids, path, kind):
    expect_log_ids("OLO00046")
    h = httpd_factory(extra_config=jwks_locations(openmetadata))
    b = browser_factory(h)
    forged = provider_lookalike(openmetadata, provider, kind)
    for accept in (API, HTML):
        assert_invalid_token(b.get(path, accept=accept, headers=bearer(forged)))
    assert backend.requests_seen() == [], "a token minted by the bot key reached the backend"
    # The bot key's own tokens still work there.
    genuine = openmetadata.bot_token(
        claims={"groups": ["Admins"]} if path.startswith("/bot-admins/") else None)
    r = b.get(path, accept=API, headers=bearer(genuine))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == BOT_USER, r.text


# -- 6. cached bearer verdicts belong to one policy --------------------------------------

POLICY_B = {
    "no-jwks": "",
    "audience": "OneLoginBearerJWKS {jwks}\n    OneLoginBearerAudience om-api-only",
}


@pytest.mark.parametrize("policy", sorted(POLICY_B))
def test_bearer_verdict_does_not_cross_locations(httpd_factory, browser_factory, backend,
                                                 openmetadata, expect_log_ids, policy):
    expect_log_ids("OLO00046")
    h = httpd_factory(extra_config=f"""
<Location /a/>
    OneLoginAcceptBearer On
    OneLoginBearerJWKS {openmetadata.jwks_url}
</Location>
<Location /b/>
    OneLoginAcceptBearer On
    {POLICY_B[policy].format(jwks=openmetadata.jwks_url)}
</Location>
""")
    b = browser_factory(h)
    bot = bearer(openmetadata.bot_token())
    assert_invalid_token(b.get("/b/before", accept=API, headers=bot))
    for round_ in range(2):
        r = b.get(f"/a/{round_}", accept=API, headers=bot)
        assert r.status_code == 200 and r.json()["remote_user"] == BOT_USER, \
            (round_, r.status_code, r.text[:300])
        assert_invalid_token(b.get(f"/b/after-{round_}", accept=API, headers=bot))
    assert seen(backend, "/b/") == [], "a token /b/ refuses reached the backend through /b/"
    assert len(seen(backend, "/a/")) == 2


def two_vhosts(port):
    """Vhost A (the default, the template's client) and B, which differs only in
    OneLoginClientID; both inherit the session secret, the cache and the locations."""
    return f"""
<VirtualHost {E.HOST}:{port}>
    ServerName http://{E.HOST}:{port}
</VirtualHost>
<VirtualHost {E.HOST}:{port}>
    ServerName http://{HOST_B}:{port}
    OneLoginClientID {CLIENT_B}
</VirtualHost>
<Location /api/>
    OneLoginAcceptBearer On
</Location>
"""


def get_b(h, path, accept=API, headers=None):
    """A request to vhost B: httpd's address, B's name."""
    with requests.Session() as s:
        s.trust_env = False
        return s.get(f"{h.url}{path}", allow_redirects=False, timeout=20,
                     headers={"Host": f"{HOST_B}:{h.port}", "Accept": accept, **(headers or {})})


def test_vhosts_share_the_template_locations(httpd_factory, backend, provider):
    # The set-up the two tests below rely on: B answers with its own client id.
    port = E.free_port()
    h = httpd_factory(port=port, extra_config=two_vhosts(port))
    r = get_b(h, "/private/x", accept=HTML)
    assert_login_required(r, HTML, provider, client_id=CLIENT_B)
    r = requests.get(f"{h.url}/private/x", headers={"Accept": HTML}, allow_redirects=False,
                     timeout=20, proxies={"http": None, "https": None})
    assert_login_required(r, HTML, provider, client_id=E.CLIENT_ID)
    assert backend.requests_seen() == []


def test_bearer_verdict_does_not_cross_vhosts_with_another_client_id(
        httpd_factory, browser_factory, backend, provider, expect_log_ids):
    expect_log_ids("OLO00046")
    port = E.free_port()
    h = httpd_factory(port=port, extra_config=two_vhosts(port))
    a = browser_factory(h)
    token = oc.id_token(provider)  # aud: olo-test-client, vhost A's client
    assert_invalid_token(get_b(h, "/api/before", headers=bearer(token)))
    for round_ in range(2):
        r = a.get(f"/api/a-{round_}", accept=API, headers=bearer(token))
        assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", \
            (round_, r.status_code, r.text[:300])
        assert_invalid_token(get_b(h, f"/api/b-{round_}", headers=bearer(token)))
    assert [e["path"] for e in backend.requests_seen()] == ["/api/a-0", "/api/a-1"]


# -- 7. a session cookie belongs to its client ---------------------------------------------

@pytest.mark.parametrize("accept", [API, HTML], ids=["api", "browser"])
def test_session_cookie_does_not_open_on_a_vhost_with_another_client_id(
        httpd_factory, browser_factory, backend, provider, accept):
    port = E.free_port()
    h = httpd_factory(port=port, extra_config=two_vhosts(port))
    a = browser_factory(h)
    a.login("/")
    cookies = "; ".join(f"{c.name}={c.value}" for c in a.s.cookies
                        if c.name.startswith("olo_session"))
    assert cookies.startswith("olo_session"), cookies
    backend.reset()
    r = get_b(h, "/private/x", accept=accept, headers={"Cookie": cookies})
    # As a cookie that does not open: no session (the API error may name the cookie).
    assert_login_required(r, accept, provider, client_id=CLIENT_B,
                          errors=("login-required", "cookie-invalid"))
    assert backend.requests_seen() == [], \
        f"vhost B let A's session through: {backend.requests_seen()}"
    # On A the same cookie still is alice's session.
    r = a.get("/private/x", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
