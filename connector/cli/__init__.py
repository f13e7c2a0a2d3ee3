"""The ``sipalto-sync`` command line: a thin shell of click commands over the library.

:mod:`connector.cli.app` holds the group, the context and the error handling; each
command module adds its commands to the group when imported, which the group does when a
command is first asked for (:data:`~connector.cli.app.COMMAND_MODULES`), or
:func:`~connector.cli.app.load_commands` for all of them. Nothing is imported here: the
console script starts with this package.
"""
