#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/test_serve_browser.py drives it with Playwright).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never downloads a browser build of
# its own (no `playwright install`): Playwright launches this executable.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
