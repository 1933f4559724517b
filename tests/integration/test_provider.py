"""The test provider itself: shaped like OneLogin, strict where OneLogin is strict, and its
forged tokens are exactly what they claim to be (else a refusal by the module proves
nothing). No httpd here: a minimal client in Python talks to the provider directly."""

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
from urllib.parse import urlencode, urljoin

import pytest

from browser import pkce_challenge, query

REDIRECT = "http://127.0.0.1:1/callback"


def b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(token):
    h, p, s = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), b64d(s)


def rs256_valid(jwk, token):
    """RSASSA-PKCS1-v1_5 with SHA-256, checked with integers only."""
    h, p, s = token.split(".")
    n = int.from_bytes(b64d(jwk["n"]), "big")
    e = int.from_bytes(b64d(jwk["e"]), "big")
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(b64d(s), "big"), e, n).to_bytes(k, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    digest = hashlib.sha256(f"{h}.{p}".encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info) - 32) + b"\x00" + \
        digest_info + digest
    return hmac.compare_digest(em, expected)


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(raw):
    return der(0x02, b"\x00" + raw if raw[0] & 0x80 else raw)


def jwk_to_pem(jwk):
    """The SPKI PEM of an RSA JWK, as Node exports it."""
    rsa_key = der(0x30, der_int(b64d(jwk["n"])) + der_int(b64d(jwk["e"])))
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = der(0x30, alg + der(0x03, b"\x00" + rsa_key))
    b64 = base64.b64encode(spki).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


@pytest.fixture
def client(provider):
    provider.allow_client_urls([REDIRECT])
    s = provider.session()
    yield s
    s.close()


