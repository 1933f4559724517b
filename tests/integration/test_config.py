"""`apache2 -t` catches configuration mistakes and names the directive at fault."""

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
