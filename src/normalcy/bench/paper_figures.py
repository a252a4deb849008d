"""Figures of ``normalcy bench paper``: the residuals seen from each sensor over the
test blocks, as the paper's Figures 3, 4 (Lorenz) and 10 (ETC)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normalcy.io.atomic import atomic_write

RESIDUALS = (("r_trans", "r_trans (unseen transitions)"),
             ("r_bound", "r_bound (bound excursions)"),
             ("r_conf", "r_conf (configurations)"))


def window_max(res: pd.DataFrame, window: int) -> pd.DataFrame:
    """Max of each column over non-overlapping windows (NaN ignored), indexed by the
    window's last row."""
    n = len(res) // window
    values = res.to_numpy(dtype=float)[: n * window].reshape(n, window, res.shape[1])
    finite = ~np.isnan(values)
    out = np.where(finite, values, -np.inf).max(axis=1)
    out = np.where(finite.any(axis=1), out, np.nan)
    return pd.DataFrame(out, columns=res.columns,
                        index=np.arange(n) * window + window - 1)


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
