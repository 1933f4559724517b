"""Fixtures: one CA, provider and echo backend per session; apache2 instances from a
config template; an error-log check after every test.

- `httpd`: the template as is, shared by the tests of one file (a stop costs a second:
  httpd's graceful stop polls once a second). Each test gets its own browsers and its
  error-log lines are checked from where the test began.
- `httpd_factory(...)`: a fresh instance with its own config and empty caches, for tests
  that change directives or need the provider's metadata fetched anew (fault tests).

Run with: /usr/bin/python3 -m pytest tests/integration
"""

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

import env as E
from browser import Browser


# The files that wait longest (floods, token lifetimes, cache outages) go first, so the two
# xdist workers (`make test`: -n 2 --dist loadfile) do not start them last and finish apart.
LONGEST_FILES = ("test_shared_state.py", "test_redis.py", "test_refresh.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)
    items.sort(key=rank)    # stable: each file keeps its own order


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]


@pytest.fixture(scope="session")
def workdir():
    missing = E.missing_prerequisites()
    if missing:
        pytest.fail("integration suite prerequisites missing: " + "; ".join(missing),
                    pytrace=False)
    # Not pytest's tmp_path: that is 0700 and httpd children (nobody, under root) must read.
    path = Path(tempfile.mkdtemp(prefix="olo-it-"))
    path.chmod(0o755)
    yield path
    if not os.environ.get("OLO_KEEP_TMP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(workdir):
    pki = E.Pki(workdir / "pki")
    pki.create_ca()
    pki.server_cert, pki.server_key = pki.issue("server", dns=["localhost"], ips=[E.HOST])
    # Same CA, wrong name: for tests that the module checks the provider's host name.
    pki.wrong_cert, pki.wrong_key = pki.issue("wrong-host", dns=["wrong.example"])
    E.make_readable(pki.dir)
    return pki


@pytest.fixture(scope="session")
def provider_proc(workdir, pki):
    p = E.Provider(workdir / "provider", pki.server_cert, pki.server_key, pki.ca_cert)
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def backend_proc():
    b = E.Backend().start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def openmetadata_proc(workdir, pki, provider_proc):
    om = E.OpenMetadata(workdir / "openmetadata", pki.server_cert, pki.server_key, pki.ca_cert,
                        f"{provider_proc.issuer}/certs")
    om.start()
    yield om
    om.stop()


@pytest.fixture
def openmetadata(openmetadata_proc):
    """The OpenMetadata stand-in, with an empty request log."""
    openmetadata_proc.reset()
    return openmetadata_proc


@pytest.fixture
def provider(provider_proc):
    """The provider, back to normal behaviour and an empty request log."""
    provider_proc.reset()
    yield provider_proc
    provider_proc.reset()


@pytest.fixture
def backend(backend_proc):
    backend_proc.reset()
    return backend_proc


@pytest.fixture
def log_expect():
    return E.LogExpectations()


@pytest.fixture
def expect_log_ids(log_expect):
    """expect_log_ids("OLO00031", ...) or expect_log_ids(any_warning=True): the module
    warn/error lines this test provokes on purpose. Anything else fails the test."""
    return log_expect.expect


class _Watch:
    """The instances a test used, with the error-log line each one was at when it began."""

    def __init__(self):
        self.instances = []  # (Httpd, first line to check, stop at the end?)

    def add(self, h, own):
        self.instances.append((h, len(h.error_lines()) if not own else 0, own))

    def finish(self, log_expect):
        problems = []
        for h, first, own in self.instances:
            if own:
                h.stop()
            bad = log_expect.problems(h.error_lines()[first:])
            if own and h.exit_problem():
                bad.append(h.exit_problem())
            if bad:
                problems.append(f"{h.error_log}:\n  " + "\n  ".join(bad))
                problems.extend(h.crash_reports())
        if problems:
            pytest.fail("unexpected lines in the httpd error log (declare them with "
                        "expect_log_ids):\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def _watch(log_expect):
    w = _Watch()
    yield w
    w.finish(log_expect)


@pytest.fixture
def httpd_factory(workdir, provider, backend, request, _watch):
    """httpd_factory(server={...}, server_extra=[...], location={...}, location_extra=[...],
    extra_config="", issuer=None, port=None, start=True, provider=None) -> a running
    E.Httpd of its own (provider: another E.Provider than the shared one).

    `server` and `location` entries replace the template's directives (None removes one).
    After the test each instance is stopped and its error log checked."""
    count = [0]

    def make(start=True, **kw):
        count[0] += 1
        root = workdir / "httpd" / f"{_safe(request.node.name)}-{count[0]}"
        kw.setdefault("backend", backend)  # or backend=openmetadata: ProxyPass goes there
        kw.setdefault("provider", provider)  # or a provider instance of the test's own
        h = E.Httpd(root, **kw)
        _watch.add(h, own=True)
        if start:
            h.start()
        return h

    return make


def _shared_instance(h):
    """Runs an instance shared by a test file; what it logs while stopping is checked too."""
    h.start()
    yield h
    first = len(h.error_lines())
    h.stop()
    bad = E.LogExpectations().problems(h.error_lines()[first:])
    if h.exit_problem():
        bad.append(h.exit_problem())
    if bad:
        pytest.fail(f"{h.error_log} at stop:\n  " + "\n  ".join(bad), pytrace=False)


@pytest.fixture(scope="module")
def _shared_httpd(workdir, provider_proc, backend_proc, request):
    h = E.Httpd(workdir / "httpd" / f"shared-{_safe(request.module.__name__)}",
                provider=provider_proc, backend=backend_proc)
    yield from _shared_instance(h)


@pytest.fixture
def httpd(_shared_httpd, provider, backend, _watch):
    """The template instance shared by this file's tests; its log is checked per test."""
    _watch.add(_shared_httpd, own=False)
    return _shared_httpd


@pytest.fixture
def config_test(workdir, provider, backend, request):
    """config_test(server={...}, location={...}, ...) -> (exit code, apache2 -t output)."""
    count = [0]

    def run(**kw):
        count[0] += 1
        h = E.Httpd(workdir / "conftest" / f"{_safe(request.node.name)}-{count[0]}",
                    provider=provider, backend=backend, **kw)
        return h.config_test()

    return run


@pytest.fixture(scope="session")
def backdated_provider(workdir):
    """A provider whose CA and certificate were made a day ago: an httpd with its clock
    behind still finds them valid, so only the ID token's times are at stake."""
    pki = E.Pki(workdir / "pki-backdated", backdate="-1d")
    pki.create_ca()
    cert, key = pki.issue("server", dns=["localhost"], ips=[E.HOST])
    E.make_readable(pki.dir)
    p = E.Provider(workdir / "provider-backdated", cert, key, pki.ca_cert)
    p.start()
    yield p
    p.stop()


@pytest.fixture
def own_provider(workdir, pki, request):
    """A provider process of this test's own (same CA), free to be killed or frozen."""
    p = E.Provider(workdir / f"provider-{_safe(request.node.name)[:60]}", pki.server_cert,
                   pki.server_key, pki.ca_cert)
    p.start()
    yield p
    if p.proc.poll() is None:
        p.proc.send_signal(signal.SIGCONT)
    p.stop()


@pytest.fixture
def browser_factory(provider, _watch):
    """browser_factory(httpd_instance, provider=None) -> a Browser with its own cookie jar
    (provider: the E.Provider the instance logs in at, when not the shared one).

    Set up after _watch, so torn down before it: browsers close their keep-alive
    connections before instances stop (a graceful stop waits for open connections)."""
    made = []

    shared = provider

    def make(instance, provider=None):
        b = Browser(instance, provider or shared)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def browser(browser_factory, httpd):
    return browser_factory(httpd)


@pytest.fixture(scope="module")
def _shared_om_httpd(workdir, provider_proc, openmetadata_proc, request):
    """One instance per test file in front of the OpenMetadata stand-in. The file may define
    `om_httpd_config(om, provider) -> {Httpd keyword arguments}` to change the template."""
    configure = getattr(request.module, "om_httpd_config", None)
    kw = configure(openmetadata_proc, provider_proc) if configure else {}
    h = E.Httpd(workdir / "httpd" / f"shared-om-{_safe(request.module.__name__)}",
                provider=provider_proc, backend=openmetadata_proc, **kw)
    yield from _shared_instance(h)


@pytest.fixture
def om_httpd(_shared_om_httpd, provider, openmetadata, _watch):
    """httpd proxying to the OpenMetadata stand-in, shared by this file's tests."""
    _watch.add(_shared_om_httpd, own=False)
    return _shared_om_httpd


@pytest.fixture
def om_browser(browser_factory, om_httpd):
    return browser_factory(om_httpd)


def _daemon_for_session(daemon):
    """Starts a cache server for the whole session (a missing binary fails the test)."""
    try:
        daemon.start()
    except RuntimeError as err:
        pytest.fail(f"{daemon.binary_name}: {err}", pytrace=False)
    yield daemon
    daemon.stop()


def _daemon_for_test(daemon):
    """The session's server, running (started again if a test stopped it), empty."""
    if not daemon.running():
        daemon.start()
    daemon.flush()
    yield daemon
    if not daemon.running():
        daemon.start()


@pytest.fixture(scope="session")
def redis_proc(workdir):
    yield from _daemon_for_session(E.Redis(workdir / "redis"))


@pytest.fixture
def redis(redis_proc):
    yield from _daemon_for_test(redis_proc)


@pytest.fixture(scope="session")
def memcached_proc(workdir):
    yield from _daemon_for_session(E.Memcached(workdir / "memcached"))


@pytest.fixture
def memcached(memcached_proc):
    yield from _daemon_for_test(memcached_proc)
