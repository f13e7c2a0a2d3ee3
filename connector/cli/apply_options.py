"""The options of the commands that write to the phonebook: ``apply``, ``restore`` and
``sync``, apart from :mod:`connector.cli.options` so that the commands that only read
(``plan`` above all) do not load the apply engine to start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from connector.apply.engine import DEFAULT_MAX_TIME, DEFAULT_SETTLE_DELAY
from connector.apply.restore import MASS_DELETE_COUNT, MASS_DELETE_SHARE
from connector.apply.run import ApplySettings
from connector.cli.options import FiniteRange, option_group

__all__ = ["ApplyOptions", "RestoreGuards", "apply_options", "restore_options"]


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
        type=FiniteRange(0, 3600),
        default=DEFAULT_SETTLE_DELAY,
        show_default=True,
        metavar="SECONDS",
        help="How long the server may take to carry out a write after the client stopped "
        "waiting: an add whose answer was lost is sent again only if the phonebook still "
        "lacks it this long after it was sent.",
    ),
    click.option(
        "--max-time",
        type=FiniteRange(1, 7 * 86400),
        default=DEFAULT_MAX_TIME,
        show_default=True,
        metavar="SECONDS",
        help="Stop cleanly after this long, saying what is left (the same command continues).",
    ),
)


@dataclass(frozen=True)
class RestoreGuards:
    """What ``restore`` may do beyond what ``--yes`` allows."""

    max_delete: int | None
    force_other_server: bool


#: A restore's own go-aheads: ``guards``.
restore_options = option_group(
    "guards",
    RestoreGuards,
    click.option(
        "--max-delete",
        type=click.IntRange(min=0),
        metavar="N",
        help="Let the restore delete at most N contacts (more is an error). Needed, --yes is "
        f"not enough, when it deletes more than {MASS_DELETE_COUNT} contacts or more than "
        f"{MASS_DELETE_SHARE:.0%} of the phonebook; on a terminal, typing the number will do.",
    ),
    click.option(
        "--force-other-server",
        is_flag=True,
        help="Restore a backup made on another server onto this one (contacts are then "
        "paired by their fields, not their ids).",
    ),
)
