"""The CRM mapping file: how to read contacts from a CRM's REST API, checked before any request.

The vocabulary is that of dlt's ``rest_api`` source (``client``, ``auth``, ``endpoint``,
``data_selector``, ``paginator``), which users of declarative REST loaders know::

    description: HubSpot contacts (private app token in HUBSPOT_TOKEN)
    client:
      headers: {Accept: application/json}
      auth: {type: bearer, token: "${HUBSPOT_TOKEN}"}
    endpoint:
      path: /crm/v3/objects/contacts
      params: {limit: 100, properties: "firstname,lastname,company,phone,mobilephone"}
      data_selector: results
    paginator: {type: cursor, cursor_path: paging.next.after, cursor_param: after}
    fields:
      key: id
      name: ["{properties.firstname} {properties.lastname}", "{properties.company}"]
      phones:
        - {path: properties.phone, label: work}
        - {path: properties.mobilephone, label: mobile}

The README's "CRM sources" describes every setting. A file is read in two steps. First
its shape is checked as written (:func:`load_crm_mapping`), so a mistake is one line
``FILE:LINE: KEY: problem`` whether or not the environment is set, and ``mappings list``
can describe a preset anywhere. Then :meth:`CrmMapping.resolve` replaces ``${VAR}`` and
``${VAR:-default}`` (the job files' rules, one implementation) and collects every secret
value into a :class:`~adapters.crm.redact.Redactor`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from adapters.crm.redact import Redactor
from adapters.crm.select import PathError, parse_path
from adapters.mapping import (
    CRM_KIND,
    Template,
    crm_preset_names,
    is_crm_mapping,
    preset_kind,
    preset_text,
    template_fields,
)
from connector.errors import ConfigError
from connector.schema import ConfigModel, Text, as_list, shorthand, validate_config
from connector.variables import expand_variables
from connector.yamlfile import YamlDocument, load_yaml_document

#: The most pages one read follows unless the mapping says otherwise.
DEFAULT_MAX_PAGES = 10_000
# A variable the mapping needs set: ${NAME}, not ${NAME:-default} (an optional setting).
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATH_HELP = "a dotted path such as paging.next.after, phones[*] or ['@odata.nextLink']"


def _path(value: str) -> str:
    try:
        parse_path(value)
    except PathError as exc:
        problem = f"the path {value!r} {exc}"
        raise PydanticCustomError("path", "{problem}", {"problem": problem}) from None
    return value


def _scalar_text(value: object) -> object:
    # A query parameter is text on the wire: 100 and true are written as YAML reads them.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _duration(value: str) -> str:
    if _DURATION.match(value) is None:
        raise PydanticCustomError("duration", "must be a duration such as 7d, 12h or 30m")
    return value


#: A dotted path into a JSON answer (:mod:`adapters.crm.select`).
PathText = Annotated[Text, AfterValidator(_path)]
#: A query parameter's value: text, a number or true/false.
ParamValue = Annotated[str, BeforeValidator(_scalar_text)]
Duration = Annotated[Text, AfterValidator(_duration)]


def duration_seconds(text: str) -> int:
    """The seconds a duration such as ``7d`` stands for."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


# -- client and auth ---------------------------------------------------------------------------


class BearerAuth(ConfigModel):
    """``Authorization: Bearer TOKEN`` (``scheme`` replaces the word Bearer)."""

    type: Literal["bearer"]
    token: Text = Field(description="the token, from an environment variable: ${NAME}")
    scheme: Text = Field("Bearer", description="the word before the token (default Bearer)")


class BasicAuth(ConfigModel):
    """HTTP basic authentication."""

    type: Literal["http_basic"]
    username: Text = Field(description="text")
    password: Text = Field(description="the password, from an environment variable: ${NAME}")


class ApiKeyAuth(ConfigModel):
    """An api key in a header or a query parameter."""

    type: Literal["api_key"]
    name: Text = Field(description="the header or query parameter that carries the key")
    api_key: Text = Field(description="the key, from an environment variable: ${NAME}")
    location: Literal["header", "query"] = Field("header", description="header or query")


