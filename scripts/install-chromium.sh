#!/usr/bin/env bash
# The browser of the browser tests: Debian's Chromium (Playwright drives it; it never
# downloads a browser of its own). Idempotent; needs root or sudo for apt-get.
set -euo pipefail
source "$(dirname "$0")/servers/lib/common.bash"
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium fonts-liberation fonts-dejavu-core
fi
/usr/bin/chromium --version 2>/dev/null
