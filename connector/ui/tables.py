"""Tables for people: one look for every listing, colour only when the caller says so.

Without colour (piped, ``NO_COLOR``, a file) the width is fixed, so output written to a
log or compared in a test does not depend on the terminal it happened to run in.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


def new_table(*, color: bool) -> Table:
    """An empty table in the project's style (bold headers only with colour)."""
    return Table(show_edge=False, header_style="bold" if color else "")


def print_all(out: TextIO, *renderables: Any, color: bool, width: int = 120) -> None:
    """Print tables and lines to ``out``; the terminal's width with colour, else ``width``."""
    console = Console(
        file=out, no_color=not color, highlight=False, soft_wrap=False,
        width=None if color else width,
    )  # fmt: skip
    for renderable in renderables:
        console.print(renderable)
