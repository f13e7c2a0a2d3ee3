"""The progress of a CRM read: plain lines in a log, every few seconds and at the end."""

from __future__ import annotations

from adapters.base import ReadProgress
from connector.ui.read_view import LOG_EVERY, ReadProgressDisplay, describe_progress


def test_a_progress_line_says_records_pages_and_rate() -> None:
    assert describe_progress(ReadProgress("hubspot", 12, 1200, 4.0)) == (
        "hubspot: 1,200 records, 12 pages, 300 records/s"
    )
    assert describe_progress(ReadProgress("zoho", 1, 1, 0.1)) == "zoho: 1 record, 1 page"


def test_a_log_gets_a_line_every_few_seconds_and_one_at_the_end() -> None:
    lines: list[str] = []
    with ReadProgressDisplay(terminal=False, quiet=False, echo=lines.append) as show:
        for page in range(1, 8):
            show(ReadProgress("pipedrive", page, page * 100, page * LOG_EVERY * 0.4))
    assert lines == [
        "pipedrive: 100 records, 1 page, 25 records/s",
        "pipedrive: 400 records, 4 pages, 25 records/s",
        "pipedrive: 700 records, 7 pages, 25 records/s",
    ]


def test_the_last_line_is_added_when_the_log_has_not_seen_it() -> None:
    lines: list[str] = []
    with ReadProgressDisplay(terminal=False, quiet=False, echo=lines.append) as show:
        show(ReadProgress("salesforce", 1, 2000, 1.0))
        show(ReadProgress("salesforce", 2, 2500, 2.0))
    assert lines[-1] == "salesforce: 2,500 records, 2 pages, 1,250 records/s: read"


def test_quiet_and_failed_reads_say_nothing_more() -> None:
    lines: list[str] = []
    with ReadProgressDisplay(terminal=True, quiet=True, echo=lines.append) as show:
        show(ReadProgress("dynamics", 1, 5, 1.0))
    assert lines == []
    try:
        with ReadProgressDisplay(terminal=False, quiet=False, echo=lines.append) as show:
            show(ReadProgress("dynamics", 1, 5, 1.0))
            show(ReadProgress("dynamics", 2, 10, 2.0))
            raise RuntimeError("page 3 failed")
    except RuntimeError:
        pass
    assert lines == ["dynamics: 5 records, 1 page, 5 records/s"]
