"""The ``sipalto-sync`` command line: a thin shell of click commands over the library.

:mod:`connector.cli.app` holds the group, the context and the error handling; each
command module adds its commands to the group when imported, which happens here, so
importing anything from :mod:`connector.cli` gives the whole command line.
"""

from connector.cli import apply, calls, contacts, report, sandbox, sources, sync

__all__ = ["apply", "calls", "contacts", "report", "sandbox", "sources", "sync"]
