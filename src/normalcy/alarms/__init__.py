"""Alarm policies: from scores to alarm episodes (separate from detectors)."""

from normalcy.alarms.policy import AlarmPolicy, Episode, EpisodeTracker, episodes

__all__ = ["AlarmPolicy", "Episode", "EpisodeTracker", "episodes"]
