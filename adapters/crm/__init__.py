"""The CRM source: contacts read from a CRM's REST API, as a declarative mapping says.

One module per job: :mod:`~adapters.crm.schema` (the mapping file and its loading),
:mod:`~adapters.crm.select` (dotted paths into JSON), :mod:`~adapters.crm.redact` (secrets
kept out of every message), :mod:`~adapters.crm.fetch` (one page: retries, throttling,
what an answer means), :mod:`~adapters.crm.auth` (credentials), :mod:`~adapters.crm.paginate`
(one class per paginator type) and :mod:`~adapters.crm.source` (:class:`CrmSource`).
Presets for HubSpot, Pipedrive, Zoho, Salesforce and Dynamics 365 are in ``mappings/``.
"""

from adapters.crm.schema import CrmMapping, CrmMappingFile, list_crm_presets, load_crm_mapping
from adapters.crm.source import CrmSource
from adapters.locations import is_url

__all__ = [
    "CrmMapping",
    "CrmMappingFile",
    "CrmSource",
    "is_url",
    "list_crm_presets",
    "load_crm_mapping",
]
