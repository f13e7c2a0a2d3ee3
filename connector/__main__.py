"""``python -m connector`` runs the ``sipalto-sync`` command line."""

from connector.cli.app import main

main()