class _OAuth(ConfigModel):
    token_url: Text = Field(description="the token endpoint's URL")
    client_id: Text = Field(description="text")
    client_secret: Text = Field(description="the secret, from an environment variable: ${NAME}")
    scopes: Annotated[list[Text], BeforeValidator(as_list)] | None = Field(
        None, description="a scope, or a list of them"
    )
    scheme: Text = Field("Bearer", description="the word before the token (default Bearer)")
    send_as: Literal["form", "query"] = Field(
        "form",
        description="form (the token request's fields in its body, as OAuth 2 says) or "
        "query (in its URL, as some vendors document)",
    )


class ClientCredentialsAuth(_OAuth):
    """OAuth 2 client credentials grant; the token is fetched once and renewed on expiry."""

    type: Literal["oauth2_client_credentials"]


class RefreshTokenAuth(_OAuth):
    """OAuth 2 refresh token grant; the access token is fetched once and renewed on expiry."""

    type: Literal["oauth2_refresh_token"]
    refresh_token: Text = Field(description="the refresh token, from an environment variable")


Auth = Annotated[
    BearerAuth | BasicAuth | ApiKeyAuth | ClientCredentialsAuth | RefreshTokenAuth,
    Field(discriminator="type"),
]


class ClientSettings(ConfigModel):
    """Where the API is and how to authenticate."""

    base_url: Text | None = Field(None, description="the API's URL (default: the source URL)")
    headers: dict[Text, ParamValue] = Field(
        default_factory=dict, description="a mapping of header names to values"
    )
    auth: Auth | None = Field(
        None,
        description="a mapping with type: bearer, http_basic, api_key, "
        "oauth2_client_credentials or oauth2_refresh_token",
    )


class EndpointSettings(ConfigModel):
    """The request that lists the records."""

    path: Text = Field("", description="the path after the base URL, or a whole URL")
    method: Literal["GET", "POST"] = Field("GET", description="GET, or POST for a search")
    params: dict[Text, ParamValue] = Field(
        default_factory=dict, description="a mapping of query parameters to values"
    )
    json_body: dict[str, Any] | None = Field(
        None, alias="json", description="the JSON body of a POST"
    )
    data_selector: PathText = Field(
        "$", description=f"where the records are in each answer: {_PATH_HELP}"
    )


# -- paginators --------------------------------------------------------------------------------


class SinglePage(ConfigModel):
    """One request reads everything."""

    type: Literal["single_page"]


class CursorPaginator(ConfigModel):
    """A cursor read from each answer and sent with the next request."""

    type: Literal["cursor"]
    cursor_path: PathText = Field(description=f"where the next cursor is: {_PATH_HELP}")
    cursor_param: Text | None = Field(None, description="the query parameter it is sent as")
    cursor_body_path: Text | None = Field(
        None, description="the key of a POST's JSON body it is sent as (instead)"
    )

    @model_validator(mode="after")
    def _one_place(self) -> CursorPaginator:
        if (self.cursor_param is None) == (self.cursor_body_path is None):
            raise ValueError("give one of cursor_param and cursor_body_path")
        return self


class JsonLinkPaginator(ConfigModel):
    """The next page's URL, read from each answer."""

    type: Literal["json_link"]
    next_url_path: PathText = Field(description=f"where the next URL is: {_PATH_HELP}")


class HeaderLinkPaginator(ConfigModel):
    """The next page's URL in the ``Link`` header (``<...>; rel="next"``)."""

    type: Literal["header_link"]
    links_next_key: Text = Field("next", description="the rel of the next link (default next)")


