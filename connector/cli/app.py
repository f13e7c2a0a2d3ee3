"""The ``sipalto-sync`` group: global options, the context handed to commands, errors, logging.

The commands themselves live in one module per command group (``contacts``, ``sources``,
``apply``, ``calls``, ``report``, ``sandbox``, ``sync``) and add themselves to :data:`cli`
when imported, which happens the first time the command line asks for one of them
(:data:`COMMAND_MODULES`). Library errors become one line and an exit code in
:func:`handle_errors`; a traceback is shown only with ``-v``.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

import click

from connector import __version__, timings
from connector.api.times import zone_named
from connector.config import ConnectionSettings, parse_timeout
from connector.errors import SipaltoSyncError
from connector.lifetime import keep_until_exit

#: Exit codes shared by every command (documented in the README).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: there are changes to apply
EXIT_VALVE = 3  # sync: a safety valve held the run back; nothing was written
EXIT_HELD = 4  # sync --detailed-exitcode: done, but records are held for review or rejected
EXIT_INTERRUPTED = 130


@dataclass
class AppContext:
    """What the global options decided, handed to every command."""

    settings: ConnectionSettings
    verbose: int
    quiet: bool

    def color(self, stream: TextIO) -> bool:
        """Colour only on a terminal, and never when ``NO_COLOR`` is set."""
        return stream.isatty() and not os.environ.get("NO_COLOR")

    def say(self, text: str = "") -> None:
        """Print progress/explanations to stderr unless ``--quiet``."""
        if not self.quiet:
            click.echo(text, err=True)

    def show(self, text: str = "") -> None:
        """Print a preview or report to stdout unless ``--quiet``."""
        if not self.quiet:
            click.echo(text)

    def quieten(self) -> None:
        """Errors only from now on: ``-q`` given after the command."""
        self.quiet = True
        _setup_logging(self.verbose, quiet=True)


_QUIET = "sipalto_sync.quiet"


def _quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``-q`` before the command marks the run quiet; after it, quietens the running app."""
    if not value:
        return
    ctx.meta[_QUIET] = True
    app = ctx.find_object(AppContext)
    if app is not None:
        app.quieten()


def quiet_option() -> click.Option:
    """``-q/--quiet``, the same before and after the command: errors only."""
    return click.Option(
        ["-q", "--quiet"],
        is_flag=True,
        expose_value=False,
        callback=_quiet,
        help="Only errors: no progress, notes, previews or reports (for cron).",
    )


class Command(click.Command):
    """A ``sipalto-sync`` command: it takes ``-q/--quiet`` after its name as well as before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(quiet_option())


class Group(Command, click.Group):
    """A group of commands (``contacts``, ``calls``, ``mappings``); its commands take ``-q``."""

    command_class = Command
    group_class: type[click.Group] | type[type] | None = type  # its subgroups are Groups


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@contextmanager
def handle_errors(verbose: int) -> Iterator[None]:
    """Turn library errors into one clear line and the right exit code."""
    try:
        yield
    except SipaltoSyncError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: {_first_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing to report. Point stdout at /dev/null so
        # the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        if verbose:
            traceback.print_exc()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
        sys.exit(EXIT_ERROR)


_USER_ERRORS = (
    SipaltoSyncError,
    click.exceptions.ClickException,
    click.exceptions.Exit,
    click.exceptions.Abort,
    OSError,
)


#: The module that defines each command. It is imported, and adds its commands to
#: :data:`cli`, when the command line first asks for one of them: ``sipalto-sync plan``
#: does not load the apply engine, the sync runner or the sandbox (a fifth of a second at
#: every start); ``sipalto-sync --help`` loads them all.
COMMAND_MODULES: dict[str, str] = {
    "apply": "connector.cli.apply",
    "calls": "connector.cli.calls",
    "contacts": "connector.cli.contacts",
    "demo": "connector.cli.sandbox",
    "inspect": "connector.cli.sources",
    "mappings": "connector.cli.sources",
    "plan": "connector.cli.sources",
    "report": "connector.cli.report",
    "restore": "connector.cli.apply",
    "sandbox": "connector.cli.sandbox",
    "sync": "connector.cli.sync",
}


def load_commands() -> None:
    """Import every command's module (what walks ``cli.commands`` needs them all)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(module)


