#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium through its chromedriver; no tool may download
# a browser of its own. Install them when missing and we can (root with apt), else say how.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "e2e: installing Debian's chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  exit 0
fi
echo "e2e: the end-to-end tests need /usr/bin/chromium and /usr/bin/chromedriver;" \
  "install them with: sudo apt-get install chromium chromium-driver" >&2
exit 1
