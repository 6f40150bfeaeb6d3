"""What the data checks found, as values that flow between steps: no GX, no pandas.

A :class:`Finding` is one failed expectation in words, with a few of the rows or days that broke
it; a metric's :class:`QualityReport` decides whether its goals may be judged
(``pipeline.pace_goals``) and what its owners are told (``alerting.render.messages``). Built by
``checks.quality``; crosses XCom as JSON (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Finding", "QualityReport"]


@dataclass(frozen=True)
class Finding:
    """One failed expectation, in words, with a few of the rows (or days) that broke it."""

    expectation: str
    column: str | None
    unexpected: int
    examples: tuple[str, ...] = ()
    title: str = ""  # the expectation's description: what the alert calls the failure
    on: str = "rows"  # "rows" as ingested, or "days" (see days_frame)
    late: bool = False  # days that had not arrived by their deadline (``arrival`` is ``late``)

    def describe(self) -> str:
        where = f" on `{self.column}`" if self.column else ""
        what = ("day" if self.on == "days" else "row") + ("s" if self.unexpected != 1 else "")
        head = f"{self.title} ({self.expectation}{where})" if self.title else f"{self.expectation}{where}"
        if self.unexpected:
            return f"{head}: {self.unexpected} {what}, e.g. {'; '.join(self.examples)}"
        return f"{head}: {'; '.join(self.examples)}" if self.examples else head


@dataclass(frozen=True)
class QualityReport:
    metric: str
    rows: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    version: str | None = None  # the ingest the checked rows came from (see Store.versions)
    # The last day the data is complete through, when later days are not due yet: goals on the
    # metric are judged as of that day until they arrive (or turn late).
    through: str | None = None
    as_of: str | None = None  # the run's day the data was checked as of

    @property
    def success(self) -> bool:
        return not self.findings

    @property
    def late(self) -> bool:
        """Only late: every finding is a day that has not arrived by its deadline."""
        return bool(self.findings) and all(f.late for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        findings = tuple(Finding(**{**f, "examples": tuple(f["examples"])}) for f in data["findings"])
        return cls(
            metric=data["metric"],
            rows=data["rows"],
            findings=findings,
            version=data.get("version"),
            through=data.get("through"),
            as_of=data.get("as_of"),
        )
