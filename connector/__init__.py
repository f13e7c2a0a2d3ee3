"""sipalto-sync: keep the Sipalto PBX global phonebook in step with where contacts live."""

__version__ = "0.1.0"
