"""Options several commands share, declared once, and the one way to write ``-o`` output.

``-o/--output`` means one thing on every command: ``-`` (or no ``-o``) is standard
output, a path ending in ``/`` is a folder (made if missing) where the command's own file
name goes, anything else is the file; an existing file is replaced only with ``--force``,
and files are written whole or not at all. :class:`OutputOption` decides where,
:func:`open_output` and :func:`write_output` write.

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
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from adapters.locations import is_url
from adapters.registry import format_names
from connector.errors import ConfigError
from connector.files import atomic_write
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


@dataclass(frozen=True)
class Output:
    """Where a command's output goes: ``path``, or standard output when it is None.

    ``force`` allows replacing an existing file. Made by :meth:`OutputOption.resolve`.
    """

    path: Path | None = None
    force: bool = False

    @property
    def to_stdout(self) -> bool:
        """True when the output goes to standard output."""
        return self.path is None


@dataclass(frozen=True)
class OutputOption:
    """What ``-o/--output`` and ``--force`` said, before the command knows its file name."""

    text: str | None = None
    force: bool = False

    def resolve(self, default_name: str | None = None, *, to_file: bool = False) -> Output:
        """Where to write, checked before the command does its work.

        ``-`` (or no ``-o``, unless ``to_file``) is standard output; a path ending in
        ``/``, or an existing folder, is a folder (made when writing, if missing) holding
        ``default_name``; anything else is the file. Without ``--force`` an existing file
        is refused. Raises :class:`ConfigError` naming ``-o`` and what to do.
        """
        text = self.text
        if text is None:
            if not to_file or default_name is None:
                return Output(None, self.force)
            text = default_name
        if text == "-":
            return Output(None, self.force)
        if not text.strip():
            raise ConfigError("-o needs a file name, a folder ending in '/', or '-'")
        path = Path(text)
        if text.endswith(_SEPARATORS) or path.is_dir():
            if default_name is None:
                raise ConfigError(f"-o {text}: that is a folder; give the file to write")
            path = path / default_name
        elif not path.parent.is_dir():
            raise ConfigError(
                f"-o {text}: there is no folder {path.parent} "
                "(end -o with '/' to have a folder made)"
            )
        if path.is_dir():
            raise ConfigError(f"-o {text}: {path} is a folder; give the file to write")
        # Only a file's content is at stake: a device or a pipe (/dev/null) is written to.
        if path.is_file() and not self.force:
            raise ConfigError(f"{path} already exists; use --force to overwrite it")
        return Output(path, self.force)


_SEPARATORS = tuple({"/", os.sep, os.altsep or "/"})

_OUTPUT_HELP = (
    "Write to FILE instead of standard output ('-': standard output; "
    "a path ending in '/': a folder, made if missing)."
)


def output_options(help: str = _OUTPUT_HELP) -> Decorator:
    """``-o/--output`` and ``--force``, passed to the command as ``output``, an
    :class:`OutputOption`; ``help`` describes ``-o``."""
    return option_group(
        "output",
        lambda output, force: OutputOption(output, force),
        click.option(
            "-o",
            "--output",
            "output",
            # Text, not a Path: a Path drops the trailing '/' that makes a folder.
            type=click.Path(allow_dash=True),
            help=help,
        ),
        click.option("--force", is_flag=True, help="Overwrite an existing file named by -o."),
    )


#: ``-o/--output FILE`` and ``--force``: where a command writes; ``-`` is standard output.
output_option = output_options()


@contextmanager
def open_output(target: Output, *, quiet: bool = False) -> Iterator[TextIO]:
    """A text stream for ``target``: standard output, or the file, written whole or not at all.

    A file gets what was written only when the block ends without an error (through
    :func:`~connector.files.atomic_write`), and is never made to replace a file that
    appeared meanwhile without ``--force``. With ``quiet`` (a preview or report under
    ``-q``) what would go to standard output goes nowhere; a file is still written.
    """
    if target.path is None:
        yield io.StringIO() if quiet else sys.stdout
        return
    buffer = io.StringIO(newline="")
    yield buffer
    write_output(target, buffer.getvalue().encode("utf-8"))


def write_output(target: Output, data: bytes) -> None:
    """Write ``data`` to ``target``: its file (whole or not at all), or standard output.

    Standard output gets the bytes as they are (WAV audio survives a pipe), but never on
    a terminal, where binary data is garbage: the error says where to put it instead.
    """
    if target.path is None:
        if sys.stdout.isatty():
            raise ConfigError("not writing binary data to a terminal: give -o FILE or pipe it")
        sys.stdout.flush()  # text already written must come first
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    # Through a symbolic link, as open() would write: the link stays a link.
    destination = Path(os.path.realpath(target.path))
    if destination.exists() and not destination.is_file():
        # A device or a pipe is written to, never replaced by a file (as root, /dev/null
        # would be).
        with destination.open("wb") as stream:
            stream.write(data)
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(destination, data, mode=None, overwrite=target.force)
    except FileExistsError:
        # Created since the check in resolve(): never clobber a file without --force.
        raise ConfigError(f"{target.path} already exists; use --force to overwrite it") from None


def file_name(stem: str, fmt: str) -> str:
    """The file a command writes in a folder given as ``-o DIR/``: ``calls.csv``."""
    return f"{stem}.{_EXTENSIONS.get(fmt, fmt)}"


_EXTENSIONS = {"table": "txt", "text": "txt", "decisions": "yaml"}


class SourceLocation(click.ParamType):
    """A source: a file (checked as ``click.Path`` checks it), or an ``http(s)://`` URL,
    kept as text (a CRM, read with a CRM mapping)."""

    name = "source"
    _file = click.Path(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and is_url(value):
            return value
        return self._file.convert(value, param, ctx)


#: The SOURCE argument of ``inspect`` and ``plan``: a file or a CRM's URL.
SOURCE = SourceLocation()


def _reading(
    source_format: str | None,
    mapping: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
    limit: int | None,
) -> SourceOptions:
    return SourceOptions(
        format=source_format,
        mapping=mapping,
        encoding=encoding,
        sheet=int(sheet) if sheet and sheet.isdigit() else sheet,
        header_row=header_row,
        limit=limit,
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
        help="Mapping preset name or YAML file (see `mappings list`); a CRM's URL needs a "
        "CRM one [default: recognise a preset or common headers].",
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
    click.option(
        "--limit",
        type=click.IntRange(min=1),
        metavar="N",
        help="Read only the first N records (to try a mapping out; a CRM stops reading "
        "pages there).",
    ),
)


class FiniteRange(click.FloatRange):
    """A number in a range; NaN and infinity are refused (``FloatRange`` lets NaN by).

    The one number type of every option with bounds: the error names the option and the
    valid range, as every bad option does.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number in the range {self.range_text()}.", param, ctx)
        return number

    def range_text(self) -> str:
        """The range as click writes it, e.g. ``0<=x<=600``."""
        low = "" if self.min is None else f"{self.min:.15g}{'<' if self.min_open else '<='}"
        high = "" if self.max is None else f"{'<' if self.max_open else '<='}{self.max:.15g}"
        return f"{low}x{high}"
