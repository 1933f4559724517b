"""A real browser through the whole login: Debian's Chromium driven by playwright-core
(tests/browser/flows.js), in front of the OpenMetadata stand-in, whose page shows the identity
it verified from the forwarded ID token.

Each test sets up the provider and httpd, runs one scenario of flows.js and asserts on the JSON
it prints, on the provider's and the stand-in's request logs, and on the screenshots it saved
(test-output/browser/<scenario>/NN-<step>.png, kept for a human to look at)."""

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import env as E

CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT_CORE = E.REPO / "node_modules" / "playwright-core"
FLOWS_JS = E.REPO / "tests" / "browser" / "flows.js"
SHOTS = E.REPO / "test-output" / "browser"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FLOW_TIMEOUT = 90
USER = "alice@example.com"
API_PATH = "/api/v1/users/loggedInUser"
POST_LOGOUT_PATH = "/logged-out"


@pytest.fixture(scope="module", autouse=True)
def browser_prerequisites():
    """A missing browser fails these tests (make test installs both), never skips them."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not PLAYWRIGHT_CORE.exists():
        missing.append(f"{PLAYWRIGHT_CORE} (npm ci)")
    if missing:
        pytest.fail("browser tests need " + " and ".join(missing), pytrace=False)


# -- running a scenario ---------------------------------------------------------------------

def run_flow(scenario, httpd, provider, label=None, **args):
    """Runs flows.js SCENARIO against httpd; returns its JSON output (ok is checked).
    Screenshots go to test-output/browser/<label or scenario>/, emptied first."""
    shots = SHOTS / (label or scenario)
    shutil.rmtree(shots, ignore_errors=True)
    args.update(app=httpd.url, provider=provider.base, shots=str(shots))
    proc = subprocess.run(["node", str(FLOWS_JS), scenario, json.dumps(args)], cwd=E.REPO,
                          env=E.clean_env(), capture_output=True, text=True,
                          timeout=FLOW_TIMEOUT)
    lines = proc.stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"flows.js {scenario} printed no JSON (exit {proc.returncode}):\n"
                    f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    # Beside the screenshots, for whoever looks at them.
    (shots / "result.json").write_text(E.dump_json(out) + "\n")
    if not out.get("ok"):
        pytest.fail(f"browser scenario {scenario} failed; pages open: {out.get('url')}\n"
                    f"{out.get('error')}\nscreenshots: {out.get('screenshots')}\n"
                    f"{proc.stderr[-2000:]}", pytrace=False)
    check_loopback_only(out["requests"])
    return out


def check_loopback_only(requests_made):
    hosts = {urlsplit(r["url"]).hostname for r in requests_made
             if r["url"].startswith(("http:", "https:"))}
    assert hosts <= {E.HOST}, f"the browser left loopback: {hosts}"


def check_screenshots(out, label, steps):
    """The scenario saved exactly these steps, each a non-empty PNG."""
    folder = SHOTS / label
    expected = [f"{n:02d}-{step}.png" for n, step in enumerate(steps, 1)]
    assert sorted(p.name for p in folder.glob("*.png")) == expected, out["screenshots"]
    for name in expected:
        data = (folder / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, f"{name}: not a PNG screenshot"


# -- what the results say -------------------------------------------------------------------

def cookie(cookies, name):
    found = [c for c in cookies if c["name"] == name]
    assert found, f"no {name} cookie in the browser: {[c['name'] for c in cookies]}"
    return found[0]


def module_cookie_names(cookies):
    return sorted(c["name"] for c in cookies if c["name"].startswith("olo_"))


def provider_requests(requests_made, provider):
    return [r for r in requests_made if r["url"].startswith(provider.base + "/")]


def code_exchanges(provider):
    return [e for e in provider.token_log() if e.get("grant_type") == "authorization_code"]


def check_identity_page(shown, url):
    """The OpenMetadata stand-in's page for url, with the identity verified from the token."""
    assert shown["url"] == url, f"landed on {shown['url']}, expected {url}"
    assert shown["title"] == "OpenMetadata stand-in", shown["text"][:500]
    assert shown["email"] == USER, shown["text"][:500]
    assert USER in shown["text"], shown["text"][:500]
    assert "The forwarded Bearer token verified" in shown["tokenStatus"], shown["tokenStatus"]


def check_cookie_attributes(c, secure):
    assert c["httpOnly"] is True, c
    assert c["sameSite"] == "Lax", c
    assert c["secure"] is secure, c
    assert c["path"] == "/", c


def om_page_requests(openmetadata, path):
    return [e for e in openmetadata.requests_seen() if e["path"] == path]


# -- httpd instances ------------------------------------------------------------------------

