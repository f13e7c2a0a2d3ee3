"""The ``sipalto-sync`` command line: a thin shell of click commands over the library."""
