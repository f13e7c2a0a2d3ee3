"""No password and no access token in anything the tool prints or writes.

The main commands run as a user would run them, at ``-vv`` (every log line, HTTP requests
included), as real processes against the sandbox, with a distinctive password. Then every
output (stdout, stderr: the logs go there) and every file written (the journal, backups,
plan files, previews, exports, recordings: anything under ``SIPALTO_SYNC_HOME`` and the
working folder) is searched for the password, for the wrong password a failing login
used, and for every access token the sandbox issued.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from conftest import SMALL_BOOK, SandboxFactory

from connector.sandbox import DOC_CONTACTS

PASSWORD = "Zq7!corpus&Secret-4711"
WRONG_PASSWORD = "Wrong7!pass&Word-0815"
CALL = "SIPALTO-THE-ANL-ND2-1759926851.58197"
CALL_WINDOW = ("--start", "2025-10-08 13:30", "--end", "2025-10-08 13:50")
SOURCE = "Name,Mobile\nAnn Able,07700 900101\nMcDonald's,01491835522\nBen Bold,07700 900102\n"


@dataclass(frozen=True)
class Run:
    """One finished command: what it was, how it ended, what it printed."""

    args: tuple[str, ...]
    code: int
    output: bytes


def spellings(secret: str) -> list[bytes]:
    """The ways a secret could be written out: as is, URL-encoded (a form body or a query
    string in a log line), JSON-escaped."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), secret.replace("&", "\\u0026")}
    return [form.encode("utf-8") for form in forms]


def pieces(signature: str, size: int = 12) -> list[bytes]:
    """Every ``size``-character stretch of a token's random part: a token cut short or
    masked but for its end still gives the token away."""
    return [signature[i : i + size].encode() for i in range(len(signature) - size + 1)]


def test_no_password_or_token_in_any_output_or_file(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory([*SMALL_BOOK, *DOC_CONTACTS], users={"demo": PASSWORD})
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    (work / "source.csv").write_text(SOURCE, encoding="utf-8")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SIPALTO_")},
        "SIPALTO_BASE_URL": server.url,
        "SIPALTO_USERNAME": "demo",
        "SIPALTO_PASSWORD": PASSWORD,
        "SIPALTO_SYNC_HOME": str(home),
        "NO_COLOR": "1",
    }

    def run(*args: str, expect: int = 0, password: str = PASSWORD) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "connector", "-vv", *args],
            cwd=work,
            env={**env, "SIPALTO_PASSWORD": password},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )
        result = Run(args, done.returncode, done.stdout + done.stderr)
        assert result.code == expect, result.output.decode("utf-8", "replace")
        return result

    runs = [
        run("contacts", "list"),
        run("contacts", "list", "--format", "csv", "-o", "export.csv"),
        run("inspect", "source.csv"),
        run("plan", "source.csv", "--out", "plan.json", "--format", "csv", "-o", "review.csv"),
        run("apply", "plan.json", "--yes"),
    ]
    (backup,) = (home / "backups").glob("*.json")
    runs += [
        run("restore", str(backup), "--yes"),
        run("calls", "list", "-n", "1009", *CALL_WINDOW, "--format", "json", "-o", "calls.json"),
        run("calls", "recording", CALL, "-o", "call.wav"),
        run("calls", "transcript", CALL, "-n", "1009"),
        # A failing login, by variable and by option, and a request the server refuses.
        run("contacts", "list", expect=1, password=WRONG_PASSWORD),
        run("--password", WRONG_PASSWORD, "contacts", "list", expect=1),
        run("calls", "recording", "SIPALTO-NO-SUCH-CALL.1", "-o", "none.wav", expect=1),
    ]

    tokens = list(server.state.tokens)
    assert len(tokens) >= 9  # every command that talked to the server logged in
    secrets = [
        *spellings(PASSWORD),
        *spellings(WRONG_PASSWORD),
        *(token.encode() for token in tokens),
        *(piece for token in tokens for piece in pieces(token.rsplit(".", 1)[-1])),
    ]
    written = sorted(
        path for folder in (work, home) for path in folder.rglob("*") if path.is_file()
    )
    assert {"plan.json", "review.csv", "export.csv", "calls.json", "call.wav"} <= {
        path.name for path in written
    }
    assert any(path.name.startswith("journal") for path in written)
    for found in runs:
        for secret in secrets:
            assert secret not in found.output, f"a secret in the output of {found.args}"
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"a secret in {path.relative_to(tmp_path)}"
