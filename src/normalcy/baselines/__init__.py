"""Peer methods with the detector's interface (``fit`` / ``score_samples`` / ``predict``).

=========================  ==========================================================
class                      method
=========================  ==========================================================
``ReconstructionBaseline``  LassoLars / RandomForest reconstruction of each sensor
                            from its past and the others' recent values (paper §5.1)
``WindowBaseline``          PyOD's LOF, IsolationForest or AutoEncoder on sliding
                            windows (paper §5.1; PyOD imported only when used)
``PCAMonitor``              PCA T² + Q with 99 % control limits (SKAB's leaderboard)
=========================  ==========================================================

They are thin: the learning is scikit-learn's, PyOD's or plain linear algebra;
the wrappers add the input checks, the window bookkeeping and a label-free
threshold (:mod:`normalcy.baselines.base`).
"""

from normalcy.baselines.base import Baseline
from normalcy.baselines.pca import PCAMonitor
from normalcy.baselines.reconstruction import ReconstructionBaseline
from normalcy.baselines.windows import WindowBaseline

__all__ = ["Baseline", "PCAMonitor", "ReconstructionBaseline", "WindowBaseline"]
