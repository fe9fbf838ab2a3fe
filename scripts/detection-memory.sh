#!/usr/bin/env bash
# Detection memory, as issue 9 measures it: peak RSS of `facenet detect` on 40-Mpx images, peak RSS of `facenet align`
# on twenty 1920x1080 frames, and managed bytes allocated per warm Detect on a ~2-Mpx photo (bench: detect-alloc).
# Makes its own test images (Debian's python3-opencv, numpy) in $WORK unless they are there.
# Usage: scripts/detection-memory.sh [FACENET_DLL] [BENCH_DLL]
#   defaults: this checkout's Release builds (src/FaceNetSharp.Cli, bench/FaceNetSharp.Bench; build them first).
set -euo pipefail
cd "$(dirname "$0")/.."
FACENET=${1:-src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll}
BENCH=${2:-bench/FaceNetSharp.Bench/bin/Release/net10.0/FaceNetSharp.Bench.dll}
WORK=${WORK:-${TMPDIR:-/tmp}/facenetsharp-detection-memory}
VIDEO=${VIDEO:-../shared/data/videos/facenet-pytorch/video.mp4}
PHOTO=${PHOTO:-../shared/data/faces/facenet-pytorch-test-images/data/multiface.jpg}
mkdir -p "$WORK"

if [ ! -f "$WORK/onecolour-6000x6600.png" ] || [ ! -f "$WORK/noisy-5400x7300.jpg" ] || [ ! -d "$WORK/frames/video" ]; then
  /usr/bin/python3 - "$WORK" "$PHOTO" "$VIDEO" <<'PY'
import os, sys
import cv2, numpy as np
work, photo, video = sys.argv[1:4]
# 39.6 Mpx, one colour: the 129 kB PNG of issue 9
cv2.imwrite(os.path.join(work, "onecolour-6000x6600.png"), np.full((6600, 6000, 3), (90, 140, 200), np.uint8))
# 39.4 Mpx photo-like: a real group photo enlarged, with noise (JPEG q90)
big = cv2.resize(cv2.imread(photo), (5400, 7300), interpolation=cv2.INTER_CUBIC)
noise = np.random.default_rng(1).normal(0, 12, big.shape).astype(np.int16)
cv2.imwrite(os.path.join(work, "noisy-5400x7300.jpg"), np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8),
            [cv2.IMWRITE_JPEG_QUALITY, 90])
os.makedirs(os.path.join(work, "frames", "video"), exist_ok=True)
cap = cv2.VideoCapture(video)
for i in range(20):
    ok, f = cap.read()
    assert ok, "video too short"
    cv2.imwrite(os.path.join(work, "frames", "video", f"frame_{i:04d}.jpg"), f, [cv2.IMWRITE_JPEG_QUALITY, 95])
PY
fi

peak() { # command... -> "peak_MB wall_s exit"
  /usr/bin/time -v "$@" > "$WORK/out.txt" 2> "$WORK/time.txt" && rc=0 || rc=$?
  kb=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $6}')
  wall=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $8}')
  echo "$((kb / 1024)) MB peak RSS, wall $wall, exit $rc"
}

echo "facenet detect, one-colour 6000x6600 PNG: $(peak dotnet "$FACENET" detect "$WORK/onecolour-6000x6600.png" --json)"
echo "facenet detect, noisy photo 5400x7300 JPEG: $(peak dotnet "$FACENET" detect "$WORK/noisy-5400x7300.jpg" --json)"
echo "  faces found: $(grep -o '"box"' "$WORK/out.txt" | wc -l)"
rm -rf "$WORK/aligned"
echo "facenet align, twenty 1920x1080 frames: $(peak dotnet "$FACENET" align "$WORK/frames" "$WORK/aligned")"
if [ -f "$BENCH" ]; then
  dotnet "$BENCH" detect-alloc "$WORK/frames/video/frame_0000.jpg"
else
  echo "(no $BENCH: build bench/FaceNetSharp.Bench for the allocation figure)"
fi
