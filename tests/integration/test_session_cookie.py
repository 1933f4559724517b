"""A session cookie that does not open (tampered, sealed with another secret) counts as
no session: browsers are sent to the login, scripts get 401, never a 500."""

import pytest

from browser import API, HTML, LOGIN_REDIRECTS


def flip_char(value, index):
    c = value[index]
    return value[:index] + ("A" if c != "A" else "B") + value[index + 1:]


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_tampered_session_cookie_is_no_session(httpd, browser, provider, backend, where):
    browser.login("/")
    value = browser.cookie("olo_session")
    assert value
    index = {"start": 0, "middle": len(value) // 2, "end": len(value) - 1}[where]
    browser.drop_cookie("olo_session")
    browser.set_cookie("olo_session", flip_char(value, index))
    backend.reset()

    r = browser.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
    r = browser.get("/private", accept=API)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert backend.requests_seen() == []


def test_truncated_and_garbage_session_cookies(httpd, browser, provider, backend):
    browser.login("/")
    value = browser.cookie("olo_session")
    backend.reset()
    for bad in (value[: len(value) // 2], "", "x", "%%%", "a.b.c", "A" * 4000):
        browser.drop_cookie("olo_session")
        browser.set_cookie("olo_session", bad)
        r = browser.get("/private", accept=HTML)
        assert r.status_code in LOGIN_REDIRECTS, (bad[:20], r.status_code, r.text[:300])
    assert backend.requests_seen() == []


def test_cookie_from_another_secret_is_no_session(httpd_factory, browser_factory, provider,
                                                  backend):
    first = httpd_factory()
    b = browser_factory(first)
    b.login("/")
    value = b.cookie("olo_session")
    first.stop()

    # Same port and issuer, another OneLoginSessionSecret (as after a secret change).
    second = httpd_factory(port=first.port)
    assert second.session_secret != first.session_secret
    backend.reset()
    b.drop_cookie("olo_session")
    b.set_cookie("olo_session", value)
    r = b.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
    assert backend.requests_seen() == []


@pytest.mark.parametrize("hard", [False, True], ids=["graceful", "restart"])
def test_sessions_survive_a_reload_on_the_default_cache(httpd_factory, browser_factory, hard):
    # Debian's logrotate reloads httpd every night: shmcb must not forget who is logged in.
    h = httpd_factory()
    assert h.wait_for_lines("OLO00007"), h.error_lines()
    b = browser_factory(h)
    b.login("/")
    h.reload(hard=hard)
    r = b.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com"
    notices = [ln for ln in h.error_lines() if "OLO00007" in ln]
    assert len(notices) == 1, notices   # a fresh cache at the start, the same one after


def test_a_stop_ends_cookie_sessions_on_the_default_cache_and_says_so(
        httpd_factory, browser_factory, expect_log_ids):
    expect_log_ids("OLO00052")
    first = httpd_factory()
    assert first.wait_for_lines("OLO00007", "not a stop"), first.error_lines()
    b = browser_factory(first)
    b.login("/")
    first.stop()
    second = httpd_factory(port=first.port,
                           server={"OneLoginSessionSecret": first.session_secret})
    r = b.get("/private", accept=API)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["error"] == "session-forgotten", r.text
    assert any("OLO00052" in ln for ln in second.error_lines())


def test_secret_rotation_keeps_sessions_during_the_grace_period(httpd_factory, browser_factory):
    h = httpd_factory()
    b = browser_factory(h)
    b.login("/")
    old_secret = h.session_secret
    new_secret = "rotated-" + old_secret
    h.server.update({"OneLoginSessionSecret": new_secret,
                     "OneLoginSessionSecretPrevious": old_secret})
    h.reload()
    r = b.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com"
    # Once the previous secret is removed, its cookies are no session any more.
    h.server["OneLoginSessionSecretPrevious"] = None
    h.reload()
    assert b.get("/private", accept=API).status_code == 401


def test_large_session_is_chunked_under_the_browser_limit(httpd_factory, browser_factory,
                                                          provider, backend):
    # Many groups make the sealed session far larger than one 4 KiB cookie. The browser sends
    # all chunks in one Cookie header, past httpd's default 8190-byte field limit: operators
    # with such sessions raise LimitRequestFieldSize (docs/configuration.md).
    groups = [f"department-{i:03d}-readers" for i in range(150)]
    provider.set_mode("claims", claims={"groups": groups})
    h = httpd_factory(server={"OneLoginScope": '"openid email profile groups"',
                              "LimitRequestFieldSize": "32768"})
    b = browser_factory(h)
    start = b.start_login("/big")
    r = b.callback(b.provider_login(start.auth_url))
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    raw = r.raw.headers.getlist("Set-Cookie")
    chunks = [c for c in raw if c.startswith("olo_session_")]
    assert len(chunks) >= 3, raw
    assert all(len(c) <= 4096 for c in raw), [len(c) for c in raw]
    r = b.get("/big", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["headers"].get("X-OneLogin-Groups") == ",".join(groups)
    # The module's cookies, chunks included, never reach the backend.
    assert "olo_session" not in r.json()["headers"].get("Cookie", "")

    # A later, smaller session clears the chunks the browser still holds (here the main cookie
    # was lost, the chunks not).
    provider.set_mode("claims", claims={"groups": ["Everyone"]})
    b.drop_cookie("olo_session")
    start = b.start_login("/small")
    r = b.callback(b.provider_login(start.auth_url))
    cleared = [c for c in r.raw.headers.getlist("Set-Cookie")
               if c.startswith("olo_session_") and "Max-Age=0" in c]
    assert len(cleared) == len(chunks), r.raw.headers.getlist("Set-Cookie")
    assert b.cookie_names("olo_session_") == []
    assert b.get("/small", accept=API).json()["headers"].get("X-OneLogin-Groups") == "Everyone"