def tls_httpd(httpd_factory, pki, openmetadata):
    """The template over https (mod_ssl in the main server), cookies marked Secure."""
    port = E.free_port()
    h = httpd_factory(start=False, port=port, backend=openmetadata,
                      server={"OneLoginCookieSecure": "On"},
                      server_extra=[
                          f"LoadModule ssl_module {E.APACHE_MODULES / 'mod_ssl.so'}",
                          "SSLEngine on",
                          f"SSLCertificateFile {pki.server_cert}",
                          f"SSLCertificateKeyFile {pki.server_key}",
                          # Overrides the template's http:// name: redirect_uri is https.
                          f"ServerName https://{E.HOST}:{port}",
                      ])
    h.url = f"https://{E.HOST}:{port}"  # what start() registers at the provider
    return h.start()


def logout_httpd(httpd_factory, openmetadata):
    """Post-logout landing on a page that needs no login (the default / would start one)."""
    return httpd_factory(
        backend=openmetadata,
        server={"OneLoginPostLogoutURI": POST_LOGOUT_PATH},
        extra_config=f"""
<Location {POST_LOGOUT_PATH}>
    AuthType None
    Require all granted
    ProxyPass http://{E.HOST}:{openmetadata.port}{POST_LOGOUT_PATH}
</Location>
""")


# -- the scenarios --------------------------------------------------------------------------

def test_login_lands_on_the_page_asked_for_with_the_identity(om_httpd, provider, openmetadata):
    path = "/explore/tables?q=orders"
    out = run_flow("login", om_httpd, provider, path=path)
    result = out["result"]
    url = om_httpd.url + path

    check_identity_page(result["landed"], url)
    assert result["formShown"] is True
    # The way there: the module's redirect, the provider's form, the callback, the page.
    navigations = [r["url"] for r in out["requests"] if r["navigation"]]
    assert navigations[0] == url, navigations
    assert any(u.startswith(provider.issuer + "/auth?") for u in navigations), navigations
    assert any(u.startswith(provider.issuer + "/interaction/") for u in navigations), navigations
    assert any(u.startswith(om_httpd.url + "/callback?") for u in navigations), navigations
    assert navigations[-1] == url, navigations
    assert module_cookie_names(result["cookies"]) == ["olo_session"], result["cookies"]

    exchanges = code_exchanges(provider)
    assert len(exchanges) == 1 and exchanges[0]["code_verifier_present"], exchanges
    seen = om_page_requests(openmetadata, path)
    assert seen and seen[-1]["verified"] and seen[-1]["email"] == USER, seen
    check_screenshots(out, "login", ["provider-login-form", "logged-in"])


def test_second_tab_mid_login_both_tabs_land_on_their_own_page(om_httpd, provider,
                                                               openmetadata):
    path_a, path_b = "/tab/a?first=1", "/tab/b?second=1"
    out = run_flow("two-tabs", om_httpd, provider, pathA=path_a, pathB=path_b)
    result = out["result"]

    # Two logins under way at once: one state cookie each.
    assert len(result["stateCookiesMidLogin"]) == 2, result["stateCookiesMidLogin"]
    check_identity_page(result["tab1"], om_httpd.url + path_a)
    check_identity_page(result["tab2"], om_httpd.url + path_b)
    assert result["tab2"]["formShown"] and result["tab1"]["formShown"], result
    # Both states were used up at their callbacks; one session remains.
    assert module_cookie_names(result["cookies"]) == ["olo_session"], result["cookies"]
    callbacks = [r["url"] for r in out["requests"]
                 if r["url"].startswith(om_httpd.url + "/callback?")]
    assert len(callbacks) == 2, callbacks
    assert len(code_exchanges(provider)) == 2, provider.token_log()
    assert om_page_requests(openmetadata, path_a) and om_page_requests(openmetadata, path_b)
    check_screenshots(out, "two-tabs", [
        "tab1-at-login-form", "tab2-at-login-form", "provider-login-form", "tab2-logged-in",
        "provider-login-form", "tab1-logged-in"])


def test_expired_session_logs_in_again_and_returns_to_the_same_page(httpd_factory, provider,
                                                                    openmetadata):
    max_age = 4
    h = httpd_factory(backend=openmetadata,
                      server={"OneLoginSessionMaxAge": str(max_age)})
    path = "/reports/weekly?team=data"
    url = h.url + path
    out = run_flow("expiry", h, provider, path=path, maxAge=max_age)
    result = out["result"]

    # Still valid: a reload stays on the app.
    valid = result["reloadWhileValid"]
    check_identity_page(valid, url)
    assert provider_requests(valid["requests"], provider) == [], valid["requests"]
    # Expired: the reload goes through the provider (whose own session still holds, so it
    # may not ask again) and comes back to the same page, logged in.
    expired = result["reloadAfterExpiry"]
    check_identity_page(expired, url)
    hops = [r["url"] for r in provider_requests(expired["requests"], provider)]
    assert any(u.startswith(provider.issuer + "/auth?") for u in hops), expired["requests"]
    assert any(r["url"].startswith(h.url + "/callback?") for r in expired["requests"])
    assert len(code_exchanges(provider)) == 2, provider.token_log()
    steps = ["provider-login-form", "logged-in", "reloaded-while-valid"]
    if expired["formShown"]:
        steps.append("provider-login-form")
    check_screenshots(out, "expiry", steps + ["reloaded-after-expiry"])


