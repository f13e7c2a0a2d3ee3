"""Tables: box-drawn on a terminal, plain ASCII anywhere else (pipes, files, logs)."""

from __future__ import annotations

import io

from connector.ui.tables import new_table, print_all


def _table(**look: bool) -> str:
    table = new_table(**look)
    table.add_column("name")
    table.add_column("phone")
    table.add_row("Ann Lee", "1009")
    out = io.StringIO()
    print_all(out, table, color=False)
    return out.getvalue()


def test_off_a_terminal_a_table_is_plain_ascii() -> None:
    assert [line.rstrip() for line in _table(color=False, terminal=False).splitlines()] == [
        " name    | phone",
        "---------+-------",
        " Ann Lee | 1009",
    ]


def test_on_a_terminal_a_table_is_box_drawn_even_without_colour() -> None:
    assert "┃" in _table(color=False, terminal=True)


def test_by_default_a_table_is_box_drawn_exactly_when_coloured() -> None:
    assert _table(color=False).isascii()
    assert not _table(color=True).isascii()
