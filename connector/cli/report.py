"""``report``: a plan file as one self-contained web page, for the person who signs it off."""

from __future__ import annotations

from pathlib import Path

import click

from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import OutputOption, file_name, open_output, output_option
from connector.reconcile.planfile import load_plan
from connector.reconcile.workflow import cyclic_gc_paused
from connector.ui.plan_html import write_plan_html


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync report plan.json -o plan.html     # open it in a browser, print it, send it
  sipalto-sync report plan.json -o reports/      # reports/plan.html
  sipalto-sync plan contacts.csv --format html -o plan.html   # the same, straight from a source
The page needs no network and no other file: filters, search and sorting work offline,
and it reads (and prints on A4) with scripts off.
"""
)
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@output_option
@pass_app
def report(app: AppContext, plan_file: Path, output: OutputOption) -> None:
    """Write a plan file (from `plan --out`, or a sync job's report folder) as one web page:
    counts, settings, and every item by action, to review and sign off."""
    target = output.resolve(file_name("plan", "html"))
    # As for `plan`: a large plan is millions of small objects, none in a cycle.
    with cyclic_gc_paused():
        made = load_plan(plan_file)
        with open_output(target, quiet=app.quiet) as out:
            write_plan_html(made, out)
    if target.path is not None:
        app.say(f"Report of {plan_file} written to {target.path}")
