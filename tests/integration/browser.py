"""A browser driven by hand: one cookie jar, redirects followed one at a time, so every
hop of the OpenID Connect login can be checked."""

import base64
import datetime
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
API = "application/json"
REDIRECTS = (301, 302, 303, 307, 308)
LOGIN_REDIRECTS = (302, 303)  # the spec says 302; 303 is accepted as equally correct
B64URL_43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
TIMEOUT = 20


def assert_error_response(r, statuses, accept):
    """An error answered in place: a status in statuses, no redirect, and the body's kind
    the client asked for (an HTML page for browsers, a JSON object for scripts)."""
    assert r.status_code in statuses, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    ctype = r.headers.get("Content-Type", "")
    if accept == HTML:
        assert ctype.startswith("text/html"), ctype
    else:
        assert ctype.startswith("application/json"), ctype
        assert isinstance(r.json(), dict), r.text


def set_cookies(response):
    """The Set-Cookie headers of a response, parsed: {name: {"value": .., attrs..}}."""
    out = {}
    for raw in response.raw.headers.getlist("Set-Cookie"):
        name, _, rest = raw.partition("=")
        value, _, attr_text = rest.partition(";")
        attrs = {"value": value.strip(), "raw": raw}
        for part in attr_text.split(";"):
            key, eq, val = part.strip().partition("=")
            if key:
                attrs[key.lower()] = val.strip() if eq else True
        out[name.strip()] = attrs
    return out


def cookie_cleared(attrs):
    """True when a Set-Cookie deletes the cookie (Max-Age=0 or an Expires in the past)."""
    if attrs.get("max-age") not in (None, True):
        return int(attrs["max-age"]) <= 0
    expires = attrs.get("expires")
    if isinstance(expires, str):
        try:
            return parsedate_to_datetime(expires) < datetime.datetime.now(datetime.timezone.utc)
        except (TypeError, ValueError):
            return False
    return False


