"""Read a metric from its source into a frame with columns ``day``, dimensions..., ``value``.

Called by the ingest task and by ``goalwatch evaluate``. Files are CSV or Parquet, read here; SQL
runs through the ``query`` the caller passes (``runtime.connections.read_sql``: the Airflow
connection named in goals.yml, read-only), so this module knows nothing of Airflow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from goalwatch.config import Config, FileSource, Metric
from goalwatch.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Query", "normalise", "read_metric"]

# How a SQL source is run: (connection id, query) -> its rows; raises SourceError.
Query = Callable[[str, str], "pd.DataFrame"]


def read_metric(config: Config, name: str, *, query: Query | None = None) -> pd.DataFrame:
    """Pull metric ``name`` from its source; raise SourceError naming the metric on failure.

    A SQL source runs through ``query(conn_id, sql)``: ``runtime.connections.read_sql`` runs it
    read-only through the Airflow connection goals.yml names."""
    metric = config.metric(name)
    source = metric.source
    if isinstance(source, FileSource):
        frame = _read_file(config.base_dir / source.path, name)
        where = str(config.base_dir / source.path)
    else:
        if query is None:
            raise SourceError(f"metric {name!r}: a SQL source needs a query runner (runtime.connections.read_sql)")
        try:
            frame = query(source.conn_id, source.sql)
        except SourceError as exc:
            raise SourceError(f"metric {name!r}: {exc}") from None
        where = f"connection {source.conn_id!r}"
    return normalise(frame, metric, name=name, where=where, timezone=config.timezone)


def normalise(frame: pd.DataFrame, metric: Metric, *, name: str, where: str, timezone: str = "UTC") -> pd.DataFrame:
    """``day`` becomes a date and ``value`` a float; an hourly source is added up into days.

    A missing or renamed column is not an error here: the metric's data checks report it as a
    data issue, from the source's column names in ``frame.attrs["columns"]``. Only the columns
    the metric expects keep their values (another column could hold anything, a credential
    included). A day or value that cannot be read at all is a SourceError naming the row, and so
    is an hourly metric whose source gives no ``hour``.
    """
    import pandas as pd

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    hourly = metric.grain == "hour"
    if hourly and "hour" not in frame.columns:
        raise SourceError(
            f"metric {name!r} from {where}: it is hourly (grain: hour) but gives no 'hour' column; "
            f"got {', '.join(frame.columns) or 'no columns'}"
        )
    # An hourly source's own `day` is not the day goalwatch adds its hours up into: named apart.
    columns = [
        "day" if hourly and c == "hour" else "day (beside hour)" if hourly and c == "day" else c for c in frame.columns
    ]
    keep = {*metric.columns, "hour"} - ({"day"} if hourly else {"hour"})
    frame = frame[[c for c in frame.columns if c in keep]]
    stamp = "hour" if hourly else "day"
    if stamp in frame.columns:
        parsed = _timestamps(frame[stamp], timezone) if hourly else _dates(frame["day"])
        _no_garbage(
            frame[stamp], parsed, name=name, where=where, column=stamp, what="a timestamp" if hourly else "a date"
        )
        frame[stamp] = parsed
    if "value" in frame.columns:
        values = pd.to_numeric(frame["value"], errors="coerce")
        _no_garbage(frame["value"], values, name=name, where=where, column="value", what="a number")
        frame["value"] = values.astype(float)
    for column in [*metric.dimensions, "currency"]:
        if column in frame.columns:  # labels: 3 and 3.0 (an integer column with a gap) both read "3"
            frame[column] = frame[column].map(_label)
    if hourly:
        frame = _hours_into_days(frame)
    elif "day" in frame.columns:
        frame["day"] = frame["day"].dt.date
    frame = frame.reset_index(drop=True)
    for column in columns:
        if column not in frame.columns:  # a column the metric does not expect: its name, no values
            frame[column] = None
    frame.attrs["columns"] = columns
    return frame


def _label(value: object) -> str | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dates(raw: pd.Series) -> pd.Series:
    """The calendar day each value names, as written: ``2024-01-01T00:00:00Z`` is 1 January
    wherever the config's time zone is (a daily source's day is already a day)."""
    import pandas as pd

    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    text = raw.astype("string").str.strip()
    iso = text.str.match(r"^\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    out = pd.to_datetime(text.where(~iso, text.str.slice(0, 10)), errors="coerce", format="mixed")
    return out.dt.tz_localize(None) if isinstance(out.dtype, pd.DatetimeTZDtype) else out


def _no_garbage(raw: pd.Series, parsed: pd.Series, *, name: str, where: str, column: str, what: str) -> None:
    bad = parsed.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise SourceError(f"metric {name!r} from {where}: row {row}: {column} {raw.iloc[row]!r} is not {what}")


def _timestamps(raw: pd.Series, timezone: str) -> pd.Series:
    """Wall-clock times in ``timezone``: a timestamp with an offset is converted there, one
    without is taken as wall-clock time there already (so is a plain date)."""
    import pandas as pd

    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert(timezone).dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    text = raw.astype("string").str.strip()
    aware = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if (~aware).any():
        out[~aware] = pd.to_datetime(text[~aware], errors="coerce", format="mixed")
    if aware.any():
        converted = pd.to_datetime(text[aware], errors="coerce", utc=True, format="mixed")
        out[aware] = converted.dt.tz_convert(timezone).dt.tz_localize(None)
    return out


def _hours_into_days(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per day and segment: the value summed, ``hours`` the number of hourly rows."""
    stamps = frame.pop("hour")
    frame.insert(0, "day", stamps.dt.date)
    keys = [c for c in frame.columns if c != "value"]
    grouped = frame.groupby(keys, dropna=False, sort=True)
    out = grouped.size().rename("hours").to_frame()
    if "value" in frame.columns:
        out.insert(0, "value", grouped["value"].sum(min_count=1))
    return out.reset_index()


def _read_file(path: Path, name: str) -> pd.DataFrame:
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        # Only an empty field is missing: "NA" is North America, not a null.
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise SourceError(f"metric {name!r}: cannot read {path}: {exc}") from exc
