"""The ``sipalto-sync`` command line: a thin shell over the library.

Each command parses its options, calls one library function and renders the result.
Library errors become one line and an exit code in :func:`handle_errors`; a traceback
is shown only with ``-v``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from connector import __version__
from connector.config import ConnectionSettings
from connector.errors import ConfigError, SipaltoSyncError

log = logging.getLogger("connector")

#: Exit codes shared by every command (documented in the README).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: there are changes to apply
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


class SipaltoGroup(click.Group):
    """A click group whose commands' library errors are reported in one place."""

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
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_INTERRUPTED)

    def invoke(self, ctx: click.Context) -> Any:
        verbose = (ctx.params or {}).get("verbose", 0) or 0
        with handle_errors(verbose):
            try:
                return super().invoke(ctx)
            except Exception as exc:
                if isinstance(
                    exc,
                    (
                        SipaltoSyncError,
                        click.exceptions.ClickException,
                        click.exceptions.Exit,
                        click.exceptions.Abort,
                        OSError,
                    ),
                ):
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
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request at INFO; keep that for -vv.
    logging.getLogger("httpx").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)


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
    type=float,
    envvar="SIPALTO_TIMEOUT",
    metavar="SECONDS",
    help="Per-request timeout [env SIPALTO_TIMEOUT; default 30].",
)
@click.option("-v", "--verbose", count=True, help="More detail; -vv for HTTP requests; tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (for cron).")
@click.version_option(__version__, prog_name="sipalto-sync")
@click.pass_context
def cli(
    ctx: click.Context,
    base_url: str | None,
    username: str | None,
    password: str | None,
    timeout: float | None,
    verbose: int,
    quiet: bool,
) -> None:
    """Keep the Sipalto PBX global phonebook in step with CSV, Excel, vCard and CRM sources."""
    _setup_logging(verbose, quiet)
    with handle_errors(verbose):
        settings = ConnectionSettings.from_env({}).with_overrides(
            base_url=base_url, username=username, password=password, timeout=timeout
        )
    ctx.obj = AppContext(settings=settings, verbose=verbose, quiet=quiet)


pass_app = click.make_pass_decorator(AppContext)

#: ``-o/--output FILE``, shared by every command that writes a listing.
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)


def _open_output(path: Path | None) -> TextIO:
    if path is None or str(path) == "-":
        return sys.stdout
    return path.open("w", encoding="utf-8", newline="")


# -- contacts --------------------------------------------------------------------------


@cli.group()
def contacts() -> None:
    """Read the Sipalto global phonebook."""


@contacts.command(
    "list",
    epilog="""\b
Examples:
  sipalto-sync contacts list
  sipalto-sync contacts list --format json -o backup.json
  sipalto-sync contacts list --format csv -o phonebook.csv  # edit it, then import it again
  sipalto-sync contacts list --format vcf -o phonebook.vcf
""",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "vcf"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@output_option
@pass_app
def contacts_list(app: AppContext, fmt: str, output: Path | None) -> None:
    """List the whole global phonebook (also a backup/export)."""
    from connector.ui.contacts_view import write_contacts

    with app.settings.client() as api:
        found = api.list_contacts()
    out = _open_output(output)
    try:
        write_contacts(found, fmt, out, color=fmt == "table" and app.color(out))
    finally:
        if out is not sys.stdout:
            out.close()
    if output is not None:
        app.say(f"Wrote {len(found)} contacts to {output}")


# -- sources and plans -----------------------------------------------------------------


_SOURCE_OPTIONS = [
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
]


def source_options(function: Any) -> Any:
    """The options every command reading a source file shares."""
    for option in reversed(_SOURCE_OPTIONS):
        function = option(function)
    return function


def _source_options(
    source_format: str | None,
    mapping: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
) -> Any:
    from connector.reconcile.workflow import SourceOptions

    sheet_value: str | int | None = int(sheet) if sheet and sheet.isdigit() else sheet
    return SourceOptions(
        format=source_format,
        mapping=mapping,
        encoding=encoding,
        sheet=sheet_value,
        header_row=header_row,
    )


_SOURCE_FORMATS = click.Choice(["csv", "xlsx", "vcard"])


@cli.command(
    epilog="""\\b
Examples:
  sipalto-sync inspect sample_data/contacts.csv
  sipalto-sync inspect phones.vcf --format vcard
  sipalto-sync inspect export.xlsx --sheet Contacts --mapping crm.yaml --output json
"""
)
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "source_format",
    type=_SOURCE_FORMATS,
    help="Read as this format [default: from the extension or content].",
)
@source_options
@click.option(
    "--output",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How to show the records.",
)
@pass_app
def inspect(
    app: AppContext,
    source: Path,
    source_format: str | None,
    mapping: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
    output_format: str,
) -> None:
    """Show the contacts a source file holds, as read, with every rejected record."""
    from connector.reconcile.workflow import read_source
    from connector.ui.plan_view import render_source_json, render_source_table

    read = read_source(source, _source_options(source_format, mapping, encoding, sheet, header_row))
    for message in read.messages:
        app.say(message)
    if output_format == "json":
        click.echo(render_source_json(read.records))
    else:
        click.echo(render_source_table(read.records, color=app.color(sys.stdout)), nl=False)
    if any(record.problems for record in read.records):
        sys.exit(EXIT_ERROR)