def authorize(client, provider, login="alice@example.com", password="alice-password",
              scope="openid email profile groups", extra=None):
    """Code flow up to the redirect back; returns (callback query, verifier, nonce)."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    params = {"response_type": "code", "client_id": "olo-test-client",
              "redirect_uri": REDIRECT, "scope": scope, "state": "st", "nonce": nonce,
              "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256",
              **(extra or {})}
    url = f"{provider.issuer}/auth?{urlencode(params)}"
    for _ in range(10):
        if url.startswith(REDIRECT):
            return query(url), verifier, nonce
        r = client.get(url, allow_redirects=False, timeout=10)
        if r.status_code in (302, 303):
            url = urljoin(url, r.headers["Location"])
            continue
        form = re.search(r'action="([^"]+)" id="login-form"', r.text)
        assert form, (r.status_code, r.text[:400])
        r = client.post(urljoin(url, html.unescape(form.group(1))),
                        data={"login": login, "password": password}, allow_redirects=False)
        if r.status_code == 200:
            return {"form": r.text}, verifier, nonce
        url = urljoin(url, r.headers["Location"])
    raise AssertionError("no redirect back")


def token(client, provider, code, verifier):
    return client.post(f"{provider.issuer}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": "olo-test-client", "code_verifier": verifier}, timeout=10)


def login_tokens(client, provider, **kw):
    q, verifier, nonce = authorize(client, provider, **kw)
    r = token(client, provider, q["code"], verifier)
    assert r.status_code == 200, r.text
    return r.json(), nonce


def test_discovery_is_shaped_like_onelogin(client, provider):
    d = client.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert d["issuer"] == provider.issuer
    assert provider.issuer.endswith("/oidc/2")
    for key, path in [("authorization_endpoint", "/auth"), ("token_endpoint", "/token"),
                      ("jwks_uri", "/certs"), ("end_session_endpoint", "/logout"),
                      ("userinfo_endpoint", "/me")]:
        assert d[key] == provider.issuer + path, (key, d[key])
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in d["id_token_signing_alg_values_supported"]
    jwks = client.get(d["jwks_uri"]).json()
    assert len(jwks["keys"]) == 1 and jwks["keys"][0]["kty"] == "RSA"


def test_wrong_password_is_rejected(client, provider):
    q, _, _ = authorize(client, provider, password="not-alices-password")
    assert "Invalid email or password" in q["form"]


def test_pkce_is_required(client, provider):
    r = client.get(f"{provider.issuer}/auth?" + urlencode({
        "response_type": "code", "client_id": "olo-test-client", "redirect_uri": REDIRECT,
        "scope": "openid", "state": "s", "nonce": "n"}), allow_redirects=False)
    assert r.status_code in (302, 303)
    assert query(r.headers["Location"]).get("error") == "invalid_request"


def test_code_needs_the_right_verifier(client, provider):
    q, verifier, _ = authorize(client, provider)
    r = token(client, provider, q["code"], verifier[:-1] + ("a" if verifier[-1] != "a" else "b"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_id_token_carries_onelogin_claims(client, provider):
    tokens, nonce = login_tokens(client, provider)
    header, claims, _ = decode(tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == provider.issuer and claims["aud"] == "olo-test-client"
    assert claims["nonce"] == nonce
    assert claims["sub"] == "10001"
    assert claims["email"] == "alice@example.com"
    assert claims["name"] == "Alice Example"
    assert claims["preferred_username"] == "alice@example.com"
    assert claims["groups"] == ["Admins", "Everyone"]
    assert tokens.get("refresh_token"), "refresh tokens are always issued"


def test_bob_is_only_in_everyone(client, provider):
    tokens, _ = login_tokens(client, provider, login="bob@example.com", password="bob-password")
    assert decode(tokens["id_token"])[1]["groups"] == ["Everyone"]


def test_forged_tokens_are_what_they_claim(client, provider):
    jwk = client.get(f"{provider.issuer}/certs").json()["keys"][0]
    real, nonce = login_tokens(client, provider)
    assert rs256_valid(jwk, real["id_token"])
    real_claims = decode(real["id_token"])[1]

    def forged(mode, **options):
        provider.set_mode(mode, **options)
        tokens, _ = login_tokens(client, provider)
        provider.reset()
        return tokens["id_token"]

    # Signed with the real key: only the claim under test is wrong.
    for mode, check in [
        ("wrong-aud", lambda c: c["aud"] != "olo-test-client"),
        ("wrong-iss", lambda c: c["iss"] != provider.issuer),
        ("expired", lambda c: c["exp"] < real_claims["iat"]),
        ("future-iat", lambda c: c["iat"] > real_claims["iat"] + 3000),
        ("nbf-future", lambda c: c["nbf"] > real_claims["iat"] + 3000),
        ("nonce-mismatch", lambda c: c["nonce"] != real_claims["nonce"]),
        ("multi-aud-no-azp", lambda c: c["aud"] == ["olo-test-client", "other"]
         and "azp" not in c),
        ("multi-aud-azp", lambda c: c["azp"] == "olo-test-client"),
    ]:
        t = forged(mode)
        assert rs256_valid(jwk, t), mode
        assert check(decode(t)[1]), (mode, decode(t)[1])

    t = forged("bad-signature")
    assert decode(t)[0]["kid"] == jwk["kid"] and not rs256_valid(jwk, t)
    t = forged("no-kid")
    assert "kid" not in decode(t)[0] and rs256_valid(jwk, t)
    t = forged("alg-none")
    assert decode(t)[0] == {"alg": "none"} and t.endswith(".")

    pem = jwk_to_pem(jwk)
    for variant, secret in [("pem", pem), ("pem-nonl", pem.rstrip("\n")),
                            ("jwk", json.dumps(jwk, separators=(",", ":")))]:
        t = forged("hmac-confusion", secret=variant)
        h, p, s = t.split(".")
        assert decode(t)[0]["alg"] == "HS256" and decode(t)[0]["kid"] == jwk["kid"]
        if variant != "jwk":  # the JWK's member order is the provider's own
            mac = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
            assert b64d(s) == mac, variant


def test_rotation_serves_and_uses_a_new_key(client, provider):
    rotated = provider.set_mode("rotate")["rotated_kid"]
    keys = client.get(f"{provider.issuer}/certs").json()["keys"]
    assert [k["kid"] for k in keys] == [rotated]
    tokens, _ = login_tokens(client, provider)
    assert decode(tokens["id_token"])[0]["kid"] == rotated
    assert rs256_valid(keys[0], tokens["id_token"])


def test_token_log_records_pkce_and_client_auth(client, provider):
    login_tokens(client, provider)
    entry = provider.token_log()[-1]
    assert entry["grant_type"] == "authorization_code"
    assert entry["code_verifier_present"] and not entry["client_secret_present"]
    assert not entry["authorization_present"]
