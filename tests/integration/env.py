"""The integration-test world: a test CA, the OpenID Provider, the echo backend and
apache2 instances, all on 127.0.0.1.

Everything here is plain Python (no pytest), so scripts can reuse it; conftest.py turns
it into fixtures.
"""

import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
import urllib3

REPO = Path(__file__).resolve().parents[2]
APACHE2 = Path("/usr/sbin/apache2")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
# OLO_MODULE_SO runs the suite against another build (e.g. an older commit's, to show that a
# new test fails there).
MODULE_SO = Path(os.environ.get("OLO_MODULE_SO") or REPO / ".libs" / "mod_onelogin_oidc.so")
PROVIDER_JS = REPO / "tests" / "provider" / "server.js"
ECHO_PY = REPO / "tests" / "backend" / "echo.py"
OPENMETADATA_JS = REPO / "tests" / "backend" / "openmetadata.js"
PYTHON = "/usr/bin/python3"
CLIENT_ID = "olo-test-client"
HOST = "127.0.0.1"

# What the suite cannot run without; each is checked before the first test.
PREREQUISITES = {
    "apache2 binary (apt-get install apache2)": APACHE2,
    "mod_proxy_http for apache2": APACHE_MODULES / "mod_proxy_http.so",
    "mod_ssl for apache2 (conf/openmetadata.conf)": APACHE_MODULES / "mod_ssl.so",
    "mod_socache_redis for apache2 (docs/deploy-kubernetes.md)":
        APACHE_MODULES / "mod_socache_redis.so",
    "the built module (make -f Makefile.apxs)": MODULE_SO,
    "node_modules with oidc-provider (npm ci)": REPO / "node_modules" / "oidc-provider",
    "node_modules with jose (npm ci)": REPO / "node_modules" / "jose",
}
PROGRAMS = ("node", "openssl")



# libfaketime for an httpd whose clock is off (LD_PRELOAD rather than the faketime wrapper,
# because of httpd's signals; monotonic clocks stay real).
FAKETIME_LIBS = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))


def faked_clock(offset):
    """The environment for an httpd whose clock is `offset` ("+10m", "-2h") off."""
    assert FAKETIME_LIBS, "this test needs libfaketime (apt-get install faketime)"
    return {"LD_PRELOAD": FAKETIME_LIBS[0], "FAKETIME": offset,
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


# The status page at /onelogin-status (extra_config of httpd_factory).
STATUS_LOCATION = """
<Location /onelogin-status>
    ProxyPass !
    SetHandler onelogin-status
    AuthType None
    Require all granted
</Location>
"""


def failed_logins(h, reason):
    """onelogin_oidc_logins_failed_total{reason=...} on h's STATUS_LOCATION (0 when absent)."""
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(h.url + "/onelogin-status", timeout=10)
    assert r.status_code == 200, r.text[:300]
    m = re.search(r'^onelogin_oidc_logins_failed_total\{reason="%s"\} (\d+)$' % reason,
                  r.text, re.M)
    return int(m.group(1)) if m else 0


def missing_prerequisites():
    """Names of what is missing, empty when the suite can run."""
    missing = [what for what, path in PREREQUISITES.items() if not path.exists()]
    missing += [f"{prog} on PATH" for prog in PROGRAMS if shutil.which(prog) is None]
    return missing


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=15.0):
    """Waits until something accepts on port; fails early when proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout}s")


def clean_env(extra=None):
    """A small environment: no proxies, no CA overrides from the caller's shell."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "HOME": os.environ.get("HOME", "/root")}
    env.update(extra or {})
    return env


