#!/usr/bin/env bash
# The whole training pipeline in one command, on the GPU box (or anywhere), from the repo root:
#
#   OUT=<dir> [BUDGET=510] [PRESET=device] bash tools/train/run_device.sh [extra train.py flags]
#
# Needs .device-data/ (made by tools/train/pack_data.sh) next to the working tree.
# Writes to $OUT at most 8 files, each < 16 MiB:
#   train.log, hf-check.log, hf-check.json, metrics.json, output.tar.part-00, -01 (split tar of
#   output/: contriever-mini/, experts/, pilot-library.json, metrics.json, per-query.json, splits.json)
# Reassemble with:  cat output.tar.part-* | tar -xf -
set -uo pipefail
T0=$(date +%s)
: "${OUT:?set OUT to the results folder}"
BUDGET=${BUDGET:-510}           # seconds for everything below
PRESET=${PRESET:-device}
WORK=${WORK:-/tmp/rr-train}
PY=${PY:-python3}
HF_CHECK_S=${HF_CHECK_S:-60}
WORKERS=${WORKERS:-$(( $(nproc) < 16 ? $(nproc) : 16 ))}
mkdir -p "$OUT" "$WORK/data/pretrain"
LOG="$OUT/train.log"
{
  echo "== $(date -u +%FT%TZ) budget ${BUDGET}s preset ${PRESET} workers ${WORKERS}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PY -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
  echo "cpus $(nproc)"
} >> "$LOG" 2>&1

# data: the pretrain .xz files are read in place; BEIR is unpacked
for f in .device-data/pretrain/*; do ln -sf "$PWD/$f" "$WORK/data/pretrain/"; done
tar -xJf .device-data/beir.tar.xz -C "$WORK/data" >> "$LOG" 2>&1
EL=$(( $(date +%s) - T0 ))
DEADLINE=$(( BUDGET - EL - HF_CHECK_S - 15 ))
echo "== unpacked in ${EL}s; train.py deadline ${DEADLINE}s" | tee -a "$LOG"

timeout "$(( DEADLINE + 40 ))" $PY -u tools/train/train.py --preset "$PRESET" --data "$WORK/data" --out "$WORK/output" \
    --cache "$WORK/token-cache" --workers "$WORKERS" --deadline-seconds "$DEADLINE" "$@" 2>&1 | tee -a "$LOG"
RC=${PIPESTATUS[0]}
echo "== train.py rc=$RC at $(( $(date +%s) - T0 ))s" | tee -a "$LOG"

# independent check with transformers + peft; never allowed to lose the trained model
if [ -d "$WORK/output/contriever-mini" ]; then
  timeout "$HF_CHECK_S" $PY -u tools/train/hf_check.py --model-root "$WORK/output" --data "$WORK/data" \
      --out-json "$OUT/hf-check.json" > "$OUT/hf-check.log" 2>&1
  echo "== hf_check rc=$? at $(( $(date +%s) - T0 ))s" | tee -a "$LOG"
  grep '^\[hf-check\]' "$OUT/hf-check.log" | cut -c1-600
fi

[ -f "$WORK/output/metrics.json" ] && cp "$WORK/output/metrics.json" "$OUT/"
cp "$LOG" "$WORK/output/train.log" 2>/dev/null
tar -C "$WORK" -cf - output | split -b 15M -d -a 2 - "$OUT/output.tar.part-"
echo "== done at $(( $(date +%s) - T0 ))s"; ls -la "$OUT"
grep -E 'eval |average|expert |pilot' "$LOG" | cut -c1-400 | tail -25
exit $RC
