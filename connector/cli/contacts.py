"""``sipalto-sync contacts``: the Sipalto global phonebook as it is."""

from __future__ import annotations

from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import (
    OutputOption,
    file_name,
    format_option,
    open_output,
    output_option,
)
from connector.ui.contacts_view import FORMATS, write_contacts
from connector.ui.words import count


@cli.group(
    epilog="""\b
Example:
  sipalto-sync contacts list --format json -o backup.json
"""
)
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
@format_option(FORMATS, help="Output format.")
@output_option
@pass_app
def contacts_list(app: AppContext, fmt: str, output: OutputOption) -> None:
    """List the whole global phonebook (also a backup/export)."""
    target = output.resolve(file_name("phonebook", fmt))
    with app.settings.client() as api:
        found = api.list_contacts()
    with open_output(target) as out:
        write_contacts(found, fmt, out, color=app.color(out), terminal=out.isatty())
    if target.path is not None:
        app.say(f"Wrote {count(len(found), 'contact')} to {target.path}")
