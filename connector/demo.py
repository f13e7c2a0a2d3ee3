"""``sipalto-sync demo``: the whole job against an in-process sandbox, explained step by step."""

from __future__ import annotations

import io
from collections.abc import Callable

from .export import write_contacts
from .sandbox import SandboxServer

Say = Callable[[str], None]


def run_demo(say: Say, *, color: bool = False) -> int:
    """Start a sandbox on a free loopback port and walk through the job against it.

    Returns the process exit code.
    """
    say("Starting the Sipalto sandbox (a local emulator of the documented API)...")
    with SandboxServer() as server:
        say(f"  sandbox listening on {server.url} (user demo, password demo)")
        settings_note = (
            f"  the same commands work against it by hand: "
            f"SIPALTO_BASE_URL={server.url} SIPALTO_USERNAME=demo SIPALTO_PASSWORD=demo"
        )
        say(settings_note)
        from .config import ConnectionSettings

        settings = ConnectionSettings(base_url=server.url, username="demo", password="demo")
        with settings.client() as api:
            say("")
            say("Step 1: log in and read the global phonebook (sipalto-sync contacts list)")
            contacts = api.list_contacts()
            buffer = io.StringIO()
            write_contacts(contacts, "table", buffer, color=color)
            say(buffer.getvalue().rstrip())
    say("")
    say("Done: the sandbox has been stopped; nothing outside this machine was contacted.")
    return 0
