"""Options several commands share, declared once, and the one way to open ``-o`` output.

An option group is declared with :func:`option_group`: its options show together in
``--help`` and reach the command as one value (``reading`` for how to read a source,
``applying`` for how to apply), so commands stay a few lines long. Format choices
come from the views that write them, never retyped here.
"""

from __future__ import annotations

import functools
import inspect
import io
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from adapters.registry import format_names
from connector.apply.engine import DEFAULT_MAX_TIME, DEFAULT_SETTLE_DELAY
from connector.apply.run import ApplySettings
from connector.reconcile.workflow import SourceOptions

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option_group(name: str, build: Callable[..., Any], *options: Decorator) -> Decorator:
    """Options shown together and passed to the command as one argument, ``name``.

    The values of ``options`` are handed to ``build`` by its parameter names, so each
    option's parameter name must be one of them; the command gets ``name=build(...)``.
    """
    wanted = tuple(inspect.signature(build).parameters)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def gathered(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key) for key in wanted}
            return command(*args, **kwargs, **{name: build(**values)})

        decorated: Callable[..., Any] = gathered
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate


def format_option(choices: Sequence[str], *, help: str) -> Decorator:
    """``--format``: what the command writes, one of ``choices`` (the first is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


#: ``-o/--output FILE``: where a command writes; ``-`` is standard output.
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to FILE instead of standard output ('-': standard output).",
)


def to_stdout(path: Path | None) -> bool:
    """True when ``-o`` names standard output (not given, or ``-``)."""
    return path is None or str(path) == "-"


@contextmanager
def open_output(path: Path | None, *, quiet: bool = False) -> Iterator[TextIO]:
    """The stream ``-o/--output`` names: the file (UTF-8), or standard output.

    With ``quiet`` (a preview or report under ``-q``) what would go to standard output
    goes nowhere; a file the user named is still written.
    """
    if path is not None and not to_stdout(path):
        with path.open("w", encoding="utf-8", newline="") as out:
            yield out
        return
    yield io.StringIO() if quiet else sys.stdout


def _reading(
    source_format: str | None,
    mapping: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
) -> SourceOptions:
    return SourceOptions(
        format=source_format,
        mapping=mapping,
        encoding=encoding,
        sheet=int(sheet) if sheet and sheet.isdigit() else sheet,
        header_row=header_row,
    )


#: How to read a source file, for every command that reads one: ``reading``.
source_options = option_group(
    "reading",
    _reading,
    click.option(
        "--source-format",
        type=click.Choice(format_names()),
        help="Read the source as this format [default: from the extension or content].",
    ),
    click.option(
        "--mapping",
        "-m",
        metavar="NAME|FILE",
        help="Mapping preset name or YAML file (see `mappings list`) [default: "
        "recognise a preset or common headers].",
    ),
    click.option(
        "--encoding",
        metavar="CODEC",
        help="Text encoding of a CSV [default: detected: UTF-8/16, Windows-1252].",
    ),
    click.option("--sheet", metavar="NAME|N", help="Spreadsheet sheet [default: first with data]."),
    click.option(
        "--header-row",
        type=click.IntRange(min=1),
        metavar="N",
        help="Row number of a table's header [default: detected].",
    ),
)


class FiniteFloat(click.ParamType):
    """A number between ``low`` and ``high`` (inclusive); ``nan`` and ``inf`` are refused.

    The error names the option and the valid range, as every bad option does.
    """

    name = "number"

    def __init__(self, low: float, high: float, *, unit: str = "") -> None:
        self.low = low
        self.high = high
        self.unit = unit

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            bounds = f"{self.low:g} and {self.high:g}{self.unit}"
            self.fail(f"{value!r} is not between {bounds}", param, ctx)
        return number


@dataclass(frozen=True)
class ApplyOptions:
    """How to carry out changes to the phonebook (``apply`` and ``restore``)."""

    yes: bool
    concurrency: int
    rate: float | None
    backup_dir: Path | None
    settle_delay: float
    max_time: float

    @property
    def settings(self) -> ApplySettings:
        """The library's settings for the run (everything but the confirmation)."""
        return ApplySettings(
            self.concurrency, self.rate, self.backup_dir, self.settle_delay, self.max_time
        )


#: How to apply changes: ``applying``.
apply_options = option_group(
    "applying",
    ApplyOptions,
    click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation."),
    click.option(
        "--concurrency",
        type=click.IntRange(1, 32),
        default=4,
        show_default=True,
        help="Requests in flight at once (the pace still follows the server's limit).",
    ),
    click.option(
        "--rate",
        type=click.FloatRange(min=0.1),
        metavar="N",
        help="At most N requests per second [default: learn it from the server].",
    ),
    click.option(
        "--backup-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where to save the phonebook before changing it [default: the data "
        "directory; see SIPALTO_SYNC_HOME].",
    ),
    click.option(
        "--settle-delay",
        type=FiniteFloat(0, 3600, unit=" seconds"),
        default=DEFAULT_SETTLE_DELAY,
        show_default=True,
        metavar="SECONDS",
        help="How long the server may take to carry out a write after the client stopped "
        "waiting: an add whose answer was lost is sent again only if the phonebook still "
        "lacks it this long after it was sent.",
    ),
    click.option(
        "--max-time",
        type=FiniteFloat(1, 7 * 86400, unit=" seconds"),
        default=DEFAULT_MAX_TIME,
        show_default=True,
        metavar="SECONDS",
        help="Stop cleanly after this long, saying what is left (the same command continues).",
    ),
)
