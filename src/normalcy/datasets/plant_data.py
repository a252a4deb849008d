"""What the simulated control plants share: the data set, its fault episodes, the test layout.

Each plant module (:mod:`~normalcy.datasets.quadtank`, :mod:`~normalcy.datasets.cstr`,
:mod:`~normalcy.datasets.process`) simulates two separate runs from seeds
derived from one ``seed``: a healthy history (``train``) and a test period
(``test``) with the same healthy set-point changes and, between stretches of
healthy operation, one fault episode after another. The test run draws the same
random numbers whatever its faults, so ``faults=False`` gives the very same
test period without them (the tests compare the two).

**Fault episodes.** The test starts with ``LEAD`` healthy rows; then each fault
of the plant's list lasts ``EPISODE`` rows and is followed by ``GAP`` healthy
rows (the plant recovers: a leak is closed, a fouled surface cleaned, a sensor
repaired). The label of a row is 1 inside an episode, else 0 (recovery
transients after an episode are labelled 0). Kinds:

========================  ===================================================
kind                      what changes during the episode
========================  ===================================================
``leak``                  an extra outflow, constant
``fouling``               a heat-transfer (or flow) coefficient falls linearly
                          to ``1 - size`` of its value by the episode's end
``actuator gain``         an actuator delivers ``1 - size`` of its nominal effect
``stiction``              a valve moves only once its command is more than
                          ``size`` (of full travel) away from its position
``bias``                  the sensor reads ``size`` (its units) too high
``drift``                 the sensor's error grows linearly to ``size``
``freeze``                the sensor holds its last reading
``noise``                 extra white noise of standard deviation ``size``
========================  ===================================================

A sensor fault on a sensor *inside* a control loop feeds the controller: a
biased controlled variable moves the process, while its own reading stays at
the set-point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from normalcy.exceptions import InputError

__all__ = ["FaultEpisode", "FaultSpec", "PlantData"]

PROCESS_KINDS = ("leak", "fouling", "actuator gain", "stiction")
SENSOR_KINDS = ("bias", "drift", "freeze", "noise")
LEAD = 1800  # healthy rows before the first episode
EPISODE = 900  # rows of one fault episode
GAP = 1800  # healthy rows after each episode
WARM_UP = 2000  # simulated rows before a run starts (not returned); a plant may need more


@dataclass(frozen=True)
class FaultSpec:
    """One fault of a plant's test period (``size`` in the target's units, see the kinds)."""

    kind: str
    target: str  # a sensor (sensor faults) or a parameter of the simulator (process faults)
    size: float
    description: str

    @property
    def is_sensor_fault(self) -> bool:
        return self.kind in SENSOR_KINDS


@dataclass(frozen=True)
class FaultEpisode:
    """A fault in the test period: rows ``start`` to ``end - 1``.

    ``sensor`` names the faulty sensor of a sensor fault (None for a process
    fault); ``in_loop`` says whether that sensor feeds a controller.
    """

    start: int
    end: int
    kind: str
    sensor: str | None
    in_loop: bool
    description: str


@dataclass(frozen=True)
class PlantData:
    """A simulated plant: healthy history, test period, labels and fault episodes.

    Attributes
    ----------
    name : str
    train : DataFrame
        Healthy history, one column per sensor, one row per ``period_s``.
    test : DataFrame
        Test period, same columns.
    label : ndarray of int (len(test),)
        1 inside a fault episode, else 0.
    episodes : tuple of FaultEpisode
    loop_sensors : tuple of str
        Sensors whose readings feed a controller.
    period_s : float
        Sampling period in seconds (1.0).
    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    label: np.ndarray
    episodes: tuple[FaultEpisode, ...]
    loop_sensors: tuple[str, ...]
    period_s: float = 1.0

    @property
    def sensors(self) -> list[str]:
        return list(self.train.columns)


# ----------------------------------------------------------------- checks
def check_options(n_train: int, setpoints: str) -> None:
    """Clear errors for the options every ``load_*`` function takes."""
    if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or n_train < 500:
        raise InputError(f"n_train must be an int >= 500 (rows of healthy history); "
                         f"got {n_train!r} instead.")
    if setpoints not in ("trained", "between"):
        raise InputError(f"setpoints must be 'trained' (the test visits the set-points of "
                         f"the history) or 'between' (set-points halfway between them); "
                         f"got {setpoints!r} instead.")


