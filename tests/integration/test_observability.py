"""What an operator sees: the counters behind `SetHandler onelogin-status` (Prometheus text,
shared by every httpd child, zero again after a restart), the request's UNIQUE_ID on each
module log line when mod_unique_id is loaded, and log lines that say in words what happened
without ever showing a token, a code, a cookie value or a secret."""

import base64
import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import env as E
from browser import API, HTML, LOGIN_REDIRECTS, query

STATUS = "/olo-status"
CONFIDENTIAL = {"OneLoginClientID": "olo-test-confidential-client",
                "OneLoginClientSecret": "olo-test-client-secret"}
UNIQUE_ID_MODULE = f"LoadModule unique_id_module {E.APACHE_MODULES / 'mod_unique_id.so'}"
AUTHZ_HOST_MODULE = f"LoadModule authz_host_module {E.APACHE_MODULES / 'mod_authz_host.so'}"
# As docs/configuration.md tells operators: its own location, outside the login, local only.
STATUS_LOCATION = f"""
<Location {STATUS}>
    AuthType None
    Require ip 127.0.0.1
    ProxyPass !
    SetHandler onelogin-status
</Location>
"""
# Clients' own tokens are accepted here (OneLoginAcceptBearer).
API_LOCATION = """
<Location /api>
    OneLoginAcceptBearer On
</Location>
"""
# The id of every request next to its path (no query: a callback's carries the code).
IDS_LOG = 'CustomLog logs/ids_log "%{UNIQUE_ID}e %m %U"'
MODULE_LINE = re.compile(r"\[onelogin_oidc:(\w+)\] .*?(OLO\d{5}): (.*)$")
UNIQUE_ID_SUFFIX = re.compile(r" \[unique_id ([A-Za-z0-9@_-]+)\]$")


def http():
    s = requests.Session()
    s.trust_env = False
    return s


def scrape(h):
    """The status page as {"name{labels}": value}."""
    with http() as s:
        r = s.get(h.url + STATUS, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    values = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) onelogin_oidc_[a-z_]+ ", line), line
            continue
        sample, _, value = line.rpartition(" ")
        values[sample] = int(value)
    return values


def moved(before, after):
    """The samples that changed, with how much."""
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)
            if after.get(k, 0) != before.get(k, 0)}


def status_instance(httpd_factory, unique_id=True, **kw):
    extra = [AUTHZ_HOST_MODULE] + ([UNIQUE_ID_MODULE] if unique_id else [])
    return httpd_factory(server_extra=extra + kw.pop("server_extra", []),
                         extra_config=STATUS_LOCATION + API_LOCATION + IDS_LOG, **kw)


def key_label(purpose, issuer, client_id):
    """The HKDF info of one app's cookie key: purpose, issuer and client id, length-prefixed
    (auth/olo_config.h olo_config_key_purpose)."""
    return f"{purpose}/{len(issuer)}:{issuer}/{len(client_id)}:{client_id}".encode()


def open_session_cookie(h, browser):
    """The session the module sealed into olo_session (AES-256-GCM, HKDF-SHA256 key bound to
    the issuer and client id, the cookie name as additional data), as its JSON: "t" the ID
    token, "r" the refresh token."""
    value = browser.cookie("olo_session")
    assert not value.startswith("chunks:"), "this test expects a session in one cookie"
    label = key_label("session", h.server["OneLoginIssuer"], h.server["OneLoginClientID"])
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mod_onelogin_oidc seal v1",
               info=label).derive(h.session_secret.encode())
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert raw[0] == 1, raw[:1]
    return json.loads(AESGCM(key).decrypt(raw[1:13], raw[13:], b"olo_session"))


def module_lines(h, first=0):
    """(level, log id, text, line) of each module line in the error log from line `first`."""
    out = []
    for line in h.error_lines()[first:]:
        m = MODULE_LINE.search(line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3), line))
    return out


def logged_request_ids(h):
    """{unique id: "METHOD /path"} from the access log IDS_LOG writes."""
    ids = {}
    for line in (h.root / "logs" / "ids_log").read_text().splitlines():
        uid, _, request = line.partition(" ")
        ids[uid] = request
    return ids


