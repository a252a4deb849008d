"""In-process counters behind ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np


class Metrics:
    """Readings counted, scoring latencies (last 10 000), start time."""

    def __init__(self) -> None:
        self.started = time.time()
        self.readings = 0
        self.batches = 0
        self.client_errors = 0
        self._lat: deque[float] = deque(maxlen=10_000)
        self._recent: deque[tuple[float, int]] = deque(maxlen=10_000)
        self._lock = threading.Lock()

    def scored(self, rows: int, seconds: float) -> None:
        """Count a scored batch of ``rows`` that took ``seconds`` from arrival to commit."""
        with self._lock:
            self.readings += rows
            self.batches += 1
            self._lat.append(seconds)
            self._recent.append((time.time(), rows))

    def latency(self, q: float) -> float:
        """Quantile ``q`` of the recent batch latencies, seconds (NaN before any)."""
        with self._lock:
            lat = list(self._lat)
        return float(np.quantile(lat, q)) if lat else float("nan")

    def rate(self, window_s: float = 60.0) -> float:
        """Readings per second over the last ``window_s`` seconds."""
        now = time.time()
        with self._lock:
            n = sum(r for t, r in self._recent if t >= now - window_s)
        return n / min(window_s, max(now - self.started, 1e-9))