def pkce_challenge(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@dataclass
class LoginStart:
    """The module's redirect to the provider: the response and its parsed parts."""
    response: requests.Response
    auth_url: str
    params: dict
    state_cookie: dict = field(default_factory=dict)

    @property
    def state(self):
        return self.params["state"]


class Browser:
    def __init__(self, httpd, provider):
        self.httpd, self.provider = httpd, provider
        self.s = requests.Session()
        self.s.trust_env = False  # no proxies, and REQUESTS_CA_BUNDLE must not win over verify
        self.s.verify = str(provider.ca_cert)

    def close(self):
        self.s.close()

    # -- plain requests, never following redirects ---------------------------------------
    def get(self, path_or_url, accept=HTML, headers=None, **kw):
        url = urljoin(self.httpd.url + "/", path_or_url)
        h = {"Accept": accept, **(headers or {})}
        return self.s.get(url, headers=h, allow_redirects=False, timeout=TIMEOUT, **kw)

    def cookie(self, name):
        for c in self.s.cookies:
            if c.name == name:
                return c.value
        return None

    def cookie_names(self, prefix=""):
        return sorted(c.name for c in self.s.cookies if c.name.startswith(prefix))

    def set_cookie(self, name, value):
        self.s.cookies.set(name, value, domain=urlsplit(self.httpd.url).hostname, path="/")

    def drop_cookie(self, name):
        for c in list(self.s.cookies):
            if c.name == name:
                self.s.cookies.clear(c.domain, c.path, c.name)

    # -- the login, step by step ----------------------------------------------------------
    def start_login(self, path="/", accept=HTML):
        """GET a protected path without a session: checks and returns the redirect."""
        r = self.get(path, accept=accept)
        assert r.status_code in LOGIN_REDIRECTS, \
            f"expected a redirect to the provider for {path}, got {r.status_code}: {r.text[:300]}"
        return self.check_auth_redirect(r)

    def check_auth_redirect(self, r):
        location = urljoin(r.url, r.headers["Location"])
        assert location.startswith(self.provider.issuer + "/auth?"), \
            f"redirect does not go to {self.provider.issuer}/auth: {location}"
        p = query(location)
        assert p.get("response_type") == "code", p
        assert p.get("client_id") == self.httpd.server["OneLoginClientID"], p
        assert p.get("redirect_uri") == f"{self.httpd.url}/callback", p
        assert "openid" in p.get("scope", "").split(), p
        assert p.get("state"), p
        assert p.get("nonce"), p
        assert p.get("code_challenge_method") == "S256", p
        assert B64URL_43.match(p.get("code_challenge", "")), p
        cookies = set_cookies(r)
        name = f"olo_state_{p['state']}"
        assert name in cookies, f"no {name} cookie set; Set-Cookie: {list(cookies)}"
        return LoginStart(response=r, auth_url=location, params=p, state_cookie=cookies[name])

    def provider_login(self, auth_url, login="alice@example.com", password="alice-password",
                       max_hops=12):
        """Follows the provider's redirects, submits the login form when shown, and returns
        the URL the provider finally sends the browser to (httpd's /callback)."""
        url = auth_url
        for _ in range(max_hops):
            if not url.startswith(self.provider.base):
                return url
            r = self.s.get(url, allow_redirects=False, timeout=TIMEOUT,
                           headers={"Accept": HTML})
            if r.status_code in REDIRECTS:
                url = urljoin(url, r.headers["Location"])
                continue
            form = re.search(r'<form method="post" action="([^"]+)" id="login-form"', r.text)
            assert r.status_code == 200 and form, \
                f"provider page at {url} is neither a redirect nor the login form: " \
                f"{r.status_code} {r.text[:500]}"
            r = self.s.post(urljoin(url, html.unescape(form.group(1))),
                            data={"login": login, "password": password},
                            allow_redirects=False, timeout=TIMEOUT)
            assert r.status_code in REDIRECTS, \
                f"login as {login} was not accepted: {r.status_code} {r.text[:300]}"
            url = urljoin(url, r.headers["Location"])
        raise AssertionError(f"too many provider redirects, last {url}")

    def provider_abort(self, auth_url):
        """Cancels at the provider's login form; returns the callback URL it redirects to."""
        r = self.s.get(auth_url, allow_redirects=False, timeout=TIMEOUT)
        form_url = urljoin(auth_url, r.headers["Location"])
        page = self.s.get(form_url, timeout=TIMEOUT)
        abort = re.search(r'href="([^"]+)" id="abort"', page.text).group(1)
        return self.provider_login(urljoin(form_url, html.unescape(abort)))

    def callback(self, callback_url, accept=HTML):
        assert callback_url.startswith(f"{self.httpd.url}/callback?"), callback_url
        return self.s.get(callback_url, headers={"Accept": accept}, allow_redirects=False,
                          timeout=TIMEOUT)

    def check_logged_in_redirect(self, r, start, landing):
        """The callback's answer: redirect to `landing`, session cookie set, state cleared."""
        assert r.status_code in LOGIN_REDIRECTS, \
            f"callback did not redirect: {r.status_code} {r.text[:500]}"
        location = urljoin(self.httpd.url + "/", r.headers["Location"])
        assert location == urljoin(self.httpd.url + "/", landing), \
            f"callback lands on {location}, expected {landing}"
        cookies = set_cookies(r)
        session = cookies.get("olo_session")
        assert session, f"no olo_session cookie; Set-Cookie: {list(cookies)}"
        assert session.get("httponly") is True, session["raw"]
        assert str(session.get("samesite", "")).lower() == "lax", session["raw"]
        assert session.get("path") == "/", session["raw"]
        state = cookies.get(f"olo_state_{start.state}")
        assert state is not None and cookie_cleared(state), \
            f"state cookie olo_state_{start.state} not cleared at the callback: {state}"
        return location

    def sign_in(self, path="/", login="alice@example.com", password="alice-password",
                landing=None):
        """The browser login up to the callback's redirect, every hop checked; returns the
        absolute URL the browser lands on (not fetched)."""
        start = self.start_login(path)
        callback_url = self.provider_login(start.auth_url, login, password)
        r = self.callback(callback_url)
        return self.check_logged_in_redirect(r, start, landing or path)

    def login(self, path="/", login="alice@example.com", password="alice-password",
              landing=None, user=None):
        """The whole browser login; returns the backend's JSON answer for `path`.
        `user` is the REMOTE_USER expected (default: the login, as the email claim)."""
        location = self.sign_in(path, login, password, landing)
        final = self.s.get(location, headers={"Accept": API}, allow_redirects=False,
                           timeout=TIMEOUT)
        assert final.status_code == 200, \
            f"after login {location} answers {final.status_code}: {final.text[:300]}"
        report = final.json()
        assert report["remote_user"] == (user or login), report
        return report
