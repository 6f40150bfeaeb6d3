"""goals.yml and the environment: what goalwatch is asked to watch, and where it keeps its state.

- ``models``: the frozen pydantic models of goals.yml (metrics, goals, silences);
- ``loading``: ``load_config`` reads and validates the file, naming every wrong key at once;
- ``cache``: the validated config kept on disk, keyed by the file's content, so DAG files parse fast;
- ``problems``: how a problem reads (``FILE:LINE: key: message``);
- ``settings``: the ``GOALWATCH_*`` environment variables, read by one pydantic-settings model.

Light (pydantic and PyYAML), so DAG files import it at parse time. Imports only ``core`` and
``errors`` of goalwatch; everything above it may import it.
"""

from __future__ import annotations

from goalwatch.config.loading import config_for_dags, default_config_path, load_config
from goalwatch.config.models import Config, FileSource, Goal, Metric, Notify, Segments, SilenceRule, SqlSource

__all__ = [
    "Config",
    "FileSource",
    "Goal",
    "Metric",
    "Notify",
    "Segments",
    "SilenceRule",
    "SqlSource",
    "config_for_dags",
    "default_config_path",
    "load_config",
]
