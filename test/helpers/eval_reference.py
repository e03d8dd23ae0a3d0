#!/usr/bin/python3
"""Independent NumPy reference for lib/eval/metrics.ts (read by test/eval-metrics.test.ts).

Input (stdin, JSON): {"scores": [[...], ...], "relevant": [[...], ...], "ks": [...],
                      "pos": [...], "neg": [...], "refs": [[...], ...], "image_cos": [...]}
Output (stdout, JSON): ranks, recall, median/mean rank, mAP, CLIP-S, RefCLIP-S, ROC-AUC.
Ranking: np.argsort(-scores, kind="stable") — descending, ties by lower index.
"""
import json
import sys

import numpy as np

data = json.load(sys.stdin)
S = np.asarray(data["scores"], dtype=np.float32)
order = np.argsort(-S, axis=1, kind="stable")
position = np.empty_like(order)
rows = np.arange(S.shape[0])[:, None]
position[rows, order] = np.arange(1, S.shape[1] + 1)[None, :]

ranks, aps = [], []
for q, rel in enumerate(data["relevant"]):
    pos = np.sort(position[q, sorted(set(rel))])
    ranks.append(int(pos[0]))
    aps.append(float(np.mean(np.arange(1, len(pos) + 1) / pos)))
ranks = np.asarray(ranks)
out = {
    "ranks": ranks.tolist(),
    "recall": {str(k): float(np.mean(ranks <= k)) for k in data["ks"]},
    "medianRank": float(np.median(ranks)),
    "meanRank": float(np.mean(ranks)),
    "mAP": float(np.mean(aps)),
}
cos = np.asarray(data["image_cos"], dtype=np.float64)
clip = 2.5 * np.maximum(cos, 0)
ref = np.maximum(np.asarray([max(r) for r in data["refs"]], dtype=np.float64), 0)
with np.errstate(invalid="ignore", divide="ignore"):
    refclip = np.where(clip + ref > 0, 2 * clip * ref / (clip + ref), 0.0)
out["clipScore"] = clip.tolist()
out["refClipScore"] = refclip.tolist()
# ROC-AUC by the Mann-Whitney statistic: P(pos > neg) + 0.5 P(pos == neg).
pos = np.asarray(data["pos"], dtype=np.float64)[:, None]
neg = np.asarray(data["neg"], dtype=np.float64)[None, :]
out["rocAuc"] = float(np.mean((pos > neg) + 0.5 * (pos == neg)))
json.dump(out, sys.stdout)
