#!/usr/bin/python3
"""Soak: many authenticated requests through one httpd child; its RSS must stay flat.

    /usr/bin/python3 tests/soak/soak.py                 # 100k requests (make soak)
    /usr/bin/python3 tests/soak/soak.py --short         # 50k requests, for make test
    /usr/bin/python3 tests/soak/soak.py --requests 50000 --every 5000 --path /app/x

One apache2 (event MPM, the integration template) limited to one child that never
recycles (ServerLimit 1, MaxConnectionsPerChild 0), in front of the echo backend, logged in
once through the real provider with the integration suite's Browser. Then `ab -k` (from
apache2-utils) sends the requests in rounds, with the session cookie and
`Accept: application/json`, by default to a small static file under /soak/ that the same
`AuthType OneLogin` protects (every request is authenticated by the module: the sealed
session cookie opened and checked, identity headers set; the file only keeps the
backend out of the measurement; --path /anything goes through the proxy to the echo
backend instead). After each round the child's VmRSS (/proc/PID/status) is sampled.

Verdict: flat when the RSS grew by less than --max-growth-kb from the sample at
--warmup requests to the last one (memory, never timing). Exit status 0 when flat and every
request answered 200 from the same child; 1 otherwise; 2 when a prerequisite is missing.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import env as E  # noqa: E402  (the integration harness)
from browser import Browser  # noqa: E402

AB = shutil.which("ab") or "/usr/bin/ab"
# OLO_MODULE_SO=/path/mod_onelogin_oidc.so: soak another build of the module.
if os.environ.get("OLO_MODULE_SO"):
    E.MODULE_SO = Path(os.environ["OLO_MODULE_SO"]).resolve()
STATIC = "/soak/probe.json"

# Appended to the template: later MPM directives win. One child, never recycled; a
# static file under the same protection as everything else.
SOAK_CONFIG = """
# tests/soak: one child that serves every request.
StartServers 1
ServerLimit 1
MaxRequestWorkers 16
MaxConnectionsPerChild 0
<Location /soak>
    ProxyPass !
</Location>
"""


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--every", type=int, default=10_000, help="requests per round/sample")
    ap.add_argument("--warmup", type=int, default=20_000,
                    help="growth is measured from the sample at this many requests")
    # 1 MB over the 80k requests after warm-up: about 13 bytes per request. The RSS of a
    # healthy child moves by a page or two; a 24-byte allocation per request in the process
    # pool shows as +1 MB per 40k requests.
    ap.add_argument("--max-growth-kb", type=int, default=1024)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--path", default=STATIC,
                    help=f"what to request (default {STATIC}, a static file; "
                         "any other path goes to the echo backend)")
    ap.add_argument("--short", action="store_true",
                    help="50k requests, a sample every 10k, growth from 10k, at most 512 kB "
                         "(about 15 s: for make test)")
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    args = ap.parse_args(argv)
    if args.short:
        args.requests, args.every, args.warmup = 50_000, 10_000, 10_000
        args.max_growth_kb = min(args.max_growth_kb, 512)
    if args.warmup % args.every or args.requests % args.every or args.warmup >= args.requests:
        ap.error("--requests and --warmup must be multiples of --every, warmup < requests")
    return args


def proc_status(pid):
    """VmRSS, VmHWM, VmData of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "VmData"):
            out[key] = int(value.split()[0])
    return out


children = E.children_of


