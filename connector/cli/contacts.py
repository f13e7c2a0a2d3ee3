"""``sipalto-sync contacts``: the Sipalto global phonebook as it is."""

from __future__ import annotations

from pathlib import Path

from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import format_option, open_output, output_option, to_stdout
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
def contacts_list(app: AppContext, fmt: str, output: Path | None) -> None:
    """List the whole global phonebook (also a backup/export)."""
    with app.settings.client() as api:
        found = api.list_contacts()
    with open_output(output) as out:
        write_contacts(found, fmt, out, color=app.color(out), terminal=out.isatty())
    if not to_stdout(output):
        app.say(f"Wrote {count(len(found), 'contact')} to {output}")
