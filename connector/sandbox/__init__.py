"""A local emulator of the documented Sipalto API, for trials, the demo and the tests.

Import the emulator from here (``from connector.sandbox import Sandbox, SandboxServer``);
the modules inside are its parts: ``state`` (the phonebook, users, tokens, seeds and
faults), ``limits`` (the per-user rate limit and the headers that announce it), ``calls``
(the generated call history, recordings and transcripts), ``app``
(the endpoints), ``server`` (uvicorn in a background thread) and ``demo``.
"""

from connector.sandbox.app import Sandbox
from connector.sandbox.calls import make_wav
from connector.sandbox.limits import HEADER_STYLES, WINDOW_KINDS, RateLimit, RateLimiter, parse_rate
from connector.sandbox.server import SandboxServer
from connector.sandbox.state import (
    DOC_CALLS,
    DOC_CONTACTS,
    Faults,
    SandboxState,
    build_state,
    default_seed,
    load_seed,
)

__all__ = [
    "DOC_CALLS",
    "DOC_CONTACTS",
    "HEADER_STYLES",
    "WINDOW_KINDS",
    "Faults",
    "RateLimit",
    "RateLimiter",
    "Sandbox",
    "SandboxServer",
    "SandboxState",
    "build_state",
    "default_seed",
    "load_seed",
    "make_wav",
    "parse_rate",
]
