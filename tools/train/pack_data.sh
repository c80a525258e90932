#!/usr/bin/env bash
# Packs what tools/train needs from the shared data folder into .device-data/ (git-ignored),
# to be carried to the GPU box. Usage (from the repo root):
#   bash tools/train/pack_data.sh [SHARED_DATA_DIR]   (default /work/shared/data)
# Output (~45 MB): .device-data/pretrain/*.jsonl.xz (recompressed with xz -9),
#                  .device-data/beir.tar.xz (corpus, queries, qrels of every BEIR folder).
set -euo pipefail
SRC=${1:-/work/shared/data}
DST=.device-data
LIMIT_MB=${LIMIT_MB:-55}
mkdir -p "$DST/pretrain"
for f in "$SRC"/pretrain/*.jsonl.gz; do
  b=$(basename "$f" .gz)
  if [ ! -s "$DST/pretrain/$b.xz" ] || [ "$f" -nt "$DST/pretrain/$b.xz" ]; then
    echo "recompressing $b"
    zcat "$f" | nice -n 10 xz -9e -T2 -c > "$DST/pretrain/$b.xz.tmp"
    mv "$DST/pretrain/$b.xz.tmp" "$DST/pretrain/$b.xz"
  fi
done
echo "packing beir"
tar -C "$SRC" -cf - beir | nice -n 10 xz -9e -T2 -c > "$DST/beir.tar.xz.tmp"
mv "$DST/beir.tar.xz.tmp" "$DST/beir.tar.xz"
du -ab "$DST"
total=$(du -sb "$DST" | cut -f1)
echo "total $((total / 1000000)) MB"
if [ "$total" -gt $((LIMIT_MB * 1000000)) ]; then
  echo "WARNING: $DST is over $LIMIT_MB MB" >&2
  exit 1
fi
