"""Logout: the module forgets the session (also copies of its cookie, through the shared
cache) and sends the browser through OneLogin's end_session_endpoint, which brings it back
to OneLoginPostLogoutURI."""

import html
import re
from urllib.parse import urljoin

from browser import API, HTML, LOGIN_REDIRECTS, cookie_cleared, query, set_cookies


def logout_redirect(browser, httpd, provider):
    """GET /logout: checks the session cookie is cleared; returns the end_session URL."""
    r = browser.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    session = set_cookies(r).get("olo_session")
    assert session is not None and cookie_cleared(session), set_cookies(r)
    location = urljoin(httpd.url + "/", r.headers["Location"])
    assert location.startswith(provider.issuer + "/logout?"), location
    return location


def finish_at_provider(browser, end_session_url):
    """What the browser does at OneLogin's sign-out page (the form submits itself): returns
    where the provider sends it afterwards."""
    s = browser.s
    r = s.get(end_session_url, headers={"Accept": HTML}, allow_redirects=False, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    form = re.search(r'<form[^>]*id="op.logoutForm"[^>]*>(.*?)</form>', r.text, re.S)
    assert form, r.text[:500]
    action = re.search(r'action="([^"]+)"', form.group(0)).group(1)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(1)))
    fields["logout"] = "yes"
    r = s.post(urljoin(end_session_url, html.unescape(action)), data=fields,
               allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    return urljoin(end_session_url, r.headers["Location"])


def test_logout_round_trip_through_the_provider(httpd, browser, provider, backend):
    report = browser.login("/")
    id_token = report["headers"]["Authorization"].split(" ", 1)[1]
    end_session = logout_redirect(browser, httpd, provider)
    p = query(end_session)
    assert p.get("id_token_hint") == id_token, p
    assert p.get("client_id") == "olo-test-client", p
    assert p.get("post_logout_redirect_uri") == f"{httpd.url}/", p
    assert p.get("state"), p

    back = finish_at_provider(browser, end_session)
    assert back.split("?")[0] == f"{httpd.url}/", back
    # The provider hands it back with the browser (RP-Initiated Logout 1.0, sections 2-3).
    assert query(back).get("state") == p["state"], back
    assert [e for e in provider.endpoint_log("end_session") if e["method"] == "POST"], \
        provider.endpoint_log("end_session")

    # Back home: a new login is needed, and the provider asks for the password again.
    backend.reset()
    r = browser.get(back, accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    start = browser.check_auth_redirect(r)
    page = browser.s.get(start.auth_url, allow_redirects=True, timeout=10)
    assert 'id="login-form"' in page.text, "the provider still had a session after logout"
    assert backend.requests_seen() == []


def test_old_session_cookie_copy_is_refused_after_logout(httpd, browser_factory, provider,
                                                         backend):
    browser = browser_factory(httpd)
    browser.login("/")
    copies = {c.name: c.value for c in browser.s.cookies if c.name.startswith("olo_session")}
    assert copies
    logout_redirect(browser, httpd, provider)

    thief = browser_factory(httpd)
    for name, value in copies.items():
        thief.set_cookie(name, value)
    backend.reset()
    r = thief.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
    r = thief.get("/private", accept=API)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert backend.requests_seen() == []


def test_other_sessions_survive_a_logout(httpd, browser_factory, provider):
    leaving, staying = browser_factory(httpd), browser_factory(httpd)
    leaving.login("/")
    staying.login("/", "bob@example.com", "bob-password")
    logout_redirect(leaving, httpd, provider)
    r = staying.get("/still-here", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "bob@example.com", r.text


def test_post_logout_uri_is_configurable(httpd_factory, browser_factory, provider):
    h = httpd_factory(server={"OneLoginPostLogoutURI": "/logged-out"})
    b = browser_factory(h)
    b.login("/")
    p = query(logout_redirect(b, h, provider))
    assert p.get("post_logout_redirect_uri") == f"{h.url}/logged-out", p
    # Signed out already: /logout goes straight there.
    assert_straight_to(b.get("/logout", accept=HTML), f"{h.url}/logged-out")


def test_end_session_carries_a_fresh_random_state(httpd, browser_factory, provider):
    states = []
    for _ in range(2):
        b = browser_factory(httpd)
        report = b.login("/")
        id_token = report["headers"]["Authorization"].split(" ", 1)[1]
        p = query(logout_redirect(b, httpd, provider))
        assert p.get("id_token_hint") == id_token, p
        assert p.get("client_id") == "olo-test-client", p
        assert p.get("post_logout_redirect_uri") == f"{httpd.url}/", p
        # Unguessable: at least 96 bits in base64url.
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", p.get("state", "")), p
        states.append(p["state"])
    assert states[0] != states[1], states


def assert_straight_to(r, url):
    """A redirect to `url` itself (absolute), with no session cookie set on the way."""
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"] == url, r.headers["Location"]
    session = set_cookies(r).get("olo_session")
    assert session is None or cookie_cleared(session), set_cookies(r)


def test_logout_without_a_session_goes_straight_to_the_post_logout_uri(httpd, browser_factory,
                                                                      provider, backend):
    # Nothing to end at the provider, and without an id_token_hint it could not send the
    # browser back: the browser goes where a completed logout lands, OneLoginPostLogoutURI
    # (default /, made absolute).
    stranger = browser_factory(httpd)
    r = stranger.get("/logout", accept=HTML)
    assert_straight_to(r, f"{httpd.url}/")
    assert [c for c in set_cookies(r) if c.startswith("olo_")
            and not cookie_cleared(set_cookies(r)[c])] == [], set_cookies(r)

    # After a logout the browser has no session either: a second /logout does the same.
    b = browser_factory(httpd)
    b.login("/")
    logout_redirect(b, httpd, provider)
    assert_straight_to(b.get("/logout", accept=HTML), f"{httpd.url}/")
    assert not [e for e in backend.requests_seen() if e["path"].startswith("/logout")]
