"""A browser holds at most 8 pending logins (issue #13, item 4): a ninth login start drops the
oldest, logs it, and remembers it in the sealed `olo_dropped` cookie; the dropped login's
callback then says it was dropped as the oldest of 8 (`state-dropped`, 400) and links to a
fresh login of the same target. Without that cookie, or with a forged one, the callback is
`state-unknown` as before (fail closed)."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

import env as E
from browser import API, LOGIN_REDIRECTS

MAX_PENDING = 8
LINK = re.compile(r'<a href="([^"]+)">Start this sign-in again</a>')


def module_lines(h, log_id, first=0):
    return [ln for ln in h.error_lines()[first:] if f"{log_id}:" in ln]


@pytest.fixture
def status_httpd(httpd_factory):
    return httpd_factory(extra_config=E.STATUS_LOCATION)


def nine_starts(b):
    """Nine login starts in one browser, each for its own target; the first is dropped."""
    starts = []
    for i in range(MAX_PENDING + 1):
        starts.append(b.start_login(f"/private/tab{i}?n={i}"))
    assert len(b.cookie_names("olo_state_")) == MAX_PENDING
    assert b.cookie(f"olo_state_{starts[0].state}") is None
    assert b.cookie("olo_dropped")
    return starts


def test_ninth_login_drops_the_oldest_and_its_callback_says_so(
        status_httpd, browser_factory, provider, backend, expect_log_ids):
    expect_log_ids("OLO00059")
    h = status_httpd
    b = browser_factory(h)
    first_line = len(h.error_lines())
    starts = nine_starts(b)
    evictions = module_lines(h, "OLO00058", first_line)
    assert len(evictions) == 1, "\n".join(h.error_lines()[first_line:])
    assert "[onelogin_oidc:info]" in evictions[0], evictions[0]
    assert "dropped as the oldest of 8 pending logins" in evictions[0], evictions[0]
    assert "/private/tab0?n=0" in evictions[0], evictions[0]

    # The first tab completes its login at the provider: its state cookie is gone.
    callback_url = b.provider_login(starts[0].auth_url)
    r = b.callback(callback_url)
    assert r.status_code == 400, (r.status_code, r.text[:400])
    assert "Location" not in r.headers, r.headers
    assert "<code>400 state-dropped</code>" in r.text, r.text
    assert "dropped as the oldest of 8" in r.text, r.text
    assert "could not match this sign-in" not in r.text, r.text
    link = LINK.search(r.text)
    assert link, r.text
    href = html.unescape(link.group(1))
    assert urlsplit(href).path == "/signin", href
    assert parse_qs(urlsplit(href).query) == {"target": ["/private/tab0?n=0"]}, href
    assert provider.token_log() == [], "a dropped login must not redeem its code"
    lines = module_lines(h, "OLO00059", first_line)
    assert len(lines) == 1 and "[onelogin_oidc:warn]" in lines[0], lines
    assert "/private/tab0?n=0" in lines[0], lines[0]
    assert E.failed_logins(h, "state-dropped") == 1
    assert E.failed_logins(h, "state-unknown") == 0

    # A script gets the reason as JSON.
    r = b.callback(callback_url, accept=API)
    assert r.status_code == 400 and r.json()["error"] == "state-dropped", r.text

    # The link starts a fresh login that lands on the first tab's target.
    r = b.get(href)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    again = b.check_auth_redirect(r)
    r = b.callback(b.provider_login(again.auth_url))
    b.check_logged_in_redirect(r, again, "/private/tab0?n=0")
    assert b.get("/private/tab0?n=0", accept=API).json()["remote_user"] == "alice@example.com"

    # The ninth tab, never dropped, completes as usual.
    r = b.callback(b.provider_login(starts[MAX_PENDING].auth_url))
    b.check_logged_in_redirect(r, starts[MAX_PENDING], "/private/tab8?n=8")


@pytest.mark.parametrize("cookie", ["absent", "tampered", "state-cookie-value"])
def test_without_a_sound_dropped_cookie_the_state_is_unknown(
        status_httpd, browser_factory, provider, expect_log_ids, cookie):
    # Fail closed: the browser lost or altered what said the login was dropped.
    expect_log_ids("OLO00020")
    h = status_httpd
    b = browser_factory(h)
    starts = nine_starts(b)
    value = b.cookie("olo_dropped")
    b.drop_cookie("olo_dropped")
    if cookie == "tampered":
        b.set_cookie("olo_dropped", value[:20] + ("A" if value[20] != "A" else "B") + value[21:])
    elif cookie == "state-cookie-value":
        # a sealed value of ours, but made for another cookie name
        b.set_cookie("olo_dropped", b.cookie(f"olo_state_{starts[1].state}"))
    r = b.callback(b.provider_login(starts[0].auth_url))
    assert r.status_code == 400, (r.status_code, r.text[:400])
    assert "<code>400 state-unknown</code>" in r.text, r.text
    assert "/signin?target" not in r.text, r.text
    assert E.failed_logins(h, "state-unknown") == 1 and E.failed_logins(h, "state-dropped") == 0
    assert provider.token_log() == []


def test_a_foreign_state_is_unknown_even_with_a_dropped_cookie(
        status_httpd, browser_factory, expect_log_ids):
    expect_log_ids("OLO00020")
    h = status_httpd
    b = browser_factory(h)
    nine_starts(b)
    r = b.get("/callback?code=abc&state=" + "Q" * 32)
    assert r.status_code == 400, (r.status_code, r.text[:400])
    assert "<code>400 state-unknown</code>" in r.text, r.text


def test_the_backend_never_sees_the_dropped_cookie(status_httpd, browser_factory, backend):
    b = browser_factory(status_httpd)
    nine_starts(b)
    b.sign_in("/private")
    b.set_cookie("app", "1")
    assert b.cookie("olo_dropped")
    report = b.get("/private", accept=API).json()
    cookie = next((v for k, v in report["headers"].items() if k.lower() == "cookie"), "")
    assert cookie == "app=1", report["headers"]
