"""Figures of ``normalcy bench paper``: the residuals seen from each sensor over the
test blocks, as the paper's Figures 3, 4 (Lorenz) and 10 (ETC), and the detector's
tables made from the same residuals."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from normalcy.bench.common import progress
from normalcy.bench.paper_protocol import fault_aucs, load_dataset
from normalcy.bench.protocol import WINDOW, window_scores
from normalcy.io.atomic import atomic_write

RESIDUALS = (("r_trans", "r_trans (unseen transitions)"),
             ("r_bound", "r_bound (bound excursions)"),
             ("r_conf", "r_conf (configurations)"))


def window_max(res: pd.DataFrame) -> pd.DataFrame:
    """Each column's :func:`~normalcy.bench.protocol.window_scores` (max over each
    non-overlapping window, NaN ignored), indexed by the window's last row."""
    n = len(res) // WINDOW
    return pd.DataFrame({c: window_scores(res[c].to_numpy(dtype=float), n) for c in res.columns},
                        index=np.arange(n) * WINDOW + WINDOW - 1)


def plot_residuals(wres: pd.DataFrame, blocks: list[Any], sensors: list[str],
                   threshold: float, title: str, path: str) -> None:
    """A grid: rows = score and the three residuals, columns = the sensors they are seen
    from; block borders marked, faulty blocks shaded and named. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    ns = len(sensors)
    fig, axes = plt.subplots(len(RESIDUALS) + 1, ns, figsize=(6.5 * ns, 9), sharex=True,
                             squeeze=False)
    x = wres.index.to_numpy()
    for j, sensor in enumerate(sensors):
        for i, (col, name) in enumerate((("score", "score (all sensors)"), *RESIDUALS)):
            ax = axes[i, j]
            key = col if col == "score" else f"{col}[{sensor}]"
            for b in blocks:
                if b.faulty:
                    ax.axvspan(b.start, b.stop, color="tab:red", alpha=0.12, lw=0)
                ax.axvline(b.start, color="0.5", lw=0.6, ls="--")
            ax.plot(x, wres[key].to_numpy(), lw=0.7,
                    color="tab:red" if col == "score" else "tab:blue")
            if col == "score":
                ax.axhline(threshold, color="k", ls=":", lw=1,
                           label=f"alarm threshold {threshold:g}")
                ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
                ax.set_yscale("symlog", linthresh=1.0)
                ax.set_ylim(bottom=0)
                ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
                ax.set_title(f"seen from {sensor}" if ns > 1 else sensor, fontsize=10)
            ax.set_ylabel(name if col == "score" else f"{name}\n[{sensor}]", fontsize=8)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if i == 0:
                for b in blocks:
                    ax.text((b.start + b.stop) / 2, 0.97, b.name, ha="center", va="top",
                            fontsize=7, transform=ax.get_xaxis_transform(),
                            color="tab:red" if b.faulty else "tab:green")
        axes[-1, j].set_xlabel("test sample", fontsize=8)
    fig.suptitle(title + " — max over each 100-sample window; red: faulty blocks",
                 fontsize=11)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def detector_figures(out_dir: str, etc_hours: float, log: Any) -> tuple[
        list[tuple[str, str]], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The paper's Figures 3, 4 (Lorenz) and 10 (ETC); block tables of the detector
    and, per data set, the fault AUC of each of its residuals (:func:`fault_aucs`)."""
    from normalcy import TransitionDetector

    figures: list[tuple[str, str, dict[str, Any], str]] = [
        ("paper_lorenz_fig3.png", "Lorenz", {"n_levels": 20, "delta": 20, "eta": 0.95},
         "Lorenz, nq=20, Δ=20, η=0.95 (paper Fig. 3)"),
        ("paper_lorenz_fig4.png", "Lorenz", {"n_levels": 8, "delta": 20, "eta": 0.95},
         "Lorenz, nq=8, Δ=20, η=0.95 (paper Fig. 4)"),
        ("paper_etc_fig10.png", "ETC", {"n_levels": 10, "delta": 20, "eta": 0.95},
         "ETC, nq=10, Δ=20, η=0.95 (paper Fig. 10)"),
    ]
    made: list[tuple[str, str]] = []
    blocks: dict[str, pd.DataFrame] = {}
    residual_faults: dict[str, pd.DataFrame] = {}
    for fname, name, params, title in progress(figures, "figures"):
        data = load_dataset(name, etc_hours)
        det = TransitionDetector(**params, view="paper",  # §1's residuals, uncapped
                                 max_configurations=None).fit(data.train)
        res = det.residuals(data.test)
        wres = window_max(res)
        path = os.path.join(out_dir, fname)
        plot_residuals(wres, data.blocks, det.sensors_, det.threshold_, title, path)
        made.append((fname, title))
        log(f"  figure {fname}: {title}")
        if fname != "paper_lorenz_fig4.png":
            score = res["score"].to_numpy()
            rows = []
            for b in data.blocks:
                s = score[b.start:b.stop]
                r = res.iloc[b.start:b.stop]
                rows.append({"block": b.name, "faulty": "yes" if b.faulty else "no",
                             "median score": float(np.nanmedian(s)),
                             "alarm share": float(np.mean(np.nan_to_num(s, nan=-np.inf)
                                                          > det.threshold_)),
                             **{f"median {c}": float(np.nanmedian(r[c].to_numpy()))
                                for c in res.columns if "[" in c}})
            blocks[name] = pd.DataFrame(rows)
            n_windows = len(data.labels) // WINDOW
            residual_faults[name] = pd.DataFrame([
                {"residual": c, **fault_aucs(window_scores(res[c].to_numpy(dtype=float),
                                                           n_windows), data)}
                for c in res.columns])
    return made, blocks, residual_faults

