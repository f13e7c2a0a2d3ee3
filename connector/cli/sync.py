"""``sync``: run a scheduled sync job (``--config JOB.yaml``), and ``sync status``."""

from __future__ import annotations

import functools
import sys
from dataclasses import replace
from pathlib import Path

import click

from connector.cli.app import (
    EXIT_ERROR,
    EXIT_HELD,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VALVE,
    AppContext,
    cli,
    pass_app,
)
from connector.cli.apply_options import ApplyOptions, apply_options
from connector.cli.options import Decorator, format_option
from connector.errors import SipaltoSyncError
from connector.sync.job import Job, load_job
from connector.sync.result import SyncResult
from connector.sync.runner import run_job
from connector.sync.state import OK, VALVE
from connector.sync.status import job_status
from connector.ui.apply_view import ProgressDisplay
from connector.ui.sync_view import LOG_FORMATS, EventLog, render_status, render_summary, status_json

_CONFIG_HELP = "The job file (YAML): source, server, state, policy, report folder."


def config_option(*, required: bool = False) -> Decorator:
    """``--config JOB.yaml``: optional on ``sync`` itself (its subcommands take their
    own), required on ``sync status``."""
    return click.option(
        "--config",
        "-c",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="JOB.yaml",
        required=required,
        help=_CONFIG_HELP,
    )


@cli.group(
    invoke_without_command=True,
    epilog="""\b
Examples:
  sipalto-sync sync --config crm-nightly.yaml --dry-run      # what it would do
  sipalto-sync sync --config crm-nightly.yaml -q             # from cron: quiet unless trouble
  sipalto-sync sync --config crm-nightly.yaml --allow-deletes 14   # 14 deletes checked
  sipalto-sync sync --config migrate.yaml --yes              # a mirror job needs --yes
  sipalto-sync sync --config crm-nightly.yaml --log-format json --detailed-exitcode
  sipalto-sync sync status --config crm-nightly.yaml
Exit codes: 0 done (or nothing to do), 1 error or an apply that did not finish,
3 a safety valve held the run back (nothing written), 4 with --detailed-exitcode:
done, but records are held for review or were rejected.
""",
)
@config_option()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Plan, check the safety valves and write the report; write nothing to Sipalto "
    "or to the job's state.",
)
@click.option(
    "--allow-deletes",
    type=click.IntRange(min=0),
    metavar="N",
    help="Let this run delete N contacts (a number a person checked in the plan), instead "
    "of the job's max_deletes; a run with more deletes stops.",
)
@click.option(
    "--readd-deleted",
    is_flag=True,
    help="This once, add again bound contacts someone deleted in Sipalto (as the job's "
    "readd_deleted: true does on every run).",
)
@click.option(
    "--full-read",
    is_flag=True,
    help="This once, read a CRM whose mapping reads incrementally in full (and so see "
    "what was deleted from it).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 4 when the run finished but records are held for review or were rejected.",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="text: lines for people; json: one JSON object per event on standard error.",
)
@apply_options
@pass_app
@click.pass_context
def sync(
    ctx: click.Context,
    app: AppContext,
    config: Path | None,
    dry_run: bool,
    allow_deletes: int | None,
    readd_deleted: bool,
    full_read: bool,
    detailed_exitcode: bool,
    log_format: str,
    applying: ApplyOptions,
) -> None:
    """Run a scheduled sync job: read its source, plan against the phonebook with the
    job's state, check the safety valves, apply, and record what was done.

    --yes confirms a mirror job's deletes (needed on every run); a sync never asks.
    """
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        raise click.UsageError("give the job file: sipalto-sync sync --config JOB.yaml")
    log = EventLog(sys.stderr, fmt=log_format, job=config.stem, quiet=app.quiet)
    try:
        job = _job(ctx, config)
        log.job = job.name
        echo = functools.partial(click.echo, err=True)
        with ProgressDisplay(terminal=sys.stderr.isatty(), quiet=app.quiet, echo=echo) as shown:
            log.progress = shown
            result = run_job(
                job,
                dry_run=dry_run,
                confirmed=applying.yes,
                allow_deletes=allow_deletes,
                readd=readd_deleted,
                full_read=full_read,
                observer=log,
                apply_settings=applying.settings,
            )
    except SipaltoSyncError as exc:
        if log_format != "json":
            raise  # the group says it in one line, as for every command
        log.error(_first_line(exc))
        sys.exit(exc.exit_code)
    _report(app, result, log_format)
    sys.exit(_exit_code(result, detailed=detailed_exitcode))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _job(ctx: click.Context, config: Path) -> Job:
    """The job file read, with the global connection options given on the command line
    (``--base-url`` and the others) over what the job file and the environment say."""
    job = load_job(config)
    root = ctx.find_root()
    given = {
        name: root.params.get(name)
        for name in ("base_url", "username", "password")
        if root.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    }
    if not given:
        return job
    return replace(job, connection=job.connection.with_overrides(**given))


def _report(app: AppContext, result: SyncResult, log_format: str) -> None:
    """The run's end: the summary on standard output (standard error when it failed,
    even with -q); JSON logs said it all as events."""
    if log_format == "json":
        return
    text = render_summary(result)
    if result.outcome == OK:
        app.show(text)
    else:
        click.echo(text, err=True)


def _exit_code(result: SyncResult, *, detailed: bool) -> int:
    if result.outcome == VALVE:
        return EXIT_VALVE
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.outcome != OK:
        return EXIT_ERROR
    if detailed and result.attention:
        return EXIT_HELD
    return EXIT_OK


@sync.command(
    "status",
    epilog="""\b
Examples:
  sipalto-sync sync status --config crm-nightly.yaml
  sipalto-sync sync status --config crm-nightly.yaml --format json
""",
)
@config_option(required=True)
@format_option(("text", "json"), help="How to show the status.")
@pass_app
def status(app: AppContext, config: Path, fmt: str) -> None:
    """When the job last ran and how it went, what it owns, whether a run is in progress,
    its last failure, and the records held for review. Changes nothing."""
    found = job_status(load_job(config))
    click.echo(status_json(found) if fmt == "json" else render_status(found))
