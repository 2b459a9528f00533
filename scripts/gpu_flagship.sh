#!/usr/bin/env bash
# The flagship Moving MNIST run on one CUDA GPU, in two calls of the device tool:
#   bash scripts/gpu_flagship.sh smoke   # ~2.5 min: GPU-only errors, and a 25-second race of three recipes
#   bash scripts/gpu_flagship.sh real    # ~8 min: train under a wall-clock budget, evaluate, benchmark
# The defaults are the recipe of the bundled checkpoint (checkpoints/moving-mnist).
# Writes at most 8 files to $OUT (the device tool's limit). Override the recipe with RECIPE="...".
set -uo pipefail
export PYTHONUNBUFFERED=1
mode=${1:?smoke or real}
out=${OUT:-/tmp/out}
mkdir -p "$out"
minutes=${MINUTES:-5.5}
# Autoregressive models use per-channel peepholes: spatial ones push the fp16 weights past 16 MB.
recipe=${RECIPE:-"--autoregressive --peephole channel --loss mse --hidden-channels 128 64 64 --batch-size 128 --lr 1.5e-3"}
fast="--compile gates --save-dtype float16 --eval-every 500 --eval-sequences 500 --log-every 50 --no-progress-bar"

nvidia-smi --query-gpu=name,memory.total,clocks.sm --format=csv,noheader
python3 -c "import torch, huggingface_hub, safetensors, cv2; print('torch', torch.__version__, 'hub', huggingface_hub.__version__)"

if [ "$mode" = smoke ]; then
    # The recipe race: the paper's forecaster (no input) against the autoregressive one, each loss,
    # 25 s each at full size with the fast loop. Also catches GPU-only errors before the real run.
    for entry in "paper-bce:--loss bce" "ar-bce:--autoregressive --peephole channel --loss bce" \
                 "ar-mse:--autoregressive --peephole channel --loss mse"; do
        name=${entry%%:*}
        python3 -m convlstm.train --out /tmp/race-$name ${entry#*:} --hidden-channels 128 64 64 \
            --batch-size 128 --lr 1.5e-3 $fast --max-minutes 0.42 --eval-sequences 256 2>&1 \
            | tee -a "$out/smoke.log" | tail -n 3
    done
    python3 -m convlstm.evaluate --model /tmp/race-ar-bce/best --n 200 --out /tmp/smoke-eval.json 2>&1 \
        | tee -a "$out/smoke.log"
    python3 - <<'PY'
import json
print("| recipe | steps | sequences/s | val MSE/frame | val BCE/seq |\n|---|---|---|---|---|")
for name in ("paper-bce", "ar-bce", "ar-mse"):
    m = json.load(open(f"/tmp/race-{name}/metrics.json"))
    print(f"| {name} | {m['steps']} | {m['sequences_per_s']:.0f} | {m['best']['val_mse']:.1f} | {m['best']['val_bce']:.0f} |")
PY
    exit 0
fi

run=/tmp/flagship
python3 -m convlstm.train --out $run $recipe $fast --max-minutes "$minutes" 2>&1 | tee "$out/train.log"
cp $run/best/config.json $run/best/model.safetensors $run/log.jsonl "$out/"
cp $run/metrics.json "$out/train_metrics.json"
python3 -m convlstm.evaluate --model $run/best --out /tmp/eval.json 2>&1 | tee -a "$out/train.log"
cp /tmp/eval.json "$out/eval.json"
python3 -m convlstm.evaluate --model $run/best --digits 3 --n 1000 --no-baselines --out /tmp/eval3.json \
    2>&1 | tee -a "$out/train.log"
cp /tmp/eval3.json "$out/eval_3digits.json"
python3 -m benchmarks.bench_gpu --seconds 2.5 --json "$out/bench.json" 2>&1 | tee -a "$out/train.log"
