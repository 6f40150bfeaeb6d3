"""The validated config kept between parses, so an unchanged goals.yml costs a read and an unpickle.

Used by ``loading.load_config`` only. The dag-processor parses each DAG file in a new (forked)
process every 30 s, so an in-process memo alone would not help it: the validated
:class:`~goalwatch.config.models.Config` is also pickled to ``$GOALWATCH_HOME/cache/``, one file
per goals.yml, written atomically.

An entry is keyed by the sha256 of the file's bytes and of what validation depends on besides
them: the code of the config models and of the cross checks, and the versions of Python,
pydantic, PyYAML and sqlparse. Validation reads no ``GOALWATCH_*`` setting, so none is in the key.
A stale, corrupt or unreadable entry is a miss, a cache that cannot be written is skipped, and only
the config's own classes may be named by an entry: the cache can make a parse faster, never
different. Problems are never cached: a goals.yml with mistakes is read afresh each time.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import pydantic
import yaml

from goalwatch.config import models
from goalwatch.config.models import Config
from goalwatch.config.settings import settings
from goalwatch.errors import ConfigError

__all__ = ["forget", "keep", "key_of", "recall"]

logger = logging.getLogger(__name__)

_MAGIC = b"goalwatch config cache 1"
# What the config is made of, besides builtins: an entry naming anything else is not ours.
_ALLOWED = {("datetime", "date")} | {
    (models.__name__, name)
    for name, value in vars(models).items()
    if isinstance(value, type) and issubclass(value, pydantic.BaseModel) and value.__module__ == models.__name__
}
# This process's entries, by goals.yml path: (key, the config with no path set).
_memo: dict[Path, tuple[str, Config]] = {}


def key_of(raw: bytes) -> str:
    """The cache key of a goals.yml whose bytes are ``raw``."""
    return hashlib.sha256(_fingerprint() + raw).hexdigest()


def recall(path: Path, key: str) -> Config | None:
    """A copy of the config cached for ``path`` under ``key``, or None (the caller validates)."""
    path = path.absolute()
    hit = _memo.get(path)
    if hit is None or hit[0] != key:
        config = _read(path, key)
        if config is None:
            return None
        hit = _memo[path] = (key, config)
    return hit[1].model_copy()


def keep(path: Path, key: str, config: Config) -> None:
    """Cache ``config``, validated from ``path``'s bytes whose key is ``key``."""
    path = path.absolute()
    kept = config.model_copy()
    kept._path = None
    _memo[path] = (key, kept)
    target = _file(path)
    if target is None:
        return
    payload = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
    blob = b"\n".join((_MAGIC, key.encode(), _checksum(payload), payload))
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.debug("the validated config is not cached in %s: %s", target.parent, exc)


def forget() -> None:
    """Drop this process's memo (the entries on disk stay), as a new process starts."""
    _memo.clear()


def _read(path: Path, key: str) -> Config | None:
    target = _file(path)
    if target is None:
        return None
    try:
        blob = target.read_bytes()
    except OSError:
        return None
    parts = blob.split(b"\n", 3)
    if len(parts) != 4 or parts[:2] != [_MAGIC, key.encode()] or parts[2] != _checksum(parts[3]):
        return None
    try:
        config = _Unpickler(io.BytesIO(parts[3])).load()
    except Exception as exc:  # a damaged entry of any kind is a miss, never a crash
        logger.debug("ignoring the config cache %s: %s", target, exc)
        return None
    return config if type(config) is Config else None


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(payload).hexdigest().encode()


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a config")
        return super().find_class(module, name)


def _file(path: Path) -> Path | None:
    """Where ``path``'s entry lives; None when a GOALWATCH_* variable is wrong (whoever reads the
    settings reports it; the config is then loaded without the cache)."""
    try:
        home = settings().state_dir
    except ConfigError:
        return None
    name = hashlib.sha256(os.fsencode(path)).hexdigest()[:24]
    return home / "cache" / f"config-{name}.pickle"


@cache
def _fingerprint() -> bytes:
    """What a validated config depends on besides goals.yml's bytes."""
    parts = [sys.version, pydantic.VERSION, yaml.__version__]  # pydantic pins its pydantic-core exactly
    # The sources themselves, found without importing them (sqlparse is imported only to validate).
    for module in ("goalwatch.config.models", "goalwatch.config.loading", "goalwatch.core.periods", __name__):
        parts.append(_source(module))
    parts.append(_source("sqlparse"))  # its __init__ carries its version
    return hashlib.sha256("\0".join(parts).encode()).digest()


def _source(module: str) -> str:
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        return f"{module}: absent"
    try:
        return Path(spec.origin).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return f"{module}: unreadable"
