#!/usr/bin/env bash
# One-shot GPU sweep for archcalc bench (issue 13): the 11 CPU-sweep networks plus vgg16 and
# resnet152, batches 1, 8, 32, 128, float32 and bfloat16, inference then --train, on one GPU.
# Everything lands under $OUT/bench/ (JSON + CSV after every row, the measured device profile,
# the log); a phase that overruns its time limit is killed and what it measured is kept
# (`--resume` continues it). Test it on CPU first:
#
#   OUT=/tmp/gs DEVICE=cpu NETS="resnet18 squeezenet1_0" BATCHES=1,2 DTYPES=float32 bash benchmarks/gpu_sweep.sh
#
# Then, on the GPU machine, from the repository root:   OUT=$OUT bash benchmarks/gpu_sweep.sh
set -uo pipefail

OUT=${OUT:?set OUT to the folder that comes back}
DEVICE=${DEVICE:-cuda}
NETS=${NETS:-"alexnet vgg11 vgg16 googlenet resnet18 resnet50 resnet152 densenet121 mobilenet_v2 squeezenet1_0 shufflenet_v2_x1_0 efficientnet_b0 mnasnet1_0"}
BATCHES=${BATCHES:-1,8,32,128}
DTYPES=${DTYPES:-float32,bfloat16}
PEAK_S=${PEAK_S:-90}      # time limit of the microbenchmarks (device profile), seconds
INFER_S=${INFER_S:-200}   # time limit of the inference phase
TRAIN_S=${TRAIN_S:-200}   # time limit of the training phase
BUDGET=${BUDGET:-1.5}     # timed seconds per row at most (the median usually settles sooner)

mkdir -p "$OUT/bench"
export ARCHCALC_CACHE_DIR="$OUT/bench"   # the microbenchmarked profile is written here
export PYTHONUNBUFFERED=1
NAME=$(python - "$DEVICE" <<'PY'
import re, sys
import torch
from archcalc.torch.bench import device_name
dev = sys.argv[1]
name = device_name("cuda:0" if dev == "cuda" else dev)
print(("" if dev.startswith("cuda") else "cpu-") + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
PY
) || { echo "no device: $DEVICE" >&2; exit 2; }
RESULT="$OUT/bench/$NAME.json"
LOG="$OUT/bench/$NAME.log"
echo "sweep -> $RESULT (log $LOG)"
{ nvidia-smi 2>/dev/null || true; } > "$LOG"

common=(--device "$DEVICE" --batch "$BATCHES" --dtype "$DTYPES" --budget "$BUDGET" --output "$RESULT")
# the device profile (matmul, copy, overhead, conv classes, pooling), cached in $ARCHCALC_CACHE_DIR
timeout --signal=INT --kill-after=20 "$PEAK_S" python -m archcalc bench --measure-peak --device "$DEVICE" --dtype "$DTYPES" \
    2>&1 | tee -a "$LOG"
start=$(date +%s)
timeout --signal=INT --kill-after=20 "$INFER_S" python -m archcalc bench $NETS "${common[@]}" --resume --format csv \
    >> "$LOG" 2>&1
echo "inference phase: exit $? after $(( $(date +%s) - start )) s" | tee -a "$LOG"
mid=$(date +%s)
timeout --signal=INT --kill-after=20 "$TRAIN_S" python -m archcalc bench $NETS "${common[@]}" --train --resume --format csv \
    >> "$LOG" 2>&1
echo "training phase: exit $? after $(( $(date +%s) - mid )) s" | tee -a "$LOG"
python - "$RESULT" <<'PY' | tee -a "$LOG"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["results"]
print(f"{len(rows)} rows: " + ", ".join(f"{s} {sum(r['status'] == s for r in rows)}" for s in sorted({r['status'] for r in rows})))
for mode in (False, True):
    from archcalc.torch.bench import summary
    s = summary([r for r in rows if r["train"] is mode])
    for k in ("prediction", "roofline", "macs_baseline"):
        if k in s:
            print(f"{'train' if mode else 'infer'} {k}: median |error| {s[k]['median_abs_error']:.0%}, Spearman {s[k]['spearman']:.3f} ({s['rows']} rows)")
PY
