#!/usr/bin/env bash
# Installs what the tests need beyond the .NET SDK:
# - Debian's chromium, which the web page test (tests/FaceNetSharp.Server.Tests/PageTests.cs) drives through
#   Playwright. Playwright's own browser download does not work on these machines, so the test uses /usr/bin/chromium.
# - Debian's ffmpeg (ffmpeg + ffprobe), which `facenet video` decodes and encodes with (tests/FaceNetSharp.Tests/Video).
# Installs only what is missing; does nothing when both are there.
set -euo pipefail

missing=()
if [ -x /usr/bin/chromium ]; then
  echo "install-test-deps: chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n 1))"
else
  missing+=(chromium)
fi
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
  echo "install-test-deps: ffmpeg present ($(ffmpeg -hide_banner -version 2>/dev/null | head -n 1))"
else
  missing+=(ffmpeg)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: ${missing[*]} missing and this is not root (no sudo): the page/video tests will be skipped" >&2
    exit 0
  fi
fi

echo "install-test-deps: installing ${missing[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for m in "${missing[@]}"; do
  case "$m" in
    chromium) echo "install-test-deps: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)" ;;
    ffmpeg) echo "install-test-deps: $(ffmpeg -hide_banner -version 2>/dev/null | head -n 1)" ;;
  esac
done