def server_child(httpd, timeout=15.0):
    """The one apache2 child (the parent's only child once it is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(httpd.proc.pid)
        if len(kids) == 1:
            return kids[0]
        time.sleep(0.2)
    raise RuntimeError(f"expected one apache2 child, found {children(httpd.proc.pid)}")


def ab_round(url, cookie_header, n, concurrency):
    """One `ab -k` round; returns (complete, failed, non_2xx, seconds). ab itself stops
    on errors only with -r absent, which is what we want: any socket error is a failure."""
    cmd = [AB, "-q", "-k", "-n", str(n), "-c", str(concurrency), "-s", "30",
           "-H", f"Cookie: {cookie_header}", "-H", "Accept: application/json", url]
    started = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - started
    if r.returncode != 0:
        raise RuntimeError(f"ab failed ({r.returncode}): {r.stderr.strip()[-500:]}")

    def field(name):
        m = re.search(rf"^{name}:\s+(\d+)", r.stdout, re.M)
        return int(m.group(1)) if m else 0

    return field("Complete requests"), field("Failed requests"), \
        field("Non-2xx responses"), seconds


def check_protected(httpd, path, cookie_header):
    """The path answers 200 with the session and refuses without it: the module is on it."""
    s = requests.Session()
    s.trust_env = False
    try:
        url = f"{httpd.url}{path}"
        r = s.get(url, headers={"Accept": "application/json", "Cookie": cookie_header},
                  allow_redirects=False, timeout=20)
        if r.status_code != 200:
            raise RuntimeError(f"{path} with the session: {r.status_code} {r.text[:200]}")
        r = s.get(url, headers={"Accept": "application/json"}, allow_redirects=False,
                  timeout=20)
        if r.status_code not in (401, 302, 303):
            raise RuntimeError(f"{path} without a session answers {r.status_code}: "
                               "the module does not protect it")
    finally:
        s.close()


def run(args, workdir):
    provider = E.loopback_provider(workdir)
    backend = E.Backend()
    httpd = None
    try:
        provider.start()
        backend.start()
        httpd = E.Httpd(workdir / "httpd", provider=provider, backend=backend,
                        extra_config=SOAK_CONFIG, log_level="warn")
        (httpd.root / "htdocs" / "soak").mkdir(parents=True, exist_ok=True)
        (httpd.root / "htdocs" / "soak" / "probe.json").write_text('{"ok": true}\n')
        httpd.start()

        browser = Browser(httpd, provider)
        report = browser.login("/soak-login")
        print(f"logged in as {report['remote_user']} through {provider.issuer}")
        cookie_header = "; ".join(f"{c.name}={c.value}" for c in browser.s.cookies
                                  if c.name.startswith("olo_"))
        browser.close()
        check_protected(httpd, args.path, cookie_header)

        child = server_child(httpd)
        url = f"{httpd.url}{args.path}"
        start = proc_status(child)
        print(f"apache2 parent {httpd.proc.pid}, child {child}; {url}; "
              f"{args.requests} requests, ab -k -c {args.concurrency}, a sample every "
              f"{args.every}")
        print(f"{'requests':>9} {'VmRSS kB':>9} {'delta kB':>9} {'VmHWM kB':>9} "
              f"{'VmData kB':>9} {'req/s':>7}")
        print(f"{0:>9} {start['VmRSS']:>9} {0:>9} {start['VmHWM']:>9} {start['VmData']:>9}"
              f" {'':>7}")
        samples = [(0, start)]
        done, bad = 0, []
        while done < args.requests:
            complete, failed, non2xx, secs = ab_round(url, cookie_header, args.every,
                                                      args.concurrency)
            done += args.every
            if complete != args.every or failed or non2xx:
                bad.append(f"round ending at {done}: {complete} complete, {failed} failed, "
                           f"{non2xx} non-2xx")
            kids = children(httpd.proc.pid)
            if kids != [child]:
                bad.append(f"after {done} requests the children are {kids}, not [{child}]")
                break
            st = proc_status(child)
            samples.append((done, st))
            print(f"{done:>9} {st['VmRSS']:>9} {st['VmRSS'] - start['VmRSS']:>+9} "
                  f"{st['VmHWM']:>9} {st['VmData']:>9} {args.every / secs:>7.0f}", flush=True)

        problems = E.LogExpectations().problems(httpd.error_lines())
        bad += [f"error log: {line}" for line in problems]
        base = dict(samples).get(args.warmup)
        last = samples[-1][1]
        if base is None or samples[-1][0] <= args.warmup:
            print(f"soak: stopped after {samples[-1][0]} requests, before a measurement")
            bad.append("no measurement after warm-up")
            flat = False
        else:
            growth = last["VmRSS"] - base["VmRSS"]
            flat = growth < args.max_growth_kb
            per_req = growth * 1024 / (samples[-1][0] - args.warmup)
            print(f"soak: {samples[-1][0]} requests through one child (pid {child}); VmRSS "
                  f"{start['VmRSS']} kB at start, {base['VmRSS']} kB at {args.warmup}, "
                  f"{last['VmRSS']} kB at the end: {growth:+d} kB after warm-up "
                  f"({per_req:.2f} bytes/request), limit {args.max_growth_kb} kB: "
                  f"{'FLAT' if flat else 'GROWING'}")
        for line in bad:
            print(f"soak: {line}")
        return 0 if flat and not bad else 1
    finally:
        if httpd is not None:
            httpd.stop()
        backend.stop()
        provider.stop()


def main(argv):
    args = parse_args(argv)
    missing = E.missing_prerequisites()
    if not Path(AB).exists():
        missing.append("ab (apt-get install apache2-utils)")
    if missing:
        print("soak: prerequisites missing: " + "; ".join(missing), file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="olo-soak-"))
    workdir.chmod(0o755)  # httpd's child (nobody, under root) reads its files
    try:
        return run(args, workdir)
    finally:
        if args.keep or os.environ.get("OLO_KEEP_TMP"):
            print(f"soak: run directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
