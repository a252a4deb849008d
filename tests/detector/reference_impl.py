"""A slow, literal implementation of SPEC §1 (loops over samples), for tests only.

It takes the fitted scaler and quantizer of a detector (those are tested on
their own) and recomputes NP-1/2/3, the contributions, the window residuals and
the score with plain Python loops straight from the equations.
"""

from __future__ import annotations

import math

import numpy as np


def corr(a: list[float], b: list[float]) -> float:
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    ca = [x - ma for x in a]
    cb = [x - mb for x in b]
    na = math.sqrt(sum(x * x for x in ca))
    nb = math.sqrt(sum(x * x for x in cb))
    sa = na <= 1e-12 * max(1.0, max(abs(x) for x in a))
    sb = nb <= 1e-12 * max(1.0, max(abs(x) for x in b))
    if sa and sb:
        return 1.0
    if sa or sb:
        return 0.0
    return sum(x * y for x, y in zip(ca, cb, strict=True)) / (na * nb)


def remover(vectors: list[list[float]], eta: float, limit: int | None) -> list[list[float]]:
    kept: list[list[float]] = []
    for v in vectors:
        if limit is not None and len(kept) >= limit:
            break
        if not kept or max(corr(v, k) for k in kept) < eta:
            kept.append(v)
    return kept


def level(x: float, edges: np.ndarray) -> int:
    return int(sum(1 for e in edges if e <= x))


def literal(det, train: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """Contributions, residuals and score of ``test`` by the literal equations."""
    d, N = det.delta_, det.window_
    eta, nu, eps = det.eta, det.nu, det.eps

    def prep(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = (x - det.center_) / det.scale_
        q = np.array([[level(s[t, i], det.edges_[i]) for i in range(s.shape[1])]
                      for t in range(s.shape[0])])
        return s, q

    def w(s: np.ndarray, t: int, i: int) -> list[float]:
        return [float(v) for v in s[t]] + [float(s[t - k, i]) for k in range(1, d)]

    s_tr, q_tr = prep(train)
    ns = s_tr.shape[1]
    T = len(s_tr)
    np_params = []
    for i in range(ns):
        groups: dict[tuple[int, int], list[list[float]]] = {}
        for t in range(d - 1, T - d):
            c = (int(q_tr[t, i]), int(q_tr[t + d, i]))
            groups.setdefault(c, []).append(w(s_tr, t, i))
        params = {}
        for c, vs in groups.items():
            lo = [min(v[j] for v in vs) for j in range(len(vs[0]))]
            hi = [max(v[j] for v in vs) for j in range(len(vs[0]))]
            params[c] = (lo, hi, remover(vs, eta, det.max_configurations))
        np_params.append(params)

    s_te, q_te = prep(test)
    T2 = len(s_te)
    e = np.full((3, T2, ns), np.nan)
    for i in range(ns):
        for t in range(d - 1, T2 - d):
            c = (int(q_te[t, i]), int(q_te[t + d, i]))
            if c not in np_params[i]:
                e[:, t, i] = (1.0, 0.0, 0.0)
                continue
            lo, hi, V = np_params[i][c]
            v = w(s_te, t, i)
            dist = [((max(0.0, a - x) + max(0.0, x - b)) / (b - a + eps)) ** nu
                    for x, a, b in zip(v, lo, hi, strict=True)]
            e[:, t, i] = (0.0, sum(dist) / len(dist), 1.0 - max(corr(v, u) for u in V))
    r = np.full((3, T2, ns), np.nan)
    for t in range(N - 1, T2):
        win = e[:, t - N + 1: t + 1, :]
        if not np.isnan(win).any():
            r[:, t, :] = win.mean(axis=1)
    g = r.mean(axis=2)
    ref = det.reference_
    score = np.maximum.reduce([g[0] * N / ref["trans"], g[1] / ref["bound"], g[2] / ref["conf"]])
    n_trans = [len(p) for p in np_params]
    return {"e": e, "r": r, "score": score, "n_transitions": np.array(n_trans)}