def test_a_session_counts_and_logs_without_secrets(httpd_factory, browser_factory, provider,
                                                    expect_log_ids):
    expect_log_ids("OLO00020", "OLO00046")
    h = status_instance(httpd_factory, server=CONFIDENTIAL)
    before = scrape(h)

    # A login, step by step, to keep the authorization code.
    browser = browser_factory(h)
    start = browser.start_login("/")
    callback_url = browser.provider_login(start.auth_url)
    code = query(callback_url)["code"]
    browser.check_logged_in_redirect(browser.callback(callback_url), start, "/")
    session_cookie = browser.cookie("olo_session")
    session = open_session_cookie(h, browser)
    id_token, refresh_token = session["t"], session["r"]
    verifier = provider.token_log()[-1]["code_verifier"]
    logged_in = scrape(h)

    # The session in use, well before its ID token needs renewing.
    for _ in range(3):
        r = browser.get("/app", accept=API)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["headers"]["Authorization"] == f"Bearer {id_token}"

    # Refusals: a callback for a login nobody started, a forged cookie, a bearer token that
    # is no JWT and one that verifies.
    with http() as s:
        r = s.get(f"{h.url}/callback?code=abc&state={secrets.token_urlsafe(24)}",
                  headers={"Accept": API}, timeout=20)
        assert r.status_code == 400, r.text[:300]
        forged = session_cookie[:-6] + ("B" * 6 if session_cookie.endswith("A" * 6) else "A" * 6)
        r = s.get(f"{h.url}/app", headers={"Accept": API, "Cookie": f"olo_session={forged}"},
                  timeout=20)
        assert r.status_code == 401, r.text[:300]
        r = s.get(f"{h.url}/api/x", headers={"Accept": API, "Authorization": "Bearer not-a-jwt"},
                  timeout=20)
        assert r.status_code == 401, r.text[:300]
        r = s.get(f"{h.url}/api/x", headers={"Accept": API, "Authorization": f"Bearer {id_token}"},
                  timeout=20)
        assert r.status_code == 200, r.text[:300]

    # Logout; a copy of the cookie taken before is refused afterwards.
    r = browser.get("/logout", accept=HTML)
    assert r.status_code in LOGIN_REDIRECTS, (r.status_code, r.text[:300])
    with http() as s:
        r = s.get(f"{h.url}/app", timeout=20,
                  headers={"Accept": API, "Cookie": f"olo_session={session_cookie}"})
        assert r.status_code == 401, r.text[:300]
    after = scrape(h)

    # The counters moved by exactly what happened.
    login = moved(before, logged_in)
    assert login["onelogin_oidc_logins_started_total"] == 1, login
    assert login["onelogin_oidc_logins_completed_total"] == 1, login
    assert login['onelogin_oidc_provider_fetches_total{document="discovery"}'] >= 1, login
    assert login['onelogin_oidc_provider_fetches_total{document="jwks"}'] >= 1, login
    assert login['onelogin_oidc_cache_lookups_total{result="hit"}'] >= 1, login
    rest = moved(logged_in, after)
    # Each request with the session looks up a logout that did not happen: a miss.
    assert rest.pop('onelogin_oidc_cache_lookups_total{result="miss"}', 0) >= 3, rest
    assert rest.pop('onelogin_oidc_cache_lookups_total{result="hit"}', 0) >= 1, rest
    assert rest == {
        'onelogin_oidc_logins_failed_total{reason="state-unknown"}': 1,
        'onelogin_oidc_sessions_refused_total{reason="cookie-invalid"}': 1,
        'onelogin_oidc_sessions_refused_total{reason="session-revoked"}': 1,
        'onelogin_oidc_bearer_tokens_refused_total{reason="token-malformed"}': 1,
        "onelogin_oidc_bearer_tokens_accepted_total": 1,
        "onelogin_oidc_logouts_total": 1,
    }, rest
    assert after['onelogin_oidc_id_token_renewals_total{result="ok"}'] == 0, after
    assert after["onelogin_oidc_jwks_refetches_total"] == 0, after

    # Nothing secret in the error log, at debug level.
    text = h.error_log.read_text(errors="replace")
    assert "[onelogin_oidc:debug]" in text
    never_logged = {"ID token": id_token, "refresh token": refresh_token, "code": code,
                    "PKCE verifier": verifier, "session cookie": session_cookie,
                    "forged cookie": forged, "client secret": CONFIDENTIAL["OneLoginClientSecret"],
                    "session secret": h.session_secret, "state cookie": start.state_cookie["value"]}
    for what, value in never_logged.items():
        assert value and value not in text, f"the {what} is in {h.error_log}"
    assert "eyJ" not in text, "something like a JWT is in the error log"

    # Every module line of a request says which request, by the id the access log has too.
    lines = module_lines(h)
    ids = logged_request_ids(h)
    by_id = {}
    for level, log_id, message, line in lines:
        if "[client " not in line:
            continue
        m = UNIQUE_ID_SUFFIX.search(message)
        assert m, f"no [unique_id ...] at the end of: {line}"
        assert m.group(1) in ids, f"{m.group(1)} is no request's UNIQUE_ID: {line}"
        by_id.setdefault(log_id, []).append((level, ids[m.group(1)], message))

    # ...and says in words what happened, at a sensible level.
    def one(log_id, level, request, words):
        found = [(lv, req, msg) for lv, req, msg in by_id.get(log_id, []) if words in msg]
        assert found, f"no {log_id} line with {words!r}: {by_id.get(log_id)}"
        assert found[0][0] == level and found[0][1] == request, found

    one("OLO00012", "debug", "GET /", f"login started with redirect_uri {h.url}/callback, "
                                      "landing on / after the provider")
    one("OLO00028", "info", "GET /callback", "login completed for alice@example.com")
    one("OLO00020", "warn", "GET /callback", "state matches no pending login (state-unknown)")
    one("OLO00030", "info", "GET /app", "session cookie not accepted (cookie-invalid)")
    one("OLO00030", "info", "GET /app", "session cookie not accepted (session-revoked)")
    one("OLO00046", "warn", "GET /api/x", "bearer token refused (token-malformed)")
    one("OLO00029", "info", "GET /logout", "logout for alice@example.com")