class PageNumberPaginator(ConfigModel):
    """Pages counted 1, 2, 3...; stops on an empty page, a false ``more`` flag or the total."""

    type: Literal["page_number"]
    page_param: Text = Field("page", description="the query parameter of the page number")
    base_page: int = Field(1, description="the number of the first page (default 1)")
    more_path: PathText | None = Field(
        None, description=f"a flag saying more pages follow: {_PATH_HELP}"
    )
    total_path: PathText | None = Field(None, description=f"the number of pages: {_PATH_HELP}")
    token_path: PathText | None = Field(
        None,
        description="a token for the next page that, when an answer gives it, is sent "
        f"instead of the page number (page numbers that stop somewhere): {_PATH_HELP}",
    )
    token_param: Text | None = Field(
        None, description="the query parameter the token_path's token is sent as"
    )

    @model_validator(mode="after")
    def _token_both_or_neither(self) -> PageNumberPaginator:
        if (self.token_path is None) != (self.token_param is None):
            raise ValueError("give token_path and token_param together")
        return self


class OffsetPaginator(ConfigModel):
    """``offset``/``limit`` parameters; stops on a short page or at the total."""

    type: Literal["offset"]
    limit: int = Field(gt=0, description="records per page, a whole number above 0")
    offset_param: Text = Field("offset", description="the offset's query parameter")
    limit_param: Text = Field("limit", description="the limit's query parameter")
    total_path: PathText | None = Field(
        None, description=f"the number of records in all: {_PATH_HELP}"
    )


Paginator = Annotated[
    SinglePage
    | CursorPaginator
    | JsonLinkPaginator
    | HeaderLinkPaginator
    | PageNumberPaginator
    | OffsetPaginator,
    Field(discriminator="type"),
]


# -- fields ----------------------------------------------------------------------------------


class PhoneField(ConfigModel):
    """One place a record's numbers are, in priority order."""

    path: PathText = Field(description=f"{_PATH_HELP}; with [*], every item of a list")
    value: PathText | None = Field(
        None, description="where the number is inside each item the path selects"
    )
    label: Text | None = Field(None, description="the numbers' label (default: the path's key)")
    label_path: PathText | None = Field(
        None, description="where each item's label is (a path inside the item)"
    )
    preferred: bool = Field(False, description="true or false")
    preferred_path: PathText | None = Field(
        None, description="where each item's primary flag is (a path inside the item)"
    )


_TEMPLATE_HELP = (
    "a path, or a template such as '{properties.firstname} {properties.lastname}' "
    "in which {path} is a value of the record"
)


class FieldSettings(ConfigModel):
    """How a record becomes a contact: its key, its name and its numbers."""

    key: Template | None = Field(None, description=_TEMPLATE_HELP)
    name: Annotated[list[Template], BeforeValidator(as_list)] = Field(
        min_length=1, description=f"{_TEMPLATE_HELP}; or a list of them, tried in order"
    )
    phones: Annotated[
        list[Annotated[PhoneField, BeforeValidator(shorthand("path", "a path"))]],
        BeforeValidator(as_list),
    ] = Field(
        min_length=1,
        description="a list of phone paths, each a path or {path: PATH, label: TEXT, "
        "value: PATH, label_path: PATH, preferred_path: PATH}",
    )

    @model_validator(mode="after")
    def _paths_in_templates(self) -> FieldSettings:
        for template in [*([self.key] if self.key else []), *self.name]:
            for field in template_fields(template):
                _path(field)
        return self


class IncrementalSettings(ConfigModel):
    """Reading only what changed since the last run (the sync keeps the last value)."""

    param: Text | None = Field(None, description="the query parameter the last value is sent as")
    filter: Text | None = Field(
        None, description="a query parameter's value holding {since}, used instead of it"
    )
    filter_param: Text | None = Field(None, description="the query parameter filter replaces")
    cursor_path: PathText = Field(description=f"each record's modification time: {_PATH_HELP}")
    full_every: Duration | None = Field(
        None, description="how often to read everything anyway, such as 7d"
    )

    @model_validator(mode="after")
    def _one_way(self) -> IncrementalSettings:
        if (self.param is None) == (self.filter is None):
            raise ValueError("give one of param and filter")
        if self.filter is not None and (self.filter_param is None or "{since}" not in self.filter):
            raise ValueError("filter needs filter_param and a {since} in its text")
        return self


