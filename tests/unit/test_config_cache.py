"""The config cache: an unchanged goals.yml is not validated again, in this process or the next;
any other file, or a damaged entry, is read and validated afresh, with its mistakes by line."""

from __future__ import annotations

import hashlib
import os
import pickle
from datetime import date
from pathlib import Path

import pytest
import yaml

from goalwatch.config import Config, cache, load_config, loading
from goalwatch.errors import ConfigError

GOALS = """\
timezone: Europe/Paris
metrics:
  signups:
    source: {conn_id: warehouse, sql: "SELECT day, region, value FROM signups"}
    dimensions: [region]
    values: {region: [NA, EU]}
goals:
  - name: monthly_signups
    metric: signups
    period: month
    target: 1000
    segments: {by: [region], targets: {NA: 600, EU: 400}}
  - name: quarterly_signups
    metric: signups
    period: quarter
    target: 3000
    targets: {2026-01-01: 2500}
    notify: {channel: "#growth", mention: ["<!here>"]}
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A GOALWATCH_HOME of the test's own, and no entry left in this process from another test."""
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "home"))
    cache.forget()
    return tmp_path / "home"


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "goals.yml"
    path.write_text(text, encoding="utf-8")
    return path


def expected(path: Path) -> Config:
    """The config validated straight from the file, through neither the cache nor load_config's parser."""
    config = Config.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
    config._path = path
    return config


def no_validation(monkeypatch) -> None:
    """From here on, a goals.yml that load_config validates fails the test."""

    def refuse(path, text):
        raise AssertionError(f"{path} was validated again")

    monkeypatch.setattr(loading, "_validate", refuse)


def entry(home: Path) -> Path:
    entries = list((home / "cache").iterdir())
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.parametrize("new_process", [pytest.param(False, id="same-process"), pytest.param(True, id="new-process")])
def test_unchanged_file_comes_from_the_cache_equal(tmp_path, home, monkeypatch, new_process):
    path = write(tmp_path / "config", GOALS)
    first = load_config(path)
    if new_process:
        cache.forget()  # as a new process starts: only the entry on disk is left
    no_validation(monkeypatch)

    again = load_config(path)

    assert again == expected(path) == first
    assert again.path == path and again.base_dir == path.parent
    assert again.model_dump(exclude_unset=True) == expected(path).model_dump(exclude_unset=True)
    assert again.goal("quarterly_signups").target_for(date(2026, 1, 1)) == 2500
    assert again.channel_for(again.goal("quarterly_signups")) == "#growth"
    assert again.calendar == expected(path).calendar


def test_same_content_at_two_paths_keeps_each_path(tmp_path, home):
    a = load_config(write(tmp_path / "a", GOALS))
    b = load_config(write(tmp_path / "b", GOALS))
    a_again = load_config(tmp_path / "a" / "goals.yml")

    assert (a.path, b.path, a_again.path) == (tmp_path / "a" / "goals.yml", tmp_path / "b" / "goals.yml", a.path)
    assert a.base_dir == tmp_path / "a"


def test_a_relative_and_an_absolute_path_each_keep_their_own(tmp_path, home, monkeypatch):
    write(tmp_path / "config", GOALS)
    monkeypatch.chdir(tmp_path)
    relative = load_config(Path("config/goals.yml"))
    absolute = load_config(tmp_path / "config" / "goals.yml")
    relative_again = load_config(Path("config/goals.yml"))

    assert (relative.path, absolute.path) == (Path("config/goals.yml"), tmp_path / "config" / "goals.yml")
    assert relative_again.path == relative.path
    assert relative.base_dir == Path("config")


@pytest.mark.parametrize("new_process", [pytest.param(False, id="same-process"), pytest.param(True, id="new-process")])
def test_an_edit_of_the_same_size_and_mtime_gives_the_new_config(tmp_path, home, new_process):
    path = write(tmp_path / "config", GOALS)
    assert load_config(path).goal("monthly_signups").target == 1000
    before = path.stat()
    edited = GOALS.replace("target: 1000\n", "target: 1001\n").replace("NA: 600", "NA: 601")
    assert len(edited) == len(GOALS)
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if new_process:
        cache.forget()  # as a new process starts: only the entry on disk is left

    config = load_config(path)

    assert config == expected(path)
    assert config.goal("monthly_signups").target == 1001
    assert config.goal("monthly_signups").segments.targets == {"NA": 601, "EU": 400}


