#!/usr/bin/python3
"""Instructions per authenticated request, counted by callgrind: a slow-down in the hot path
fails `make test` without timing anything (instruction counts do not depend on how busy the
machine is).

    /usr/bin/python3 tests/perf/callgrind.py                    # the check (make test)
    /usr/bin/python3 tests/perf/callgrind.py --top 25           # plus where the cost goes

One apache2 in one process (-X) under `valgrind --tool=callgrind`, in front of a static
1 KiB file that `AuthType OneLogin` protects, logged in once through the real provider.
Then N requests with the session cookie to the protected file and N to an unprotected copy,
one connection each (the same work for httpd in both). callgrind's inclusive counts give:
  module   the module's hooks (post_read_request, check_authn) per authenticated request
  request  httpd's whole request (ap_process_async_request) without the module's share, per
           request: the baseline
The first authenticated request opens the cookie (base64url, AES-GCM, JSON); later ones find
it in the per-child memo. Its cost is part of the figure, spread over the N requests.
The login goes through the profiled process itself (the session lives in its cache); the
module's login steps (olo_unauthenticated, olo_handle_callback) are subtracted by name.
Verdict: module instructions per request under --ceiling. Exit 0 when under, 1 over, 2 when
something is missing.
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

if os.environ.get("OLO_MODULE_SO"):
    E.MODULE_SO = Path(os.environ["OLO_MODULE_SO"]).resolve()

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
ANNOTATE = shutil.which("callgrind_annotate") or "/usr/bin/callgrind_annotate"
PROTECTED, OPEN = "/perf/1k.html", "/open/1k.html"
HOOKS = ("olo_post_read_request", "olo_check_user_id")
# The login's own module work inside olo_check_user_id, not part of an authenticated request.
LOGIN_FNS = ("olo_unauthenticated", "olo_handle_callback")
# What one request runs through in httpd (event MPM), for the baseline.
REQUEST_FN = "ap_process_async_request"

PERF_CONFIG = """
# tests/perf: static files, one protected and one not; no proxying.
<Location /perf>
    ProxyPass !
</Location>
<Location /open>
    ProxyPass !
    AuthType None
    Require all granted
</Location>
"""


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300)
    # Measured at about 9k with the cookie store (bench/RESULTS.md has the profile): the
    # ceiling is generous so only a real slow-down (a parse, a lookup, a copy too many) trips.
    ap.add_argument("--ceiling", type=int, default=40_000,
                    help="most module instructions per authenticated request")
    ap.add_argument("--top", type=int, default=0,
                    help="also print the N costliest functions (inclusive) in the module's hooks")
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    return ap.parse_args(argv)


def as_nobody(*dirs):
    """The command prefix that runs apache2 -X as nobody when we are root: apache2 would
    switch to nobody after callgrind created its output file as root, and could not write
    it at exit. The directories it writes become nobody's."""
    if os.geteuid() != 0:
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        return []
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        for path in [d, *d.rglob("*")]:
            shutil.chown(path, user="nobody", group="nogroup")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def fire(url, n, cookie_header):
    """n GETs, each on its own connection (Connection: close), all must answer 200."""
    headers = {"Accept": "application/json", "Connection": "close"}
    if cookie_header:
        headers["Cookie"] = cookie_header
    with requests.Session() as s:
        s.trust_env = False
        for _ in range(n):
            r = s.get(url, headers=headers, allow_redirects=False, timeout=60)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")


