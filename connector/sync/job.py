"""The job file of a scheduled sync: what to read, which phonebook to write, and how.

A job is set up once and then run unattended (``sipalto-sync sync --config JOB.yaml``
from cron or a systemd timer), so its file is checked strictly when read: every mistake
is one line ``FILE:LINE: KEY.PATH: problem (allowed: ...)``, an unknown key names the
nearest valid one (a typo'd ``max_delete:`` must not silently mean "the default"), and
nothing is guessed. :func:`load_job` reads it into a :class:`Job`.

Reference
---------
::

    job: crm-nightly                  # required
    source:                           # required
      path: exports/contacts.csv      # required
      mapping: outlook
      format: csv
      encoding: cp1252
      sheet: Contacts
      header_row: 3
    sipalto:
      base_url: ${SIPALTO_BASE_URL}
      username: ${SIPALTO_USERNAME}
      password: ${SIPALTO_PASSWORD}
    state: /var/lib/sipalto-sync/crm-nightly.db
    policy:
      delete: owned
      phones: replace
      names: phonebook
      on_phonebook_edit: review
      max_deletes: 5%
      region: GB
      adopt: false
      readd_deleted: false
    report: reports/
    keep_reports: 30

=============================== =============================================================
``job``                         The job's name: 1 to 64 letters, digits, ``.``, ``_`` or ``-``,
                                starting with a letter or digit. It scopes the state, the
                                ownership of contacts and the lock: renaming a job makes it a
                                new job that owns nothing.
``source.path``                 The source: a file (csv, xlsx, vcf), or an http(s) URL (kept
                                as written, for sources that are services).
``source.mapping``              A mapping preset name (``sipalto-sync mappings list``), or a
                                mapping file. Default: recognise a preset or common headers.
``source.format``               ``csv``, ``vcard`` or ``xlsx``. Default: from the extension or
                                the content.
``source.encoding``             A CSV's text encoding (``cp1252``). Default: detected.
``source.sheet``                A spreadsheet's sheet, by name or number (from 1). Default: the
                                first with data.
``source.header_row``           The row number of a table's header. Default: detected.
``sipalto.base_url``            The Sipalto API. Default: ``SIPALTO_BASE_URL``, else
                                ``https://app-api.sipalto.com``.
``sipalto.username``            Default: ``SIPALTO_USERNAME``.
``sipalto.password``            Default: ``SIPALTO_PASSWORD``. Better left out, or given as
                                ``${VARIABLE}``, than written into the file.
``state``                       The job's SQLite state file. Default: ``jobs/JOB.db`` in the
                                data directory (``SIPALTO_SYNC_HOME``).
``policy.delete``               ``never`` (default): nothing is deleted. ``owned``: a contact
                                this job added is deleted when its record has gone from the
                                source. ``mirror``: every contact the source does not match is
                                deleted; needs ``--yes`` on every run.
``policy.phones``               ``merge`` (default): keep phonebook numbers the source lacks, in
                                free slots. ``replace``: make the numbers the source's.
``policy.names``                ``phonebook`` (default): keep a contact's name when the source's
                                differs only in form (case, accents, word order, a title).
                                ``source``: write the source's form. As ``plan --names``.
``policy.on_phonebook_edit``    What to do with a contact edited in Sipalto since the job last
                                wrote it. ``review`` (default): hold the record back and report
                                it until someone decides. ``overwrite``: the source wins.
                                ``keep``: the edit becomes the new baseline.
``policy.max_deletes``          The most contacts one run may delete: a whole number (``5``), or
                                a share of the phonebook (``"5%"``). Default: 10 or 5%, whichever
                                is lower. A share counts the contacts it covers whole, rounding
                                down: 5% of 30 contacts is 1 (1.5), of 19 is 0 (0.95). A run
                                that would delete more stops; ``--allow-deletes N`` lets through
                                a run whose N deletes a person checked.
``policy.region``               The country of numbers written without a country code (``GB``).
``policy.adopt``                ``true``: a contact that existed before and that the job matched
                                becomes the job's own (deletable under ``owned``). Default
                                ``false``: it is bound, not owned.
``policy.readd_deleted``        ``true``: re-add a contact the job wrote and someone deleted in
                                Sipalto. Default ``false``: report it, and leave it deleted.
``report``                      A folder for each run's plan and report. Default: none written.
``keep_reports``                How many runs' reports to keep in ``report`` (default 30).
=============================== =============================================================

Values are text, whole numbers and ``true``/``false`` as YAML reads them, strictly: a
quoted ``"5"`` is text, not a number, and a quoted ``"no"`` is text, not false. A key left
empty (``mapping:``) is as if absent.

Environment variables. In any text value, ``${NAME}`` is replaced by the variable
``NAME`` and ``${NAME:-default}`` by it or, when it is unset or empty, by ``default``
(taken as written: it holds no ``}`` and no other reference). A variable that is unset
(and has no default) is an error naming it and the line. ``$${`` stands for a literal
``${`` (so a password holding ``${`` is written ``$${``); any other ``$`` is itself. A
replaced value is not read again, so a password that holds ``${X}`` stays as it is. Values
are replaced after YAML has read the file and before they are checked, so a variable
gives text: ``max_deletes: ${N}`` is refused as text (write the number in the file).

Paths. ``source.path`` (unless it is an http(s) URL), ``source.mapping`` when it is a
file, ``state`` and ``report`` are relative to the job file's folder, whatever the
working directory of the run; ``~`` is the home folder. A mapping is a file when it
holds a ``/`` or ends in ``.yaml``/``.yml``; otherwise it is a preset's name, checked
when the job is read.

Secrets. A password is never shown: not in an error (a bad value is named by its place,
never quoted; a YAML syntax error on the password's line, whose message could quote a
piece of it, says only where), not in a :class:`Job`'s ``repr`` or :meth:`Job.to_json`,
and not in an error's cause (the YAML or validation error, which holds the values read,
is not chained). The base URL is never quoted in an error either, since a variable may
have put credentials in it; :meth:`Job.to_json` shows it without userinfo, query or
fragment, and leaves the username out.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from adapters.mapping import crm_preset_names, preset_text
from adapters.registry import format_names
from connector.config import ConnectionSettings
from connector.errors import ConfigError
from connector.reconcile.workflow import SourceOptions
from connector.schema import ConfigModel, Text, validate_config
from connector.sync.state import check_job_name, clean_server, default_state_path
from connector.variables import expand_variables
from connector.yamlfile import load_yaml_document

__all__ = [
    "DEFAULT_KEEP_REPORTS",
    "DEFAULT_MAX_DELETES",
    "DELETE_POLICIES",
    "EDIT_POLICIES",
    "Job",
    "JobFile",
    "JobSource",
    "MaxDeletes",
    "Policy",
    "SipaltoSection",
    "SourceSection",
    "expand_variables",
    "load_job",
]

#: ``never`` deletes nothing; ``owned`` what the job added and the source no longer has;
#: ``mirror`` everything the source does not match.
DELETE_POLICIES = ("never", "owned", "mirror")
#: What a run does with a contact edited in Sipalto since the job last wrote it.
EDIT_POLICIES = ("review", "overwrite", "keep")
#: How many runs' reports a job keeps unless it says otherwise.
DEFAULT_KEEP_REPORTS = 30

_ENVIRONMENT_KEYS = (
    ("base_url", "SIPALTO_BASE_URL"),
    ("username", "SIPALTO_USERNAME"),
    ("password", "SIPALTO_PASSWORD"),
)
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
_URL = re.compile(r"https?://", re.IGNORECASE)
# A line holding the password: a YAML syntax error there may quote part of it.
_PASSWORD_LINE = re.compile(r"(?:^|[\s{,])[\"']?password[\"']?\s*:")


# -- max_deletes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MaxDeletes:
    """The most contacts one run may delete: ``count`` contacts, ``percent`` of the
    phonebook, or (both given) whichever of the two is lower.

    A share allows the contacts it covers whole: :meth:`limit` rounds down, so "at most
    5%" never lets through more than 5% (5% of 30 contacts is 1, of 19 is 0, of 0 is 0).
    """

    count: int | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.count is None and self.percent is None:
            raise ValueError("a delete limit needs a count, a share, or both")
        if self.count is not None and (isinstance(self.count, bool) or self.count < 0):
            raise ValueError(f"a delete limit cannot be {self.count!r}")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValueError(f"a share of the phonebook must be from 0% to 100%, not {self}")

    @classmethod
    def parse(cls, value: object) -> MaxDeletes:
        """The limit a job file gives: a whole number, or text such as ``"5%"`` or
        ``"2.5%"``. Raises ``ValueError`` saying what was wrong."""
        if isinstance(value, MaxDeletes):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise ValueError(f"must not be negative, not {value}")
            return cls(count=value)
        if isinstance(value, str):
            found = _PERCENT.fullmatch(value)
            if found:
                percent = Decimal(found.group(1))
                if percent > 100:
                    raise ValueError(f"a share must be from 0% to 100%, not {value.strip()!r}")
                return cls(percent=percent)
        raise ValueError(f"must be a whole number or a share such as '5%', not {_shown(value)}")

    def limit(self, total_contacts: int) -> int:
        """How many deletes this allows in a phonebook of ``total_contacts`` contacts."""
        limits = []
        if self.count is not None:
            limits.append(self.count)
        if self.percent is not None:
            limits.append(math.floor(self.percent * total_contacts / 100))
        return min(limits)

    def __str__(self) -> str:
        """``10``, ``5%``, or ``10 or 5%, whichever is lower``."""
        shares = f"{self.percent.normalize():f}%" if self.percent is not None else None
        if shares is None:
            return str(self.count)
        if self.count is None:
            return shares
        return f"{self.count} or {shares}, whichever is lower"


#: The lower of 10 contacts and 5% of the phonebook.
DEFAULT_MAX_DELETES = MaxDeletes(count=10, percent=Decimal(5))


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "empty"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


# -- the file's schema -----------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("too_short", "must not be empty")
    return value


def _at_least_one(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be 1 or more, not {value}")
    return value


def _job_name(value: str) -> str:
    try:
        return check_job_name(value)
    except ConfigError:
        raise ValueError(f"{value!r} is not usable as a job name") from None


def _source_format(value: str) -> str:
    names = format_names()
    if value not in names:
        raise ValueError(f"unknown format {value!r}")
    return value


def _codec(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r}") from None
    return value


def _is_preset_name(text: str) -> bool:
    """A mapping written without a folder and without a YAML suffix names a preset."""
    separators = {"/", os.sep, os.altsep or "/"}
    has_folder = any(sep in text for sep in separators)
    return not has_folder and not text.lower().endswith((".yaml", ".yml"))


def _mapping(value: str) -> str:
    _not_blank(value)
    if _is_preset_name(value):
        try:
            preset_text(value)
        except ConfigError as exc:
            raise ValueError(f"{exc}; a mapping file is named with a / or .yaml") from None
    return value


def _region(value: str) -> str:
    region = value.upper()
    if phonenumbers.PhoneMetadata.metadata_for_region(region) is None:
        raise ValueError(f"unknown region {value!r}")
    return region


def _base_url(value: str) -> str:
    # The value is not quoted: a variable may have put a user and password in it.
    try:
        clean_server(value)
    except ConfigError:
        raise PydanticCustomError("url", "is not an http(s) base URL") from None
    return value


def _password(value: object) -> object:
    # Before pydantic sees the value, so that no message of its own can quote it.
    if value is None or isinstance(value, (str, SecretStr)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # digits are text, as Text reads them
    raise PydanticCustomError(
        "secret_type", "must be text; put the password in quotes (its value is not shown)"
    )


def _empty_as_default(value: object) -> object:
    """``policy:`` with nothing under it means the defaults, as no ``policy:`` does."""
    return {} if value is None else value


class SourceSection(ConfigModel):
    """``source:``: what the job reads, with the plan command's reading options."""

    path: Annotated[Text, AfterValidator(_not_blank)] = Field(
        description="a source file (csv, xlsx, vcf), relative to the job file, or an http(s) URL"
    )
    mapping: Annotated[Text, AfterValidator(_mapping)] | None = Field(
        default=None,
        description="a mapping preset name (see `sipalto-sync mappings list`) or a mapping "
        "file relative to the job file",
    )
    format: Annotated[Text, AfterValidator(_source_format)] | None = Field(
        default=None, description=f"one of {', '.join(format_names())}; default: from the file"
    )
    encoding: Annotated[Text, AfterValidator(_codec)] | None = Field(
        default=None, description="a CSV's text encoding, such as cp1252; default: detected"
    )
    sheet: Annotated[Text, AfterValidator(_not_blank)] | None = Field(
        default=None, description="a spreadsheet's sheet name, or its number from 1"
    )
    header_row: Annotated[int, AfterValidator(_at_least_one)] | None = Field(
        default=None, description="the row number of the header, from 1; default: detected"
    )

    @model_validator(mode="after")
    def _crm_needs_a_mapping(self) -> SourceSection:
        if not _URL.match(self.path):
            return self
        if self.mapping is None:
            raise ValueError(
                "a CRM source (an http(s) URL) needs a mapping: a CRM preset "
                f"({', '.join(crm_preset_names())}) or a CRM mapping file"
            )
        for key in ("format", "encoding", "sheet", "header_row"):
            if getattr(self, key) is not None:
                raise ValueError(f"{key} is for files; a CRM source (an http(s) URL) has none")
        return self


