"""The module's own error pages are small, styled and say what to do; an operator's
ErrorDocument replaces them, with the module's headers kept and the reason in ONELOGIN_ERROR."""

import secrets
import time

import pytest

from browser import API, HTML

XHR = {"X-Requested-With": "XMLHttpRequest"}

OWN_PAGES = """
<Location /errors>
    ProxyPass !
    AuthType None
    Require all granted
</Location>
LogFormat "%>s reason=%<{ONELOGIN_ERROR}e" reasons
CustomLog "{root}/logs/reasons_log" reasons
"""


def operator_pages(h):
    """An httpd whose operator set ErrorDocuments: a local page for 401, text for 400 and 503."""
    (h.root / "htdocs" / "errors").mkdir(parents=True, exist_ok=True)
    (h.root / "htdocs" / "errors" / "401.html").write_text(
        "<html><body>ACME intranet: please sign in through the portal.</body></html>\n")
    return h


def reasons_logged(h, timeout=5.0):
    """The reasons log's lines, once it has any: httpd writes a line after the response."""
    path = h.root / "logs" / "reasons_log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if lines:
            return lines
        time.sleep(0.05)
    return [""]


def test_own_page_is_small_styled_and_says_what_to_do(httpd, browser, expect_log_ids):
    expect_log_ids("OLO00020")
    state = secrets.token_urlsafe(24)
    r = browser.s.get(f"{httpd.url}/callback?code=abc&state={state}",
                      headers={"Accept": HTML}, allow_redirects=False, timeout=20)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.text
    assert len(body.encode()) < 2048, len(body)
    assert "<style>" in body and "<title>" in body
    assert "Please start again" in body or "sign in again" in body.lower(), body
    assert 'href="/signin"' in body, "no way on from the error page"


@pytest.fixture
def operator_httpd(httpd_factory):
    h = httpd_factory(start=False, extra_config=OWN_PAGES.replace("{root}", "ROOT"),
                      location_extra=[
            'ErrorDocument 401 /errors/401.html',
            'ErrorDocument 400 "ACME: that sign-in link is stale, open the intranet again."',
            'ErrorDocument 503 "ACME: sign-in is down, see status.acme.example."'])
    h.extra_config = h.extra_config.replace("ROOT", str(h.root))
    operator_pages(h)
    h.start()
    return h


def test_error_document_replaces_the_401(operator_httpd, browser_factory):
    b = browser_factory(operator_httpd)
    r = b.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert "ACME intranet" in r.text, r.text[:300]
    # The module's headers survive: a script still learns how to authenticate.
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer realm="), r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    assert "reason=login-required" in reasons_logged(operator_httpd)[-1]


def test_error_document_replaces_the_callback_refusal(operator_httpd, browser_factory,
                                                      expect_log_ids):
    expect_log_ids("OLO00020")
    b = browser_factory(operator_httpd)
    state = secrets.token_urlsafe(24)
    r = b.s.get(f"{operator_httpd.url}/callback?code=abc&state={state}",
                headers={"Accept": HTML}, allow_redirects=False, timeout=20)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "that sign-in link is stale" in r.text, r.text[:300]
    assert "Location" not in r.headers
    assert reasons_logged(operator_httpd)[-1] == "400 reason=state-unknown"


def test_error_document_replaces_the_provider_outage(operator_httpd, browser_factory, provider,
                                                     expect_log_ids):
    expect_log_ids("OLO00010")
    provider.set_mode("discovery-500")
    r = browser_factory(operator_httpd).get("/private", accept=HTML)
    assert r.status_code in (502, 503), (r.status_code, r.text[:300])
    if r.status_code == 503:
        assert "sign-in is down" in r.text, r.text[:300]
    else:
        # 502 has no ErrorDocument here: the module's own page.
        assert "<style>" in r.text
    assert reasons_logged(operator_httpd)[-1].startswith(f"{r.status_code} reason=provider-")


def test_without_error_document_the_module_page_stays(httpd, browser):
    r = browser.get("/private", accept=API, headers=XHR)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "login-required"
