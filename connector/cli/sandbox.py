"""``sipalto-sync sandbox`` and ``demo``: the local emulator of the Sipalto API.

The emulator is imported inside the commands: it brings a web server stack (starlette,
uvicorn) that no other command needs to start.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import FiniteFloat
from connector.ui.words import count


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync sandbox --port 8765
  sipalto-sync sandbox --seed my-phonebook.json --state sandbox-state.json
  sipalto-sync sandbox --latency 0.05 --rate-limit 25/1 --fail-rate 0.05 --token-ttl 60
  sipalto-sync sandbox --slow-write-rate 0.1 --slow-write-delay 40 --drop-rate 0.05
"""
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free port).")
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of contacts to start with [default: the docs' examples plus "
    "sample_data/phonebook.json].",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the phonebook in this JSON file between runs.",
)
@click.option("--latency", type=float, default=0.0, help="Seconds added to every answer.")
@click.option(
    "--rate-limit", metavar="N/S", help="At most N requests per S seconds per user (429 beyond)."
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Probability of a random 500/503 before doing anything.",
)
@click.option(
    "--lose-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Probability that a write is done but its answer is a 500.",
)
@click.option(
    "--token-ttl",
    type=float,
    default=3600.0,
    show_default=True,
    help="Seconds an access token stays valid.",
)
@click.option(
    "--max-range-days",
    type=click.IntRange(1, 36500),
    metavar="N",
    help="Refuse call-history ranges longer than N days with a 400, to rehearse a "
    "server with a limit [default: no limit, as documented].",
)
@click.option(
    "--slow-write-rate",
    type=FiniteFloat(0, 1),
    default=0.0,
    metavar="P",
    help="Probability that a write is carried out only --slow-write-delay seconds after "
    "it arrived (if the client gave up by then, the write still happens).",
)
@click.option(
    "--slow-write-delay",
    type=FiniteFloat(0, 3600, unit=" seconds"),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How late a slow write is carried out.",
)
@click.option(
    "--drop-rate",
    type=FiniteFloat(0, 1),
    default=0.0,
    metavar="P",
    help="Probability that a connection is closed without an answer (for a write, half "
    "the time after the write was done).",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="NAME:PASSWORD",
    help="Accepted credentials (repeatable) [default demo:demo].",
)
@pass_app
def sandbox(
    app: AppContext,
    host: str,
    port: int,
    seed: Path | None,
    state: Path | None,
    latency: float,
    rate_limit: str | None,
    fail_rate: float,
    lose_rate: float,
    token_ttl: float,
    max_range_days: int | None,
    slow_write_rate: float,
    slow_write_delay: float,
    drop_rate: float,
    users: tuple[str, ...],
) -> None:
    """Run a local emulator of the Sipalto API (for trials, demos and tests)."""
    from connector.sandbox import Faults, Sandbox, SandboxServer, build_state, parse_rate

    faults = Faults(
        latency=latency,
        rate_limit=parse_rate(rate_limit) if rate_limit else None,
        fail_rate=fail_rate,
        lose_rate=lose_rate,
        token_ttl=token_ttl,
        slow_write_rate=slow_write_rate,
        slow_write_delay=slow_write_delay,
        drop_rate=drop_rate,
    )
    emulator = Sandbox(
        build_state(seed=seed, state_path=state, users=users),
        faults,
        max_range_days=max_range_days,
    )
    server = SandboxServer(emulator, host=host, port=port)
    server.start()
    credentials = ", ".join(sorted(emulator.state.users))
    app.say(
        f"Sipalto sandbox on {server.url} ({count(len(emulator.state.contacts), 'contact')}; "
        f"users: {credentials}). Ctrl-C to stop."
    )
    app.say(f"  export SIPALTO_BASE_URL={server.url}")
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        app.say("Sandbox stopped.")


@cli.command(
    epilog="""\b
Example:
  sipalto-sync demo
"""
)
@pass_app
def demo(app: AppContext) -> None:
    """Run the whole job against a built-in sandbox: no account or network needed."""
    from connector.sandbox.demo import run_demo

    sys.exit(run_demo(app.show, color=app.color(sys.stdout)))