@cli.command(
    epilog="""\\b
Examples:
  sipalto-sync plan sample_data/contacts.csv
  sipalto-sync plan contacts.xlsx --out plan.json          # then: sipalto-sync apply plan.json
  sipalto-sync plan google.csv --mapping google-contacts --phones replace
  sipalto-sync plan contacts.csv --format csv > review.csv # fill in the decision column
  sipalto-sync plan contacts.csv --decisions review.csv --out plan.json
  sipalto-sync plan contacts.csv --detailed-exitcode -q    # 0: nothing to do, 2: changes
"""
)
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source-format",
    type=_SOURCE_FORMATS,
    help="Read the source as this format [default: from the extension or content].",
)
@source_options
@click.option(
    "--region",
    default="GB",
    show_default=True,
    metavar="CC",
    help="Country of numbers written without a country code.",
)
@click.option(
    "--phones",
    type=click.Choice(["merge", "replace"]),
    default="merge",
    show_default=True,
    help="merge: keep phonebook numbers the source lacks in free slots; "
    "replace: make the numbers equal to the source's.",
)
@click.option(
    "--delete",
    type=click.Choice(["never"]),
    default="never",
    show_default=True,
    help="Delete policy (deletes come with scheduled sync).",
)
@click.option(
    "--decisions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Reviewers' decisions (YAML, or the CSV preview with its decision column).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the plan file for `sipalto-sync apply`.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="Preview format on standard output.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to change, 2 when there are changes.",
)
@pass_app
def plan(
    app: AppContext,
    source: Path,
    source_format: str | None,
    mapping: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
    region: str,
    phones: str,
    delete: str,
    decisions: Path | None,
    out: Path | None,
    output_format: str,
    detailed_exitcode: bool,
) -> None:
    """Compare a source with the phonebook and preview the changes (a dry run)."""
    from connector.reconcile.decisions import load_decisions
    from connector.reconcile.plan import PlanSettings
    from connector.reconcile.planfile import save_plan
    from connector.reconcile.workflow import plan_from_source
    from connector.ui.plan_view import render_plan_csv, render_plan_json, render_plan_text

    settings = PlanSettings(region=region, phones=phones, delete=delete)
    pinned = load_decisions(decisions) if decisions else None
    with app.settings.client() as api:
        made, read = plan_from_source(
            api,
            source,
            source_options=_source_options(source_format, mapping, encoding, sheet, header_row),
            settings=settings,
            decisions=pinned,
        )
    for message in read.messages:
        app.say(message)
    if output_format == "json":
        click.echo(render_plan_json(made))
    elif output_format == "csv":
        render_plan_csv(made, sys.stdout)
    else:
        click.echo(render_plan_text(made, verbose=app.verbose > 0, color=app.color(sys.stdout)))
    if out is not None:
        save_plan(made, out)
        app.say(f"Plan saved to {out}. To carry it out: sipalto-sync apply {out}")
    if detailed_exitcode and made.has_changes:
        sys.exit(EXIT_CHANGES)


@cli.group()
def mappings() -> None:
    """The shipped mapping presets (how a table's columns become contacts)."""


@mappings.command(
    "list",
    epilog="""\\b
Example:
  sipalto-sync mappings list
""",
)
def mappings_list() -> None:
    """List the mapping presets."""
    from adapters.mapping import list_presets

    for name, description in list_presets():
        click.echo(f"{name:<18} {description}")


