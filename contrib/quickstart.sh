#!/bin/bash
# quickstart.sh - the README's first command: on a fresh Debian 12 machine,
# as root, install what portcullis needs, build it, and start the demo
# gateway on loopback (Postfix on the submission port with
# portcullis-milter, Cyrus SASL with a demo account, and portcullisd's
# sign-up page and API).  It ends by printing how to try it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash contrib/install-deps.sh
autoreconf -fi >/dev/null
mkdir -p build/release
(cd build/release && "$top/configure" -q && make -s -j"$(nproc)")
PORTCULLIS_MILTER=$top/build/release/src/milter/portcullis-milter \
PORTCULLISD=$top/build/release/src/daemon/portcullisd \
PORTCULLISCTL=$top/build/release/src/ctl/portcullisctl \
	exec bash contrib/demo/portcullis-demo.sh start
