#!/usr/bin/env bash
# Installs what the tests need beyond the .NET SDK: Debian's chromium, which the web page test
# (tests/FaceNetSharp.Server.Tests/PageTests.cs) drives through Playwright. Playwright's own browser download does not
# work on these machines, so the test uses /usr/bin/chromium. Does nothing when chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-test-deps: chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n 1))"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: chromium is missing and this is not root (no sudo): the page test will be skipped" >&2
    exit 0
  fi
fi

echo "install-test-deps: installing chromium with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
echo "install-test-deps: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