class SipaltoGroup(Group):
    """The top-level group: its commands are loaded when first asked for, and their
    library errors are reported in one place."""

    command_class = Command
    group_class = Group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(module)
        return super().get_command(ctx, cmd_name)

    def main(  # type: ignore[override]
        self, *args: Any, standalone_mode: bool = True, **kwargs: Any
    ) -> Any:
        """Run the command line; usage errors exit 1 like every other error.

        Exit code 2 is kept for "changes present" (``plan --detailed-exitcode``, as in
        terraform), so a script can never mistake a mistyped option for changes.
        """
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        # Outside standalone mode click answers a command's `Exit(code)` by returning the
        # code instead of exiting with it; a non-zero one must still reach the shell.
        if isinstance(result, int) and not isinstance(result, bool) and result != EXIT_OK:
            sys.exit(result)
        return result

    def invoke(self, ctx: click.Context) -> Any:
        verbose = (ctx.params or {}).get("verbose", 0) or 0
        with handle_errors(verbose):
            try:
                return super().invoke(ctx)
            except Exception as exc:
                if isinstance(exc, _USER_ERRORS):
                    raise
                # A bug, not a user error: say so plainly, full detail with -v.
                if verbose:
                    raise
                click.echo(
                    f"Internal error: {type(exc).__name__}: {_first_line(exc)} "
                    "(run again with -v for details, and please report it)",
                    err=True,
                )
                sys.exit(EXIT_ERROR)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    # httpx logs every request at INFO; keep that for -vv.
    logging.getLogger("httpx").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
    if os.environ.get("SIPALTO_SYNC_TIMINGS") == "1":  # stage timings, whatever -q says
        timings.LOGGER.setLevel(logging.DEBUG)


@click.group(
    cls=SipaltoGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  sipalto-sync demo
  sipalto-sync sandbox --port 8765
  SIPALTO_BASE_URL=http://127.0.0.1:8765 SIPALTO_USERNAME=demo SIPALTO_PASSWORD=demo \\
    sipalto-sync contacts list --format csv -o phonebook.csv
""",
)
@click.option(
    "--base-url",
    envvar="SIPALTO_BASE_URL",
    metavar="URL",
    help="Sipalto API address [env SIPALTO_BASE_URL; default https://app-api.sipalto.com].",
)
@click.option(
    "--username",
    envvar="SIPALTO_USERNAME",
    metavar="NAME",
    help="API username [env SIPALTO_USERNAME].",
)
@click.option(
    "--password",
    envvar="SIPALTO_PASSWORD",
    metavar="SECRET",
    help="API password [env SIPALTO_PASSWORD; prefer the variable: options show in `ps`].",
)
@click.option(
    "--timeout",
    envvar="SIPALTO_TIMEOUT",
    metavar="SECONDS",
    help="Per-request timeout, 0.1 to 3600 [env SIPALTO_TIMEOUT; default 30].",
)
@click.option(
    "--timezone",
    envvar="SIPALTO_TIMEZONE",
    metavar="ZONE",
    help="The PBX's clock, on which call times are read and shown "
    "[env SIPALTO_TIMEZONE; default Europe/London].",
)
@click.option("-v", "--verbose", count=True, help="More detail; -vv for HTTP requests; tracebacks.")
@click.version_option(__version__, prog_name="sipalto-sync")
@click.pass_context
def cli(
    ctx: click.Context,
    base_url: str | None,
    username: str | None,
    password: str | None,
    timeout: str | None,
    timezone: str | None,
    verbose: int,
) -> None:
    """Keep the Sipalto PBX global phonebook in step with CSV, Excel, vCard and CRM sources."""
    quiet = bool(ctx.meta.get(_QUIET))
    _setup_logging(verbose, quiet)
    with handle_errors(verbose):
        seconds = None
        if timeout is not None:
            seconds = parse_timeout(timeout, _given_as(ctx, "timeout", "SIPALTO_TIMEOUT"))
        if timezone is not None:
            zone_named(timezone, option=_given_as(ctx, "timezone", "SIPALTO_TIMEZONE"))
        settings = ConnectionSettings.from_env({}).with_overrides(
            base_url=base_url,
            username=username,
            password=password,
            timeout=seconds,
            timezone=timezone,
        )
    ctx.obj = AppContext(settings=settings, verbose=verbose, quiet=quiet)


def _given_as(ctx: click.Context, name: str, variable: str) -> str:
    """How the user gave a global option, for messages: ``--timeout`` or its variable."""
    if ctx.get_parameter_source(name) is click.core.ParameterSource.ENVIRONMENT:
        return variable
    return f"--{name}"


pass_app = click.make_pass_decorator(AppContext)


def main() -> None:
    """Console-script entry point.

    Ends the process as soon as the command is done, without the interpreter's tear-down:
    freeing a large plan's millions of objects one by one took most of a second at 100k
    contacts, for nothing (mypy ends the same way). Exit handlers still run and the
    standard streams are flushed; every file the commands write is closed by then.
    """
    keep_until_exit()  # the process ends right after the command: nothing to free
    try:
        cli.main(prog_name="sipalto-sync")
    except SystemExit as exc:
        _end(exc.code)
    _end(EXIT_OK)


def _end(code: object) -> None:
    """Exit with ``code`` as ``sys.exit`` would, skipping the tear-down of the heap."""
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):
        print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1
        code = EXIT_ERROR
    atexit._run_exitfuncs()  # logging's flush among them
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`| head`) or a closed stream has nothing more to take.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
