"""When a sync job reads a CRM incrementally, and the mark it keeps between runs."""

from __future__ import annotations

import pytest

from adapters.crm.schema import IncrementalSettings
from connector.sync.incremental import IncrementalMark, read_since

DAY = 86_400.0
WEEKLY = IncrementalSettings(param="updated_since", cursor_path="update_time", full_every="7d")
NEVER_FULL = IncrementalSettings(param="updated_since", cursor_path="update_time")
MARK = IncrementalMark("https://crm.example", "pipedrive", "2026-11-30T02:00:00Z", 0.0)


@pytest.mark.parametrize(
    ("incremental", "mark", "now", "full_read", "since"),
    [
        (None, MARK, DAY, False, None),  # the mapping reads in full every time
        (WEEKLY, None, DAY, False, None),  # no mark yet: a first, full read
        (WEEKLY, MARK, DAY, False, MARK.since),  # a day after a full read
        (WEEKLY, MARK, 7 * DAY - 1, False, MARK.since),
        (WEEKLY, MARK, 7 * DAY, False, None),  # full_every has come round
        (NEVER_FULL, MARK, 365 * DAY, False, MARK.since),
        (WEEKLY, MARK, DAY, True, None),  # --full-read
        (WEEKLY, IncrementalMark("https://crm.example", "pipedrive", None, 0.0), DAY, False, None),
    ],
)
def test_read_since(
    incremental: IncrementalSettings | None,
    mark: IncrementalMark | None,
    now: float,
    full_read: bool,
    since: str | None,
) -> None:
    assert read_since(incremental, mark, now=now, full_read=full_read) == since


def test_a_mark_round_trips_and_a_damaged_one_is_none() -> None:
    assert IncrementalMark.from_text(MARK.to_text()) == MARK
    for text in (None, "", "not json", "[]", '{"source": "x"}', "42"):
        assert IncrementalMark.from_text(text) is None