def make_readable(path):
    """httpd children run as nobody when the suite runs as root: let them read our files."""
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def children_of(pid):
    """PIDs whose parent is pid (an httpd parent's children)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # comm may hold spaces and ")"
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def stop_process(proc, sig=signal.SIGTERM, timeout=10.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def read_ready_line(proc, what, timeout=20.0):
    """Reads stdout until the "READY <value>" line and returns value."""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                if line.startswith("READY "):
                    return line.split(" ", 1)[1].strip()
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not print READY within {timeout}s: {buf!r}")


class Pki:
    """A test CA and certificates it signed, made with the openssl CLI."""

    def __init__(self, directory, backdate=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca_cert = self.dir / "ca.pem"
        self.ca_key = self.dir / "ca.key"
        # e.g. "-1d": openssl runs under faketime, so every certificate's notBefore lies that
        # far back, for an httpd whose own clock is faked behind the real one.
        self.backdate = backdate

    def _openssl(self, *args):
        faked = ["faketime", "-f", self.backdate] if self.backdate else []
        subprocess.run([*faked, "openssl", *args], check=True, capture_output=True, timeout=60)

    def create_ca(self):
        self._openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                      "-keyout", str(self.ca_key), "-out", str(self.ca_cert), "-days", "3",
                      "-subj", "/O=mod_onelogin_oidc tests/CN=Test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return self.ca_cert

    def issue(self, name, dns=(), ips=()):
        """A server certificate for the given names; returns (cert, key) paths."""
        key, csr, cert = (self.dir / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        ext = self.dir / f"{name}.ext"
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
        ext.write_text("basicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       f"subjectAltName={','.join(sans)}\n")
        cn = (list(dns) + list(ips))[0]
        self._openssl("req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", str(key),
                      "-out", str(csr), "-subj", f"/CN={cn}")
        self._openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert),
                      "-CAkey", str(self.ca_key), "-CAcreateserial", "-out", str(cert),
                      "-days", "3", "-sha256", "-extfile", str(ext))
        return cert, key


def loopback_provider(workdir):
    """A provider (not started yet) with a CA of its own under workdir: for the scripts that
    run outside pytest (soak, callgrind check, bench)."""
    pki = Pki(Path(workdir) / "pki")
    pki.create_ca()
    cert, key = pki.issue("server", dns=["localhost"], ips=[HOST])
    make_readable(pki.dir)
    return Provider(Path(workdir) / "provider", cert, key, pki.ca_cert)


class Provider:
    """tests/provider/server.js (oidc-provider) on a free port, https, issuer .../oidc/2."""

    def __init__(self, directory, cert, key, ca_cert, cert_names_host=True, port=0):
        self.dir = Path(directory)
        self.cert, self.key, self.ca_cert = cert, key, ca_cert
        # False for a provider whose certificate deliberately names another host: the
        # tests' own control calls to it then skip certificate checks.
        self.cert_names_host = cert_names_host
        self.proc = None
        self.issuer = None
        self.log_file = self.dir / "provider.log"
        # 0: any free port. After a start, start() again reuses the port it got, so a
        # provider killed and started again keeps its issuer (and, from the state dir, its key).
        self.port = port

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        env = clean_env({"PORT": str(self.port or 0), "CERT": str(self.cert),
                         "KEY": str(self.key), "STATE_DIR": str(self.dir / "state"),
                         "CLIENT_ID": CLIENT_ID})
        self._stderr = open(self.log_file, "ab")
        self.proc = subprocess.Popen(["node", str(PROVIDER_JS)], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        self.issuer = read_ready_line(self.proc, "provider")
        self.base = self.issuer.rsplit("/oidc/2", 1)[0]
        self.port = int(self.base.rsplit(":", 1)[1])
        return self

    def stop(self):
        stop_process(self.proc)
        self._stderr.close()

    def kill(self):
        """SIGKILL, as when the provider's host dies: no goodbye on open connections."""
        stop_process(self.proc, sig=signal.SIGKILL)
        self._stderr.close()

    def session(self):
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        s.verify = str(self.ca_cert)
        if not self.cert_names_host:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            s.verify = False
        return s

    def control(self, method, path, body=None):
        with self.session() as s:
            r = s.request(method, f"{self.base}/__test/{path}", json=body, timeout=10)
        if r.status_code != 200:
            raise RuntimeError(f"provider control {method} {path}: {r.status_code} {r.text}")
        return r.json()

    def set_mode(self, mode, **options):
        return self.control("POST", "mode", {"mode": mode, **options})

    def reset(self):
        return self.control("POST", "reset")

    def token_log(self):
        return self.control("GET", "log")

    def endpoint_log(self, endpoint):
        return self.control("GET", f"log?endpoint={endpoint}")

    def set_lifetimes(self, id_token=None, access_token=None, age=None):
        """Seconds the ID / access tokens issued from now on live (reset: 3600); `age`: the
        ID tokens handed out from now on are dated that many seconds back, iat = now - age,
        lifetime kept (negative: ahead; reset: 0)."""
        body = {k: v for k, v in (("id_token", id_token), ("access_token", access_token),
                                  ("age", age))
                if v is not None}
        return self.control("POST", "lifetimes", body)

    def allow_client_urls(self, redirect_uris, post_logout_redirect_uris=()):
        return self.control("POST", "clients", {
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        })


