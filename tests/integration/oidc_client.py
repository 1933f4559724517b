"""Tokens obtained the way OpenMetadata's own web app (or a script) gets them: a code flow
with PKCE straight against the provider, no httpd involved. Plus small JWT helpers to
read and to forge tokens."""

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
from urllib.parse import urlencode, urljoin

from browser import pkce_challenge, query

# Where the "app" says it lives; the provider only needs it registered.
SPA_REDIRECT = "http://127.0.0.1:1/spa-callback"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims(token):
    return json.loads(b64url_decode(token.split(".")[1]))


def header(token):
    return json.loads(b64url_decode(token.split(".")[0]))


def with_claims(token, **changes):
    """The same header and signature over changed claims: a forgery that no key verifies."""
    h, _, s = token.split(".")
    c = claims(token)
    c.update(changes)
    return f"{h}.{b64url(json.dumps(c))}.{s}"


def alg_none(token, **changes):
    c = claims(token)
    c.update(changes)
    return f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{b64url(json.dumps(c))}."


def hs256(token, secret, **changes):
    """HS256 over the token's claims with `secret` (bytes): the alg-confusion forgery."""
    c = claims(token)
    c.update(changes)
    h = {**header(token), "alg": "HS256"}
    signing_input = f"{b64url(json.dumps(h))}.{b64url(json.dumps(c))}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


def code_flow(provider, login="alice@example.com", password="alice-password",
              scope="openid email profile groups", client_id="olo-test-client"):
    """Logs in at the provider and exchanges the code; returns the token response (dict)."""
    provider.allow_client_urls([SPA_REDIRECT])
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": SPA_REDIRECT,
              "scope": scope, "state": secrets.token_urlsafe(8),
              "nonce": secrets.token_urlsafe(8), "code_challenge": pkce_challenge(verifier),
              "code_challenge_method": "S256"}
    with provider.session() as s:
        url = f"{provider.issuer}/auth?{urlencode(params)}"
        for _ in range(10):
            if url.startswith(SPA_REDIRECT):
                break
            r = s.get(url, allow_redirects=False, timeout=10)
            if r.status_code in (302, 303):
                url = urljoin(url, r.headers["Location"])
                continue
            form = re.search(r'action="([^"]+)" id="login-form"', r.text)
            assert form, (r.status_code, r.text[:400])
            r = s.post(urljoin(url, html.unescape(form.group(1))),
                       data={"login": login, "password": password}, allow_redirects=False,
                       timeout=10)
            assert r.status_code in (302, 303), (r.status_code, r.text[:300])
            url = urljoin(url, r.headers["Location"])
        else:
            raise AssertionError("the provider did not redirect back")
        code = query(url)["code"]
        r = s.post(f"{provider.issuer}/token", timeout=10, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": SPA_REDIRECT,
            "client_id": client_id, "code_verifier": verifier})
        assert r.status_code == 200, r.text
        return r.json()


def refresh(provider, refresh_token, client_id="olo-test-client"):
    """grant_type=refresh_token as a public client: (status, JSON answer)."""
    with provider.session() as s:
        r = s.post(f"{provider.issuer}/token", timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id})
        return r.status_code, r.json()


def id_token(provider, login="alice@example.com", password="alice-password"):
    """A fresh, valid OneLogin-style ID token for the user (as the app would hold it)."""
    return code_flow(provider, login, password)["id_token"]