def check_logged_out(result, h, provider):
    """Signed out at the provider and back on the post-logout page, the module's cookies
    gone; the protected page then needs the provider's login form again."""
    assert "olo_session" in module_cookie_names(result["cookiesLoggedIn"])
    hops = provider_requests(result["logoutRequests"], provider)
    asked = [r for r in hops
             if r["method"] == "GET" and r["url"].startswith(provider.issuer + "/logout?")]
    assert len(asked) == 1, hops
    # The end-session request carries a random state, which the provider sends back.
    state = parse_qs(urlsplit(asked[0]["url"]).query).get("state", [""])[0]
    assert len(state) >= 16, asked
    assert any(r["method"] == "POST" and r["url"].startswith(provider.issuer + "/logout/confirm")
               for r in hops), hops
    ended = provider.endpoint_log("end_session")
    assert [e for e in ended if e["method"] == "POST"], ended
    assert result["landed"]["url"] == f"{h.url}{POST_LOGOUT_PATH}?state={state}", result["landed"]
    assert module_cookie_names(result["cookiesAfterLogout"]) == [], result["cookiesAfterLogout"]
    assert result["protectedPageAgain"].startswith(provider.issuer + "/interaction/"), result


def test_logout_through_the_provider_then_xhr_gets_401_json(httpd_factory, provider,
                                                            openmetadata):
    h = logout_httpd(httpd_factory, openmetadata)
    out = run_flow("logout", h, provider, path="/explore", postLogoutPath=POST_LOGOUT_PATH,
                   apiPath=API_PATH)
    result = out["result"]
    check_logged_out(result, h, provider)

    # The page's script asking for data: 401 and JSON from the module, no redirect followed.
    xhr = result["xhr"]
    assert "error" not in xhr, xhr
    assert xhr["status"] == 401, xhr
    assert xhr["redirected"] is False and xhr["url"] == h.url + API_PATH, xhr
    assert xhr["contentType"].startswith("application/json"), xhr
    assert json.loads(xhr["body"])["error"] == "login-required", xhr
    assert xhr["wwwAuthenticate"].startswith("Bearer"), xhr
    assert provider_requests(result["xhrRequests"], provider) == [], result["xhrRequests"]
    assert [r["url"] for r in result["xhrRequests"]] == [h.url + API_PATH], result["xhrRequests"]
    assert om_page_requests(openmetadata, API_PATH) == [], "the backend saw the XHR"
    # The control: without X-Requested-With the module redirects, the browser follows to the
    # provider (and CORS stops it) -- the request log does see such requests.
    assert "error" in result["plain"], result["plain"]
    plain_hops = [r["url"] for r in provider_requests(result["plainRequests"], provider)]
    assert any(u.startswith(provider.issuer + "/auth?") for u in plain_hops), result["plain"]
    check_screenshots(out, "logout", ["provider-login-form", "logged-in", "signed-out",
                                      "xhr-401", "fetch-without-xhr-header",
                                      "login-form-again"])


def test_logout_without_javascript_confirms_on_the_providers_page(httpd_factory, provider,
                                                                  openmetadata):
    """The provider's sign-out page submits itself by script; without JavaScript it shows
    its confirmation button, which the user presses."""
    h = logout_httpd(httpd_factory, openmetadata)
    out = run_flow("logout", h, provider, label="logout-no-script", path="/explore",
                   postLogoutPath=POST_LOGOUT_PATH, script=False)
    check_logged_out(out["result"], h, provider)
    check_screenshots(out, "logout-no-script", ["provider-login-form", "logged-in",
                                                "provider-sign-out-page", "signed-out",
                                                "login-form-again"])


def check_login_cookies(result, secure):
    at_form = [c for c in result["cookiesAtForm"] if c["name"].startswith("olo_state_")]
    assert len(at_form) == 1, result["cookiesAtForm"]
    check_cookie_attributes(at_form[0], secure)
    after = result["cookiesAfterLogin"]
    check_cookie_attributes(cookie(after, "olo_session"), secure)
    assert module_cookie_names(after) == ["olo_session"], after


def test_cookie_attributes_over_http_with_secure_off(om_httpd, provider):
    assert om_httpd.server["OneLoginCookieSecure"] == "Off"
    out = run_flow("cookies", om_httpd, provider, label="cookies-http", path="/cookies")
    check_identity_page(out["result"]["landed"], om_httpd.url + "/cookies")
    check_login_cookies(out["result"], secure=False)
    check_screenshots(out, "cookies-http", ["provider-login-form", "logged-in"])


def test_cookie_attributes_over_https_with_secure_on(httpd_factory, pki, provider,
                                                     openmetadata):
    h = tls_httpd(httpd_factory, pki, openmetadata)
    out = run_flow("cookies", h, provider, label="cookies-https", path="/cookies")
    check_identity_page(out["result"]["landed"], h.url + "/cookies")
    assert any(r["url"].startswith(h.url + "/callback?") for r in out["requests"])
    check_login_cookies(out["result"], secure=True)
    check_screenshots(out, "cookies-https", ["provider-login-form", "logged-in"])