def test_without_mod_unique_id_lines_carry_no_id(httpd, provider):
    first = len(httpd.error_lines())
    with http() as s:
        r = s.get(f"{httpd.url}/app", headers={"Accept": API}, timeout=20)
    assert r.status_code == 401
    lines = module_lines(httpd, first)
    assert any(log_id == "OLO00013" for _, log_id, _, _ in lines), lines
    assert not [line for *_, line in lines if "[unique_id" in line], lines


def test_no_status_page_unless_configured(httpd, httpd_factory, provider):
    # The template's location: the status path is just one more protected path.
    with http() as s:
        r = s.get(f"{httpd.url}{STATUS}", headers={"Accept": API}, timeout=20)
    assert r.status_code == 401 and "onelogin_oidc_" not in r.text, r.text[:300]
    # Open to all, but without SetHandler: nothing there.
    h = httpd_factory(location={"ProxyPass": None},
                      extra_config=f"<Location {STATUS}>\n    AuthType None\n"
                                   f"    Require all granted\n</Location>\n")
    with http() as s:
        r = s.get(f"{h.url}{STATUS}", timeout=20)
    assert r.status_code == 404 and "onelogin_oidc_" not in r.text, r.text[:300]


def test_status_answers_get_only(httpd_factory, provider):
    h = status_instance(httpd_factory)
    with http() as s:
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            r = s.request(method, h.url + STATUS, timeout=10)
            assert r.status_code == 405, (method, r.status_code)
            assert "GET" in r.headers.get("Allow", ""), r.headers
            assert "onelogin_oidc_" not in r.text
        r = s.head(h.url + STATUS, timeout=10)
        assert r.status_code == 200 and r.text == "", r.text[:100]
    scrape(h)


def test_children_share_the_counters_and_a_restart_resets_them(httpd_factory, provider):
    # Two children from the start; many connections at once reach both of them.
    h = status_instance(httpd_factory, server_extra=["StartServers 2"])
    forged = {"Accept": API, "Cookie": "olo_session=" + "A" * 120}

    def refused(_):
        with http() as s:
            return s.get(f"{h.url}/app", headers=forged, timeout=20).status_code

    first = len(h.error_lines())
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(refused, range(96)))
    assert statuses == [401] * 96
    key = 'onelogin_oidc_sessions_refused_total{reason="cookie-invalid"}'
    assert scrape(h)[key] == 96
    pids = {re.search(r"\[pid (\d+)", line).group(1)
            for *_, line in module_lines(h, first) if "OLO00030" in line}
    assert len(pids) == 2, f"the requests did not reach both children: {pids}"

    h.stop()
    h.start()
    assert key not in scrape(h), "the counters survived a restart"


def test_jwks_refetch_on_unknown_kid_is_counted(httpd_factory, browser_factory, provider):
    # The defaults: the login right after the first one's ordinary key fetch refetches at once.
    h = status_instance(httpd_factory)
    browser_factory(h).login("/")
    before = scrape(h)
    second = browser_factory(h)
    start = second.start_login("/")
    provider.set_mode("rotate")   # tokens now carry a kid the module has not seen
    second.check_logged_in_redirect(second.callback(second.provider_login(start.auth_url)),
                                    start, "/")
    change = moved(before, scrape(h))
    assert change["onelogin_oidc_jwks_refetches_total"] == 1, change
    assert change['onelogin_oidc_provider_fetches_total{document="jwks"}'] == 1, change
    assert change["onelogin_oidc_logins_completed_total"] == 1, change
