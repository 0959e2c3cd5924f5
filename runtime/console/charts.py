"""The console's charts, drawn on the server as SVG (no script, no chart library): runs per
hour by status, run duration p50/p95 per script, and failed calls per connection.

The numbers come from bounded queries (`stats`): a day of runs grouped by hour in the
database, and the latest runs for percentiles and HTTP failures, so the dashboard stays
fast with any size of history."""

from __future__ import annotations

__all__ = ["Dashboard", "bar_chart", "dashboard", "hourly_chart"]

import datetime as _dt
from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..store.runs import Run

_SAMPLE = 2000            # latest runs read for percentiles and HTTP failures
_COLORS = {"success": "#2f9e55", "failure": "#d64534"}


@dataclass(frozen=True)
class Dashboard:
    hours: list[tuple[_dt.datetime, dict[str, int]]]          # oldest first
    durations: list[tuple[str, float, float, int]]            # script, p50, p95 (ms), runs
    failures: list[tuple[str, int, int]]                      # connection, failed, calls
    total: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _hour_key(dialect: str) -> Any:
    if dialect == "postgresql":
        utc = func.timezone("UTC", Run.started_at)
        return func.to_char(func.date_trunc("hour", utc), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", Run.started_at)


def dashboard(sessions: sessionmaker[Session], now: _dt.datetime) -> Dashboard:
    start = (now - _dt.timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    with sessions() as s:
        dialect = s.get_bind().dialect.name
        key = _hour_key(dialect)
        counts: dict[str, dict[str, int]] = {}
        for hour, status, n in s.execute(
                select(key, Run.status, func.count()).where(Run.started_at >= start)
                .group_by(key, Run.status)):
            counts.setdefault(hour, {})[status] = n
        latest = s.execute(select(Run.script_name, Run.stats, Run.http, Run.started_at,
                                  Run.finished_at).order_by(Run.id.desc())
                           .limit(_SAMPLE)).all()
        total = s.scalar(select(func.count()).select_from(Run)) or 0
    hours = []
    for i in range(24):
        at = start + _dt.timedelta(hours=i)
        hours.append((at, counts.get(at.strftime("%Y-%m-%d %H"), {})))
    per_script: dict[str, list[float]] = {}
    calls: dict[str, list[int]] = {}
    for name, stats, http, started, finished in latest:
        ms = (stats or {}).get("duration_ms")
        if not isinstance(ms, (int, float)):
            ms = (finished - started).total_seconds() * 1000
        per_script.setdefault(name, []).append(float(ms))
        for call in http or []:
            link = call.get("connection")
            if not link:
                continue
            tally = calls.setdefault(link, [0, 0])
            tally[1] += 1
            status = call.get("status")
            if call.get("error") or not isinstance(status, int) or status >= 400:
                tally[0] += 1
    durations = sorted(((n, _percentile(v, .5), _percentile(v, .95), len(v))
                        for n, v in per_script.items()), key=lambda r: -r[2])[:12]
    failures = sorted(((link, t[0], t[1]) for link, t in calls.items()),
                      key=lambda r: (-r[1], r[0]))[:12]
    return Dashboard(hours, durations, failures, total)


def hourly_chart(hours: list[tuple[_dt.datetime, dict[str, int]]]) -> str:
    """Stacked bars: runs per hour, successes under failures."""
    width, height, pad, bottom = 720, 200, 34, 24
    peak = max([sum(c.values()) for _, c in hours] + [1])
    slot = (width - pad) / len(hours)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Runs per hour over the last 24 hours, by status; at most '
             f'{peak} in one hour">']
    for tick in sorted({0, peak // 2, peak}):
        y = height - bottom - tick / peak * (height - bottom - 10)
        parts.append(f'<line x1="{pad}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e3e7ed"/><text x="{pad - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{tick}</text>')
    for i, (at, counts) in enumerate(hours):
        x = pad + i * slot + 2
        y = height - bottom
        for status in ("success", "failure"):
            n = counts.get(status, 0)
            if not n:
                continue
            h = n / peak * (height - bottom - 10)
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 4:.1f}" '
                         f'height="{h:.1f}" fill="{_COLORS[status]}"><title>'
                         f'{at:%H}:00 {status}: {n}</title></rect>')
        if i % 3 == 0:
            parts.append(f'<text x="{x + (slot - 4) / 2:.1f}" y="{height - 8}" '
                         f'text-anchor="middle">{at:%H}h</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: list[tuple[str, list[tuple[str, float, str]]]], unit: str,
              label: str) -> str:
    """Horizontal bars: one row per name, one bar per (series, value, colour)."""
    if not rows:
        return ""
    bar, gap, left, width = 14, 12, 130, 480
    series = max(len(r[1]) for r in rows)
    row_h = series * bar + gap
    height = len(rows) * row_h + 10
    peak = max([v for _, bars in rows for _, v, _ in bars] + [1e-9])
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(label)}">']
    for i, (name, bars) in enumerate(rows):
        y0 = 5 + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y0 + series * bar / 2 + 4:.1f}" '
                     f'text-anchor="end">{escape(name[:22])}</text>')
        for j, (series_name, value, color) in enumerate(bars):
            w = value / peak * (width - left - 80)
            y = y0 + j * bar
            shown = f"{value:,.1f}" if value < 10 and value != int(value) else f"{value:,.0f}"
            parts.append(f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" '
                         f'height="{bar - 2}" fill="{color}"><title>{escape(name)} '
                         f'{escape(series_name)}: {shown} {unit}</title></rect>'
                         f'<text x="{left + max(w, 1) + 4:.1f}" y="{y + bar - 3}">'
                         f'{escape(series_name)} {shown} {unit}</text>')
    parts.append("</svg>")
    return "".join(parts)
