"""When a dbt recipe runs: after the project's dbt jobs, so it reads fresh artifacts.

`schedule_after(job_schedules, delay)` derives one cron schedule from the jobs' own:
- every job at a fixed time of day (`M H ...`): `delay` minutes after the latest one,
  on the jobs' days when they share them (daily otherwise, or when the delay wraps past
  midnight);
- every job at a fixed minute of the same hours (`M */6 * * *`): `delay` minutes after
  the latest minute in those hours, when that stays within the hour;
- anything else (minute lists, steps, mixed hour patterns): hourly at minute
  `delay % 60`, which re-reads the newest artifacts whatever the jobs do.
`apps.datahub.ingestion.dbt.schedule` overrides the result.
"""

from __future__ import annotations

from collections.abc import Sequence

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}
DAILY = ("*", "*", "*")


def _fields(schedule: str) -> list[str]:
    fields = MACROS.get(schedule, schedule).split()
    if len(fields) != 5:
        raise ValueError(f"'{schedule}' is not a 5-field cron schedule")
    return fields


def schedule_after(job_schedules: Sequence[str], delay_minutes: int) -> str:
    """A cron schedule `delay_minutes` after the jobs of `job_schedules` (see module doc)."""
    if not job_schedules:
        raise ValueError("no job schedules to follow")
    jobs = [_fields(s) for s in job_schedules]
    minutes = [j[0] for j in jobs]
    hours = [j[1] for j in jobs]
    days = {tuple(j[2:]) for j in jobs}
    if all(m.isdigit() for m in minutes) and all(h.isdigit() for h in hours):
        latest = max(int(h) * 60 + int(m) for m, h in zip(minutes, hours, strict=True))
        at = latest + delay_minutes
        day_fields = days.pop() if len(days) == 1 and at < 24 * 60 else DAILY
        at %= 24 * 60
        return " ".join((str(at % 60), str(at // 60), *day_fields))
    if all(m.isdigit() for m in minutes) and len(set(hours)) == 1 and len(days) == 1:
        minute = max(int(m) for m in minutes) + delay_minutes
        if minute < 60:
            return " ".join((str(minute), hours[0], *days.pop()))
    return f"{delay_minutes % 60} * * * *"