@mappings.command(
    "show",
    epilog="""\\b
Examples:
  sipalto-sync mappings show google-contacts
  sipalto-sync mappings show outlook > my-mapping.yaml   # a starting point to edit
""",
)
@click.argument("name")
def mappings_show(name: str) -> None:
    """Print a preset's YAML."""
    from adapters.mapping import preset_text

    click.echo(preset_text(name), nl=False)


# -- apply -----------------------------------------------------------------------------


_APPLY_OPTIONS = [
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
]


def apply_options(function: Any) -> Any:
    """The options ``apply`` and ``restore`` share."""
    for option in reversed(_APPLY_OPTIONS):
        function = option(function)
    return function


@cli.command(
    "apply",
    epilog="""\b
Examples:
  sipalto-sync apply plan.json
  sipalto-sync apply plan.json --yes --quiet          # from cron
  sipalto-sync apply plan.json --yes --concurrency 8 --backup-dir /var/backups/sipalto
Run the same command again after an interruption: it resumes from the journal.
""",
)
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@apply_options
@pass_app
def apply_command(
    app: AppContext,
    plan_file: Path,
    yes: bool,
    concurrency: int,
    rate: float | None,
    backup_dir: Path | None,
) -> None:
    """Carry out a plan's adds, updates and deletes, safely and resumably."""
    from connector.apply.engine import load_plan_file, same_server
    from connector.errors import PlanError

    target = load_plan_file(plan_file)
    if target.server and not same_server(target.server, app.settings.base_url):
        raise PlanError(
            f"{plan_file} was made against {target.server}, but the target is "
            f"{app.settings.base_url}; make a new plan against this server"
        )
    _run_apply(app, target, yes=yes, concurrency=concurrency, rate=rate, backup_dir=backup_dir)


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync restore ~/.local/share/sipalto-sync/backups/phonebook-HOST-TIME.json
  sipalto-sync restore backup.json --yes
  sipalto-sync contacts list --format json -o before.json   # any export restores too
Contacts removed since the backup are added again (under new ids: the API cannot
choose ids), changed ones are reverted, and contacts added since are deleted.
"""
)
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@apply_options
@pass_app
def restore(
    app: AppContext,
    backup_file: Path,
    yes: bool,
    concurrency: int,
    rate: float | None,
    backup_dir: Path | None,
) -> None:
    """Bring the phonebook back to a backup: preview, then apply like a plan."""
    from connector import paths
    from connector.apply.backup import load_backup
    from connector.apply.engine import plan_target
    from connector.apply.restore import plan_restore
    from connector.reconcile.planfile import save_plan
    from connector.ui.plan_view import render_plan_text

    saved = load_backup(backup_file)
    with app.settings.client() as api:
        current = api.list_contacts()
    plan = plan_restore(saved, current, server=app.settings.base_url, source=str(backup_file))
    click.echo(render_plan_text(plan, verbose=app.verbose > 0, color=app.color(sys.stdout)))
    if not plan.has_changes:
        app.say("The phonebook already matches the backup: nothing to restore.")
        return
    # Kept as a plan file so an interrupted restore resumes with `apply`.
    plans = paths.data_dir() / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    plan_path = plans / f"restore-{plan.plan_id}.json"
    save_plan(plan, plan_path)
    app.say(f"Restore plan saved as {plan_path} (if interrupted: sipalto-sync apply {plan_path})")
    _run_apply(
        app,
        plan_target(plan),
        yes=yes,
        concurrency=concurrency,
        rate=rate,
        backup_dir=backup_dir,
        question="Restore the phonebook to this backup?",
    )


def _run_apply(
    app: AppContext,
    target: Any,
    *,
    yes: bool,
    concurrency: int,
    rate: float | None,
    backup_dir: Path | None,
    question: str = "Apply these changes to the Sipalto phonebook?",
) -> None:
    """Confirm, run the apply engine with progress, print the report, set the exit code."""
    from connector import paths
    from connector.api.pacing import Pacer
    from connector.apply.engine import ApplyEngine
    from connector.apply.journal import Journal
    from connector.ui.apply_view import ProgressDisplay, describe_operations, render_apply_report

    app.say(describe_operations(target))
    if not target.operations:
        app.say("Nothing to apply.")
        return
    _confirm(yes, question)
    backups = backup_dir or paths.backup_dir()
    with app.settings.client(pacer=Pacer(rate)) as api, Journal(paths.journal_path()) as journal:
        with ProgressDisplay(
            len(target.operations), terminal=sys.stderr.isatty(), quiet=app.quiet, echo=app.say
        ) as progress:
            engine = ApplyEngine(
                api, journal, backup_dir=backups, concurrency=concurrency, progress=progress
            )
            report = engine.run(target)
    text = render_apply_report(report, verbose=app.verbose > 0)
    if report.ok:
        app.say(text)
    else:
        click.echo(text, err=True)
        sys.exit(EXIT_ERROR)


def _confirm(yes: bool, question: str) -> None:
    """Ask before writing; refuse when there is no terminal to ask on."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfigError(
            "refusing to change the phonebook without confirmation: "
            "there is no terminal to ask on; pass --yes"
        )
    if not click.confirm(question, default=False, err=True):
        click.echo("Nothing was changed.", err=True)
        raise click.exceptions.Exit(EXIT_ERROR)


