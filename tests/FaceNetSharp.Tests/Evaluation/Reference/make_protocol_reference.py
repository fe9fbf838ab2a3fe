"""Writes facenet_protocol_reference.json: facenet's LFW protocol evaluated with numpy, scikit-learn and scipy
on small seeded synthetic embeddings, for the C# parity test (VerificationParityTests).

The protocol as facenet runs it (lfw.evaluate -> facenet.calculate_roc / calculate_val, validate_on_lfw.py for
AUC/EER), written here independently:
  * folds: sklearn KFold(n_splits, shuffle=False) over the pairs in order;
  * per fold: distances (metric 0 = squared euclidean, 1 = arccos(cos)/pi), optionally after subtracting the mean
    of the training pairs' embeddings; "same" predicted where dist < threshold;
  * accuracy: threshold = first argmax of training accuracy over np.arange(0, 4, 0.01), accuracy on the test fold;
    tpr/fpr of the test fold at every threshold, averaged over folds;
  * VAL: training FAR over np.arange(0, 4, 0.001); threshold = interp1d(far, thresholds, kind='slinear')(target)
    (see slinear below) when max FAR >= target, else 0; VAL and FAR on the test fold; mean and std over folds;
  * AUC = sklearn.metrics.auc(fpr, tpr); EER = brentq(1 - x - interp1d(fpr, tpr)(x), 0, 1).

Run with Debian's python3-numpy, python3-scipy, python3-sklearn:  /usr/bin/python3 make_protocol_reference.py
"""
import json
import math
import os

import numpy as np
from scipy import interpolate
from scipy.interpolate import BSpline
from scipy.optimize import brentq
from sklearn import metrics
from sklearn.model_selection import KFold


def dist_of(e1, e2, metric):
    if metric == 0:
        return np.sum(np.square(e1 - e2), 1)
    cos = np.sum(e1 * e2, axis=1) / (np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1))
    return np.arccos(cos) / math.pi


def rates(threshold, dist, same):
    accept = np.less(dist, threshold)
    tp = np.sum(accept & same)
    fp = np.sum(accept & ~same)
    tn = np.sum(~accept & ~same)
    fn = np.sum(~accept & same)
    tpr = 0 if tp + fn == 0 else tp / (tp + fn)
    fpr = 0 if fp + tn == 0 else fp / (fp + tn)
    return tpr, fpr, (tp + tn) / dist.size


def slinear(x, y, at):
    # facenet calls interpolate.interp1d(far, thresholds, kind='slinear')(target). The FARs repeat, and scipy >= 1.9
    # refuses that ("Expect x to not have duplicates"); the scipy facenet ran on built this very spline instead:
    # interp1d sorts x stably, then make_interp_spline(k=1) returns BSpline(np.r_[x[0], x, x[-1]], y, 1).
    order = np.argsort(x, kind="mergesort")
    x, y = x[order], y[order]
    return BSpline.construct_fast(np.r_[x[0], x, x[-1]], y, 1)(at)


def protocol(e1, e2, same, folds, metric, subtract_mean, far_target=1e-3):
    roc_t = np.arange(0, 4, 0.01)
    val_t = np.arange(0, 4, 0.001)
    tprs = np.zeros((folds, len(roc_t)))
    fprs = np.zeros((folds, len(roc_t)))
    acc = np.zeros(folds)
    best = np.zeros(folds)
    val = np.zeros(folds)
    far = np.zeros(folds)
    for f, (train, test) in enumerate(KFold(n_splits=folds, shuffle=False).split(np.arange(len(same)))):
        mean = np.mean(np.concatenate([e1[train], e2[train]]), axis=0) if subtract_mean else 0.0
        d = dist_of(e1 - mean, e2 - mean, metric)
        train_acc = np.array([rates(t, d[train], same[train])[2] for t in roc_t])
        b = np.argmax(train_acc)
        for i, t in enumerate(roc_t):
            tprs[f, i], fprs[f, i], _ = rates(t, d[test], same[test])
        acc[f] = rates(roc_t[b], d[test], same[test])[2]
        best[f] = roc_t[b]
        far_train = np.array([np.sum(np.less(d[train], t) & ~same[train]) / np.sum(~same[train]) for t in val_t])
        thr = slinear(far_train, val_t, far_target) if np.max(far_train) >= far_target else 0.0
        accept = np.less(d[test], thr)
        val[f] = np.sum(accept & same[test]) / np.sum(same[test])
        far[f] = np.sum(accept & ~same[test]) / np.sum(~same[test])
    tpr = np.mean(tprs, 0)
    fpr = np.mean(fprs, 0)
    return {
        "metric": metric, "subtract_mean": subtract_mean, "folds": folds,
        "fold_accuracies": acc.tolist(), "fold_thresholds": best.tolist(),
        "accuracy": float(np.mean(acc)), "accuracy_std": float(np.std(acc)),
        "val": float(np.mean(val)), "val_std": float(np.std(val)), "far": float(np.mean(far)),
        "auc": float(metrics.auc(fpr, tpr)),
        "eer": float(brentq(lambda x: 1. - x - interpolate.interp1d(fpr, tpr)(x), 0., 1.)),
        "tpr": tpr.tolist(), "fpr": fpr.tolist(),
    }


def main():
    rng = np.random.RandomState(20240601)
    n, dim, folds = 400, 8, 10
    same = np.array([(i // 20) % 2 == 0 for i in range(n)])  # blocks of 20 same / 20 different, as pairs.txt alternates
    offset = rng.normal(size=dim).astype(np.float32) * 0.5  # a common offset, so subtract_mean changes cosine results
    e1 = rng.normal(size=(n, dim)).astype(np.float32)
    e2 = np.where(same[:, None], e1 + 0.9 * rng.normal(size=(n, dim)), rng.normal(size=(n, dim))).astype(np.float32)
    e1 = (e1 / np.linalg.norm(e1, axis=1, keepdims=True) + offset).astype(np.float32)
    e2 = (e2 / np.linalg.norm(e2, axis=1, keepdims=True) + offset).astype(np.float32)
    out = {
        "about": "facenet LFW protocol on seeded synthetic float32 embeddings; made by make_protocol_reference.py",
        "versions": {"numpy": np.__version__, "scipy": __import__("scipy").__version__, "sklearn": __import__("sklearn").__version__},
        "embeddings1": [[float(v) for v in row] for row in e1],
        "embeddings2": [[float(v) for v in row] for row in e2],
        "same": same.tolist(),
        "distances": {"0": dist_of(e1, e2, 0).astype(float).tolist(), "1": dist_of(e1, e2, 1).astype(float).tolist()},
        "results": [protocol(e1, e2, same, folds, m, s) for m in (0, 1) for s in (False, True)],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "facenet_protocol_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
