"""What a fitted :class:`~normalcy.TransitionDetector` learned, per sensor, in the
paper's terms: its seen transitions, their bounds and their configurations."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted


class LearnedViews:
    """The read-only views of the paper's normality parameters (a mixin of the
    detector: it reads ``sensors_``, ``n_levels_`` and ``normality_``)."""

    sensors_: list[str]
    n_levels_: int
    normality_: list[Any]

    @property
    def transitions_(self) -> dict[str, np.ndarray]:
        """Per sensor, the seen transitions as ``(level now, level later)`` rows."""
        check_is_fitted(self, "normality_")
        nq = self.n_levels_
        return {s: np.c_[st.codes // nq, st.codes % nq]
                for s, st in zip(self.sensors_, self.normality_, strict=True)}

    @property
    def bounds_(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per sensor, ``(lo, hi)`` of shape (n_transitions, nse), scaled units
        (:class:`InputError` for a model fitted with ``view="relations"``)."""
        check_is_fitted(self, "normality_")
        return {s: st.bounds() for s, st in zip(self.sensors_, self.normality_, strict=True)}

    @property
    def configurations_(self) -> dict[str, list[np.ndarray]]:
        """Per sensor, the kept configurations of each transition (scaled units)."""
        check_is_fitted(self, "normality_")
        return {s: [st.configurations(k) for k in range(st.codes.size)]
                for s, st in zip(self.sensors_, self.normality_, strict=True)}
