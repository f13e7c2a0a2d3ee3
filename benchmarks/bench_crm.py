"""Benchmark: ``sipalto-sync plan URL --mapping PRESET`` reading a CRM page by page.

Each vendor's fake (``tests/fakecrm``, written from the vendor's documentation) serves N
contacts over loopback HTTP in this process; the sandbox runs in its own process with an
empty phonebook; the command runs as a subprocess of its own, as a user runs it, and
writes its plan file. Reported per preset: pages read, wall time of the command
(interpreter start-up included), records per second over that time, and its peak RSS.

Usage: ``python benchmarks/bench_crm.py [--contacts 10000] [--presets hubspot,pipedrive]``.
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench_apply import run_measured, start_sandbox
from fakecrm.dynamics import FakeDynamics
from fakecrm.fixtures import connection_settings
from fakecrm.hubspot import FakeHubSpot
from fakecrm.pipedrive import FakePipedrive
from fakecrm.server import FakeServer
from fakecrm.zoho import FakeZoho

FAKES: dict[str, Any] = {
    "hubspot": FakeHubSpot,
    "pipedrive": FakePipedrive,
    "zoho": FakeZoho,
    "dynamics": FakeDynamics,
}


def credentials(preset: str, url: str, settings: dict[str, str]) -> dict[str, str]:
    """The environment a user of ``preset`` sets, pointed at the fake at ``url``."""
    if preset == "hubspot":
        return {"HUBSPOT_TOKEN": settings["token"]}
    if preset == "pipedrive":
        return {"PIPEDRIVE_API_TOKEN": settings["token"]}
    if preset == "zoho":
        return {"ZOHO_ACCOUNTS_URL": url, "ZOHO_CLIENT_ID": settings["client_id"],
                "ZOHO_CLIENT_SECRET": settings["client_secret"],
                "ZOHO_REFRESH_TOKEN": settings["refresh_token"]}  # fmt: skip
    return {"DYNAMICS_LOGIN_URL": url, "DYNAMICS_TENANT_ID": settings["tenant"],
            "DYNAMICS_CLIENT_ID": settings["client_id"],
            "DYNAMICS_CLIENT_SECRET": settings["client_secret"], "DYNAMICS_URL": url}  # fmt: skip


def plan(url: str, preset: str, out: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """One ``plan`` as a process of its own: (seconds, peak RSS in MB, exit code, stderr)."""
    command = [sys.executable, "-m", "connector", "plan", url, "--mapping", preset,
               "--out", str(out), "-q"]  # fmt: skip
    return run_measured(command, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--presets", default="hubspot,pipedrive,zoho,dynamics")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "seed.json").write_text("[]", encoding="utf-8")
        sandbox, sandbox_url = start_sandbox(folder / "seed.json", folder / "requests.jsonl")
        base = {**os.environ, "SIPALTO_BASE_URL": sandbox_url, "SIPALTO_USERNAME": "demo",
                "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(folder / "home"),
                "NO_COLOR": "1"}  # fmt: skip
        print(f"{args.contacts} contacts per CRM; plan file written; empty phonebook")
        print(f"{'preset':<10} {'pages':>6} {'seconds':>8} {'records/s':>10} {'peak MB':>8}")
        try:
            for preset in args.presets.split(","):
                fake = FAKES[preset](args.contacts)
                server = FakeServer(fake.app).start()
                try:
                    settings = connection_settings(fake, server.url)
                    env = {**base, **credentials(preset, server.url, settings)}
                    out = folder / f"{preset}.json"
                    seconds, peak, code, err = plan(server.url, preset, out, env)
                    if code != 0:
                        raise SystemExit(f"{preset}: exit {code}\n{err}")
                    items = json.loads(out.read_text(encoding="utf-8"))["items"]
                    assert len(items) == args.contacts, (len(items), args.contacts)
                    pages = len(fake.data_requests())
                    print(f"{preset:<10} {pages:>6} {seconds:>8.2f} "
                          f"{args.contacts / seconds:>10.0f} {peak:>8.0f}")  # fmt: skip
                finally:
                    server.stop()
        finally:
            sandbox.send_signal(signal.SIGINT)
            sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
