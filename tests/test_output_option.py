"""``-o/--output`` means one thing on every command that writes.

``-`` is standard output, a path ending in ``/`` is a folder (made if missing) holding the
command's own file name, anything else is the file; an existing file is replaced only
with ``--force``, and is checked before any work is done. Each command is driven through
the real command line against the sandbox.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.cli.options import Output, OutputOption, open_output
from connector.errors import ConfigError

CALL = "SIPALTO-THE-ANL-ND2-1759926851.58197"
CSV = "name,phone\nAlice Example,07700 900461\n"


@dataclass(frozen=True)
class Writer:
    """A command that takes ``-o``: its arguments, and the file it names in a folder."""

    args: tuple[str, ...]
    name: str
    marker: str  # text its output holds

    def __str__(self) -> str:
        return " ".join(self.args[:2])


WRITERS = [
    Writer(("contacts", "list", "--format", "csv"), "phonebook.csv", "Domino's Pizza"),
    Writer(("contacts", "list"), "phonebook.txt", "Domino's Pizza"),
    Writer(("inspect", "source.csv", "--format", "json"), "records.json", "Alice Example"),
    Writer(("plan", "source.csv"), "plan-preview.txt", "Alice Example"),
    Writer(("mappings", "list"), "mappings.txt", "google-contacts"),
    Writer(("mappings", "show", "outlook"), "outlook.yaml", "columns"),
    Writer(("calls", "list", "-n", "1009", "--start", "2025-10-08", "--end", "2025-10-08",
            "--format", "json"), "calls.json", CALL),
    Writer(("calls", "transcript", CALL, "--format", "srt"), f"{CALL}.srt", "Speaker 1"),
]  # fmt: skip


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current folder holding a small source file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "source.csv").write_text(CSV, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_an_existing_file_is_kept_without_force_and_nothing_is_asked(
    run_cli, sandbox, here: Path, writer: Writer
) -> None:
    target = here / "out.txt"
    target.write_text("keep me", encoding="utf-8")
    asked = len(sandbox.state.requests)
    result = run_cli(*writer.args, "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "keep me"
    assert len(sandbox.state.requests) == asked  # refused before the work, not after


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_force_replaces_an_existing_file(run_cli, here: Path, writer: Writer) -> None:
    target = here / "out.txt"
    target.write_text("old", encoding="utf-8")
    result = run_cli(*writer.args, "-o", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert writer.marker in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in here.iterdir()) == ["out.txt", "source.csv"]  # no temp file


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_a_path_ending_in_a_slash_is_a_folder_made_if_missing(
    run_cli, here: Path, writer: Writer
) -> None:
    result = run_cli(*writer.args, "-o", "sub/deeper/")
    assert result.exit_code == 0, result.output
    written = here / "sub" / "deeper" / writer.name
    assert writer.marker in written.read_text(encoding="utf-8")
    assert [p.name for p in (here / "sub" / "deeper").iterdir()] == [writer.name]


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_an_existing_folder_gets_the_commands_file(run_cli, here: Path, writer: Writer) -> None:
    (here / "exports").mkdir()
    result = run_cli(*writer.args, "-o", "exports")
    assert result.exit_code == 0, result.output
    assert writer.marker in (here / "exports" / writer.name).read_text(encoding="utf-8")


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_a_dash_is_standard_output_not_a_file(run_cli, here: Path, writer: Writer) -> None:
    result = run_cli(*writer.args, "-o", "-")
    assert result.exit_code == 0, result.output
    assert writer.marker in result.stdout
    assert not (here / "-").exists()


@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_a_file_in_a_missing_folder_is_one_line_naming_it(
    run_cli, here: Path, writer: Writer
) -> None:
    result = run_cli(*writer.args, "-o", "nowhere/out.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: -o nowhere/out.csv: there is no folder nowhere "
        "(end -o with '/' to have a folder made)\n"
    )
    assert not (here / "nowhere").exists()


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_is_written_to_not_replaced(run_cli, here: Path) -> None:
    result = run_cli("contacts", "list", "--format", "json", "-o", "/dev/null")
    assert result.exit_code == 0, result.output
    assert Path("/dev/null").is_char_device()
    assert sorted(p.name for p in here.iterdir()) == ["source.csv"]


def test_force_writes_through_a_symbolic_link(run_cli, here: Path) -> None:
    real = here / "real.json"
    real.write_text("old", encoding="utf-8")
    (here / "link.json").symlink_to(real)
    refused = run_cli("contacts", "list", "--format", "json", "-o", "link.json")
    assert refused.exit_code == 1
    assert real.read_text(encoding="utf-8") == "old"
    result = run_cli("contacts", "list", "--format", "json", "-o", "link.json", "--force")
    assert result.exit_code == 0, result.output
    assert (here / "link.json").is_symlink()
    assert "Domino's Pizza" in real.read_text(encoding="utf-8")


# -- calls recording: binary, and a file by default -----------------------------------------


def test_recording_to_a_missing_folder_ending_in_a_slash(run_cli, here: Path) -> None:
    result = run_cli("calls", "recording", CALL, "-o", "sub/")
    assert result.exit_code == 0, result.output
    saved = here / "sub" / f"{CALL}.wav"
    assert result.stderr == (
        f"Saved the recording of {CALL} to sub/{CALL}.wav ({saved.stat().st_size:,} bytes)\n"
    )
    assert not (here / "sub").is_file()
    with wave.open(str(saved), "rb") as audio:
        assert audio.getnframes() > 0


def test_recording_to_standard_output_is_the_exact_wav_bytes(run_cli, api, here: Path) -> None:
    result = run_cli("calls", "recording", CALL, "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == api.call_recording(CALL)
    with wave.open(io.BytesIO(result.stdout_bytes), "rb") as audio:
        assert audio.getnframes() > 0
    assert result.stderr.startswith(f"Saved the recording of {CALL} to standard output (")
    assert sorted(p.name for p in here.iterdir()) == ["source.csv"]


def test_recording_without_o_is_saved_under_its_call_id_here(run_cli, here: Path) -> None:
    assert run_cli("calls", "recording", CALL).exit_code == 0
    again = run_cli("calls", "recording", CALL)
    assert again.exit_code == 1
    assert again.stderr == f"Error: {CALL}.wav already exists; use --force to overwrite it\n"
    assert run_cli("calls", "recording", CALL, "--force").exit_code == 0


# -- the helper -----------------------------------------------------------------------------


def test_a_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = OutputOption(str(tmp_path / "out.csv")).resolve()
    with pytest.raises(RuntimeError), open_output(target) as out:
        out.write("half a listing")
        raise RuntimeError("the server went away")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_appears_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    target = OutputOption(str(path)).resolve()
    path.write_text("someone else's", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists; use --force"):
        with open_output(target) as out:
            out.write("ours")
    assert path.read_text(encoding="utf-8") == "someone else's"


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (OutputOption(None), Output(None)),
        (OutputOption("-"), Output(None)),
        (OutputOption(None, force=True), Output(None, force=True)),
    ],
)
def test_no_o_and_a_dash_are_standard_output(option: OutputOption, expected: Output) -> None:
    assert option.resolve("calls.csv") == expected
    assert option.resolve("calls.csv").to_stdout


def test_a_folder_needs_a_file_name_from_the_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="that is a folder; give the file to write"):
        OutputOption(str(tmp_path)).resolve()
    with pytest.raises(ConfigError, match="-o needs a file name"):
        OutputOption(" ").resolve("x.csv")


def test_lines_are_written_as_the_writer_ends_them(tmp_path: Path) -> None:
    target = OutputOption(str(tmp_path / "out.csv")).resolve()
    with open_output(target) as out:
        out.write("a,b\r\nc,d\r\n")
    assert (tmp_path / "out.csv").read_bytes() == b"a,b\r\nc,d\r\n"
