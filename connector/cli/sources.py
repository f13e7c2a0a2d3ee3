"""Commands that read a source file: ``inspect``, ``plan``, and the ``mappings`` presets."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from adapters.mapping import preset_text
from adapters.registry import list_all_presets
from connector.cli.app import EXIT_CHANGES, EXIT_ERROR, AppContext, cli, pass_app
from connector.cli.options import (
    SOURCE,
    OutputOption,
    file_name,
    format_option,
    open_output,
    output_option,
    source_options,
)
from connector.lifetime import keep
from connector.reconcile.decisions import load_decisions
from connector.reconcile.plan import NAME_POLICIES, PHONE_POLICIES, PlanSettings
from connector.reconcile.planfile import save_plan
from connector.reconcile.workflow import (
    SourceOptions,
    SourceRead,
    cyclic_gc_paused,
    plan_from_source,
    read_source,
)
from connector.timings import stage
from connector.ui.plan_view import PREVIEW_FORMATS, write_plan
from connector.ui.read_view import ReadProgressDisplay
from connector.ui.source_view import (
    RECORD_FORMATS,
    rejection_lines,
    write_presets,
    write_records,
)


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync inspect sample_data/contacts.csv
  sipalto-sync inspect phones.txt --source-format vcard
  sipalto-sync inspect export.xlsx --sheet Contacts --mapping crm.yaml --format json -o records.json
"""
)
@click.argument("source", type=SOURCE)
@source_options
@format_option(RECORD_FORMATS, help="How to show the records.")
@output_option
@pass_app
def inspect(
    app: AppContext, source: str | Path, reading: SourceOptions, fmt: str, output: OutputOption
) -> None:
    """Show the contacts a source holds (a file, or a CRM's URL with a CRM mapping), as
    read, with every rejected record."""
    target = output.resolve(file_name("records", fmt))
    with _progress(app) as progress:
        read = read_source(source, replace(reading, progress=progress))
    _say_read(app, read, reading)
    with open_output(target, quiet=app.quiet) as out:
        write_records(read.records, fmt, out, color=app.color(out), terminal=out.isatty())
    rejected = rejection_lines(read.records)
    if app.quiet:
        for line in rejected:
            click.echo(line, err=True)
    if rejected:
        sys.exit(EXIT_ERROR)


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync plan sample_data/contacts.csv
  sipalto-sync plan contacts.xlsx --out plan.json             # then: sipalto-sync apply plan.json
  sipalto-sync plan google.csv --mapping google-contacts --phones replace
  sipalto-sync plan crm.csv --names source                    # write the CRM's name forms
  sipalto-sync plan contacts.csv --format csv -o review.csv   # fill in the decision column
  sipalto-sync plan contacts.csv --decisions review.csv --out plan.json
  sipalto-sync plan contacts.csv --format decisions -o decisions.yaml   # decide in YAML
  sipalto-sync plan contacts.csv --format html -o plan.html   # a web page to sign off
  sipalto-sync plan contacts.csv --detailed-exitcode -q       # 0: nothing to apply, 2: changes
"""
)
@click.argument("source", type=SOURCE)
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
    type=click.Choice(PHONE_POLICIES),
    default="merge",
    show_default=True,
    help="merge: keep phonebook numbers the source lacks in free slots; "
    "replace: make the numbers equal to the source's.",
)
@click.option(
    "--names",
    type=click.Choice(NAME_POLICIES),
    default="phonebook",
    show_default=True,
    help="phonebook: keep a contact's name when the source's differs only in form (case, "
    "accents, punctuation, word order, a title); source: write the source's form.",
)
@click.option(
    "--delete",
    # Deleting what a sync owns needs the ownership records scheduled sync will keep.
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
    help="Save the plan file for `sipalto-sync apply` (the plan itself, whatever the "
    "preview's --format and -o).",
)
@format_option(PREVIEW_FORMATS, help="Preview format.")
@output_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to apply (reviews and rejected records are not "
    "changes), 2 when there are changes to apply.",
)
@pass_app
def plan(
    app: AppContext,
    source: str | Path,
    reading: SourceOptions,
    region: str,
    phones: str,
    names: str,
    delete: str,
    decisions: Path | None,
    out: Path | None,
    fmt: str,
    output: OutputOption,
    detailed_exitcode: bool,
) -> None:
    """Compare a source (a file, or a CRM's URL with a CRM mapping) with the phonebook and
    preview the changes (a dry run)."""
    target = output.resolve(file_name("plan-preview", fmt))
    settings = PlanSettings(region=region, phones=phones, delete=delete, names=names)
    pinned = load_decisions(decisions) if decisions else None
    # Planning, showing and saving a large plan make millions of small objects, none in a
    # cycle: the collector stays paused from the first to the last (once re-enabled in
    # between, it walked the whole plan again for nothing, most of a second at 100k).
    with cyclic_gc_paused():
        with app.settings.client() as api, _progress(app) as progress:
            made, read = plan_from_source(
                api,
                source,
                source_options=replace(reading, progress=progress),
                settings=settings,
                decisions=pinned,
            )
        _say_read(app, read, reading)
        with stage("preview"), open_output(target, quiet=app.quiet) as preview:
            write_plan(
                made,
                fmt,
                preview,
                verbose=app.verbose > 0,
                color=app.color(preview),
                source=str(source),
            )
        if out is not None:
            with stage("write plan file"):
                save_plan(made, out)
        keep(made, read)
    if out is not None:
        app.say(f"Plan saved to {out}. To carry it out: sipalto-sync apply {out}")
    if detailed_exitcode and made.has_changes:
        sys.exit(EXIT_CHANGES)


def _say_read(app: AppContext, read: SourceRead, reading: SourceOptions) -> None:
    """What the adapter said while reading, whether the file looks cut short, and whether
    ``--limit`` cut the read short."""
    for message in read.messages:
        app.say(message)
    if read.cut_short:
        app.say(f"Warning: {read.cut_short}")
    if reading.limit is not None and len(read.records) >= reading.limit:
        app.say(f"--limit {reading.limit}: only the first {reading.limit} records were read")


def _progress(app: AppContext) -> ReadProgressDisplay:
    """The progress display of a slow read (a CRM's pages), on standard error."""
    return ReadProgressDisplay(
        terminal=sys.stderr.isatty(), quiet=app.quiet, echo=lambda line: click.echo(line, err=True)
    )


@cli.group(
    epilog="""\b
Examples:
  sipalto-sync mappings list
  sipalto-sync mappings show google-contacts
"""
)
def mappings() -> None:
    """The shipped mapping presets: how a table's columns, or a CRM's records, become
    contacts."""


@mappings.command(
    "list",
    epilog="""\b
Example:
  sipalto-sync mappings list
""",
)
@output_option
def mappings_list(output: OutputOption) -> None:
    """List the mapping presets."""
    with open_output(output.resolve("mappings.txt")) as out:
        write_presets(list_all_presets(), out)


@mappings.command(
    "show",
    epilog="""\b
Examples:
  sipalto-sync mappings show google-contacts
  sipalto-sync mappings show outlook -o my-mapping.yaml   # a starting point to edit
""",
)
@click.argument("name")
@output_option
def mappings_show(name: str, output: OutputOption) -> None:
    """Print a preset's YAML."""
    text = preset_text(name)
    with open_output(output.resolve(f"{name}.yaml")) as out:
        out.write(text)