class Backend:
    """tests/backend/echo.py on a free port."""

    def __init__(self):
        self.proc = None
        self.port = None

    def start(self):
        self.proc = subprocess.Popen([PYTHON, str(ECHO_PY), "0"], env=clean_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = int(read_ready_line(self.proc, "echo backend"))
        self.url = f"http://{HOST}:{self.port}"
        return self

    def stop(self):
        stop_process(self.proc)

    def requests_seen(self):
        r = requests.get(f"{self.url}/__echo/requests", timeout=5,
                         proxies={"http": None, "https": None})
        return r.json()

    def reset(self):
        requests.post(f"{self.url}/__echo/reset", timeout=5,
                      proxies={"http": None, "https": None})


class OpenMetadata:
    """tests/backend/openmetadata.js: OpenMetadata's API as far as a front door can tell.

    Plain http for the application (`port`, what httpd proxies to) and https with the test
    certificate (`https_port`) for its JWKS; it trusts the provider's /oidc/2/certs and its
    own https JWKS, like OpenMetadata's AUTHENTICATION_PUBLIC_KEYS."""

    def __init__(self, directory, cert, key, ca_cert, provider_jwks_url):
        self.dir = Path(directory)
        self.cert, self.key, self.ca_cert = cert, key, ca_cert
        self.provider_jwks_url = provider_jwks_url
        self.proc = None
        self.log_file = self.dir / "openmetadata.log"

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        env = clean_env({"HTTP_PORT": "0", "HTTPS_PORT": "0", "CERT": str(self.cert),
                         "KEY": str(self.key), "CA_CERT": str(self.ca_cert),
                         "PUBLIC_KEY_URLS": self.provider_jwks_url})
        self._stderr = open(self.log_file, "ab")
        self.proc = subprocess.Popen(["node", str(OPENMETADATA_JS)], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        ports = dict(kv.split("=") for kv in read_ready_line(self.proc, "openmetadata").split())
        self.port, self.https_port = int(ports["http"]), int(ports["https"])
        self.url = f"http://{HOST}:{self.port}"
        self.https_url = f"https://{HOST}:{self.https_port}"
        self.jwks_url = f"{self.https_url}/api/v1/system/config/jwks"
        return self

    def stop(self):
        stop_process(self.proc)
        self._stderr.close()

    def control(self, method, path, body=None):
        r = requests.request(method, f"{self.url}/__om/{path}", json=body, timeout=10,
                             proxies={"http": None, "https": None})
        if r.status_code != 200:
            raise RuntimeError(f"openmetadata control {method} {path}: {r.status_code} {r.text}")
        return r.json()

    def requests_seen(self, websocket=None):
        """Every request it answered (control routes aside), oldest first."""
        seen = self.control("GET", "requests")
        return [e for e in seen if websocket is None or e["websocket"] == websocket]

    def reset(self):
        return self.control("POST", "reset")

    def bot_token(self, exp_seconds=3600, claims=None, kid=None):
        """A JWT signed by its bot key: iss open-metadata.org, sub ingestion-bot.
        exp_seconds None: no exp; claims override (a None value removes a claim)."""
        body = {"exp_seconds": exp_seconds, "claims": claims or {}}
        if kid is not None:
            body["kid"] = kid
        return self.control("POST", "bot-token", body)["token"]


CONFIG_TEMPLATE = """\
# generated by tests/integration/env.py
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Listen {host}:{port}

{load_modules}
{user_lines}
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 4
MaxSpareThreads 32
Timeout 30
GracefulShutdownTimeout 5

ErrorLog "{root}/logs/error_log"
LogLevel {log_level}
LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" timed
CustomLog "{root}/logs/access_log" timed
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
# A crashing child leaves a core here; the log check prints its backtrace when gdb exists.
CoreDumpDirectory "{root}/core"

LoadModule onelogin_oidc_module {module}

ServerName http://{host}:{port}
{server_lines}
<Location />
{location_lines}
</Location>

# Not protected: proves httpd still serves while the provider misbehaves.
<Location /public>
    AuthType None
    Require all granted
    ProxyPass http://{host}:{backend_port}/public
</Location>
{extra_config}
"""


# (module name, file): what the template needs; loaded unless compiled into apache2.
MODULES = [
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
    ("headers_module", "mod_headers.so"),
    ("log_config_module", "mod_log_config.so"),
    ("mime_module", "mod_mime.so"),
    ("unixd_module", "mod_unixd.so"),
]
_BUILTIN = []


def builtin_modules():
    """Source names apache2 was compiled with (apache2 -l), e.g. {"mod_unixd.c"}."""
    if not _BUILTIN:
        out = subprocess.run([str(APACHE2), "-l"], capture_output=True, text=True,
                             timeout=30).stdout
        _BUILTIN.append({line.strip() for line in out.splitlines() if line.strip().endswith(".c")})
    return _BUILTIN[0]


def load_module_lines():
    builtin = builtin_modules()
    return "\n".join(f"LoadModule {name} {APACHE_MODULES / so}" for name, so in MODULES
                     if so.replace(".so", ".c") not in builtin)


class Httpd:
    """One apache2 instance with its own ServerRoot, started in the foreground."""

    def __init__(self, root, *, provider, backend, server=None, server_extra=(),
                 location=None, location_extra=(), extra_config="", issuer=None,
                 port=None, log_level="warn onelogin_oidc:debug", env=None):
        self.root = Path(root)
        self.provider, self.backend = provider, backend
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.error_log = self.root / "logs" / "error_log"
        self.config_file = self.root / "httpd.conf"
        self.proc = None
        self.env = env or {}  # extra environment for apache2, e.g. LD_PRELOAD
        self.session_secret = secrets.token_urlsafe(36)[:48]
        self.server = {
            "OneLoginIssuer": issuer or (provider.issuer if provider else None),
            "OneLoginClientID": CLIENT_ID,
            "OneLoginSessionSecret": self.session_secret,
            "OneLoginCACertificate": str(provider.ca_cert) if provider else None,
            "OneLoginCookieSecure": "Off",
        }
        self.server.update(server or {})
        self.session_secret = self.server.get("OneLoginSessionSecret")
        self.server_extra = list(server_extra)
        self.location = {
            "AuthType": "OneLogin",
            "Require": "valid-user",
            "ProxyPass": f"http://{HOST}:{backend.port if backend else 9}/",
            # r->user through ap_expr: "%{REMOTE_USER}s" would read the environment,
            # where httpd puts REMOTE_USER only for CGI-like handlers.
            "RequestHeader": 'set X-Remote-User "expr=%{REMOTE_USER}"',
        }
        self.location.update(location or {})
        self.location_extra = list(location_extra)
        self.extra_config = extra_config
        self.log_level = log_level

    @staticmethod
    def _lines(directives, extra, indent=""):
        out = [f"{indent}{k} {v}" for k, v in directives.items() if v is not None]
        out += [f"{indent}{line}" for line in extra]
        return "\n".join(out)

    def write_config(self):
        for sub in ("logs", "run", "htdocs", "core"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        user_lines = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
        self.config_file.write_text(CONFIG_TEMPLATE.format(
            root=self.root, host=HOST, port=self.port, load_modules=load_module_lines(),
            module=MODULE_SO,
            user_lines=user_lines, log_level=self.log_level,
            backend_port=self.backend.port if self.backend else 9,
            server_lines=self._lines(self.server, self.server_extra),
            location_lines=self._lines(self.location, self.location_extra, "    "),
            extra_config=self.extra_config))
        make_readable(self.root)
        (self.root / "core").chmod(0o777)
        if os.geteuid() == 0:
            shutil.chown(self.root / "run", user="nobody")
        return self.config_file

    def config_test(self):
        """apache2 -t on the config: (exit code, stdout+stderr)."""
        self.write_config()
        r = subprocess.run([str(APACHE2), "-t", "-f", str(self.config_file)],
                           capture_output=True, text=True, env=clean_env(), timeout=60)
        return r.returncode, r.stdout + r.stderr

    def start(self):
        self.write_config()
        if self.provider is not None:
            self.provider.allow_client_urls([f"{self.url}/callback"],
                                            [f"{self.url}/", f"{self.url}/logged-out"])
        self._out = open(self.root / "logs" / "stdout", "ab")
        # Core dumps on, where the shell allows it, for the backtrace of a crash.
        limit = ["prlimit", "--core=unlimited", "--"] if shutil.which("prlimit") else []
        # The parent runs in core/ too: a crash of its own (at a reload or at exit, when
        # modules are unloaded) leaves its core where crash_reports() looks.
        self.exit_status = None
        self.proc = subprocess.Popen(
            [*limit, str(APACHE2), "-f", str(self.config_file), "-DFOREGROUND"],
            env=clean_env(self.env), stdout=self._out, stderr=subprocess.STDOUT,
            cwd=self.root / "core")
        try:
            wait_for_port(self.port, self.proc)
        except RuntimeError as err:
            raise RuntimeError(f"{err}\n{self.startup_output()}") from err
        return self

    def generations(self):
        """How many times this parent has said it serves: once at start, once per reload."""
        if not self.error_log.exists():
            return 0
        return self.error_log.read_text(errors="replace").count("resuming normal operations")

    def reload(self, hard=False, timeout=20.0):
        """The config as it now stands, through the same parent process: `apache2 -k graceful`
        (SIGUSR1), or with hard=True `apache2 -k restart` (SIGHUP), as Debian's logrotate and
        an operator do. Returns once the new generation says it serves."""
        before = self.generations()
        self.write_config()
        self.proc.send_signal(signal.SIGHUP if hard else signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while self.generations() <= before:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"httpd did not come back from a reload\n"
                                   f"{self.startup_output()}")
            time.sleep(0.05)
        wait_for_port(self.port, self.proc)
        return self

    def startup_output(self):
        parts = []
        for f in (self.root / "logs" / "stdout", self.error_log):
            if f.exists():
                parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    def stop(self):
        """graceful-stop (SIGWINCH), bounded by GracefulShutdownTimeout, then SIGTERM.

        Not SIGTERM first: about one ungraceful stop in 50 here ends with a child's
        "exit signal Segmentation fault": the child's main thread reads a connection socket
        (apr_os_sock_get) that the listener thread is freeing, with no module frame in the
        backtrace. It looks like an event-MPM shutdown race, and would make tests flaky.
        OLO_STOP_SIGNAL=TERM brings the ungraceful stop back, to study that crash."""
        if self.proc is not None:
            sig = signal.SIGTERM if os.environ.get("OLO_STOP_SIGNAL") == "TERM" \
                else signal.SIGWINCH
            stop_process(self.proc, sig=sig, timeout=8)
            self.exit_status = self.proc.returncode
            self._out.close()
            self.proc = None

    def exit_problem(self):
        """Why the parent's exit was a crash (a signal it did not ask for), or None."""
        crash = {-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGILL,
                 -signal.SIGFPE}
        status = getattr(self, "exit_status", None)   # None: never started (apache2 -t)
        if status in crash:
            return f"httpd parent died of signal {-status} at stop"
        return None

    def crash_reports(self, max_chars=6000):
        """gdb backtraces of the cores children left, if any and if gdb is installed."""
        cores = sorted((self.root / "core").glob("core*"))
        if not cores:
            return []
        if shutil.which("gdb") is None:
            return [f"{c} (install gdb for a backtrace)" for c in cores]
        reports = []
        for core in cores[:2]:
            r = subprocess.run(["gdb", "-batch", "-nx", "-ex", "bt", "-ex",
                                "thread apply all bt 12", str(APACHE2), str(core)],
                               capture_output=True, text=True, timeout=120)
            lines = [ln for ln in r.stdout.splitlines()
                     if ln.startswith(("#", "Thread", "Program"))]
            reports.append(f"--- {core}\n" + "\n".join(lines)[:max_chars])
        return reports

    def error_lines(self):
        if not self.error_log.exists():
            return []
        return self.error_log.read_text(errors="replace").splitlines()

    def wait_for_lines(self, *texts, timeout=10.0):
        """The error-log lines holding every one of texts, once there is one: the port opens
        (open_logs) before post_config has logged its notices."""
        deadline = time.monotonic() + timeout
        while True:
            found = [ln for ln in self.error_lines() if all(t in ln for t in texts)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


# A crash or an unexpected module warning/error in the error log fails the test.
FATAL_PATTERNS = ("[core:crit]", "Segmentation fault", "exit signal", "AH00052",
                  "[core:alert]", "[core:emerg]")
MODULE_LINE = re.compile(r"\[onelogin_oidc:(warn|error|crit|alert|emerg)\]")
LOG_ID = re.compile(r"\b(OLO\d{5}):")


class LogExpectations:
    """What a test declares it expects to see at warn/error level from the module."""

    def __init__(self):
        self.ids = set()
        self.any_warning = False

    def expect(self, *ids, any_warning=False):
        for log_id in ids:
            if not re.fullmatch(r"OLO\d{5}", log_id):
                raise ValueError(f"log id {log_id!r} is not OLO + 5 digits")
        self.ids.update(ids)
        self.any_warning = self.any_warning or any_warning

    def problems(self, lines):
        """The error-log lines this test did not allow, empty when all is well."""
        bad = []
        for line in lines:
            if any(p in line for p in FATAL_PATTERNS):
                bad.append(line)
                continue
            m = MODULE_LINE.search(line)
            if not m:
                continue
            if m.group(1) in ("crit", "alert", "emerg"):
                bad.append(line)
                continue
            log_id = LOG_ID.search(line)
            if self.any_warning:
                continue
            if log_id is None or log_id.group(1) not in self.ids:
                bad.append(line)
        return bad

    def seen_ids(self, lines):
        found = set()
        for line in lines:
            if MODULE_LINE.search(line):
                m = LOG_ID.search(line)
                if m:
                    found.add(m.group(1))
        return found


def dump_json(obj):
    return json.dumps(obj, indent=1, sort_keys=True)


REDIS_SERVER = "redis-server"
MEMCACHED = "memcached"


class LoopbackDaemon:
    """A cache server on a loopback port, in the foreground as our child. stop() and start()
    again keep the port, so httpd instances configured with it find it after a restart."""

    binary_name = None
    install_hint = None

    def __init__(self, directory, port=None):
        self.dir = Path(directory)
        self.port = port or free_port()
        self.proc = None
        self.log_file = self.dir / f"{self.binary_name}.log"

    def command_line(self, binary):
        raise NotImplementedError

    def start(self):
        binary = shutil.which(self.binary_name) or shutil.which(f"/usr/bin/{self.binary_name}")
        if binary is None:
            raise RuntimeError(f"{self.binary_name} not found ({self.install_hint})")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(self.command_line(binary), env=clean_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        wait_for_port(self.port, self.proc)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self._log.close()
            self.proc = None


class Redis(LoopbackDaemon):
    """redis-server without persistence."""

    binary_name = REDIS_SERVER
    install_hint = "apt-get install redis-server"

    def command_line(self, binary):
        return [binary, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)]

    def command(self, *args):
        """One command over RESP; returns the raw reply bytes (enough for the tests)."""
        payload = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a.encode() if isinstance(a, str) else a
            payload += b"$%d\r\n%s\r\n" % (len(b), b)
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        return reply

    def flush(self):
        reply = self.command("FLUSHALL")
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"redis FLUSHALL: {reply!r}")

    def keys(self, pattern="*"):
        """The key names matching pattern (parsed from the RESP array reply)."""
        lines = self.command("KEYS", pattern).split(b"\r\n")
        return sorted(l.decode(errors="replace") for l in lines[2::2] if l)

    @staticmethod
    def module_key_of(raw):
        """What one Redis key holds of the module's: mod_socache_redis stores each id as
        "<namespace>:<hex>", and the module's ids are 16 bytes of SHA-256 of its key then
        the key's kind (auth/olo_cache.h). Returns "kind:<hash hex>", or the raw key."""
        _, _, hexed = raw.partition(":")
        try:
            b = bytes.fromhex(hexed)
            return f"{b[16:].decode()}:{b[:16].hex()}" if len(b) > 16 else raw
        except ValueError:
            return raw

    @staticmethod
    def cache_id(key):
        """The "kind:<hash hex>" form of one of the module's keys ("rv:<session id>")."""
        import hashlib
        kind = key.split(":", 1)[0]
        return f"{kind}:{hashlib.sha256(key.encode()).digest()[:16].hex()}"

    def module_keys(self):
        """The module's keys in the form "kind:<hash hex>" ("st:...", "sl:...", "md:...")."""
        return sorted(self.module_key_of(k) for k in self.keys())

    def cache_directives(self):
        """Httpd(server=...) entries: mod_socache_redis loaded before OneLoginCache uses it
        (dict order is config order; both come after the template's own directives)."""
        return {"LoadModule": f"socache_redis_module {APACHE_MODULES / 'mod_socache_redis.so'}",
                "OneLoginCache": f"redis:{HOST}:{self.port}"}



class Memcached(LoopbackDaemon):
    """memcached, TCP only."""

    binary_name = MEMCACHED
    install_hint = "apt-get install memcached"

    def command_line(self, binary):
        cmd = [binary, "-l", HOST, "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            cmd += ["-u", "root"]  # memcached refuses to run as root without being told
        return cmd

    def flush(self):
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            s.sendall(b"flush_all\r\n")
            reply = s.recv(64)
        if not reply.startswith(b"OK"):
            raise RuntimeError(f"memcached flush_all: {reply!r}")

    def cache_directives(self):
        return {"LoadModule": f"socache_memcache_module "
                              f"{APACHE_MODULES / 'mod_socache_memcache.so'}",
                "OneLoginCache": f"memcache:{HOST}:{self.port}"}