class Throttle(ConfigModel):
    """A vendor's own "slow down" answer, beside 429."""

    status: int = Field(description="the HTTP status, such as 403")
    body_contains: Text | None = Field(None, description="text the answer's body holds")
    wait: float = Field(60.0, ge=0, description="seconds to wait when there is no Retry-After")


class LimitSettings(ConfigModel):
    """How the CRM says to slow down, and how long to keep trying."""

    remaining_header: Text | None = Field(None, description="a header of requests left")
    reset_header: Text | None = Field(None, description="a header of when the window resets")
    reset_unit: Literal["seconds", "milliseconds"] = Field(
        "seconds", description="seconds or milliseconds"
    )
    throttle: list[Throttle] = Field(default_factory=list, description="a list of answers")
    retries: int = Field(5, ge=0, le=20, description="tries after the first, 0 to 20")
    max_wait: float = Field(300.0, gt=0, description="the longest wait, in seconds")
    timeout: float = Field(30.0, gt=0, description="seconds to wait for an answer")


class CrmMappingFile(ConfigModel):
    """The schema of a CRM mapping file (``--mapping FILE.yaml`` and ``mappings/*.yaml``)."""

    description: Text | None = Field(None, description="text")
    client: ClientSettings = Field(
        default_factory=lambda: ClientSettings.model_validate({}), description="a mapping"
    )
    endpoint: EndpointSettings = Field(description="a mapping with path, params, data_selector")
    paginator: Paginator = Field(
        default_factory=lambda: SinglePage(type="single_page"),
        description="a mapping with type: cursor, json_link, header_link, page_number, "
        "offset or single_page",
    )
    fields: FieldSettings = Field(description="a mapping with key, name and phones")
    incremental: IncrementalSettings | None = Field(None, description="a mapping")
    limits: LimitSettings = Field(
        default_factory=lambda: LimitSettings.model_validate({}), description="a mapping"
    )
    max_pages: int = Field(DEFAULT_MAX_PAGES, gt=0, description="a whole number above 0")


# -- loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrmMapping:
    """A CRM mapping file as written, checked; :meth:`resolve` fills in the environment."""

    name: str
    origin: str
    settings: CrmMappingFile
    data: Any
    document: YamlDocument | None = None

    @property
    def description(self) -> str:
        """What the mapping reads, and how to get its credentials."""
        return self.settings.description or ""

    def variables(self) -> list[str]:
        """The environment variables the credentials come from, in the order written
        (those with a default, such as a token server's address, left out)."""
        client = self.data.get("client") if isinstance(self.data, dict) else None
        endpoint = self.data.get("endpoint") if isinstance(self.data, dict) else None
        texts: list[str] = []
        if isinstance(client, dict):
            texts.extend(_texts(client.get("auth")))
            texts.extend(_texts(client.get("headers")))
        if isinstance(endpoint, dict):
            texts.extend(_texts(endpoint.get("params")))
        return list(dict.fromkeys(name for text in texts for name in _VARIABLE.findall(text)))

    def resolve(self, environ: Mapping[str, str] | None = None) -> ResolvedMapping:
        """The mapping with ``${VAR}`` replaced from ``environ`` (default: the process's).

        Raises :class:`ConfigError` naming the file, line, setting and variable for a
        variable that is not set; a value is never quoted.
        """
        environ = os.environ if environ is None else environ
        expanded = expand_variables(self.data, environ, origin=self.origin, document=self.document)
        redactor = Redactor(_secrets(self.data, expanded))
        try:
            settings = validate_config(
                expanded, CrmMappingFile, origin=self.origin, document=self.document
            )
        except ConfigError as exc:
            # A value from the environment that does not fit: say where, never what.
            raise ConfigError(redactor(str(exc)), path=exc.path, line=exc.line,
                              key=exc.key) from None  # fmt: skip
        return ResolvedMapping(self, settings, redactor)


