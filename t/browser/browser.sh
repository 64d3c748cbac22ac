#!/bin/bash
# browser.sh - the sign-up page in a real browser: Debian's headless
# Chromium driven by playwright-core (installed from npm into the build
# tree on first run).  Screenshots of each page are kept in
# $top_builddir/t/browser/screenshots.  Skips (77) only when chromium or
# node/npm are not installed; contrib/install-deps.sh installs them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../http/lib.sh"
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm are not installed"; exit 77; }
http_setup browser
sasl_setup
PORT=13130
work=$top_builddir/t/browser
mkdir -p "$work/screenshots"
rm -f "$work/screenshots"/*.png
if [ "$here" != "$work" ] || [ ! -f "$work/package.json" ]; then
	cp "$here/package.json" "$here/signup.mjs" "$work/"
fi
if [ ! -d "$work/node_modules/playwright-core" ]; then
	(cd "$work" && timeout 300 npm install --no-audit --no-fund --loglevel=error) ||
	    { echo "FAIL: npm install playwright-core"; exit 1; }
fi
cat >"$dir/d.conf" <<CONF
Database $dir/registry.db
Listen 127.0.0.1:$PORT
SubscriberNetworks 192.0.2.0/24
DynamicPools 192.0.2.128/25
TrustedProxies 127.0.0.1
SASLConfigPath $dir/sasl
OwnershipCheck source-address
RequirePTR no
ContactAddress port25@isp.example
RuleFormat plain
RuleFile $dir/egress.rules
CONF
daemon_start "$dir/d.conf" $PORT
cd "$work" && URL=http://127.0.0.1:$PORT SHOTS=$work/screenshots timeout 120 node signup.mjs
rc=$?
ls "$work/screenshots"
exit $rc
