"""Tables for people: one look for every listing, colour only when the caller says so.

On a terminal a table is drawn with box-drawing characters; anywhere else (a pipe, a
file, a log) it is plain ASCII, ``|`` between columns and ``-`` under the header, so it
survives any encoding and reads well in ``grep`` and ``less``. Without colour the width
is fixed, so output written to a log or compared in a test does not depend on the
terminal it happened to run in.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table


def new_table(*, color: bool, terminal: bool | None = None) -> Table:
    """An empty table in the project's style (bold headers only with colour).

    ``terminal`` says whether the table goes to a terminal; by default it is taken to
    go to one exactly when it is coloured, as callers colour only on a terminal.
    """
    on_terminal = color if terminal is None else terminal
    return Table(
        show_edge=False,
        header_style="bold" if color else "",
        box=box.HEAVY_HEAD if on_terminal else box.ASCII,
    )


def print_all(out: TextIO, *renderables: Any, color: bool, width: int = 120) -> None:
    """Print tables and lines to ``out``; the terminal's width with colour, else ``width``."""
    console = Console(
        file=out, no_color=not color, highlight=False, soft_wrap=False,
        width=None if color else width,
    )  # fmt: skip
    for renderable in renderables:
        console.print(renderable)
