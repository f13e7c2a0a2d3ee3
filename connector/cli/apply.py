"""Commands that change the phonebook: ``apply`` a plan, ``restore`` a backup."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from connector.apply.backup import load_backup
from connector.apply.engine import INTERRUPTED
from connector.apply.restore import (
    Deletes,
    check_backup_server,
    plan_restore,
    save_restore_plan,
)
from connector.apply.run import run_plan
from connector.apply.target import PlanTarget, load_plan_file, plan_target
from connector.cli.app import EXIT_ERROR, EXIT_INTERRUPTED, AppContext, cli, pass_app
from connector.cli.apply_options import ApplyOptions, RestoreGuards, apply_options, restore_options
from connector.errors import ConfigError
from connector.reconcile.workflow import cyclic_gc_paused
from connector.ui.apply_view import ProgressDisplay, describe_operations, render_apply_report
from connector.ui.plan_view import render_plan_text


@cli.command(
    "apply",
    epilog="""\b
Examples:
  sipalto-sync apply plan.json
  sipalto-sync apply plan.json --yes --quiet          # from cron
  sipalto-sync apply plan.json --yes --concurrency 8 --backup-dir /var/backups/sipalto
  sipalto-sync apply plan.json --yes --settle-delay 60 --max-time 7200
Run the same command again after an interruption: it resumes from the journal.
Exit code 0 means a final read found the phonebook exactly as planned.
""",
)
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@apply_options
@pass_app
def apply_command(app: AppContext, plan_file: Path, applying: ApplyOptions) -> None:
    """Carry out a plan's adds, updates and deletes, safely and resumably."""
    # A bulk migration's plan is 100,000 items or more, and no cycles among them: read
    # with the cyclic collector paused, as `report` reads it (5 s down to 2 s at 100k).
    with cyclic_gc_paused():
        target = load_plan_file(plan_file, server=app.settings.base_url)
    _run_apply(app, target, applying)


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync restore ~/.local/share/sipalto-sync/backups/phonebook-HOST-TIME.json
  sipalto-sync restore backup.json --yes
  sipalto-sync restore backup.json --yes --max-delete 57   # may delete up to 57
  sipalto-sync contacts list --format json -o before.json   # any export restores too
Contacts removed since the backup are added again (under new ids: the API cannot
choose ids), changed ones are reverted, and contacts added since are deleted.
A backup of another server is refused (--force-other-server), and a restore that
deletes many contacts needs --max-delete N or the number typed on a terminal.
"""
)
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@apply_options
@restore_options
@pass_app
def restore(
    app: AppContext, backup_file: Path, applying: ApplyOptions, guards: RestoreGuards
) -> None:
    """Bring the phonebook back to a backup: preview, then apply like a plan."""
    saved = load_backup(backup_file)
    check_backup_server(saved, app.settings.base_url, force=guards.force_other_server)
    with app.settings.client() as api:
        current = api.list_contacts()
    plan = plan_restore(
        saved.contacts,
        current,
        server=app.settings.base_url,
        source=str(backup_file),
        made_on=saved.server,
    )
    app.show(render_plan_text(plan, verbose=app.verbose > 0, color=app.color(sys.stdout)))
    if not plan.has_changes:
        app.say("The phonebook already matches the backup: nothing to restore.")
        return
    deletes = Deletes.of(plan, current)
    if deletes.mass:
        app.say(deletes.statement)
    if deletes.needs_consent(guards.max_delete):
        applying = _consent_to_deletes(deletes, applying)
    plan_path = save_restore_plan(plan)
    app.say(f"Restore plan saved as {plan_path} (if interrupted: sipalto-sync apply {plan_path})")
    _run_apply(app, plan_target(plan), applying, question="Restore the phonebook to this backup?")


def _consent_to_deletes(deletes: Deletes, applying: ApplyOptions) -> ApplyOptions:
    """A mass delete goes ahead only when the user types how many, never on ``--yes``
    alone; typed, it is the confirmation, so the usual question is not asked again."""
    allow = f"pass --max-delete {deletes.count} to allow it"
    if applying.yes:
        raise ConfigError(f"refusing to delete {deletes.count} contacts on --yes alone: {allow}")
    if not sys.stdin.isatty():
        raise ConfigError(
            f"refusing to delete {deletes.count} contacts without confirmation: there is "
            f"no terminal to ask on; {allow}"
        )
    typed = click.prompt(
        f"Type {deletes.count} to delete them", default="", show_default=False, err=True
    )
    if typed.strip() != str(deletes.count):
        click.echo("Nothing was changed.", err=True)
        sys.exit(EXIT_ERROR)  # not click's Exit: the group returns its code as success
    return replace(applying, yes=True)


def _run_apply(
    app: AppContext,
    target: PlanTarget,
    applying: ApplyOptions,
    *,
    question: str = "Apply these changes to the Sipalto phonebook?",
) -> None:
    """Confirm, run the apply engine with progress, print the report, set the exit code."""
    app.say(describe_operations(target))
    if not target.operations:
        app.say("Nothing to apply.")
        return
    _confirm(applying.yes, question)
    with ProgressDisplay(terminal=sys.stderr.isatty(), quiet=app.quiet, echo=app.say) as display:
        report = run_plan(app.settings, target, applying.settings, observer=display)
    text = render_apply_report(report, verbose=app.verbose > 0, start_shown=not app.quiet)
    if report.ok:
        app.say(text)
        return
    click.echo(text, err=True)
    sys.exit(EXIT_INTERRUPTED if report.stopped == INTERRUPTED else EXIT_ERROR)


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
