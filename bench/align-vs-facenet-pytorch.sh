#!/usr/bin/env bash
# `facenet align` next to facenet-pytorch's MTCNN (issue 13's anchor), in one run, alternating, REPS times:
#   - 300 raw LFW photos (250x250; the two in ../shared/data/faces/facenet-sandberg, 150 copies each, in LFW's
#     Name/Name_NNNN.jpg layout): anchor batched by 16; ours `facenet align --image-size 160 --margin 32`.
#   - a 1920x1080 frame with 6 faces (facenet-pytorch's multiface.jpg scaled to 1920x1080, bicubic), 20 copies:
#     anchor keep_all=True one frame per call; ours the same with --detect-multiple-faces.
# The anchor is timed in-process after a warm-up, model load excluded (bench/align-anchor/align_anchor.py, Debian's
# python3-torch); ours is the whole process, start-up and PNG writes included, with its peak RSS (/usr/bin/time).
# Prints the ratios first (ours img/s / anchor img/s of the same repetition; and CPU time per image, which a busy
# machine disturbs less), then every figure and the load average.
# Usage: bench/align-vs-facenet-pytorch.sh [FACENET_DLL]   (env: REPS=3 THREADS=2 WORK=/tmp/... ANCHOR=... EXTRA="...")
#   FACENET_DLL defaults to this checkout's Release build of src/FaceNetSharp.Cli (build it first).
set -euo pipefail
cd "$(dirname "$0")/.."
FACENET=${1:-src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll}
SHARED=${SHARED:-../shared}
ANCHOR=${ANCHOR:-$SHARED/anchors/facenet-pytorch}
WORK=${WORK:-${TMPDIR:-/tmp}/facenetsharp-align-bench}
REPS=${REPS:-3}
THREADS=${THREADS:-2}
EXTRA=${EXTRA:-}   # extra flags for our align runs (e.g. "--workers 1")
LFW_SRC=$SHARED/data/faces/facenet-sandberg/data/images
PHOTO=$SHARED/data/faces/facenet-pytorch-test-images/data/multiface.jpg
[ -f "$FACENET" ] || { echo "no $FACENET: dotnet build src/FaceNetSharp.Cli -c Release" >&2; exit 2; }
[ -d "$LFW_SRC" ] && [ -f "$PHOTO" ] || { echo "needs $LFW_SRC and $PHOTO (../shared/data)" >&2; exit 2; }

# the photos
if [ ! -f "$WORK/ready" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK/lfw" "$WORK/frames/frame"
  for i in $(seq 1 150); do
    d="$WORK/lfw/Person_$(printf %03d "$i")"; mkdir -p "$d"
    cp "$LFW_SRC/Anthony_Hopkins_0001.jpg" "$d/$(basename "$d")_0001.jpg"
    cp "$LFW_SRC/Anthony_Hopkins_0002.jpg" "$d/$(basename "$d")_0002.jpg"
  done
  ffmpeg -loglevel error -y -i "$PHOTO" -vf scale=1920:1080:flags=bicubic -q:v 2 "$WORK/frame-1920x1080.jpg"
  for i in $(seq 1 20); do cp "$WORK/frame-1920x1080.jpg" "$WORK/frames/frame/frame_$(printf %03d "$i").jpg"; done
  touch "$WORK/ready"
fi
N_LFW=$(find "$WORK/lfw" -name '*.jpg' | wc -l); N_FRAMES=$(find "$WORK/frames" -name '*.jpg' | wc -l)

have_anchor=1
if ! /usr/bin/python3 -c "import torch, torchvision, PIL" 2>/dev/null; then
  have_anchor=0; echo "anchor skipped: Debian's python3-torch, python3-torchvision, python3-pil are not installed" >&2
elif [ ! -d "$ANCHOR/facenet_pytorch" ]; then
  have_anchor=0; echo "anchor skipped: no facenet-pytorch code and weights at $ANCHOR" >&2
fi

ours() { # INPUT FLAGS... -> "img/s peak_MB chips cpu_ms_per_img"
  local in=$1; shift
  rm -rf "$WORK/out"
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" dotnet "$FACENET" align "$in" "$WORK/out" --image-size 160 --margin 32 $EXTRA "$@" \
    > "$WORK/ours.log" 2>&1 || { echo "facenet align failed:" >&2; tail -5 "$WORK/ours.log" >&2; exit 1; }
  local n; n=$(find "$in" -name '*.jpg' | wc -l)
  read -r wall kb user sys < "$WORK/time.txt"
  echo "$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.1f", n / w}') $((kb / 1024)) $(find "$WORK/out" -name '*.png' | wc -l) $(awk -v n="$n" -v u="$user" -v s="$sys" 'BEGIN{printf "%.1f", 1000 * (u + s) / n}')"
}