class SipaltoSection(ConfigModel):
    """``sipalto:``: the phonebook's server and account; each key defaults to a variable."""

    base_url: Annotated[Text, AfterValidator(_base_url)] | None = Field(
        default=None,
        description="an http(s) URL such as https://app-api.sipalto.com; default: SIPALTO_BASE_URL",
    )
    username: Text | None = Field(default=None, description="text; default: SIPALTO_USERNAME")
    password: Annotated[SecretStr | None, BeforeValidator(_password)] = Field(
        default=None, description="text, best given as ${VARIABLE}; default: SIPALTO_PASSWORD"
    )


class Policy(ConfigModel):
    """``policy:``: what the job may change in the phonebook, and how far it may go."""

    delete: Literal["never", "owned", "mirror"] = Field(
        default="never",
        description="never (nothing), owned (what this job added and the source dropped), "
        "mirror (everything the source does not match; needs --yes)",
    )
    phones: Literal["merge", "replace"] = Field(
        default="merge",
        description="merge (keep phonebook numbers the source lacks) or replace",
    )
    names: Literal["phonebook", "source"] = Field(
        default="phonebook",
        description="phonebook (keep a name that differs only in form) or source",
    )
    on_phonebook_edit: Literal["review", "overwrite", "keep"] = Field(
        default="review",
        description="review (hold it back until someone decides), overwrite (the source "
        "wins) or keep (the edit becomes the baseline)",
    )
    max_deletes: Annotated[MaxDeletes, BeforeValidator(MaxDeletes.parse)] = Field(
        default=DEFAULT_MAX_DELETES,
        description="a whole number of contacts, or a share of the phonebook such as '5%'; "
        "default: 10 or 5%, whichever is lower",
    )
    region: Annotated[Text, AfterValidator(_region)] = Field(
        default="GB",
        description="a country code such as GB or IE: the country of numbers written without one",
    )
    adopt: bool = Field(
        default=False, description="true or false: whether contacts the job matched become its own"
    )
    readd_deleted: bool = Field(
        default=False,
        description="true or false: whether contacts deleted in Sipalto by hand are re-added",
    )

    def to_json(self) -> dict[str, Any]:
        """The policy as a JSON object (``max_deletes`` as its text)."""
        return {**self.model_dump(), "max_deletes": str(self.max_deletes)}


