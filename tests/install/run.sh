#!/bin/sh
# make install-check: what an operator does on Debian after `make install`, in a scratch
# directory so this machine's Apache is left alone:
#   1. make install DESTDIR=<scratch>: the module where apxs says, mods-available/*.load/.conf;
#   2. a copy of /etc/apache2 with those files, `a2enmod onelogin_oidc` against it
#      (APACHE_CONFDIR): the module and the cache provider it depends on are enabled;
#   3. `apache2ctl -t` and `-M` on that copy: the configuration loads the installed module;
#   4. a bad directive value in a site makes `apache2ctl -t` fail naming the directive.
# Exit status 0 when all hold; the last line says "install-check: passed" or what failed.
set -eu
cd "$(dirname "$0")/../.."

fail() { echo "install-check: FAILED: $*" >&2; exit 1; }
for need in apxs a2enmod apache2ctl; do
    command -v "$need" >/dev/null 2>&1 || fail "$need is missing (apt-get install apache2 apache2-dev)"
done
[ -d /etc/apache2/mods-available ] || fail "/etc/apache2 is not Debian's layout"

scratch=$(mktemp -d /tmp/olo-install-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
root=$scratch/root
confdir=$scratch/etc/apache2-olo
libexec=$(apxs -q LIBEXECDIR)
sysconf=$(apxs -q SYSCONFDIR)

# 1. The staged install.
make -s install DESTDIR="$root" >/dev/null
for f in "$libexec/mod_onelogin_oidc.so" "$sysconf/mods-available/onelogin_oidc.load" \
         "$sysconf/mods-available/onelogin_oidc.conf"; do
    [ -s "$root$f" ] || fail "make install did not write $f"
done
grep -q "^LoadModule onelogin_oidc_module $libexec/mod_onelogin_oidc.so$" \
    "$root$sysconf/mods-available/onelogin_oidc.load" \
    || fail "onelogin_oidc.load does not load $libexec/mod_onelogin_oidc.so"

# 2. a2enmod against a copy of the system configuration, the .load pointing at the staged .so.
mkdir -p "$(dirname "$confdir")"
cp -a /etc/apache2 "$confdir"
rm -f "$confdir/mods-enabled/onelogin_oidc."* "$confdir/mods-enabled/socache_shmcb.load"
sed "s|$libexec/mod_onelogin_oidc.so|$root$libexec/mod_onelogin_oidc.so|" \
    "$root$sysconf/mods-available/onelogin_oidc.load" > "$confdir/mods-available/onelogin_oidc.load"
cp "$root$sysconf/mods-available/onelogin_oidc.conf" "$confdir/mods-available/"
APACHE_CONFDIR=$confdir a2enmod -q onelogin_oidc >/dev/null
for link in onelogin_oidc.load onelogin_oidc.conf socache_shmcb.load; do
    [ -L "$confdir/mods-enabled/$link" ] || fail "a2enmod onelogin_oidc did not enable $link"
done

# 3. The configuration loads the module. apache2ctl wants its run directory for this suffix.
suffix=${confdir##*/apache2}
mkdir -p "/var/run/apache2$suffix" "/var/lock/apache2$suffix" "/var/log/apache2$suffix"
out=$(APACHE_CONFDIR=$confdir apache2ctl -t 2>&1) || fail "apache2ctl -t: $out"
modules=$(APACHE_CONFDIR=$confdir apache2ctl -M 2>/dev/null)
echo "$modules" | grep -q "onelogin_oidc_module" || fail "apache2ctl -M does not list onelogin_oidc_module"

# 4. A site with a bad value is refused, and the message names the directive.
cat > "$confdir/sites-enabled/zz-olo-bad.conf" <<'EOF'
<VirtualHost *:80>
    OneLoginIssuer http://not-https.example.com/oidc/2
</VirtualHost>
EOF
if out=$(APACHE_CONFDIR=$confdir apache2ctl -t 2>&1); then
    fail "apache2ctl -t accepted OneLoginIssuer http://..."
fi
echo "$out" | grep -q "OneLoginIssuer" || fail "the error does not name OneLoginIssuer: $out"
rm -rf "/var/run/apache2$suffix" "/var/lock/apache2$suffix" "/var/log/apache2$suffix"

echo "install-check: passed (make install, a2enmod onelogin_oidc, apache2ctl -t/-M, a bad value refused)"
