"""A local emulator of the documented Sipalto API, for trials, the demo and the tests.

Import the emulator from here (``from connector.sandbox import Sandbox, SandboxServer``);
the modules inside are its parts.
"""

from connector.sandbox.app import (
    DOC_CALLS,
    DOC_CONTACTS,
    Faults,
    Sandbox,
    SandboxServer,
    SandboxState,
    build_state,
    default_seed,
    load_seed,
    make_wav,
    parse_rate,
)

__all__ = [
    "DOC_CALLS",
    "DOC_CONTACTS",
    "Faults",
    "Sandbox",
    "SandboxServer",
    "SandboxState",
    "build_state",
    "default_seed",
    "load_seed",
    "make_wav",
    "parse_rate",
]