class JobFile(ConfigModel):
    """A job file as written: the schema :func:`load_job` checks it against."""

    job: Annotated[Text, AfterValidator(_job_name)] = Field(
        description="1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )
    source: SourceSection = Field(description="a mapping with path and the reading options")
    sipalto: Annotated[SipaltoSection, BeforeValidator(_empty_as_default)] = Field(
        default_factory=SipaltoSection,
        description="a mapping with base_url, username and password",
    )
    state: Annotated[Text, AfterValidator(_not_blank)] | None = Field(
        default=None, description="the state file, relative to the job file; default: per job"
    )
    policy: Annotated[Policy, BeforeValidator(_empty_as_default)] = Field(
        default_factory=Policy, description="a mapping of the job's policies"
    )
    report: Annotated[Text, AfterValidator(_not_blank)] | None = Field(
        default=None,
        description="a folder for each run's plan and report, relative to the job file",
    )
    keep_reports: Annotated[int, AfterValidator(_at_least_one)] = Field(
        default=DEFAULT_KEEP_REPORTS, description="how many runs' reports to keep, 1 or more"
    )


# -- the job ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSource:
    """What a job reads: ``location``, a file (absolute) or an http(s) URL (as written),
    and how to read it (``options.mapping`` a preset's name or a file's absolute path)."""

    location: Path | str
    options: SourceOptions = field(default_factory=SourceOptions)

    @property
    def is_url(self) -> bool:
        """True when the source is a service at a URL rather than a file."""
        return isinstance(self.location, str)


@dataclass(frozen=True)
class Job:
    """A job file, read and resolved: paths absolute, defaults filled in, credentials
    merged with the environment.

    ``connection`` holds the credentials and is left out of the ``repr``; :meth:`to_json`
    describes the job without them, for reports and ``sync status``.
    """

    name: str
    path: Path
    source: JobSource
    connection: ConnectionSettings = field(repr=False)
    state: Path
    policy: Policy
    report: Path | None = None
    keep_reports: int = DEFAULT_KEEP_REPORTS

    def to_json(self) -> dict[str, Any]:
        """The job as a JSON object without secrets: no username, no password, and the
        base URL and a source URL without userinfo, query or fragment."""
        options = self.source.options
        location = self.source.location
        return {
            "job": self.name,
            "file": str(self.path),
            "source": {
                "path": clean_server(location) if isinstance(location, str) else str(location),
                "mapping": None if options.mapping is None else str(options.mapping),
                "format": options.format,
                "encoding": options.encoding,
                "sheet": options.sheet,
                "header_row": options.header_row,
            },
            "sipalto": {"base_url": clean_server(self.connection.base_url)},
            "state": str(self.state),
            "policy": self.policy.to_json(),
            "report": None if self.report is None else str(self.report),
            "keep_reports": self.keep_reports,
        }


def load_job(path: str | Path, environ: Mapping[str, str] = os.environ) -> Job:
    """Read, check and resolve the job file ``path``, with ``${VARIABLES}`` and the
    ``SIPALTO_*`` defaults taken from ``environ``.

    Raises :class:`ConfigError` for a file that cannot be read, is not valid YAML, uses
    a variable that is not set, or breaks the schema: one line ``FILE:LINE: KEY: problem``
    (``path``, ``line`` and ``key`` as attributes), never quoting a password, and never
    chained to an error that holds one. The default state file is under the data
    directory, which the process's own ``SIPALTO_SYNC_HOME`` moves (not ``environ``'s).
    """
    given = Path(path).expanduser()
    origin = str(given)  # messages name the file as the user did
    try:
        text = given.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{origin}: job file not found", path=origin) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{origin}: cannot read job file: {exc}", path=origin) from None
    written = _parse(text, origin, environ)
    base = given.absolute().parent
    return Job(
        name=written.job,
        path=given.absolute(),
        source=_source(written.source, base),
        connection=_connection(written.sipalto, environ),
        state=_resolve(base, written.state) if written.state else default_state_path(written.job),
        policy=written.policy,
        report=_resolve(base, written.report) if written.report else None,
        keep_reports=written.keep_reports,
    )