def inclusive_costs(out_file, names, top):
    """Inclusive Ir of each named function (summed over its entries) from callgrind_annotate,
    and the `top` costliest functions overall."""
    r = subprocess.run([ANNOTATE, "--inclusive=yes", "--threshold=100", str(out_file)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"callgrind_annotate: {r.stderr[-500:]}")
    costs, rows = dict.fromkeys(names, 0), []
    for line in r.stdout.splitlines():
        # "25,273,500 (24.09%)  /path/file.c:function [/path/lib.so]"; the same function
        # may appear twice (with and without its file): keep the larger count.
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(\S+)(?:\s+\[(\S+)\])?", line)
        if not m:
            continue
        ir, fn = int(m.group(1).replace(",", "")), m.group(2).rsplit(":", 1)[-1]
        rows.append((ir, fn, m.group(3) or ""))
        if fn in costs:
            costs[fn] = max(costs[fn], ir)
    return costs, rows[:top]


def run(args, workdir):
    provider = E.loopback_provider(workdir)
    httpd, proc = None, None
    out_file = workdir / "profile" / "callgrind.out"
    try:
        provider.start()
        httpd = E.Httpd(workdir / "httpd", provider=provider, backend=None,
                        extra_config=PERF_CONFIG, log_level="warn")
        for d in ("perf", "open"):
            (httpd.root / "htdocs" / d).mkdir(parents=True, exist_ok=True)
            (httpd.root / "htdocs" / d / "1k.html").write_text("x" * 1023 + "\n")
        httpd.write_config()
        provider.allow_client_urls([f"{httpd.url}/callback"], [f"{httpd.url}/"])
        log = open(workdir / "valgrind.log", "wb")
        proc = subprocess.Popen(
            [*as_nobody(workdir / "httpd", out_file.parent), VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out_file}",
             "--dump-instr=no", "--collect-jumps=no", "--vgdb=no", str(E.APACHE2), "-X", "-f",
             str(httpd.config_file)],
            env=E.clean_env(), stdout=log, stderr=subprocess.STDOUT)
        E.wait_for_port(httpd.port, proc, timeout=120)
        # The login runs through this very process: the session exists only in its cache.
        # Its two module steps (the redirect to the provider, the callback) are taken out of
        # the figure by name (LOGIN_FNS).
        browser = Browser(httpd, provider)
        browser.sign_in(PROTECTED)
        cookie_header = "; ".join(f"{c.name}={c.value}" for c in browser.s.cookies
                                  if c.name.startswith("olo_"))
        browser.close()
        fire(f"{httpd.url}{PROTECTED}", args.requests, cookie_header)
        fire(f"{httpd.url}{OPEN}", args.requests, None)
    finally:
        if proc is not None:
            E.stop_process(proc, timeout=60)   # callgrind writes its counts at exit
        if httpd is not None:
            httpd.stop()
        provider.stop()
    return inclusive_costs(out_file, HOOKS + LOGIN_FNS + (REQUEST_FN,), args.top)


def main(argv):
    args = parse_args(argv)
    for need in (VALGRIND, ANNOTATE, str(E.APACHE2), str(E.MODULE_SO)):
        if not Path(need).exists():
            print(f"callgrind check: {need} is missing (apt-get install valgrind; make module)",
                  file=sys.stderr)
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="olo-perf-"))
    workdir.chmod(0o755)
    try:
        costs, top = run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    n = args.requests
    hooks = costs["olo_check_user_id"] + costs["olo_post_read_request"]
    module = hooks - sum(costs[fn] for fn in LOGIN_FNS)
    per_request = module / n
    baseline = (costs[REQUEST_FN] - hooks) / (2 * n)
    print(f"callgrind: {n} authenticated + {n} unprotected requests (cookie store)")
    print(f"  module hooks   {per_request:10,.0f} instructions per authenticated request")
    print(f"  httpd request  {baseline:10,.0f} instructions per request without the module")
    print(f"  ratio          {per_request / baseline if baseline else 0:10.2f}")
    for ir, fn, obj in top:
        print(f"  {ir / n:10,.0f}  {fn}  {Path(obj).name}")
    if not costs[REQUEST_FN] or not costs["olo_check_user_id"] \
            or not all(costs[fn] for fn in LOGIN_FNS):
        print("callgrind check: FAILED (the profile names neither the request nor the module's "
              "hook: was the module loaded and the path protected?)")
        return 1
    if per_request > args.ceiling:
        print(f"callgrind check: FAILED ({per_request:,.0f} > ceiling {args.ceiling:,})")
        return 1
    print(f"callgrind check: passed ({per_request:,.0f} <= ceiling {args.ceiling:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