declare -a R_LFW R_FRAME C_LFW C_FRAME LINES
for rep in $(seq 1 "$REPS"); do
  a_lfw=""; a_frame=""; a_faces=""; a_mb=""
  if [ $have_anchor = 1 ]; then
    echo "rep $rep: anchor" >&2
    # OMP_WAIT_POLICY=PASSIVE: torch's OpenMP threads otherwise spin while they wait, which on a busy machine costs
    # the anchor far more than its work (../shared/docs/STACK.md); passive waiting only helps it.
    j=$(OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/align-anchor/align_anchor.py "$ANCHOR" "$WORK/lfw" "$WORK/frames" "$THREADS")
    a_lfw=$(echo "$j" | sed 's/.*"lfw_img_s": \([0-9.]*\).*/\1/'); a_frame=$(echo "$j" | sed 's/.*"frame_img_s": \([0-9.]*\).*/\1/')
    a_faces=$(echo "$j" | sed 's/.*"frame_faces": \([0-9]*\).*/\1/'); a_mb=$(echo "$j" | sed 's/.*"peak_rss_mb": \([0-9.]*\).*/\1/')
    a_lfw_cpu=$(echo "$j" | sed 's/.*"lfw_cpu_ms_per_img": \([0-9.]*\).*/\1/'); a_frame_cpu=$(echo "$j" | sed 's/.*"frame_cpu_ms_per_img": \([0-9.]*\).*/\1/')
  fi
  echo "rep $rep: ours" >&2
  read -r o_lfw o_lfw_mb o_lfw_n o_lfw_cpu <<< "$(ours "$WORK/lfw")"
  read -r o_frame o_frame_mb o_frame_n o_frame_cpu <<< "$(ours "$WORK/frames" --detect-multiple-faces)"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  if [ $have_anchor = 1 ]; then
    R_LFW+=("$(awk -v o="$o_lfw" -v a="$a_lfw" 'BEGIN{printf "%.2f", o / a}')")
    R_FRAME+=("$(awk -v o="$o_frame" -v a="$a_frame" 'BEGIN{printf "%.2f", o / a}')")
    C_LFW+=("$(awk -v o="$o_lfw_cpu" -v a="$a_lfw_cpu" 'BEGIN{printf "%.2f", a / o}')")
    C_FRAME+=("$(awk -v o="$o_frame_cpu" -v a="$a_frame_cpu" 'BEGIN{printf "%.2f", a / o}')")
    LINES+=("rep $rep  load $load  250x250: ours $o_lfw img/s ($o_lfw_cpu CPU-ms/img, peak $o_lfw_mb MB, $o_lfw_n crops), anchor $(printf %.1f "$a_lfw") img/s ($(printf %.1f "$a_lfw_cpu") CPU-ms/img)  |  1080p: ours $o_frame img/s ($o_frame_cpu CPU-ms/img, peak $o_frame_mb MB, $((o_frame_n / N_FRAMES)) faces/frame), anchor $(printf %.2f "$a_frame") img/s ($(printf %.0f "$a_frame_cpu") CPU-ms/img, $a_faces faces, peak $(printf %.0f "$a_mb") MB)")
  else
    LINES+=("rep $rep  load $load  250x250: ours $o_lfw img/s ($o_lfw_cpu CPU-ms/img, peak $o_lfw_mb MB, $o_lfw_n crops)  |  1080p: ours $o_frame img/s ($o_frame_cpu CPU-ms/img, peak $o_frame_mb MB, $((o_frame_n / N_FRAMES)) faces/frame)")
  fi
  echo "${LINES[-1]}" >&2
done

range() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{printf "%sx-%sx (median %sx)", v[1], v[NR], v[int((NR+1)/2)]}'; }
echo "facenet align vs facenet-pytorch MTCNN ($THREADS threads), $(nproc) cores, $N_LFW LFW photos, $N_FRAMES 1080p frames, $REPS reps"
if [ $have_anchor = 1 ]; then
  echo "ratio 250x250 (ours / anchor batched by 16): $(range "${R_LFW[@]}")"
  echo "ratio 1920x1080, 6 faces (ours / anchor):    $(range "${R_FRAME[@]}")"
  echo "CPU time per image, anchor / ours (ours whole process, start-up included): 250x250 $(range "${C_LFW[@]}"), 1080p $(range "${C_FRAME[@]}")"
fi
printf '%s\n' "${LINES[@]}"