@dataclass(frozen=True)
class ResolvedMapping:
    """A CRM mapping with its environment read: the values to send, and its secrets."""

    mapping: CrmMapping
    settings: CrmMappingFile
    redactor: Redactor

    @property
    def name(self) -> str:
        """The preset's or the file's name, which messages call the CRM by."""
        return self.mapping.name


def load_crm_mapping(name_or_path: str | FilePath | CrmMapping) -> CrmMapping:
    """A CRM mapping from a preset name (``hubspot``) or a YAML file.

    Raises :class:`ConfigError` for a file mapping (one for CSV/Excel columns), a name
    that is neither, and any mistake in the file's shape.
    """
    if isinstance(name_or_path, CrmMapping):
        return name_or_path
    text = str(name_or_path)
    path = FilePath(text).expanduser()
    if path.is_file():
        try:
            content = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read mapping file: {exc}", path=path) from None
        return parse_crm_mapping(content, name=path.stem, origin=str(path))
    if _is_preset(text):
        if preset_kind(text) != CRM_KIND:
            raise ConfigError(_not_crm(f"preset {text}"))
        return _load_preset(text)
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1:
        raise ConfigError(f"{path}: mapping file not found", path=path)
    raise ConfigError(
        f"no CRM mapping file or preset named {text!r} (CRM presets: "
        f"{', '.join(crm_preset_names())})"
    )


def list_crm_presets() -> list[tuple[str, str]]:
    """``(name, description)`` of every shipped CRM preset, sorted by name."""
    return [(name, _load_preset(name).description) for name in crm_preset_names()]


def _is_preset(name: str) -> bool:
    try:
        preset_text(name)
    except ConfigError:
        return False
    return True


@functools.cache
def _load_preset(name: str) -> CrmMapping:
    return parse_crm_mapping(preset_text(name), name=name, origin=f"preset {name}")


def parse_crm_mapping(text: str, *, name: str, origin: str) -> CrmMapping:
    """:func:`load_crm_mapping` for YAML text already read; ``origin`` names it in messages."""
    document = load_yaml_document(text, origin=origin)
    if isinstance(document.data, dict) and not is_crm_mapping(document.data):
        raise ConfigError(_not_crm(origin), path=origin)
    settings = validate_config(document.data, CrmMappingFile, origin=origin, document=document)
    return CrmMapping(name, origin, settings, document.data, document)


def _not_crm(origin: str) -> str:
    return (
        f"{origin} is a file mapping (columns of a CSV or Excel file); a URL needs a CRM "
        f"mapping (CRM presets: {', '.join(crm_preset_names())})"
    )


# -- secrets -------------------------------------------------------------------------------

#: The auth settings whose values are secrets.
_SECRET_KEYS = ("token", "password", "api_key", "client_secret", "refresh_token")


def _secrets(raw: Any, expanded: Any) -> list[str]:
    """Every secret value of the resolved mapping: the auth's secret settings, and any
    header or query parameter whose value comes from an environment variable that has no
    default (a default is written in the file, so it is no secret)."""
    found: list[str] = []
    auth = _get(_get(expanded, "client"), "auth")
    found.extend(str(_get(auth, key)) for key in _SECRET_KEYS if _get(auth, key) is not None)
    for section, place in (("client", "headers"), ("endpoint", "params")):
        written, values = _get(_get(raw, section), place), _get(_get(expanded, section), place)
        if not isinstance(written, dict) or not isinstance(values, dict):
            continue
        for key, value in written.items():
            if (
                isinstance(value, str)
                and _VARIABLE.search(value)
                and isinstance(values.get(key), str)
            ):
                found.append(_value_secret(value, values[key]))
    return [secret for secret in found if secret]


def _value_secret(written: str, value: str) -> str:
    """The part of a header's value that came from the environment: ``Zoho-oauthtoken
    ${T}`` gives the token, not the word before it."""
    literal = written.split("${", 1)[0]
    return value[len(literal) :] if value.startswith(literal) else value


def _get(data: Any, key: Hashable) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []
