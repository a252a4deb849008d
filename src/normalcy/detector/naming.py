"""Which sensor an alarm names: the sensor that left the plant's relations.

The relations view detects with context-conditioned models (SPEC §6); naming the
faulty sensor needs one model every sensor is judged in. This module holds it and
the rule that says which per-sensor residual names the sensors of a row.

**The plant's relations** (:class:`PlantModel`): one Gaussian of the present state
(all sensors at ``t``, scaled units), from the relations view's own statistics
(summed over every context: nothing more is stored). A sensor's residual is its
value minus what all the other sensors predict, ``e_j = (P d)_j / P_jj`` with ``P``
the precision and ``d`` the state's deviation from the mean, in standard deviations
``z_j = e_j sqrt(P_jj)``. For a bias ``b`` on sensor ``j`` alone, ``e_j = b`` and no
other sensor's ``|z|`` exceeds ``|z_j|`` (``P_jk² <= P_jj P_kk``: reconstruction-based
contributions). Judged each in its own context (its own level or transition), the
sensors lose that guarantee: the model of a neighbour's context can make the
neighbour look further off than the biased sensor. A sensor the others do not
predict (a slow signal of its own) has only its marginal spread there, where its
own context (its level, its recent past) still sees a bias: the squared z-score that
names (``per_sensor``, :meth:`PlantModel.weighed`) takes the plant's ``z²`` for the
share ``w_j`` of the sensor's variance the other sensors explain, and its context's
``(z_c² + z_s²) / 2`` for the rest.

**The rule** (:func:`named`): at each row the term that drives the score names the
sensors - the relations' and the dynamics' terms both with ``z_j²`` of the plant's
relations (``r_rel[s]``); a stuck or noisy sensor (the raw readings' checks), or one that stepped
further in one sample than its healthy history allows (:mod:`normalcy.detector.steps`),
names itself wherever its term alone is above the alarm level, whichever term is larger.
A dynamics innovation blames the sensors that *follow* a biased one: after the step,
the biased sensor agrees with its own past, the sensors predicted from it do not.

Where the plant's relations see nothing (no sensor's part above the alarm level: a
relation broken in time only, a follower that copies its leader without the lag),
the dynamics term names by its own innovations.

Measured by ``normalcy bench plants`` (``docs/benchmarks.md``: "sensor named first",
and "Sensor faults written into the healthy test period", a bias and a drift written
into up to 8 sensors of each plant's healthy test period). With the run's seed 0,
the written faults the default detector alarmed on were named first in 33 of 36
(PCA T²+Q's contributions: 8 of 32); the plants' own sensor faults in 14 of 19, where
the earlier rule (each sensor in its own context, the innovations where the dynamics
term leads) named 15: it named a controlled feed flow's bias and a recycle meter's
by their innovations, and the controlled level's bias on the quadruple tank not.
With the steps (:mod:`normalcy.detector.steps`: a sensor that jumps in one sample
names itself), the plants' own sensor faults on the first three plants of seed 0:
15 of 19, the controlled feed flow's bias among them (four plants, seeds 0-3: 72 -> 82
of 108), the written ones 33 of 37.

What it still misses is a sensor inside a control loop that does not jump (a drift),
or whose jump its healthy moves hide: the controller moves the
process until the biased reading is back at its set-point, so the relations break
between the sensor and what the loop moved (a controlled level's drift names the
valve), which no model of the relations alone can tell apart from a fault of the
valve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from normalcy.detector import gaussian as gs

__all__ = ["NAMED_BY", "READINGS", "PlantModel", "named", "naming_terms"]

#: the per-sensor residual that names the sensors of a term (others name by their own)
NAMED_BY = {"dyn": "rel"}
#: the share of a sensor's variance the other sensors must predict for it to be said
#: against the plant's relations (:meth:`PlantModel.said_by_plant`)
SAID_SHARE = 0.5
#: the raw readings' checks and the steps (:mod:`normalcy.detector.steps`): a sensor
#: named by its own readings, wherever raised
READINGS = ("stuck", "noisy", "step")


@dataclass
class PlantModel:
    """One Gaussian of the present plant state: ``mean (ns,)``, ``precision (ns, ns)``;
    ``explained (ns,)``: the share of each sensor's variance the other sensors predict
    (``1 - 1 / (P_jj Σ_jj)``)."""

    mean: np.ndarray
    precision: np.ndarray
    explained: np.ndarray

    @classmethod
    def of(cls, count: np.ndarray, total: np.ndarray, outer: np.ndarray, ns: int,
           ridge: float) -> PlantModel | None:
        """From a sensor viewpoint's statistics (every viewpoint's present block is the
        same): ``count (K,)``, ``total (K, d)``, packed ``outer (G, d(d+1)/2)``; None
        without samples."""
        n = float(np.sum(count))
        if not n > 0:
            return None
        d = total.shape[1]
        mean = np.sum(total, axis=0)[:ns] / n
        second = gs.unpack(np.sum(outer, axis=0), d)[:ns, :ns] / n
        cov = second - np.outer(mean, mean)
        cov = 0.5 * (cov + cov.T) + (ridge + gs.FLOOR) * np.eye(ns)
        precision = np.linalg.inv(cov)
        explained = np.clip(1.0 - 1.0 / (np.diag(precision) * np.diag(cov)), 0.0, 1.0)
        return cls(mean, precision, explained)

    def residuals(self, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each sensor's value minus what the other sensors predict (``(m, ns)``, scaled
        units) and its standard deviation (``(ns,)``)."""
        pjj = np.diag(self.precision)
        return ((present - self.mean) @ self.precision) / pjj, 1.0 / np.sqrt(pjj)

    def said_by_plant(self) -> np.ndarray:
        """``(ns,)`` booleans: the sensors said against the plant's relations (the other
        sensors predict at least :data:`SAID_SHARE` of their variance) - in words
        (:mod:`normalcy.operator.relation_words`) and in the band a trend draws
        (:mod:`normalcy.operator.bands`); the others against their own context (what the
        other sensors predict at this operating point)."""
        return self.explained >= SAID_SHARE

    def weighed(self, z_plant: np.ndarray, z_context: np.ndarray) -> np.ndarray:
        """The squared z-score that names sensors: the plant's relations' ``z²`` for the
        share of each sensor's variance they explain, its own context's for the rest."""
        w = self.explained
        return w * z_plant * z_plant + (1.0 - w) * z_context * z_context