def run_seeds(seed: int) -> tuple[int, int, int]:
    """Seeds of the history run, the test run and the test's fault noise."""
    a, b, c = np.random.SeedSequence(int(seed)).generate_state(3)
    return int(a), int(b), int(c)


# -------------------------------------------------------------- schedules
def between(values: tuple[float, ...]) -> tuple[float, ...]:
    """Midpoints of consecutive (sorted) set-points.

    Examples
    --------
    >>> between((10.0, 12.0, 16.0))
    (11.0, 14.0)
    """
    v = sorted(values)
    return tuple((a + b) / 2.0 for a, b in zip(v[:-1], v[1:], strict=True))


def schedule(rng: np.random.Generator, n: int, values: tuple[float, ...],
             hold: tuple[int, int]) -> np.ndarray:
    """Piecewise-constant set-points: a new value from ``values`` (never the same
    twice in a row when there are several) after a hold drawn in ``hold`` rows."""
    out = np.empty(n)
    i, last = 0, -1
    while i < n:
        choices = [j for j in range(len(values)) if j != last] or [0]
        last = int(choices[int(rng.integers(len(choices)))])
        k = int(rng.integers(hold[0], hold[1] + 1))
        out[i:i + k] = values[last]
        i += k
    return out


def schedules(grids: dict[str, tuple[float, ...]], n: int, warm_up: int, seed: int,
              hold: tuple[int, int]) -> dict[str, np.ndarray]:
    """The set-points of a run of ``n`` rows (its ``warm_up`` rows included, held at
    the first value after them), one :func:`schedule` per name of ``grids``, each from
    its own stream of the run's ``seed``."""
    out = {}
    for (key, values), rng in zip(grids.items(), streams(seed + 1, len(grids)), strict=True):
        out[key] = schedule(rng, n, values, hold)
        out[key][:warm_up] = out[key][warm_up]
    return out


def streams(seed: int, k: int) -> list[np.random.Generator]:
    """``k`` independent generators of one run: each random signal draws from its own,
    so that a longer run extends a shorter one instead of reshuffling it."""
    return [np.random.default_rng([int(seed), i]) for i in range(k)]


def ou(rng: np.random.Generator, n: int, tau: float, sigma: float) -> np.ndarray:
    """An Ornstein-Uhlenbeck disturbance sampled every second: correlation time
    ``tau`` seconds, stationary standard deviation ``sigma``, started at 0."""
    a = float(np.exp(-1.0 / tau))
    e = rng.standard_normal(n) * sigma * np.sqrt(1.0 - a * a)
    return np.asarray(lfilter([1.0], [1.0, -a], e))


# ------------------------------------------------------------------ faults
def place(specs: tuple[FaultSpec, ...],
          loop_sensors: tuple[str, ...]) -> tuple[tuple[FaultEpisode, ...], int]:
    """Episodes of ``specs`` in the test layout, and the test length."""
    eps = []
    t = LEAD
    for s in specs:
        sensor = s.target if s.is_sensor_fault else None
        eps.append(FaultEpisode(t, t + EPISODE, s.kind, sensor, sensor in loop_sensors,
                                s.description))
        t += EPISODE + GAP
    return tuple(eps), t


def labels(episodes: tuple[FaultEpisode, ...], n: int) -> np.ndarray:
    y = np.zeros(n, dtype=np.int64)
    for e in episodes:
        y[e.start:e.end] = 1
    return y


@dataclass
class FaultProfiles:
    """Per-row fault arrays of a run (``shift``: warm-up rows before row 0 of the test).

    ``process[target]``: 0 when healthy, the fault's current size in an episode.
    ``offset[sensor]``: additive reading error; ``frozen[sensor]``: rows that hold.
    """

    process: dict[str, np.ndarray]
    offset: dict[str, np.ndarray]
    frozen: dict[str, np.ndarray]

    def process_fault(self, target: str, n: int) -> np.ndarray:
        """Size of the process fault ``target`` at each of ``n`` rows (0: healthy)."""
        return self.process.get(target, np.zeros(n))


