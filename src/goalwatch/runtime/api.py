"""Announcing new data through Airflow's REST API, for ``goalwatch announce``: a token, the metric's
asset, then ``POST /api/v2/assets/events`` with ``{"as_of": ...}`` or ``{"moment": ...}`` as its
extra, which the evaluate DAG reads as any other event (``runtime.events``).

The token is ``GOALWATCH_API_TOKEN`` when set; else one from ``POST /auth/token`` for
``GOALWATCH_API_USER`` with ``GOALWATCH_API_PASSWORD`` (any auth manager's token endpoint); else,
for the local demo's simple auth manager in all-admins mode, ``GET /auth/token``. Neither the
token nor the password is ever part of an error or a log line.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from goalwatch.config.settings import Settings
from goalwatch.errors import GoalwatchError

__all__ = ["AnnounceError", "announce"]


class AnnounceError(GoalwatchError):
    """Airflow did not take the event: unreachable, credentials refused, or no such asset."""


def announce(
    metric: str, *, env: Settings, as_of: date | None = None, moment: datetime | None = None
) -> dict[str, Any]:
    """Post the event for ``metric``'s asset; Airflow's answer (the event, with its ``id``)."""
    from goalwatch.runtime.events import METRIC_URI

    url = env.api_url.rstrip("/")
    uri = f"{METRIC_URI}{metric}"
    extra: dict[str, str] = {"metric": metric}
    if moment is not None:
        extra["moment"] = moment.isoformat()
    elif as_of is not None:
        extra["as_of"] = as_of.isoformat()
    try:
        token = _token(url, env)
        with httpx.Client(base_url=f"{url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            found = _ok(api.get("/assets", params={"uri_pattern": uri, "limit": 100}), url, "list the assets")
            asset = next((a for a in found["assets"] if a["uri"] == uri), None)
            if asset is None:
                raise AnnounceError(
                    f"Airflow at {url} has no asset {uri}: is {metric!r} in the goals.yml its DAGs were parsed "
                    "with, and has the dag-processor parsed them since?"
                )
            return _ok(api.post("/assets/events", json={"asset_id": asset["id"], "extra": extra}), url, "post it")
    except httpx.HTTPError as exc:
        raise AnnounceError(f"cannot reach Airflow at {url} ({type(exc).__name__}); is the api-server up?") from None


def _token(url: str, env: Settings) -> str:
    if env.api_token:
        return env.api_token
    if env.api_user:
        body = {"username": env.api_user, "password": env.api_password or ""}
        answer = _ok(httpx.post(f"{url}/auth/token", json=body, timeout=30), url, f"log in as {env.api_user}")
    else:
        answer = _ok(httpx.get(f"{url}/auth/token", timeout=30), url, "get a token (no GOALWATCH_API_USER set)")
    return answer["access_token"]


def _ok(response: httpx.Response, url: str, doing: str) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise AnnounceError(
            f"Airflow at {url} refused to {doing} (HTTP {response.status_code}): set GOALWATCH_API_TOKEN, or "
            "GOALWATCH_API_USER and GOALWATCH_API_PASSWORD, for a user who may create asset events"
        )
    if response.status_code >= 400:
        raise AnnounceError(f"Airflow at {url} could not {doing}: HTTP {response.status_code} {_detail(response)}")
    return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail)[:200] if detail else response.reason_phrase
