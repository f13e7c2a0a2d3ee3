"""``python -m connector`` runs the ``sipalto-sync`` command line."""

from .cli import main

main()
