# mod_onelogin_oidc: the developer entry points. `make test` and `make demo` install what
# they need on a fresh Debian machine; `make -f Makefile.apxs` builds the module alone.

APR_CFLAGS   = $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS     = $(shell apr-1-config --link-ld --libs 2>/dev/null) $(shell apu-1-config --link-ld 2>/dev/null)
PKGS        := cjose jansson libcurl libcrypto
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) check 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) check 2>/dev/null)

# The one list of pure sources: compiled into the module and into the unit tests.
PURE_SRCS   := $(sort $(wildcard jwt/*.c auth/*.c))
UNIT_SRCS   := $(sort $(wildcard tests/unit/*.c))
SANITIZE    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter $(SANITIZE)
PYTEST      := /usr/bin/python3 -m pytest

APT_PKGS := apache2 apache2-dev libcjose-dev libjansson-dev libcurl4-openssl-dev libssl-dev \
            check pkg-config python3-pytest python3-pytest-xdist python3-requests python3-cryptography openssl faketime valgrind clang libclang-rt-14-dev redis-server memcached chromium nodejs npm glewlwyd

.PHONY: all module deps test unit check integration demo clean test-valgrind soak soak-short \
        fuzz fuzz-smoke perf-check bench install install-check

all: module

deps: .deps.stamp node_modules/.package-lock.json

# What only `make bench` needs: the load generator and the module it is compared with.
BENCH_PKGS := wrk libapache2-mod-auth-openidc

.deps.stamp: Makefile
	@missing=""; for p in $(APT_PKGS); do \
	    dpkg -s $$p >/dev/null 2>&1 || { command -v node >/dev/null && [ $$p = nodejs -o $$p = npm ]; } \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@touch $@

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

module: .deps.stamp
	$(MAKE) -f Makefile.apxs

.bench-deps.stamp: Makefile
	@missing=""; for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@touch $@

# Where apxs says modules and configuration live (evaluated when used: apxs comes with deps).
LIBEXECDIR = $(shell apxs -q LIBEXECDIR)
SYSCONFDIR = $(shell apxs -q SYSCONFDIR)
DOCDIR     = /usr/share/doc/mod-onelogin-oidc

# The module where apxs says, and Debian's mods-available/onelogin_oidc.{load,conf} so that
# `a2enmod onelogin_oidc` works. DESTDIR=/some/root stages it for a package. An existing .conf
# is left as the operator edited it.
install: module
	install -D -m 644 .libs/mod_onelogin_oidc.so $(DESTDIR)$(LIBEXECDIR)/mod_onelogin_oidc.so
	install -d $(DESTDIR)$(SYSCONFDIR)/mods-available $(DESTDIR)$(DOCDIR)
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|' conf/debian/onelogin_oidc.load \
	    > $(DESTDIR)$(SYSCONFDIR)/mods-available/onelogin_oidc.load
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mods-available/onelogin_oidc.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/mods-available/onelogin_oidc.conf"; \
	else \
	    install -m 644 conf/debian/onelogin_oidc.conf $(DESTDIR)$(SYSCONFDIR)/mods-available/; \
	fi
	install -m 644 conf/onelogin_oidc.conf conf/openmetadata.conf $(DESTDIR)$(DOCDIR)/
	@echo "installed; enable with: a2enmod onelogin_oidc && systemctl reload apache2"

# make install into a scratch root, then a2enmod and apache2ctl -t against a copy of
# /etc/apache2: what an operator does after `make install`, without touching this machine.
install-check: .deps.stamp module
	sh tests/install/run.sh

# wrk on loopback: no auth, mod_auth_openidc and this module, alternated; writes bench/RESULTS.md.
bench: deps module .bench-deps.stamp
	/usr/bin/python3 bench/run.py

tests/unit/suites.inc: $(UNIT_SRCS)
	@grep -ho 'Suite \*olo_suite_[a-z0-9_]\+' $(UNIT_SRCS) | sed 's/Suite \*olo_suite_\(.*\)/OLO_SUITE(\1)/' > $@

tests/unit/run: .deps.stamp tests/unit/suites.inc $(PURE_SRCS) $(UNIT_SRCS) $(wildcard jwt/*.h auth/*.h tests/unit/*.h)
	$(CC) $(UNIT_CFLAGS) $(APR_CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ \
	    $(UNIT_SRCS) $(PURE_SRCS) $(APR_LIBS) $(PKG_LIBS)

unit: tests/unit/run
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/unit/run

check: .deps.stamp
	sh tests/guards/run.sh

# Two workers, each taking whole files (their shared httpd and fixtures stay per file): many
# tests wait for a token's life to pass, and the other worker uses that time.
integration: module deps
	$(PYTEST) -q -n 2 --dist loadfile tests/integration

# Memory: no growth per request over a long run through one child (flat RSS).
soak-short: module deps
	/usr/bin/python3 tests/soak/soak.py --short

soak: module deps
	/usr/bin/python3 tests/soak/soak.py

# httpd and the module under valgrind memcheck for the main flows (a few minutes).
test-valgrind: module deps
	sh tests/valgrind/run.sh

# libFuzzer on every parser the outside reaches: a smoke run in make test, longer on demand.
fuzz-smoke: .deps.stamp
	sh tests/fuzz/run.sh smoke 5

fuzz: .deps.stamp
	sh tests/fuzz/run.sh full $(FUZZ_SECONDS)

# Instructions per authenticated request under callgrind, against a generous ceiling: a
# slow-down fails the build without any timing.
perf-check: .deps.stamp module
	/usr/bin/python3 tests/perf/callgrind.py

test: deps module unit check install-check fuzz-smoke integration perf-check soak-short

demo: deps module
	sh scripts/demo.sh

clean:
	$(MAKE) -f Makefile.apxs clean
	rm -f tests/unit/run tests/unit/suites.inc
	rm -rf tests/fuzz/build