# -- sandbox and demo ------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync sandbox --port 8765
  sipalto-sync sandbox --seed my-phonebook.json --state sandbox-state.json
  sipalto-sync sandbox --latency 0.05 --rate-limit 25/1 --fail-rate 0.05 --token-ttl 60
"""
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free port).")
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of contacts to start with [default: the docs' examples plus "
    "sample_data/phonebook.json].",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the phonebook in this JSON file between runs.",
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option(
    "--rate-limit", metavar="N/S", help="At most N requests per S seconds per user (429 beyond)."
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Probability of a random 500/503 before doing anything.",
)
@click.option(
    "--lose-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Probability that a write is done but its answer is a 500.",
)
@click.option(
    "--token-ttl",
    type=float,
    default=3600.0,
    show_default=True,
    help="Seconds an access token stays valid.",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="NAME:PASSWORD",
    help="Accepted credentials (repeatable) [default demo:demo].",
)
@pass_app
def sandbox(
    app: AppContext,
    host: str,
    port: int,
    seed: Path | None,
    state: Path | None,
    latency: float,
    rate_limit: str | None,
    fail_rate: float,
    lose_rate: float,
    token_ttl: float,
    users: tuple[str, ...],
) -> None:
    """Run a local emulator of the Sipalto API (for trials, demos and tests)."""
    from connector.sandbox import Faults, Sandbox, SandboxServer, build_state, parse_rate

    faults = Faults(
        latency=latency,
        rate_limit=parse_rate(rate_limit) if rate_limit else None,
        fail_rate=fail_rate,
        lose_rate=lose_rate,
        token_ttl=token_ttl,
    )
    emulator = Sandbox(build_state(seed=seed, state_path=state, users=users), faults)
    server = SandboxServer(emulator, host=host, port=port)
    server.start()
    credentials = ", ".join(sorted(emulator.state.users))
    click.echo(
        f"Sipalto sandbox on {server.url} ({len(emulator.state.contacts)} contacts; "
        f"users: {credentials}). Ctrl-C to stop.",
        err=True,
    )
    click.echo(f"  export SIPALTO_BASE_URL={server.url}", err=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("Sandbox stopped.", err=True)


@cli.command(
    epilog="""\b
Example:
  sipalto-sync demo
"""
)
@pass_app
def demo(app: AppContext) -> None:
    """Run the whole job against a built-in sandbox: no account or network needed."""
    from connector.sandbox.demo import run_demo

    def say(text: str) -> None:
        click.echo(text)

    sys.exit(run_demo(say, color=app.color(sys.stdout)))


# -- calls -----------------------------------------------------------------------------


@cli.group()
def calls() -> None:
    """Call history: answered calls named from the phonebook, recordings, transcripts."""


@calls.command(
    "list",
    epilog="""\b
Examples:
  sipalto-sync calls list --number 1009 --start "2025-10-08 00:00" --end "2025-10-08 23:59"
  sipalto-sync calls list -n 1009 -n 1007 --since 7d
  sipalto-sync calls list -n 1009 --start 2025-01-01 --end 2025-06-30 --format csv -o h1.csv

