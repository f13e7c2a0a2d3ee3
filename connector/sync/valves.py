"""Safety valves: the checks a scheduled sync makes on its plan before the first write.

An unattended job trusts its source, and a source can be wrong in ways that look like
instructions: an export cut short by a full disk, a CRM that answered an empty list
during maintenance, a page of results that errored. Each is indistinguishable from "those
contacts were removed", and a sync that obeys deletes real people's phone numbers every
night until someone notices. The tools that sync for a living learned this the hard way:
vdirsyncer refuses to carry over a collection that was emptied on one side, and rclone's
``--max-delete`` stops a sync that would remove more than a set number of files. A valve
is checked on the whole plan before anything is written; when one trips, the run writes
nothing at all (no contact, no binding) and says which valve, how many deletes, and how
to go on. The runner exits with code 3.

The valves, in the order they are checked (the first that trips is reported):

``incomplete-source``
    The source was not read completely (a CRM page that errored, a file cut short: the
    runner knows) and the plan deletes. A record missing from an incomplete read may
    only be missing from the read, so such a run never deletes; ``--allow-deletes``
    does not open this valve. Rows that were read and rejected are not incompleteness.
``empty-source``
    The source gave no usable record (none read, or every one rejected) while the job is
    bound to contacts in the phonebook, or the plan deletes. A truncated export or a
    service answering an empty list is the usual cause, and a whole phonebook is at
    stake. A source that really is empty goes through with ``--allow-deletes N``, N
    being the plan's deletes (0 under ``delete: never``).
``max-deletes``
    The plan deletes more than the policy's ``max_deletes`` allows for a phonebook of
    this size (:meth:`~connector.sync.job.MaxDeletes.limit`; exactly the limit passes).
    ``--allow-deletes N`` replaces the limit for one run with N, the number a person
    checked in the plan: a run with more deletes than N trips again, and so does a later
    run, since the flag is given to one run.
``mirror-unconfirmed``
    The delete policy is ``mirror`` (delete every contact the source does not match) and
    the run was not given ``--yes``. A mirror is for migrations, meant by a person each
    time; a mirror left in a cron line must not run unattended. ``--yes`` is needed on
    every run, and it does not open the other valves.

When ``mirror`` is unconfirmed and another valve trips first, that valve's way on says
``--yes`` as well, so one corrected command goes through.

:func:`check_valves` is pure: it reads the plan and the counts the runner gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.reconcile.plan import Plan
from connector.sync.job import Policy

__all__ = [
    "EMPTY_SOURCE",
    "INCOMPLETE_SOURCE",
    "MAX_DELETES",
    "MIRROR_UNCONFIRMED",
    "VALVES",
    "ValveTrip",
    "check_valves",
]

INCOMPLETE_SOURCE = "incomplete-source"
EMPTY_SOURCE = "empty-source"
MAX_DELETES = "max-deletes"
MIRROR_UNCONFIRMED = "mirror-unconfirmed"
#: Every valve, in the order they are checked.
VALVES = (INCOMPLETE_SOURCE, EMPTY_SOURCE, MAX_DELETES, MIRROR_UNCONFIRMED)


@dataclass(frozen=True)
class ValveTrip:
    """A valve that held a run back: which (one of :data:`VALVES`), the message to show
    (what, why, and the command-line flags to go on), and how many deletes the plan had."""

    valve: str
    message: str
    deletes: int


def check_valves(
    plan: Plan,
    *,
    records: int,
    source_complete: bool,
    incomplete_reason: str = "",
    partial: bool = False,
    phonebook_size: int,
    bound_contacts: int,
    policy: Policy,
    allow_deletes: int | None = None,
    confirmed: bool = False,
    report: str | None = None,
) -> ValveTrip | None:
    """The first valve ``plan`` trips, or None when the run may write.

    ``records`` is how many records the source gave (rejected ones included);
    ``source_complete`` whether it was read to its end (``incomplete_reason`` says why
    not: a file cut short, a page that errored); ``partial`` whether it was an incremental
    read (only the records changed since the last one: none is a quiet night, not an
    empty source, and such a plan deletes nothing); ``phonebook_size`` the contacts
    the phonebook held when planned; ``bound_contacts`` how many of them this job is
    bound to (owned or not). ``allow_deletes`` is ``--allow-deletes N`` (None: not
    given), ``confirmed`` whether ``--yes`` was given. ``report``, the file holding the
    plan, is named in the messages that ask for the plan to be checked.
    """
    if allow_deletes is not None and allow_deletes < 0:
        raise ValueError(f"allow_deletes cannot be negative ({allow_deletes})")
    deletes = plan.summary["delete"]
    mirror_unconfirmed = policy.delete == "mirror" and not confirmed
    allowed = allow_deletes is not None and deletes <= allow_deletes

    def trip(valve: str, problem: str, way_on: str) -> ValveTrip:
        message = f"safety valve {valve}: {problem}, so nothing was written: {way_on}"
        return ValveTrip(valve, message, deletes)

    def again(*flags: str) -> str:
        check = f"check the plan in {report}" if report else "check the deletes in the plan"
        return f"{check}, then run again with {' '.join(flags)}"

    more = ("--yes",) if mirror_unconfirmed else ()
    if not source_complete and deletes:
        return trip(
            INCOMPLETE_SOURCE,
            "the source was not read completely"
            + (f" ({incomplete_reason})" if incomplete_reason else "")
            + " and the plan would delete "
            f"{_contacts(deletes)} that may only be missing from this read",
            "run again once the source reads completely (--allow-deletes does not apply)",
        )
    usable = _usable(plan)
    if usable == 0 and (bound_contacts or deletes) and not allowed and not partial:
        found = "none read" if records == 0 else f"{records} read, all rejected"
        return trip(
            EMPTY_SOURCE,
            f"the source has no usable records ({found}) but this job is bound to "
            f"{_contacts(bound_contacts)} in the phonebook, and the plan would delete "
            f"{deletes}; a truncated export or a source answering an empty list is the "
            "usual cause",
            f"if the source really is empty, {again(f'--allow-deletes {deletes}', *more)}",
        )
    if allow_deletes is not None and not allowed:
        return trip(
            MAX_DELETES,
            f"would delete {_contacts(deletes)}, more than --allow-deletes {allow_deletes}",
            again(f"--allow-deletes {deletes}", *more),
        )
    limit = policy.max_deletes.limit(phonebook_size)
    if allow_deletes is None and deletes > limit:
        return trip(
            MAX_DELETES,
            f"would delete {_contacts(deletes)}, more than max_deletes "
            f"({_limit_text(policy, limit, phonebook_size)}) allows",
            again(f"--allow-deletes {deletes}", *more),
        )
    if mirror_unconfirmed:
        return trip(
            MIRROR_UNCONFIRMED,
            "the delete policy is mirror, which deletes every contact the source does not "
            f"match ({deletes} in this plan) and needs --yes on every run",
            again("--yes"),
        )
    return None


def _limit_text(policy: Policy, limit: int, phonebook_size: int) -> str:
    """``10``, or for a share ``5%: 25 of 500 contacts``."""
    written = str(policy.max_deletes)
    if policy.max_deletes.percent is None:
        return written
    return f"{written}: {limit} of {_contacts(phonebook_size)}"


def _usable(plan: Plan) -> int:
    """Source records the plan can act on: every record's item but the rejected ones."""
    return sum(1 for item in plan.items if item.source is not None and item.action != "rejected")


def _contacts(count: int) -> str:
    return f"{count} contact" if count == 1 else f"{count} contacts"
