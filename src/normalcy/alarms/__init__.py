"""Alarm policies: from scores to alarm episodes (separate from detectors)."""

from normalcy.alarms.policy import AlarmPolicy, Cause, Episode, EpisodeTracker, episodes

__all__ = ["AlarmPolicy", "Cause", "Episode", "EpisodeTracker", "episodes"]