def _parse(text: str, origin: str, environ: Mapping[str, str]) -> JobFile:
    """The file checked against :class:`JobFile`, its variables replaced.

    Every error is raised afresh here, outside the handler that caught it: the YAML and
    pydantic errors it came from quote the file's text and values (the password too), and
    a chained cause or context is printed with the traceback (``-v``).
    """
    try:
        document = load_yaml_document(text, origin=origin)
        data = expand_variables(document.data, environ, origin=origin, document=document)
        return validate_config(data, JobFile, origin=origin, document=document)
    except ConfigError as exc:
        failure = exc
    raise _without_password(failure, text)


def _without_password(error: ConfigError, text: str) -> ConfigError:
    """``error`` as a fresh exception; a YAML syntax error on the password's line (a
    password read as an alias or a tag is quoted by YAML's message) says only where."""
    message = str(error)
    lines = text.splitlines()
    line = error.line or 0
    syntax = error.key is None and ": not valid YAML: " in message
    if syntax and 0 < line <= len(lines) and _PASSWORD_LINE.search(lines[line - 1]):
        message = (
            f"{error.path}:{line}: not valid YAML on the password's line (not shown): "
            "put the password in single quotes"
        )
    return ConfigError(message, path=error.path, line=error.line, key=error.key)


def _source(section: SourceSection, base: Path) -> JobSource:
    mapping: str | Path | None = section.mapping
    if section.mapping is not None and not _is_preset_name(section.mapping):
        mapping = _resolve(base, section.mapping)
    location: Path | str = section.path
    if not _URL.match(section.path):
        location = _resolve(base, section.path)
    options = SourceOptions(
        format=section.format,
        mapping=mapping,
        encoding=section.encoding,
        sheet=section.sheet,
        header_row=section.header_row,
    )
    return JobSource(location, options)


def _resolve(base: Path, written: str) -> Path:
    return base / Path(written).expanduser()


def _connection(section: SipaltoSection, environ: Mapping[str, str]) -> ConnectionSettings:
    """The job's keys over the ``SIPALTO_*`` variables, read as every command reads them
    (so ``SIPALTO_TIMEOUT`` and ``SIPALTO_TIMEZONE`` apply too)."""
    merged = dict(environ)
    for key, variable in _ENVIRONMENT_KEYS:
        value = getattr(section, key)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            merged[variable] = value
    return ConnectionSettings.from_env(merged)


# -- ${VARIABLES} ----------------------------------------------------------------------------