def profiles(specs: tuple[FaultSpec, ...], episodes: tuple[FaultEpisode, ...], n: int,
             shift: int, seed: int) -> FaultProfiles:
    """Fault arrays for a run of ``n`` rows whose test rows start at ``shift``."""
    rng = np.random.default_rng(seed)
    out = FaultProfiles({}, {}, {})
    for s, e in zip(specs, episodes, strict=True):
        a, b = e.start + shift, e.end + shift
        ramp = np.linspace(0.0, 1.0, b - a)
        if s.is_sensor_fault:
            off = out.offset.setdefault(s.target, np.zeros(n))
            if s.kind == "bias":
                off[a:b] += s.size
            elif s.kind == "drift":
                off[a:b] += s.size * ramp
            elif s.kind == "noise":
                off[a:b] += s.size * rng.standard_normal(b - a)
            else:
                out.frozen.setdefault(s.target, np.zeros(n, dtype=bool))[a:b] = True
        else:
            prof = out.process.setdefault(s.target, np.zeros(n))
            prof[a:b] = s.size * ramp if s.kind == "fouling" else s.size
    return out


def read(true: np.ndarray, noise: np.ndarray, offset: np.ndarray | None,
         frozen: np.ndarray | None) -> np.ndarray:
    """Readings of a sensor outside any loop: truth + noise + fault offset; frozen
    rows hold the last reading before them."""
    m = true + noise
    if offset is not None:
        m = m + offset
    if frozen is not None and frozen.any():
        m = pd.Series(np.where(frozen, np.nan, m)).ffill().to_numpy()
    return np.asarray(m)


class LoopReading:
    """A sensor that feeds a controller, read inside the simulation loop.

    ``value(k, true)`` returns the reading at row ``k`` (truth + noise + fault
    offset, or the held reading while frozen) and records it.
    """

    __slots__ = ("add", "frozen", "last", "values")

    def __init__(self, n: int, noise: np.ndarray, offset: np.ndarray | None,
                 frozen: np.ndarray | None) -> None:
        add = noise if offset is None else noise + offset
        self.add: list[float] = add.tolist()
        self.frozen: list[bool] = (frozen.tolist() if frozen is not None
                                   else [False] * n)
        self.last = 0.0
        self.values = np.empty(n)

    def value(self, k: int, true: float) -> float:
        if not self.frozen[k]:
            self.last = true + self.add[k]
        self.values[k] = self.last
        return self.last


Simulator = Callable[[int, int, dict[str, np.ndarray], FaultProfiles], np.ndarray]


def two_runs(name: str, columns: list[str], specs: tuple[FaultSpec, ...],
             loop_sensors: tuple[str, ...], simulate: Simulator,
             grids: dict[str, tuple[float, ...]], hold: tuple[int, int], *, n_train: int,
             setpoints: str, seed: int, faults: bool, warm_up: int = WARM_UP) -> PlantData:
    """Simulate the history and the test period of a plant.

    ``simulate(n, seed, schedules, profiles)`` returns the readings (n, sensors)
    of one run of ``n`` rows; ``schedules`` maps each name of ``grids`` to its
    set-points (values of the grid, or halfway between them in a ``"between"``
    test), held at their first value during the ``warm_up`` rows that are simulated
    and dropped before each run (long enough for the plant's slowest mode to
    settle from its initial state: a run must not start with a start-up).
    """
    check_options(n_train, setpoints)
    s_train, s_test, s_fault = run_seeds(seed)
    episodes, n_test = place(specs, loop_sensors)
    runs = []
    for is_test, n, s in ((False, n_train, s_train), (True, n_test, s_test)):
        total = warm_up + n
        sp = schedules({k: between(v) if is_test and setpoints == "between" else v
                        for k, v in grids.items()}, total, warm_up, s, hold)
        f = (profiles(specs, episodes, total, warm_up, s_fault) if is_test and faults
             else FaultProfiles({}, {}, {}))
        runs.append(simulate(total, s, sp, f)[warm_up:])
    eps = episodes if faults else ()
    return PlantData(name, pd.DataFrame(runs[0], columns=columns),
                     pd.DataFrame(runs[1], columns=columns), labels(eps, n_test), eps,
                     loop_sensors)
