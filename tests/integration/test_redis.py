"""Two httpd nodes sharing one Redis through mod_socache_redis (`OneLoginCache redis:...`):
what one node learns (provider metadata, spent login states, logouts, renewals) the other
knows, and a Redis outage is a clear 503 that heals by itself when Redis comes back.

Both nodes share OneLoginSessionSecret, so a session cookie made by A opens on B."""

import secrets
import threading
import time

import pytest
import requests

import oidc_client as oc
from browser import API, HTML, LOGIN_REDIRECTS, TIMEOUT, set_cookies

LIFETIME = 8  # as in test_refresh.py: ID tokens live 8 s, renewal 5 s before exp
MARGIN = 5
XHR = {"X-Requested-With": "XMLHttpRequest"}


def two_nodes(httpd_factory, redis, server=None, **kw):
    """Instances A and B: same secret, both caching in the test's Redis."""
    secret = secrets.token_urlsafe(36)[:48]
    shared = {**redis.cache_directives(), "OneLoginSessionSecret": secret, **(server or {})}
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
    assert r.status_code == status, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    ctype = r.headers.get("Content-Type", "")
    if accept == HTML:
        assert ctype.startswith("text/html"), ctype
    else:
        assert ctype.startswith("application/json"), ctype
        assert isinstance(r.json(), dict), r.text


def test_session_and_metadata_are_shared(httpd_factory, browser_factory, provider, backend,
                                         redis):
    a, b = two_nodes(httpd_factory, redis)
    ba, bb = browser_factory(a), browser_factory(b)
    ba.login("/")
    keys = redis.module_keys()
    assert any(k.startswith("st:") for k in keys), keys
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


def test_logout_on_a_ends_the_cookie_copy_on_b(httpd_factory, browser_factory, provider,
                                               redis):
    a, b = two_nodes(httpd_factory, redis)
    ba, bb = browser_factory(a), browser_factory(b)
    ba.login("/")
    copy_session(ba, bb)
    assert bb.get("/private", accept=API).status_code == 200

    r = ba.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert any(k.startswith("rv:") for k in redis.module_keys()), redis.module_keys()

    r = bb.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?"), r.headers
    r = bb.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