def named(terms: np.ndarray, per_sensor: np.ndarray, kinds: tuple[str, ...],
          level: float) -> np.ndarray:
    """Per row, the sensors' contributions that name them: ``terms (n, K)`` the score's
    terms (each on the score's scale), ``per_sensor (n, K, ns)`` their per-sensor parts
    on the same scale, ``kinds`` the terms' names; a readings term above ``level`` names
    its sensors wherever it is (the larger of the two where both are), else the largest
    term, through :data:`NAMED_BY` where a sensor's part there is above ``level`` too
    (else by its own: a relation broken in time only leaves the plant's relations
    nearly whole). Where a sensor is stuck (its term above ``level``), it names, not a
    step: the steps are innovations, each sensor against what the plant's previous
    state predicts, and a held reading no longer carries that state (the heated buffer
    tank, seed 1: a frozen cooler outlet temperature, 10 K off by the end, put the
    cooling-water flow's and inlet temperature's innovations at 2.3 times their
    largest healthy ones, neither reading having moved more than it did when healthy).
    Returns ``(n, ns)``.

    Examples
    --------
    >>> kinds = ("rel", "stuck", "step")
    >>> per = np.zeros((1, 3, 2)); per[0, 1, 0] = 1.5; per[0, 2, 1] = 3.0
    >>> named(np.array([[0.5, 1.5, 3.0]]), per, kinds, 1.0)  # sensor 0 stuck
    array([[1.5, 0. ]])
    >>> named(np.array([[0.5, 0.2, 3.0]]), per, kinds, 1.0)  # nothing held: the step
    array([[0., 3.]])
    """
    by = naming_terms(terms, per_sensor, kinds, level)
    return per_sensor[np.arange(by.size), by]


def naming_terms(terms: np.ndarray, per_sensor: np.ndarray, kinds: tuple[str, ...],
                 level: float) -> np.ndarray:
    """Per row, the index (into ``kinds``) of the term whose per-sensor parts name the
    sensors (:func:`named`, which takes those parts). Returns ``(n,)`` integers.

    Examples
    --------
    >>> kinds = ("rel", "stuck", "step")
    >>> per = np.zeros((1, 3, 2)); per[0, 1, 0] = 1.5; per[0, 2, 1] = 3.0
    >>> naming_terms(np.array([[0.5, 1.5, 3.0]]), per, kinds, 1.0).tolist()  # stuck names
    [1]
    """
    t = np.nan_to_num(np.asarray(terms, dtype=float), nan=-np.inf)
    n = t.shape[0]
    lead = np.argmax(t, axis=1) if t.shape[1] else np.zeros(n, dtype=np.int64)
    reads = [k for k, name in enumerate(kinds) if name in READINGS]
    if reads:
        r = t[:, reads]
        raised = r.max(axis=1) > level
        lead = np.where(raised, np.asarray(reads)[np.argmax(r, axis=1)], lead)
    if "stuck" in kinds and "step" in kinds:  # a step predicted from a held reading
        held = t[:, kinds.index("stuck")] > level
        lead = np.where(held & (lead == kinds.index("step")), kinds.index("stuck"), lead)
    index = {name: k for k, name in enumerate(kinds)}
    source = np.array([index.get(NAMED_BY.get(name, name), k) for k, name in enumerate(kinds)])
    by = source[lead]
    seen = np.nan_to_num(per_sensor[np.arange(n), by], nan=-np.inf).max(axis=1, initial=-np.inf)
    return np.where(seen > level, by, lead)
