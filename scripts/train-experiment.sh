#!/usr/bin/env bash
# Does training learn? The held-out experiment of the training issue, run as a user would run the CLI.
# kz-celebs-talgin (../shared/data/faces/kz-celebs-talgin/our_dataset, 25 people) is split by identity: the 20
# alphabetically first people train, the 5 last are held out. Both parts are re-aligned onto MobileFaceNet's ArcFace
# template (the crops are not on it), a pairs file is made among the held-out people (10 folds x 15 same + 15
# different, seeded), then: the pretrained MobileFaceNet's accuracy on those pairs (baseline), fine-tuning it, and
# training the same network from scratch, and triplet fine-tuning, each evaluated on the held-out pairs after every epoch.
# Results: artifacts/train-experiment/ (logs, pairs, results.md). Usage: bash scripts/train-experiment.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
data=../shared/data/faces/kz-celebs-talgin/our_dataset
out=artifacts/train-experiment
[ -d "$data" ] || { echo "needs $data"; exit 2; }
rm -rf "$out"; mkdir -p "$out/raw-train" "$out/raw-heldout"
dotnet build src/FaceNetSharp.Cli -c Release -v quiet -nologo
facenet() { dotnet src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll "$@"; }

mapfile -t people < <(ls "$data" | sort)
for i in "${!people[@]}"; do
  if [ "$i" -lt 20 ]; then ln -s "$(realpath "$data/${people[$i]}")" "$out/raw-train/${people[$i]}"
  else ln -s "$(realpath "$data/${people[$i]}")" "$out/raw-heldout/${people[$i]}"; fi
done
facenet align "$out/raw-train" "$out/train" --mode similarity --template arcface112 > "$out/align-train.log" || true
facenet align "$out/raw-heldout" "$out/heldout" --mode similarity --template arcface112 > "$out/align-heldout.log" || true

# Pairs among the held-out people, from the images that aligned: 10 folds x (15 same + 15 different).
python3 - "$out/heldout" "$out/pairs.txt" <<'PY'
import os, random, sys
root, dest = sys.argv[1], sys.argv[2]
rng = random.Random(1)
imgs = {p: sorted(int(f.rsplit('_', 1)[1].split('.')[0]) for f in os.listdir(os.path.join(root, p)) if f.endswith('.png'))
        for p in sorted(os.listdir(root)) if os.path.isdir(os.path.join(root, p))}
people = [p for p in imgs if len(imgs[p]) >= 2]
lines = ["10 15"]
for fold in range(10):
    for _ in range(15):
        p = rng.choice(people); a, b = rng.sample(imgs[p], 2); lines.append(f"{p}\t{a}\t{b}")
    for _ in range(15):
        p, q = rng.sample(people, 2); lines.append(f"{p}\t{rng.choice(imgs[p])}\t{q}\t{rng.choice(imgs[q])}")
open(dest, "w").write("\n".join(lines) + "\n")
PY

facenet validate "$out/heldout" --pairs "$out/pairs.txt" --distance-metric 1 --report "$out/baseline.json" > "$out/baseline.log"

# flags shared by the three runs; the softmax runs add their batch and epoch sizes, the triplet run its own
common=(--data-dir "$out/train" --model-def mobilefacenet --image-size 112 --embedding-size 192
        --max-nrof-epochs "$epochs" --use-fixed-image-standardization --random-flip
        --lfw-dir "$out/heldout" --lfw-pairs "$out/pairs.txt" --lfw-distance-metric 1
        --logs-base-dir "$out/logs" --seed 1)
softmax=(--batch-size 32 --epoch-size 56)
pretrained="${FACENETSHARP_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/facenetsharp/models}/mobilefacenet.onnx"
timed() { /usr/bin/time -v dotnet src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll "$@"; }   # peak memory in the log
timed train softmax "${common[@]}" "${softmax[@]}" --models-base-dir "$out/finetune" --optimizer ADAM --learning-rate 0.0005 \
  --pretrained-model "$pretrained" > "$out/finetune.log" 2>&1
timed train softmax "${common[@]}" "${softmax[@]}" --models-base-dir "$out/scratch" --optimizer ADAM --learning-rate 0.001 \
  > "$out/scratch.log" 2>&1
# triplet fine-tuning (facenet's train_tripletloss.py selection) from the same pretrained weights
timed train triplet "${common[@]}" --batch-size 30 --people-per-batch 15 --images-per-person 10 --alpha 0.2 --epoch-size 30 \
  --models-base-dir "$out/triplet" --optimizer ADAM --learning-rate 0.0001 --pretrained-model "$pretrained" \
  > "$out/triplet.log" 2>&1
{
  echo "# Held-out verification on 5 unseen kz-celebs people ($(date -u +%F))"
  echo
  echo "Baseline, pretrained MobileFaceNet: $(grep -o 'Accuracy: [0-9.+-]*' "$out/baseline.log")"
  for run in finetune scratch triplet; do
    echo
    echo "## $run"
    grep '^Epoch' "$out/$run.log" || true
    echo
    grep 'Maximum resident' "$out/$run.log" || true
  done
} > "$out/results.md"
cat "$out/results.md"
