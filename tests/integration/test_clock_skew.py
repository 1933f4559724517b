"""This server's clock and the provider's apart (issue #13, item 3): a token the token endpoint
has just issued, refused for its times because the clocks disagree by more than
OneLoginClockSkew (and at most 30 minutes), is `clock-skew`: a 503 page that says so and offers
no "sign in again", a log line with both times and the difference, and its own counter. A token
that is simply old stays `expired`. httpd runs under libfaketime; the provider keeps the real
clock, with a CA and certificate made a day ago so an httpd behind still trusts them."""

import re

import pytest

import env as E
from browser import API, HTML, LOGIN_REDIRECTS

TIMES = re.compile(r"server time (\d+) \([0-9TZ:-]+\); token iat (\d+) \([0-9TZ:-]+\), "
                   r"exp (\d+) \([0-9TZ:-]+\), nbf (none|\d+)[^;]*; this server is (\d+) s "
                   r"(ahead of|behind) the token's iat \(skew 60 s\)")


def until_callback(browser, provider, path="/private"):
    start = browser.start_login(path)
    return browser.provider_login(start.auth_url)


def module_lines(h, log_id):
    return [ln for ln in h.error_lines() if f"{log_id}:" in ln]


@pytest.mark.parametrize("offset, seconds, direction", [
    ("+10m", 600, "ahead of"),   # the 300 s token expired by httpd's clock before it arrived
    ("-10m", 600, "behind"),     # the token was issued in httpd's future
], ids=["httpd-ahead-10m", "httpd-behind-10m"])
def test_clocks_apart_get_the_clock_page(httpd_factory, browser_factory, backdated_provider,
                                         backend, expect_log_ids, offset, seconds, direction):
    expect_log_ids("OLO00057")
    backdated_provider.reset()
    backdated_provider.set_lifetimes(id_token=300, access_token=300)
    h = httpd_factory(provider=backdated_provider, env=E.faked_clock(offset), extra_config=E.STATUS_LOCATION)
    b = browser_factory(h, provider=backdated_provider)
    before = E.failed_logins(h, "clock-skew")

    r = b.callback(until_callback(b, backdated_provider))
    # 503: the server must be fixed, not the user's sign-in; not a redirect, no session.
    assert r.status_code == 503, (r.status_code, r.text[:400])
    assert "Location" not in r.headers, r.headers
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "<code>503 clock-skew</code>" in r.text, r.text
    assert "clocks of this server and of the sign-in service disagree" in r.text, r.text
    assert "sign in again" not in r.text.lower() and "<a " not in r.text, r.text
    assert not b.cookie("olo_session")

    # A script gets the same reason as JSON.
    r = b.callback(until_callback(b, backdated_provider), accept=API)
    assert r.status_code == 503, (r.status_code, r.text[:400])
    assert r.json()["error"] == "clock-skew", r.text
    assert "disagree" in r.json()["message"], r.text

    lines = module_lines(h, "OLO00057")
    assert len(lines) == 2, "\n".join(h.error_lines()[-10:])
    assert "[onelogin_oidc:error]" in lines[0] and "(clock-skew)" in lines[0], lines[0]
    m = TIMES.search(lines[0])
    assert m, lines[0]
    server, iat, exp = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert m.group(6) == direction, lines[0]
    assert abs(server - iat) == int(m.group(5)), lines[0]
    assert abs(int(m.group(5)) - seconds) <= 30, lines[0]     # faketime's offset, give or take
    assert exp - iat == 300, lines[0]
    assert E.failed_logins(h, "clock-skew") == before + 2
    assert E.failed_logins(h, "expired") == 0 and E.failed_logins(h, "iat-invalid") == 0
    assert len(backdated_provider.token_log()) == 2
    assert backend.requests_seen() == []

    # Nothing was kept: the next request starts a login as usual (no loop of error pages).
    r = b.get("/private", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])


@pytest.mark.parametrize("offset", ["+50s", "-50s"], ids=["ahead-50s", "behind-50s"])
def test_clocks_within_the_default_skew_log_in(httpd_factory, browser_factory,
                                                backdated_provider, offset):
    backdated_provider.reset()
    backdated_provider.set_lifetimes(id_token=300, access_token=300)
    h = httpd_factory(provider=backdated_provider, env=E.faked_clock(offset))
    b = browser_factory(h, provider=backdated_provider)
    assert b.login("/private")["remote_user"] == "alice@example.com"
    assert not module_lines(h, "OLO00057")


def test_an_old_token_is_still_expired_and_the_log_shows_its_times(
        httpd_factory, browser_factory, provider, backend, expect_log_ids):
    # The provider hands out a token issued an hour ago that expired half an hour ago: the
    # clocks agree (no faketime), the token is old. Not clock-skew: beyond 30 minutes a token
    # is taken at its word.
    expect_log_ids("OLO00026")
    h = httpd_factory(extra_config=E.STATUS_LOCATION)
    b = browser_factory(h)
    start = b.start_login("/private")
    provider.set_mode("expired")
    r = b.callback(b.provider_login(start.auth_url))
    assert r.status_code == 401, (r.status_code, r.text[:400])
    assert "<code>401 expired</code>" in r.text, r.text
    lines = module_lines(h, "OLO00026")
    assert lines and "(expired)" in lines[-1], lines
    m = TIMES.search(lines[-1])
    assert m and m.group(6) == "ahead of" and abs(int(m.group(5)) - 3600) <= 30, lines[-1]
    assert not module_lines(h, "OLO00057")
    assert E.failed_logins(h, "expired") == 1 and E.failed_logins(h, "clock-skew") == 0
    assert backend.requests_seen() == []