\b
WHEN is YYYY-MM-DD, "YYYY-MM-DD HH:MM", now, today, yesterday, or an age
such as 30m, 12h, 7d, 2w. A bare date ends at 23:59 when used as --end.
Ranges longer than the server allows are fetched in several requests.
""",
)
@click.option(
    "-n",
    "--number",
    "numbers",
    multiple=True,
    required=True,
    metavar="NUMBER",
    help="Phone number or extension whose calls to list (repeatable).",
)
@click.option("--start", metavar="WHEN", help="Range start [default: today 00:00].")
@click.option("--since", metavar="WHEN", help="Another name for --start: --since 7d.")
@click.option("--end", metavar="WHEN", help="Range end [default: now].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@output_option
@click.option("--no-names", is_flag=True, help="Do not read the phonebook to name the parties.")
@pass_app
def calls_list(
    app: AppContext,
    numbers: tuple[str, ...],
    start: str | None,
    since: str | None,
    end: str | None,
    fmt: str,
    output: Path | None,
    no_names: bool,
) -> None:
    """List answered calls in a date range, callers and callees named from the phonebook."""
    from datetime import datetime

    from connector.calls.history import list_calls
    from connector.calls.ranges import parse_range
    from connector.ui.calls_view import write_calls

    first, last = parse_range(start, end, since, now=datetime.now())
    with app.settings.client() as api:
        phonebook = None if no_names else api.list_contacts()
        report = list_calls(api, numbers, first, last, phonebook=phonebook)
    out = _open_output(output)
    try:
        write_calls(report, fmt, out, color=fmt == "table" and app.color(out))
    finally:
        if out is not sys.stdout:
            out.close()
    if not report.rows and fmt != "table":
        app.say(f"No answered calls for {report.describe()}.")
    if output is not None:
        app.say(f"Wrote {len(report.rows)} calls to {output}")


@calls.command(
    "recording",
    epilog="""\b
Examples:
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o recordings/
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o call.wav --force
""",
)
@click.argument("call_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File or folder to save to [default: CALL_ID.wav in the current folder].",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def calls_recording(app: AppContext, call_id: str, output: Path | None, force: bool) -> None:
    """Save a call's recording as a WAV file (checked to really be audio)."""
    from connector.calls.recordings import save_recording

    with app.settings.client() as api:
        saved = save_recording(api, call_id, output, force=force)
    app.say(f"Saved the recording of {call_id} to {saved} ({saved.stat().st_size:,} bytes)")


@calls.command(
    "transcript",
    epilog="""\b
Examples:
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 --summary
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 -n 1009 \\
    --speaker-names "0=caller,1=callee"
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 --format srt -o call.srt

\b
Speakers are numbered by voice diarization, which does not say who is the
caller: name them with --speaker-names. With --number (a party of the call)
the call is looked up and shown with names from the phonebook; CALLER and
CALLEE then work as speaker names.
""",
)
@click.argument("call_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "srt"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--summary", is_flag=True, help="Also print the API's one-segment summary (text).")
@click.option(
    "--speaker-names",
    multiple=True,
    metavar="N=NAME,...",
    help="Name the speakers, e.g. '0=Alice,1=Bob' or '0=caller,1=callee'.",
)
@click.option(
    "-n",
    "--number",
    "numbers",
    multiple=True,
    metavar="NUMBER",
    help="A party of the call (e.g. its extension), to look the call up (repeatable).",
)
@click.option(
    "--date",
    metavar="WHEN",
    help="When the call was, for --number [default: read from the call id].",
)
@click.option("--no-names", is_flag=True, help="Do not read the phonebook to name the parties.")
@output_option
@pass_app
def calls_transcript(
    app: AppContext,
    call_id: str,
    fmt: str,
    summary: bool,
    speaker_names: tuple[str, ...],
    numbers: tuple[str, ...],
    date: str | None,
    no_names: bool,
    output: Path | None,
) -> None:
    """Print a call's transcript as a conversation in time order (or JSON, or subtitles)."""
    from datetime import datetime

    from connector.calls.ranges import parse_when
    from connector.calls.transcripts import fetch_transcript, parse_speaker_names
    from connector.ui.transcript_view import write_transcript

    if date is not None and not numbers:
        raise ConfigError("--date only helps to find the call with --number: give both")
    names = parse_speaker_names(speaker_names)
    around = parse_when(date, now=datetime.now()) if date is not None else None
    with app.settings.client() as api:
        phonebook = api.list_contacts() if numbers and not no_names else None
        transcript = fetch_transcript(
            api, call_id, numbers=numbers, around=around, phonebook=phonebook, speaker_names=names
        )
    if numbers and transcript.call is None:
        app.say(f"Call {call_id} is not among the calls of {', '.join(numbers)} near its date.")
    if not transcript.lines:
        app.say(f"The transcript of {call_id} has no lines.")
    out = _open_output(output)
    try:
        write_transcript(transcript, fmt, out, summary=summary)
    finally:
        if out is not sys.stdout:
            out.close()


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="sipalto-sync")
