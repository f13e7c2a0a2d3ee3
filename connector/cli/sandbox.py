"""``sipalto-sync sandbox`` and ``demo``: the local emulator of the Sipalto API.

The emulator is imported inside the commands: it brings a web server stack (starlette,
uvicorn) that no other command needs to start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import FiniteRange
from connector.errors import ConfigError
from connector.ui.words import count

#: The longest latency (or latency spike) a sandbox adds, in seconds.
MAX_LATENCY = 600.0
#: The longest a sandbox token may live, in seconds (a year).
MAX_TOKEN_TTL = 365 * 86400.0
#: ``connector.sandbox.limits.HEADER_STYLES`` and ``WINDOW_KINDS``, spelled out so that
#: starting the command line does not load the emulator (a test keeps them equal).
HEADER_STYLES = ("full", "laravel", "laravel-bare")
WINDOW_KINDS = ("fixed", "sliding")


def probability_option(name: str, help: str) -> Callable[[Any], Any]:
    """A fault's chance, ``0`` to ``1`` (default ``0``: the fault never happens)."""
    return click.option(name, type=FiniteRange(0, 1), default=0.0, metavar="P", help=help)


class RateLimitType(click.ParamType):
    """``N/S``: at most N requests per S seconds."""

    name = "N/S"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        from connector.sandbox.limits import parse_rate

        try:
            return parse_rate(str(value))
        except ConfigError as exc:
            self.fail(str(exc).removeprefix("rate limit "), param, ctx)


def _state_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and not value.parent.is_dir():
        raise click.BadParameter(f"folder {str(value.parent)!r} does not exist.", ctx, param)
    return value


@cli.command(
    epilog="""\b
Examples:
  sipalto-sync sandbox --port 8765
  sipalto-sync sandbox --seed my-phonebook.json --state sandbox-state.json
  sipalto-sync sandbox --latency 0.05 --rate-limit 25/1 --fail-rate 0.05 --token-ttl 60
  sipalto-sync sandbox --slow-write-rate 0.1 --slow-write-delay 40 --drop-rate 0.05
  sipalto-sync sandbox --rate-limit 25/1 --rate-headers laravel --rate-window sliding
"""
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port).",
)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of contacts to start with [default: the docs' examples plus "
    "sample_data/phonebook.json].",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_state_file,
    help="Keep the phonebook in this JSON file between runs.",
)
@click.option(
    "--latency",
    type=FiniteRange(0, MAX_LATENCY),
    default=0.0,
    metavar="SECONDS",
    help="Seconds added to every answer.",
)
@probability_option(
    "--latency-spike-rate",
    "Probability that an answer is held up by --latency-spike more.",
)
@click.option(
    "--latency-spike",
    type=FiniteRange(0, MAX_LATENCY),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a latency spike lasts.",
)
@click.option(
    "--rate-limit",
    type=RateLimitType(),
    help="At most N requests per S seconds per user (429 beyond; S up to a day).",
)
@click.option(
    "--rate-headers",
    type=click.Choice(HEADER_STYLES),
    help="How the limit is announced: 'full' (Limit, Remaining and Reset on every answer), "
    "'laravel' (Limit and Remaining; Retry-After and a Unix-time Reset only on the 429), "
    "'laravel-bare' (as laravel, no Reset on the 429) [default: full].",
)
@click.option(
    "--rate-window",
    type=click.Choice(WINDOW_KINDS),
    help="How requests are counted: a 'fixed' window that starts with the first request, "
    "or a 'sliding' one over the last S seconds [default: fixed].",
)
@probability_option(
    "--fail-rate",
    "Probability of a random 500/503 before doing anything.",
)
@probability_option(
    "--lose-rate",
    "Probability that a write is done but its answer is a 500.",
)
@click.option(
    "--token-ttl",
    type=FiniteRange(0, MAX_TOKEN_TTL, min_open=True),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds an access token stays valid.",
)
@click.option(
    "--max-range-days",
    type=click.IntRange(1, 36500),
    metavar="N",
    help="Refuse call-history ranges longer than N days with a 400, to rehearse a "
    "server with a limit [default: no limit, as documented].",
)
@probability_option(
    "--slow-write-rate",
    "Probability that a write is carried out only --slow-write-delay seconds after "
    "it arrived (if the client gave up by then, the write still happens).",
)
@click.option(
    "--slow-write-delay",
    type=FiniteRange(0, 3600),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How late a slow write is carried out.",
)
@probability_option(
    "--drop-rate",
    "Probability that a connection is closed without an answer (for a write, half "
    "the time after the write was done).",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="NAME:PASSWORD",
    help="Accepted credentials (repeatable) [default demo:demo].",
)
@click.option(
    "--request-log",
    type=click.Path(dir_okay=False, allow_dash=False, path_type=Path),
    help="Append one JSON line per answered request (at, method, path, status) to this file.",
)
@pass_app
def sandbox(
    app: AppContext,
    host: str,
    port: int,
    seed: Path | None,
    state: Path | None,
    latency: float,
    latency_spike_rate: float,
    latency_spike: float,
    rate_limit: tuple[int, float] | None,
    rate_headers: str | None,
    rate_window: str | None,
    fail_rate: float,
    lose_rate: float,
    token_ttl: float,
    max_range_days: int | None,
    slow_write_rate: float,
    slow_write_delay: float,
    drop_rate: float,
    users: tuple[str, ...],
    request_log: Path | None,
) -> None:
    """Run a local emulator of the Sipalto API (for trials, demos and tests)."""
    from connector.sandbox import Faults, Sandbox, SandboxServer, build_state

    if rate_limit is None and (rate_headers or rate_window):
        option = "--rate-headers" if rate_headers else "--rate-window"
        raise click.UsageError(f"{option} needs --rate-limit N/S")
    faults = Faults(
        latency=latency,
        rate_limit=rate_limit,
        rate_headers=rate_headers or "full",
        rate_window=rate_window or "fixed",
        latency_spike_rate=latency_spike_rate,
        latency_spike=latency_spike,
        fail_rate=fail_rate,
        lose_rate=lose_rate,
        token_ttl=token_ttl,
        slow_write_rate=slow_write_rate,
        slow_write_delay=slow_write_delay,
        drop_rate=drop_rate,
    )
    with ExitStack() as stack:
        log = stack.enter_context(request_log.open("a", encoding="utf-8")) if request_log else None
        emulator = Sandbox(
            build_state(seed=seed, state_path=state, users=users),
            faults,
            request_log=log,
            max_range_days=max_range_days,
        )
        try:
            server = SandboxServer(emulator, host=host, port=port)
        except OSError as exc:
            raise click.UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from exc
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