def test_a_mistake_after_a_cached_load_is_named_by_file_and_line(tmp_path, home):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    bad = GOALS.replace("    period: quarter\n", "    period: quartr\n")
    path.write_text(bad, encoding="utf-8")
    line = bad[: bad.index("period: quartr")].count("\n") + 1

    for _ in range(2):  # a mistake is never cached: the second load reports it too
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert len(info.value.problems) == 1
        assert info.value.problems[0].startswith(f"{path}:{line}: goals[1].period: 'quartr' is not one of ")

    path.write_text(GOALS, encoding="utf-8")
    assert load_config(path) == expected(path)


def test_invalid_yaml_after_a_cached_load_is_named_by_line(tmp_path, home):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    bad = GOALS.replace("    target: 3000\n", "    target: 3000: x\n")
    path.write_text(bad, encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    line = bad[: bad.index("target: 3000: x")].count("\n") + 1
    assert [p.split(": not valid YAML: ")[0] for p in info.value.problems] == [f"{path}:{line}"]


def _truncated(blob: bytes) -> bytes:
    return blob[: len(blob) // 2]


def _flipped(blob: bytes) -> bytes:
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :]


def _other_value(blob: bytes) -> bytes:
    """Still a pickle of a config, but not of this one."""
    assert blob.count(b"#growth") == 1
    return blob.replace(b"#growth", b"#grwoth")


def _reversed(blob: bytes) -> bytes:
    return blob[::-1]


def _empty(blob: bytes) -> bytes:
    return b""


class _Trap:
    """Unpickled by an unrestricted loader, it would write a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def _resealed(blob: bytes, payload: bytes) -> bytes:
    """The entry with another payload under its own header and a checksum that matches."""
    magic, key, _checksum, _payload = blob.split(b"\n", 3)
    return b"\n".join((magic, key, hashlib.sha256(payload).hexdigest().encode(), payload))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_truncated, id="truncated"),
        pytest.param(_flipped, id="one-byte-flipped"),
        pytest.param(_other_value, id="a-value-changed"),
        pytest.param(_reversed, id="bytes-reversed"),
        pytest.param(_empty, id="empty"),
        pytest.param(lambda blob: _resealed(blob, pickle.dumps({"goals": []})), id="not-a-config"),
        pytest.param(lambda blob: _resealed(blob, b"\x80\x05junk"), id="not-a-pickle"),
    ],
)
def test_a_damaged_entry_is_ignored_and_replaced(tmp_path, home, monkeypatch, damage):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    target = entry(home)
    target.write_bytes(damage(target.read_bytes()))
    cache.forget()

    assert load_config(path) == expected(path)

    cache.forget()
    no_validation(monkeypatch)
    assert load_config(path) == expected(path)  # the entry was written again


def test_an_entry_naming_other_code_is_not_run(tmp_path, home):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    target = entry(home)
    marker = tmp_path / "marker"
    target.write_bytes(_resealed(target.read_bytes(), pickle.dumps(_Trap(marker))))
    cache.forget()

    assert load_config(path) == expected(path)
    assert not marker.exists()


def test_an_unreadable_entry_is_a_miss(tmp_path, home):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    target = entry(home)
    target.unlink()
    target.mkdir()  # reading it fails, and so does writing over it
    cache.forget()

    assert load_config(path) == expected(path)


def test_no_cache_where_none_can_be_written(tmp_path, monkeypatch):
    blocked = tmp_path / "home"
    blocked.write_text("a file, not a folder")
    monkeypatch.setenv("GOALWATCH_HOME", str(blocked))
    cache.forget()
    path = write(tmp_path / "config", GOALS)

    assert load_config(path) == expected(path)
    assert blocked.read_text() == "a file, not a folder"


def test_a_bad_environment_variable_does_not_stop_loading(tmp_path, home, monkeypatch):
    monkeypatch.setenv("GOALWATCH_SLACK_RATE", "fast")
    path = write(tmp_path / "config", GOALS)

    assert load_config(path) == expected(path)
    assert not home.exists()


def test_an_entry_of_other_code_is_not_used(tmp_path, home, monkeypatch):
    path = write(tmp_path / "config", GOALS)
    load_config(path)
    cache.forget()
    monkeypatch.setattr(cache, "_fingerprint", lambda: b"other models")
    validated = []
    real = loading._validate
    monkeypatch.setattr(loading, "_validate", lambda p, text: validated.append(p) or real(p, text))

    assert load_config(path) == expected(path)
    assert validated == [path]
