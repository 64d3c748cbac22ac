#!/bin/bash
# install-deps.sh - installs, from Debian 12's archive, everything
# portcullis needs to build, run its demo and run its whole test suite.
# Used by the README's Quick start and by .ci/run.  Needs root.
set -euo pipefail

packages=(
	# build
	build-essential autoconf automake libtool pkg-config m4
	libmilter-dev libsasl2-dev libssl-dev libspf2-dev libsqlite3-dev
	libcmocka-dev libhiredis-dev
	# run and demo: Postfix with Cyrus SASL (sasldb)
	postfix sasl2-bin libsasl2-modules openssl
	# tests (redis-server: RateLimitBackend redis:// shared by two milters)
	swaks miltertest python3 procps iproute2 redis-server
	# firewall rules tests (network namespaces)
	nftables iptables ipset
	# portcullisd: HTTP server, JSON, DNS checks, curl and browser tests
	libevent-dev libjansson-dev dnsmasq-base dnsutils curl chromium nodejs
	# make bench: instructions per message (bench/instructions)
	valgrind
)

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
# Postfix asks a question on install; "No configuration" leaves
# /etc/postfix/main.cf alone: the demo and tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# npm for the browser test's playwright-core: Debian's package, unless
# the installed nodejs (e.g. NodeSource's, which conflicts with it)
# already brings npm.
command -v npm >/dev/null || apt-get install -y -q --no-install-recommends npm
