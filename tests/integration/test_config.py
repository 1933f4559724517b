"""`apache2 -t` catches configuration mistakes and names the directive at fault."""

import re
from pathlib import Path

import pytest


def test_template_config_is_valid(config_test):
    rc, out = config_test()
    assert rc == 0, out
    assert "Syntax OK" in out


def test_secret_of_exactly_32_bytes_is_enough(config_test):
    rc, out = config_test(server={"OneLoginSessionSecret": "s" * 32})
    assert rc == 0, out


@pytest.mark.parametrize("kwargs, directive", [
    ({"server": {"OneLoginSessionSecret": "s" * 31}}, "OneLoginSessionSecret"),
    ({"server": {"OneLoginIssuer": "ftp://x"}}, "OneLoginIssuer"),
    ({"server": {"OneLoginIssuer": '"not a url"'}}, "OneLoginIssuer"),
    ({"server": {"OneLoginIssuer": "http://127.0.0.1/oidc/2"}}, "OneLoginIssuer"),
    ({"server": {"OneLoginCache": "nosuch"}}, "OneLoginCache"),
    ({"server": {"OneLoginIssuer": None}}, "OneLoginIssuer"),
    ({"server": {"OneLoginClientID": None}}, "OneLoginClientID"),
    ({"server": {"OneLoginSessionSecret": None}}, "OneLoginSessionSecret"),
], ids=["short-secret", "ftp-issuer", "not-a-url-issuer", "http-issuer", "unknown-cache",
        "no-issuer", "no-client-id", "no-secret"])
def test_config_error_names_the_directive(config_test, kwargs, directive):
    rc, out = config_test(**kwargs)
    assert rc != 0, f"apache2 -t accepted it:\n{out}"
    assert directive in out, f"the message does not name {directive}:\n{out}"


def test_vhost_inherits_provider_settings(config_test):
    # A <VirtualHost> with AuthType OneLogin and none of its own OneLogin* directives
    # inherits them from the main server, so the config is complete.
    rc, out = config_test(extra_config="""
<VirtualHost 127.0.0.1:*>
    ServerName http://vhost.example
    <Location /v>
        AuthType OneLogin
        Require valid-user
    </Location>
</VirtualHost>
""")
    assert rc == 0, out


# Every value check, one bad value each: `apache2 -t` must refuse it and name the directive.
BAD_VALUES = [
    ("server", "OneLoginSessionMaxAge", "0"),
    ("server", "OneLoginSessionIdleTimeout", "ten"),
    ("server", "OneLoginHTTPTimeout", "9 3"),
    ("server", "OneLoginHTTPTimeout", "0"),
    ("server", "OneLoginClockSkew", "-5"),
    ("server", "OneLoginMetadataTTL", "1h"),
    ("server", "OneLoginJWKSTTL", "99999999999"),
    ("server", "OneLoginJWKSRefetchInterval", "''"),
    ("server", "OneLoginRefreshMargin", "1.5"),
    ("server", "OneLoginSessionStore", "disk"),
    ("server", "OneLoginRedirectURI", "callback"),
    ("server", "OneLoginRedirectURI", "https://app.example/cb?x=1"),
    ("server", "OneLoginLoginPath", "//evil.example/signin"),
    ("server", "OneLoginLogoutPath", "/log out"),
    ("server", "OneLoginPostLogoutURI", "ftp://app.example/"),
    ("server", "OneLoginCACertificate", "/nonexistent/ca.pem"),
    ("server", "OneLoginCookieSecure", "maybe"),
    ("server", "OneLoginSessionSecretPrevious", "too-short"),
    ("server", "OneLoginCache", "redis"),
    ("server", "OneLoginRemoteUserClaim", 'na"me'),
    ("server", "OneLoginRemoteUserClaim", "na\\me"),
    ("server", "OneLoginRemoteUserClaim", " ".join(f"claim{i}" for i in range(9))),
    ("server", "OneLoginRemoteUserClaim", ""),
    ("location", "OneLoginUnauthAction", "sometimes"),
    ("location", "OneLoginForwardIDToken", "yes"),
    ("location", "OneLoginAcceptBearer", "1"),
    ("location", "OneLoginBearerJWKS", "http://keys.example/jwks"),
    ("location", "OneLoginBearerRequireExp", "never"),
    ("location", "Require", "onelogin-claim groups"),
]


@pytest.mark.parametrize("where, directive, value", BAD_VALUES,
                         ids=[f"{d}={v}" for _, d, v in BAD_VALUES])
def test_every_bad_value_is_refused_by_name(config_test, where, directive, value):
    rc, out = config_test(**{where: {directive: value}})
    assert rc != 0, f"apache2 -t accepted {directive} {value}:\n{out}"
    named = "onelogin-claim" if directive == "Require" else directive
    assert named in out, f"the message does not name {named}:\n{out}"


@pytest.mark.parametrize("value", [
    "preferred_username email",
    "email preferred_username sub",
    " ".join(f"claim{i}" for i in range(8)),
], ids=["two", "the-default-spelled-out", "eight"])
def test_remote_user_claim_takes_a_list(config_test, value):
    rc, out = config_test(server={"OneLoginRemoteUserClaim": value})
    assert rc == 0, f"apache2 -t refused OneLoginRemoteUserClaim {value}:\n{out}"


def directive_examples():
    """(directive, arguments, context) of every `- Example:` in docs/directives.md."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "directives.md").read_text()
    found = []
    for section in text.split("\n## ")[1:]:
        context = re.search(r"Context: ([a-z, ]+)", section).group(1)
        for example in re.findall(r"^- Example: `([^`]+)`", section, re.M):
            name, _, args = example.partition(" ")
            found.append((name, args, "directory" if "directory" in context else "server"))
    return found


@pytest.mark.parametrize("name, args, context", directive_examples(),
                         ids=[f"{n} {a}" for n, a, _ in directive_examples()])
def test_every_documented_example_is_valid(config_test, name, args, context):
    where = "location" if context == "directory" else "server"
    rc, out = config_test(**{where: {name: args}})
    assert rc == 0, f"docs/directives.md's example `{name} {args}` fails apache2 -t:\n{out}"
