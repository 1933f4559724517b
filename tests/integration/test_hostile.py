"""Hostile input and faults: a provider that dies mid-login or answers half a document, a
key set with junk next to the real key, clocks apart, huge cookies and query strings, and
claims carrying NUL, bytes that are not UTF-8, or CR/LF.

Whatever happens: a clear status with its reason (HTML for a browser, JSON for a script) and
a log line with its id; never a crash, a 500 without reason, or an identity the provider did
not state reaching the backend. Discovery faults, a slow provider and certificates for the
wrong host or from an unknown CA are in test_provider_faults.py."""

import re
import signal
import threading
import time

import pytest
import requests

import env as E
import oidc_client as O
from browser import API, HTML, LOGIN_REDIRECTS, REDIRECTS, cookie_cleared, set_cookies

IDENTITY_HEADERS = ("X-Remote-User", "X-OneLogin-User", "X-OneLogin-Email", "X-OneLogin-Name",
                    "X-OneLogin-Groups")
# A failed fetch from the provider is remembered for 5 s (docs/configuration.md, "The provider
# is down"): a login right after the provider is back waits that out.
FAILURE_REMEMBERED_S = 5.5


# -- helpers --------------------------------------------------------------------------------

def assert_refused(r, accept, status, reason):
    """An error answer of the module: status, reason in the body (None: any reason name),
    no redirect, no session."""
    assert r.status_code == status, (r.status_code, r.headers, r.text[:400])
    assert r.status_code not in REDIRECTS and "Location" not in r.headers, r.headers
    ctype = r.headers.get("Content-Type", "")
    wanted = re.escape(reason) if reason else "[a-z-]+"
    if accept == HTML:
        assert ctype.startswith("text/html"), ctype
        assert re.search(f"<code>{status} {wanted}</code>", r.text), r.text[-400:]
    else:
        assert ctype.startswith("application/json"), ctype
        assert re.fullmatch(wanted, r.json().get("error", "")), r.text
    session = set_cookies(r).get("olo_session")
    assert session is None or session["value"] == "", session


def log_lines(h, log_id, first=0):
    return [ln for ln in h.error_lines()[first:] if f"{log_id}:" in ln]


def assert_logged(h, log_id, reason, level, first=0):
    """One line with the id, the reason in parentheses (None: any) and the level, since line
    `first`."""
    lines = log_lines(h, log_id, first)
    assert any((reason is None or f"({reason})" in ln) and f"[onelogin_oidc:{level}]" in ln
               for ln in lines), \
        f"no {log_id} {level} line with ({reason}) in {h.error_log}:\n" + "\n".join(lines)


def header(report, name):
    for k, v in report["headers"].items():
        if k.lower() == name.lower():
            return v
    return None


def assert_headers_clean(report):
    """No header the client or the module did not mean, and no value with CR, LF or NUL."""
    shown = {k: v for k, v in report["headers"].items() if k.lower() != "authorization"}
    for name, value in report["headers"].items():
        assert name.lower() != "x-injected", f"a claim split a header: the backend got {shown}"
        for bad in ("\r", "\n", "\x00"):
            assert bad not in name and bad not in value, (name, value)


