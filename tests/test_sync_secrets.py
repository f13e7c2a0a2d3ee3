"""No password and no access token in anything a sync job prints or writes: its output at
``-vv`` and in JSON, its state, journal, plan and report files, the ownership registry,
backups; through a first run, a valve, a dry run, a failing login and ``sync status``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import SandboxFactory
from sync_scene import Scene
from test_secrets import PASSWORD, WRONG_PASSWORD, pieces, spellings


def test_no_password_or_token_in_any_sync_output_or_file(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory(users={"demo": PASSWORD})
    scene = Scene(server, tmp_path / "job", tmp_path / "home", policy={"delete": "owned"},
                  extra={"sipalto": {"password": "${CRM_SYNC_PASSWORD}"}})  # fmt: skip
    scene.write_source([("A1", "Ann Able", "07700 900101"), ("B2", "Ben Bold", "07700 900102")])
    outputs: list[bytes] = []

    def run(*args: str, expect: int, password: str = PASSWORD) -> None:
        env = {**scene.env, "SIPALTO_PASSWORD": "", "CRM_SYNC_PASSWORD": password}
        done = subprocess.run(
            [sys.executable, "-m", "connector", "-vv", *args],
            env=env, cwd=scene.folder, capture_output=True, stdin=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == expect, (done.stdout + done.stderr).decode("utf-8", "replace")

    run(*scene.args("--dry-run"), expect=0)
    run(*scene.args(), expect=0)
    run(*scene.args("--log-format", "json"), expect=0)
    scene.source.write_text("ID,Name,Mobile,Office\n", encoding="utf-8")
    run(*scene.args(), expect=3)  # the empty-source valve
    run(*scene.args(), expect=1, password=WRONG_PASSWORD)
    run(*scene.args("--log-format", "json"), expect=1, password=WRONG_PASSWORD)
    run("sync", "status", "--config", str(scene.job), expect=0)
    run("sync", "status", "--config", str(scene.job), "--format", "json", expect=0)

    tokens = list(server.state.tokens)
    assert len(tokens) >= 4
    secrets = [
        *spellings(PASSWORD),
        *spellings(WRONG_PASSWORD),
        *(token.encode() for token in tokens),
        *(piece for token in tokens for piece in pieces(token.rsplit(".", 1)[-1])),
    ]
    written = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    names = {path.name for path in written}
    assert {"crm.db", "crm.db.apply.sqlite", "owners.db"} <= names
    assert any(name.endswith("-report.json") for name in names)
    assert any(path.parent.name == "backups" for path in written)
    for output in outputs:
        for secret in secrets:
            assert secret not in output, output.decode("utf-8", "replace")
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"a secret in {path.relative_to(tmp_path)}"
