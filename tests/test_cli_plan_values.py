"""``sipalto-sync plan`` then ``apply`` end to end on local numbers without their area code
and extensions under ``--region US``: the plan rejects what a careful person would not
dial, says why, and the phonebook gets only real numbers."""

from __future__ import annotations

from pathlib import Path


def test_plan_with_region_us_keeps_extension_1009_and_rejects_a_local_number(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory([])
    source = tmp_path / "us.csv"
    source.write_text(
        "Name,Phone\nFront Desk,1009\nNew York Office,(212) 555-1234\nLocal Only,555-1234\n"
        "Lobby,100\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "us.yaml"
    mapping.write_text("name: Name\nphones: [Phone]\n", encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    result = run_cli("plan", str(source), "--mapping", str(mapping), "--region", "US",
                     "--out", str(plan_file), server=server)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "  ! rejected us.csv:4: no usable phone number (555-1234: not a possible phone number "
        "(no area code), dropped)"
    ) in result.stdout.splitlines()
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    assert run_cli("apply", str(plan_file), "--yes", server=server, env=home).exit_code == 0
    book = {c["name"]: c["phone1"] for c in server.state.snapshot()}
    assert book == {"Front Desk": "1009", "New York Office": "2125551234", "Lobby": "100"}