def assert_still_serving(browser):
    r = browser.get("/public/ping", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["path"] == "/public/ping"


def login_until_callback(browser, provider, mode=None, login="alice@example.com",
                         password="alice-password", path="/private", **options):
    """Starts a login, turns the provider's mode on, and signs in: the callback URL."""
    start = browser.start_login(path)
    if mode:
        provider.set_mode(mode, **options)
    return start, browser.provider_login(start.auth_url, login, password)


# -- the provider dies, or answers half a document ------------------------------------------

@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_provider_killed_between_redirect_and_callback(httpd_factory, browser_factory,
                                                       own_provider, expect_log_ids, accept):
    expect_log_ids("OLO00026")
    h = httpd_factory(provider=own_provider)
    earlier = browser_factory(h, provider=own_provider)
    earlier.login("/private")
    b = browser_factory(h, provider=own_provider)
    _, callback_url = login_until_callback(b, own_provider)

    own_provider.kill()
    first = len(h.error_lines())
    r = b.callback(callback_url, accept=accept)
    assert_refused(r, accept, 503, "provider-unreachable")
    assert_logged(h, "OLO00026", "provider-unreachable", "error", first)

    # httpd serves everybody else: public pages, and sessions made before the outage.
    assert_still_serving(b)
    r = earlier.get("/private", accept=API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["remote_user"] == "alice@example.com"
    assert b.get("/private", accept=API).status_code == 401

    # Back on the same port (same issuer, same key): a fresh login works.
    own_provider.start()
    own_provider.allow_client_urls([f"{h.url}/callback"])
    time.sleep(FAILURE_REMEMBERED_S)
    b.login("/private")


def test_frozen_provider_holds_one_callback_not_the_server(httpd_factory, browser_factory,
                                                           own_provider, expect_log_ids):
    # SIGSTOP: the kernel still accepts connections, nothing answers. The callback waits for
    # OneLoginHTTPTimeout and gets 503; meanwhile other requests are answered.
    expect_log_ids("OLO00026")
    h = httpd_factory(provider=own_provider, server={"OneLoginHTTPTimeout": "1 3"})
    earlier = browser_factory(h, provider=own_provider)
    earlier.login("/private")
    b = browser_factory(h, provider=own_provider)
    _, callback_url = login_until_callback(b, own_provider)

    own_provider.proc.send_signal(signal.SIGSTOP)
    result = {}

    def callback():
        result["r"] = b.callback(callback_url, accept=API)

    t = threading.Thread(target=callback)
    try:
        t.start()
        time.sleep(0.5)
        assert t.is_alive(), "the callback answered before the provider timeout"
        r = earlier.get("/private", accept=API)
        assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
        assert_still_serving(earlier)
        t.join(timeout=20)
        assert not t.is_alive(), "the callback hangs past OneLoginHTTPTimeout"
    finally:
        own_provider.proc.send_signal(signal.SIGCONT)
        t.join(timeout=25)
    assert_refused(result["r"], API, 503, "provider-unreachable")
    assert_logged(h, "OLO00026", "provider-unreachable", "error")
    time.sleep(FAILURE_REMEMBERED_S)
    b.login("/private")


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_token_endpoint_drops_the_connection(httpd_factory, browser_factory, provider, backend,
                                             expect_log_ids, accept):
    # The provider redeemed the code and died before answering: no response at all.
    expect_log_ids("OLO00026")
    h = httpd_factory()
    b = browser_factory(h)
    _, callback_url = login_until_callback(b, provider, "token-reset")
    r = b.callback(callback_url, accept=accept)
    assert_refused(r, accept, 503, "provider-unreachable")
    assert_logged(h, "OLO00026", "provider-unreachable", "error")
    assert [e.get("fault") for e in provider.token_log()] == ["token-reset"]
    assert_still_serving(b)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


@pytest.mark.parametrize("accept", [HTML, API], ids=["browser", "api"])
def test_truncated_token_answer_is_a_bad_gateway(httpd_factory, browser_factory, provider,
                                                 backend, expect_log_ids, accept):
    expect_log_ids("OLO00026")
    h = httpd_factory()
    b = browser_factory(h)
    _, callback_url = login_until_callback(b, provider, "token-truncated")
    r = b.callback(callback_url, accept=accept)
    assert_refused(r, accept, 502, "provider-bad-response")
    assert_logged(h, "OLO00026", "provider-bad-response", "error")
    assert len(provider.token_log()) == 1
    assert backend.requests_seen() == []
    assert b.get("/private", accept=API).status_code == 401


def test_truncated_jwks_is_a_bad_gateway_and_is_not_kept(httpd_factory, browser_factory,
                                                         provider, backend, expect_log_ids):
    expect_log_ids("OLO00026")
    h = httpd_factory()
    b = browser_factory(h)
    _, callback_url = login_until_callback(b, provider, "jwks-truncated")
    r = b.callback(callback_url, accept=HTML)
    assert_refused(r, HTML, 502, "provider-bad-response")
    assert_logged(h, "OLO00026", "provider-bad-response", "error")
    assert [e["status"] for e in provider.endpoint_log("jwks")] == [200]
    assert backend.requests_seen() == []

    # The half document was not cached: once the provider is sane, the next login works.
    provider.reset()
    time.sleep(FAILURE_REMEMBERED_S)
    report = b.login("/private")
    assert report["remote_user"] == "alice@example.com"
    assert len(provider.endpoint_log("jwks")) == 1


def test_jwks_with_malformed_keys_beside_the_real_one_still_logs_in(httpd_factory,
                                                                    browser_factory, provider,
                                                                    backend):
    # Broken keys (bad base64url "n", short modulus, empty "e", non-objects, oct/OKP, an
    # encryption key and a PS256-only key) are listed first, several under the real kid.
    provider.set_mode("jwks-malformed-extra")
    h = httpd_factory()
    b = browser_factory(h)
    report = b.login("/private")
    assert report["remote_user"] == "alice@example.com"
    jwks = provider.endpoint_log("jwks")
    assert [(e["status"], e.get("mode")) for e in jwks] == [(200, "jwks-malformed-extra")]
    assert header(report, "Authorization").startswith("Bearer ")


def test_provider_fault_modes_do_what_they_claim(provider):
    """The modes above, seen from a client: so a passing test above means what it says."""
    provider.set_mode("jwks-malformed-extra")
    with provider.session() as s:
        keys = s.get(f"{provider.issuer}/certs", timeout=10).json()["keys"]
    kid = provider.control("GET", "state")["kid"]
    assert len(keys) > 10 and keys[-1]["kid"] == kid and "n" in keys[-1], keys[-1]
    assert sum(1 for k in keys if isinstance(k, dict) and k.get("kid") == kid) > 5
    provider.set_mode("jwks-truncated")
    with provider.session() as s:
        r = s.get(f"{provider.issuer}/certs", timeout=10)
    assert r.status_code == 200 and r.text.startswith('{"keys":['), r.text[:80]
    with pytest.raises(ValueError):
        r.json()
    provider.set_mode("token-truncated")
    with pytest.raises(ValueError):
        O.code_flow(provider)
    provider.set_mode("claims", claims={"name": "A\u0000B\r\nC", "email_verified": None})
    token = O.code_flow(provider)["id_token"]
    c = O.claims(token)
    assert c["name"] == "A\u0000B\r\nC" and "email_verified" not in c, c
    provider.set_mode("claims-raw", raw={"claim": "name", "hex": "41 ff fe 42"})
    token = O.code_flow(provider)["id_token"]
    assert b'"name":"A\xff\xfeB"' in O.b64url_decode(token.split(".")[1])


# -- clocks apart -----------------------------------------------------------------------------

@pytest.mark.parametrize("offset, status, reason, log_id, level", [
    # httpd behind: the token was issued in its future, by a clock 10 minutes from ours
    ("-10m", 503, "clock-skew", "OLO00057", "error"),
    # httpd ahead by more than the token's hour and beyond 30 minutes: taken at its word
    ("+2h", 401, "expired", "OLO00026", "warn"),
], ids=["httpd-behind-10m", "httpd-ahead-2h"])
def test_clock_skew_beyond_the_limit_is_refused(httpd_factory, browser_factory,
                                                backdated_provider, backend, expect_log_ids,
                                                offset, status, reason, log_id, level):
    expect_log_ids(log_id)
    backdated_provider.reset()
    h = httpd_factory(provider=backdated_provider, env=E.faked_clock(offset))
    b = browser_factory(h, provider=backdated_provider)
    _, callback_url = login_until_callback(b, backdated_provider)
    assert_refused(b.callback(callback_url), HTML, status, reason)
    assert_logged(h, log_id, reason, level)
    assert len(backdated_provider.token_log()) == 1
    assert backend.requests_seen() == []


@pytest.mark.parametrize("offset, skew", [
    ("-30s", None),      # within the default 60 s
    ("-10m", "900"),     # the same 10 minutes as above, with OneLoginClockSkew 900
    ("+10m", None),      # ahead, but the token still has 50 minutes
], ids=["behind-30s", "behind-10m-skew-900", "ahead-10m"])
def test_clock_skew_within_the_limit_logs_in(httpd_factory, browser_factory,
                                             backdated_provider, offset, skew):
    backdated_provider.reset()
    h = httpd_factory(provider=backdated_provider, env=E.faked_clock(offset),
                      server={"OneLoginClockSkew": skew})
    b = browser_factory(h, provider=backdated_provider)
    assert b.login("/private")["remote_user"] == "alice@example.com"


# -- huge cookies and query strings ---------------------------------------------------------

KIB64 = 64 * 1024
RAISED_LIMIT = "LimitRequestFieldSize 70000\nLimitRequestLine 20000\n"


def raw_get(h, path, headers, accept=HTML):
    """A GET with exactly these headers (no cookie jar)."""
    with requests.Session() as s:
        s.trust_env = False
        return s.get(f"{h.url}{path}", headers={"Accept": accept, **headers},
                     allow_redirects=False, timeout=20)


def padding_cookies(total, prefix="pad"):
    """'pad0=xxx; pad1=xxx; ...' of exactly `total` bytes."""
    parts, size, i = [], 0, 0
    while size + 1010 + 200 < total:
        part = f"{prefix}{i}={'x' * 1000}"
        parts.append(part)
        size += len(part) + 2
        i += 1
    text = "; ".join(parts)
    text += "; last=" + "y" * (total - len(text) - 7)
    assert len(text) == total
    return text


def test_64k_cookie_with_the_default_limit_is_refused_by_httpd(httpd, browser, backend):
    cookie = padding_cookies(KIB64)
    assert len(cookie) == KIB64
    for accept in (HTML, API):
        r = raw_get(httpd, "/private", {"Cookie": cookie}, accept)
        assert r.status_code == 400, (r.status_code, r.text[:300])
    r = raw_get(httpd, "/private", {"Cookie": "olo_session=" + "A" * (KIB64 - 12)})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert_still_serving(browser)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


@pytest.mark.parametrize("value", ["A" * (KIB64 - 12), "%00" * 21000 + "A" * 524,
                                   "\"" + "a." * 32760 + "\""],
                         ids=["base64url", "percent-nul", "quoted-dots"])
def test_64k_garbage_session_cookie_is_no_session(httpd_factory, provider, backend, value):
    h = httpd_factory(extra_config=RAISED_LIMIT)
    cookie = f"olo_session={value}"[:KIB64]
    r = raw_get(h, "/private", {"Cookie": cookie}, HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    assert r.headers["Location"].startswith(provider.issuer + "/auth?")
    r = raw_get(h, "/private", {"Cookie": cookie}, API)
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["error"] in ("cookie-invalid", "login-required"), r.text
    assert backend.requests_seen() == []


def test_64k_of_other_cookies_beside_a_session(httpd_factory, browser_factory, backend):
    h = httpd_factory(extra_config=RAISED_LIMIT)
    b = browser_factory(h)
    b.login("/private")
    session = b.cookie("olo_session")
    pad = padding_cookies(KIB64 - len(session) - 16)
    cookie = f"{pad}; olo_session={session}"
    assert len(cookie) <= KIB64
    backend.reset()
    r = raw_get(h, "/private", {"Cookie": cookie}, API)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    report = r.json()
    assert report["remote_user"] == "alice@example.com"
    forwarded = header(report, "Cookie")
    assert forwarded == pad, "the backend got the module's cookies or lost others"


def test_200_state_cookies_login_still_starts_and_prunes(httpd_factory, browser_factory,
                                                         provider):
    h = httpd_factory(extra_config=RAISED_LIMIT)
    b = browser_factory(h)
    junk = [f"olo_state_{i:04d}{'J' * 28}" for i in range(200)]
    for name in junk:
        b.set_cookie(name, "not-a-sealed-state")
    b.set_cookie("unrelated", "keep-me")
    start = b.start_login("/private")
    deleted = {name for name, attrs in set_cookies(start.response).items()
               if cookie_cleared(attrs)}
    assert deleted, "no stale state cookie was deleted"
    assert deleted <= set(junk), f"deleted cookies that were not junk: {deleted - set(junk)}"
    assert f"olo_state_{start.state}" not in deleted

    # Each login start sweeps some more; a few starts leave no junk and at most 8 pending.
    left = [len([n for n in b.cookie_names("olo_state_") if n in junk])]
    while left[-1] and len(left) < 8:
        b.start_login("/private")
        left.append(len([n for n in b.cookie_names("olo_state_") if n in junk]))
    assert left[-1] == 0 and left == sorted(left, reverse=True), left
    assert len(b.cookie_names("olo_state_")) <= 8, b.cookie_names("olo_state_")

    # The first login still completes, and the backend sees none of the module's cookies.
    r = b.callback(b.provider_login(start.auth_url))
    b.check_logged_in_redirect(r, start, "/private")
    r = b.get("/private", accept=API)
    assert r.status_code == 200 and r.json()["remote_user"] == "alice@example.com", r.text
    assert header(r.json(), "Cookie") == "unrelated=keep-me"


def test_8k_query_strings_never_500(httpd_factory, browser_factory, provider, backend,
                                    expect_log_ids):
    expect_log_ids("OLO00020", "OLO00024")
    h = httpd_factory(extra_config=RAISED_LIMIT)
    state = "S" * 32
    big = "a" * 8192

    # /callback: an oversized code, an oversized query, a huge unknown parameter.
    for query in (f"state={state}&code={big}", f"code=c&state={state}&x={big}",
                  f"state={state}&code=c&x={'b' * 7000}", f"state={big}&code=c"):
        for accept in (HTML, API):
            r = raw_get(h, f"/callback?{query}", {}, accept)
            assert r.status_code == 400, (query[:40], r.status_code, r.text[:300])
            assert "Location" not in r.headers

    # /signin?target= and a protected path: a login starts (or a 400), never a 500.
    for path in (f"/signin?target=/{big}", f"/signin?target={big}", f"/private?{big}",
                 f"/private/{'p' * 8000}"):
        r = raw_get(h, path, {}, HTML)
        assert r.status_code in (*LOGIN_REDIRECTS, 400, 414), (path[:40], r.status_code)
        if r.status_code in LOGIN_REDIRECTS:
            assert r.headers["Location"].startswith(provider.issuer + "/auth?"), path[:40]
        r = raw_get(h, path, {}, API)
        assert r.status_code in (*LOGIN_REDIRECTS, 400, 401, 414), (path[:40], r.status_code)
    assert_still_serving(browser_factory(h))
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


def test_8k_query_with_the_default_limits(httpd, browser, backend, expect_log_ids):
    # Past LimitRequestLine httpd itself answers 414; just under it the module decides.
    expect_log_ids("OLO00020", "OLO00024")
    for path, statuses in ((f"/callback?state={'S' * 32}&code={'a' * 8170}", (414,)),
                           (f"/callback?state={'S' * 32}&code={'a' * 8000}", (400,)),
                           (f"/private?{'q' * 8192}", (414,)),
                           (f"/private?{'q' * 8100}", LOGIN_REDIRECTS),
                           (f"/signin?target=/{'t' * 8180}", (414,)),
                           (f"/signin?target=/{'t' * 8100}", LOGIN_REDIRECTS)):
        r = raw_get(httpd, path, {}, HTML)
        assert r.status_code in statuses, (path[:40], r.status_code, r.text[:200])
    assert_still_serving(browser)
    assert [req["path"] for req in backend.requests_seen()] == ["/public/ping"]


@pytest.mark.parametrize("path, landing", [
    ("/signin?target=/" + "t" * 2000, "/" + "t" * 2000),
    ("/signin?target=/" + "t" * 6000, "/"),
    ("/private?" + "q" * 6000, "/"),
], ids=["target-2000", "target-6000", "protected-6000"])
def test_long_target_still_completes_the_login(httpd, browser, path, landing):
    # RFC 6265 6.1: browsers keep cookies of at least 4096 bytes (name, value, attributes);
    # a bigger state cookie may be dropped and the login could never complete. A target too
    # long to carry lands on / instead.
    r = browser.get(path)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:200])
    start = browser.check_auth_redirect(r)
    assert len(start.state_cookie["raw"]) <= 4096, \
        f"state cookie of {len(start.state_cookie['raw'])} bytes for {path[:30]}..."
    r = browser.callback(browser.provider_login(start.auth_url))
    browser.check_logged_in_redirect(r, start, landing)


# -- NUL, invalid UTF-8 and CR/LF in claims -------------------------------------------------

def finish_login(b, start, callback_url):
    """The callback's answer; when it logged in, the backend's report for /private."""
    r = b.callback(callback_url)
    if r.status_code not in LOGIN_REDIRECTS:
        return r, None
    b.check_logged_in_redirect(r, start, "/private")
    final = b.get("/private", accept=API)
    assert final.status_code == 200, (final.status_code, final.text[:300])
    return r, final.json()


def assert_clean_outcome(h, r, report, backend, first, allowed, refused_reason):
    """Refused with `refused_reason`, or logged in with identity headers out of `allowed`."""
    if report is None:
        assert_refused(r, HTML, 401, refused_reason)
        assert_logged(h, "OLO00026", refused_reason, "warn", first)
        assert backend.requests_seen() == []
        return "refused"
    assert_headers_clean(report)
    for name in IDENTITY_HEADERS:
        value = header(report, name)
        assert value is None or value in allowed, (name, value)
    for seen in backend.requests_seen():
        assert_headers_clean(seen)
    return "accepted"


NUL_CLAIMS = {
    "name": {"name": "Ali\u0000ce"},
    "email-truncates-to-alice": {"email": "alice@example.com\u0000bob@example.com"},
    "sub": {"sub": "10002\u0000x"},
    "lone-surrogate": {"name": "Bob \ud800 Example"},
}


@pytest.mark.parametrize("claims", NUL_CLAIMS.values(), ids=NUL_CLAIMS.keys())
def test_nul_in_a_claim_never_yields_a_mangled_identity(httpd, browser, provider, backend,
                                                        expect_log_ids, claims):
    # Logged in as bob: a claim cut at its NUL could make him alice.
    expect_log_ids("OLO00026")
    first = len(httpd.error_lines())
    start, callback_url = login_until_callback(browser, provider, "claims", claims=claims,
                                               login="bob@example.com", password="bob-password")
    r, report = finish_login(browser, start, callback_url)
    assert_clean_outcome(httpd, r, report, backend, first,
                         {"bob@example.com", "Bob Example"}, "token-malformed")
    if report is not None:
        assert report["remote_user"] == "bob@example.com", report


RAW_BYTES = {
    "name-ff-fe": ("name", "41 6c 69 ff fe 63 65"),
    "email-overlong-nul": ("email", "616c696365406578616d706c652e636f6d c0 80 78"),
    "email-ff": ("email", "616c696365406578616d706c652e636f6d ff"),
    "name-surrogate-bytes": ("name", "41 ed a0 80 42"),
    "name-raw-nul": ("name", "41 00 42"),
    "name-raw-crlf": ("name", "41 0d 0a 58 2d 49 6e 6a 65 63 74 65 64 3a 20 79 65 73"),
}


@pytest.mark.parametrize("claim, hexbytes", RAW_BYTES.values(), ids=RAW_BYTES.keys())
def test_bytes_json_cannot_carry_are_refused(httpd, browser, provider, backend, expect_log_ids,
                                             claim, hexbytes):
    # The payload is signed by the real key, so only the bytes themselves can refuse it.
    expect_log_ids("OLO00026")
    first = len(httpd.error_lines())
    start, callback_url = login_until_callback(
        browser, provider, "claims-raw", raw={"claim": claim, "hex": hexbytes},
        login="bob@example.com", password="bob-password")
    r, report = finish_login(browser, start, callback_url)
    outcome = assert_clean_outcome(httpd, r, report, backend, first,
                                   {"bob@example.com", "Bob Example"}, "token-malformed")
    assert outcome == "refused", "a payload that is not valid JSON text was accepted"


CRLF_NAMES = {
    "crlf": "Alice\r\nX-Injected: yes",
    "lf": "Alice\nX-Injected: yes",
    "cr": "Alice\rX-Injected: yes",
    "crlf-fold": "Alice\r\n X-Injected: yes",
    "leading-crlf": "\r\nX-Injected: yes",
}


@pytest.mark.parametrize("name", CRLF_NAMES.values(), ids=CRLF_NAMES.keys())
def test_crlf_in_the_name_claim_never_splits_a_header(httpd, browser, provider, backend,
                                                      expect_log_ids, name):
    expect_log_ids("OLO00026")
    first = len(httpd.error_lines())
    start, callback_url = login_until_callback(browser, provider, "claims",
                                               claims={"name": name})
    r, report = finish_login(browser, start, callback_url)
    # Absent, or clean: CR and LF dropped or made spaces.
    cleaned = {name.replace("\r", "").replace("\n", ""),
               name.replace("\r", " ").replace("\n", " ")}
    assert_clean_outcome(httpd, r, report, backend, first, {"alice@example.com", *cleaned},
                         None)
    if report is not None:
        assert report["remote_user"] == "alice@example.com"
    assert not any(ln.startswith("X-Injected") for ln in httpd.error_lines()[first:])


@pytest.mark.parametrize("claim, config", [
    ("email", {}),
    ("name", {"OneLoginRemoteUserClaim": "name"}),
    ("groups", {"OneLoginScope": '"openid email profile groups"'}),
], ids=["email-is-remote-user", "name-is-remote-user", "groups"])
def test_crlf_in_the_user_claim_never_splits_a_header(httpd_factory, browser_factory, provider,
                                                      backend, expect_log_ids, claim, config):
    # REMOTE_USER itself carries the claim: the template forwards it as X-Remote-User.
    expect_log_ids("OLO00026")
    h = httpd_factory(server=config)
    b = browser_factory(h)
    value = ["Admins\r\nX-Injected: yes", "Everyone"] if claim == "groups" \
        else f"{'Alice' if claim == 'name' else 'alice@example.com'}\r\nX-Injected: yes"
    start, callback_url = login_until_callback(b, provider, "claims", claims={claim: value})
    r, report = finish_login(b, start, callback_url)
    assert_clean_outcome(h, r, report, backend, 0,
                         {"alice@example.com", "Alice Example"}, None)
    if report is not None:
        if claim == "groups":
            assert report["remote_user"] == "alice@example.com"
        else:
            assert report["remote_user"] is None, "a CR/LF identity was cut or forwarded"
    forged = [ln for ln in h.error_lines() if ln.startswith("X-Injected")]
    assert not forged, f"a claim wrote its own line into the error log: {forged}"


def test_crlf_in_a_bearer_token_claim_never_splits_a_header(httpd_factory, provider, backend,
                                                            expect_log_ids):
    # OneLoginAcceptBearer: a script's own ID token, signed by the provider, becomes the
    # identity of the request without any login.
    expect_log_ids("OLO00046")
    h = httpd_factory(location_extra=["OneLoginAcceptBearer On"])
    provider.set_mode("claims", claims={"email": "alice@example.com\r\nX-Injected: yes"})
    token = O.id_token(provider)
    assert "\r\n" in O.claims(token)["email"]
    r = raw_get(h, "/private", {"Authorization": f"Bearer {token}"}, API)
    if r.status_code == 401:
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        assert backend.requests_seen() == []
        assert log_lines(h, "OLO00046"), "refused without its log line"
        return
    assert r.status_code == 200, (r.status_code, r.text[:300])
    report = r.json()
    assert_headers_clean(report)
    assert report["remote_user"] is None, "a CR/LF identity was cut or forwarded"


@pytest.mark.parametrize("ctl", ["\x0b", "\x1b", "\x7f", "\x01"], ids=["vt", "esc", "del", "soh"])
def test_control_characters_in_the_name_claim_keep_a_strict_backend_working(
        httpd_factory, browser_factory, provider, openmetadata, expect_log_ids, ctl):
    # RFC 9110 5.5: a field value holds no control character but HTAB, and strict HTTP
    # parsers (Node's, which the OpenMetadata stand-in uses; Jetty's) answer 400 to one. A
    # display name with an ESC in it must not lock its user out of the application.
    expect_log_ids("OLO00026")
    h = httpd_factory(backend=openmetadata)
    b = browser_factory(h)
    start, callback_url = login_until_callback(b, provider, "claims",
                                               claims={"name": f"Alice{ctl}Example"})
    r = b.callback(callback_url)
    if r.status_code not in LOGIN_REDIRECTS:
        assert_refused(r, HTML, 401, None)
        assert openmetadata.requests_seen() == []
        return
    b.check_logged_in_redirect(r, start, "/private")
    r = b.get("/api/v1/users/loggedInUser", accept=API)
    assert r.status_code == 200, \
        f"the backend refused the request of a user whose name has {ctl!r}: " \
        f"{r.status_code} {r.text[:200]}"
    seen = openmetadata.requests_seen()[-1]
    name = seen["headers"].get("x-onelogin-name")
    assert name is None or not any(c < " " and c != "\t" or c == "\x7f" for c in name), \
        repr(name)
