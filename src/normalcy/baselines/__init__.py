"""Peer methods with the detector's interface (``fit`` / ``score_samples`` / ``predict``).

=========================  ==========================================================
class                      method
=========================  ==========================================================
``ReconstructionBaseline``  LassoLars / RandomForest reconstruction of each sensor
                            from its past and the others' recent values (paper §5.1)
``WindowBaseline``          PyOD's LOF, IsolationForest or AutoEncoder on sliding
                            windows (paper §5.1; PyOD imported only when used)
``PCAMonitor``              PCA T² + Q with 99 % control limits (SKAB's leaderboard)
``DynamicPCAMonitor``       PCA T² + Q on lagged rows (Ku et al., 1995)
``MaxZScore``               the largest absolute z-score of a row
``WindowAveraged``          any baseline's score averaged over a trailing window
=========================  ==========================================================

They are thin: the learning is scikit-learn's, PyOD's or plain linear algebra;
the wrappers add the input checks, the window bookkeeping and a label-free
threshold (:mod:`normalcy.baselines.base`).
"""

from normalcy.baselines.averaged import WindowAveraged
from normalcy.baselines.base import Baseline
from normalcy.baselines.dynamic_pca import DynamicPCAMonitor, pca_contributions
from normalcy.baselines.pca import PCAMonitor
from normalcy.baselines.reconstruction import ReconstructionBaseline
from normalcy.baselines.windows import WindowBaseline
from normalcy.baselines.zscore import MaxZScore

__all__ = ["Baseline", "DynamicPCAMonitor", "MaxZScore", "PCAMonitor", "ReconstructionBaseline",
           "WindowAveraged", "WindowBaseline", "pca_contributions"]
