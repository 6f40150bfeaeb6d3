"""Real servers for the tests that need them: see ``goalwatch.dev.services``."""

from goalwatch.dev.services import Postgres, Redis, postgres, redis

__all__ = ["Postgres", "Redis", "postgres", "redis"]
