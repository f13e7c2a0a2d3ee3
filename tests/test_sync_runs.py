"""Consecutive runs of a scheduled sync job through the real command line, against a
sandbox that holds contacts no run created, with the source and the phonebook changing
between runs: owned contacts follow the source, the others survive every policy but
``mirror``, the valves trip and write nothing, a dry run writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun, SandboxFactory
from sync_scene import Scene

from connector.sync.state import SyncState

#: Contacts people made by hand; no run created them.
HAND_MADE = [
    {"id": "501", "name": "Hannah Hand", "phone1": "01632960501", "phone2": "", "phone3": ""},
    {"id": "502", "name": "Harry Hand", "phone1": "01632960502", "phone2": "", "phone3": ""},
]
#: A contact that was there before the job: the job matches it, but did not make it.
ALICE = {"id": "503", "name": "Alice Archer", "phone1": "07700900001", "phone2": "", "phone3": ""}

FIRST_SOURCE = [
    ("A1", "Alice Archer", "07700 900001"),
    ("B2", "Bob Baker", "07700 900002"),
    ("C3", "Carol Cole", "07700 900003"),
    ("D4", "Dan Dyer", "07700 900004"),
]


def scene_for(sandbox_factory: SandboxFactory, tmp_path: Path, **options: Any) -> Scene:
    server = sandbox_factory([*HAND_MADE, ALICE])
    return Scene(server, tmp_path / "job", tmp_path / "home", **options)


def sync(run_cli: CliRun, scene: Scene, *options: str) -> tuple[int, str, str]:
    result = run_cli(*scene.args(*options), server=scene.server, env=scene.env)
    return result.exit_code, result.stdout, result.stderr


def hand_made_intact(scene: Scene) -> None:
    book = scene.phonebook()
    for contact in HAND_MADE:
        assert book[contact["id"]] == (contact["name"], contact["phone1"])


def test_consecutive_runs_follow_the_source_and_leave_other_contacts_alone(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    policy = {"delete": "owned", "phones": "replace", "max_deletes": 5}
    scene = scene_for(sandbox_factory, tmp_path, policy=policy)
    scene.write_source(FIRST_SOURCE)

    code, out, err = sync(run_cli, scene)
    assert code == 0, err
    ids = scene.by_name()
    assert set(ids) == {"Hannah Hand", "Harry Hand", "Alice Archer", "Bob Baker", "Carol Cole",
                        "Dan Dyer"}  # fmt: skip
    assert ids["Alice Archer"] == "503"  # matched, not added again
    bound = scene.bindings()
    assert {key: b.contact_id for key, b in bound.items()} == {
        "A1": "503", "B2": ids["Bob Baker"], "C3": ids["Carol Cole"], "D4": ids["Dan Dyer"]
    }  # fmt: skip
    assert scene.owned() == {ids["Bob Baker"], ids["Carol Cole"], ids["Dan Dyer"]}
    assert "Applied: 3 added, 0 updated, 0 deleted." in out
    assert "Owned by this job: 3 contacts." in out

    # The source changes: Bob and Alice leave, Carol's number and Dan's name change, Eve
    # arrives; meanwhile someone adds a contact by hand.
    scene.write_source([
        ("C3", "Carol Cole", "07700 900033"),
        ("D4", "Daniel Dyer", "07700 900004"),
        ("E5", "Eve Evans", "07700 900005"),
    ])  # fmt: skip
    scene.add_by_hand("504", "Helen Hand", "01632960504")
    code, out, err = sync(run_cli, scene)
    assert code == 0, err
    book = scene.phonebook()
    assert ids["Bob Baker"] not in book  # owned, and gone from the source: deleted
    assert book["503"] == ("Alice Archer", "07700900001")  # not owned: survives
    assert book[ids["Carol Cole"]] == ("Carol Cole", "07700900033")  # the same contact
    assert book[ids["Dan Dyer"]] == ("Daniel Dyer", "07700900004")  # renamed in place
    assert book["504"] == ("Helen Hand", "01632960504")
    hand_made_intact(scene)
    eve = scene.by_name()["Eve Evans"]
    assert set(scene.bindings()) == {"C3", "D4", "E5"}
    assert scene.owned() == {ids["Carol Cole"], ids["Dan Dyer"], eve}
    assert "Applied: 1 added, 2 updated, 1 deleted." in out

    # A third run with nothing changed writes nothing.
    before = len(scene.writes())
    code, out, err = sync(run_cli, scene)
    assert code == 0, err
    assert len(scene.writes()) == before
    assert "Applied" not in out
    assert "nothing to write" in err


def test_a_contact_edited_by_hand_is_held_for_review_until_someone_decides(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 5})
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    carol = scene.by_name()["Carol Cole"]
    scene.edit(carol, name="Carol Cole-Smith", phone1="07700900333")

    for _ in range(2):  # reported on every run
        code, out, err = sync(run_cli, scene, "--detailed-exitcode")
        assert code == 4, err
        assert scene.phonebook()[carol] == ("Carol Cole-Smith", "07700900333")  # not overwritten
        assert "Edited in Sipalto since this job wrote them (1):" in out
        assert "Held for review (1):" in out
        assert set(scene.held()) == {"C3"}
        assert scene.bindings()["C3"].contact_id == carol
    assert sync(run_cli, scene)[0] == 0  # without --detailed-exitcode a hold is no failure

    # Put back by hand: nothing left to decide, the hold is released.
    scene.edit(carol, name="Carol Cole", phone1="07700900003")
    code, out, err = sync(run_cli, scene, "--detailed-exitcode")
    assert code == 0, out + err
    assert scene.held() == {}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("overwrite", ("Carol Cole", "07700900003")), ("keep", ("Carol Cole-Smith", "07700900333"))],
)
def test_on_phonebook_edit_overwrite_or_keep(
    run_cli: CliRun,
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    policy: str,
    expected: tuple[str, str],
) -> None:
    scene = scene_for(
        sandbox_factory, tmp_path, policy={"on_phonebook_edit": policy, "phones": "replace"}
    )
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    carol = scene.by_name()["Carol Cole"]
    scene.edit(carol, name="Carol Cole-Smith", phone1="07700900333")

    code, out, err = sync(run_cli, scene, "--detailed-exitcode")
    assert code == 0, out + err
    assert "Edited in Sipalto since this job wrote them (1):" in out
    assert scene.phonebook()[carol] == expected
    assert scene.held() == {}
    before = len(scene.writes())
    for _ in range(2):  # and on every later run: nothing written back
        code, out, err = sync(run_cli, scene, "--detailed-exitcode")
        assert code == 0, out + err
        assert len(scene.writes()) == before
        assert scene.phonebook()[carol] == expected
    binding = scene.bindings()["C3"]
    assert (binding.fields.name, binding.fields.phone1) == expected
    assert "Edited in Sipalto" not in out  # said once
    if policy == "keep":
        # The edit is the new baseline; what the source made stays the job's own
        # version, on which a later change in the source is measured.
        assert binding.own is not None
        assert (binding.own.name, binding.own.phone1) == ("Carol Cole", "07700900003")
    else:
        assert binding.own is None


def test_a_contact_deleted_by_hand_is_reported_and_readded_only_when_asked(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 5})
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    dan = scene.by_name()["Dan Dyer"]
    scene.delete(dan)

    for _ in range(2):  # not silently re-added night after night
        code, out, err = sync(run_cli, scene, "--detailed-exitcode")
        assert code == 4, err
        assert "Dan Dyer" not in scene.by_name()
        assert "Deleted in Sipalto by hand (1):" in out
        assert set(scene.held()) == {"D4"}
        assert scene.bindings()["D4"].contact_id == dan  # remembered, for the report and a re-add

    code, out, err = sync(run_cli, scene, "--readd-deleted", "--detailed-exitcode")
    assert code == 0, out + err
    again = scene.by_name()["Dan Dyer"]
    assert again != dan
    assert scene.bindings()["D4"].contact_id == again
    assert again in scene.owned()
    assert scene.held() == {}
    hand_made_intact(scene)


def test_never_deletes_nothing_and_lets_go_of_records_that_left(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path)  # delete: never (the default)
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    book = scene.phonebook()
    scene.write_source(FIRST_SOURCE[:1])
    code, _, err = sync(run_cli, scene)
    assert code == 0, err
    assert scene.phonebook() == book
    assert set(scene.bindings()) == {"A1"}
    assert scene.owned() == set()


def test_mirror_needs_yes_every_time_and_spares_another_jobs_contacts(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory([*HAND_MADE, ALICE])
    home = tmp_path / "home"
    owned = {"delete": "owned", "max_deletes": 5}
    other = Scene(server, tmp_path / "other", home, name="other", policy=owned)
    other.write_source([("Z9", "Zoe Zed", "07700 900099")])
    assert sync(run_cli, other)[0] == 0
    zoe = other.by_name()["Zoe Zed"]
    mirror = Scene(
        server, tmp_path / "mirror", home, name="mirror",
        policy={"delete": "mirror", "max_deletes": 10},
    )  # fmt: skip
    mirror.write_source(FIRST_SOURCE[:2])

    code, out, err = sync(run_cli, mirror)
    assert code == 3, out + err
    assert "safety valve mirror-unconfirmed" in err
    assert "run again with --yes" in err
    assert mirror.writes() == other.writes()  # nothing written by the mirror job
    assert not mirror.bindings()

    code, out, err = sync(run_cli, mirror, "--yes")
    assert code == 0, out + err
    names = set(mirror.by_name())
    assert names == {"Alice Archer", "Bob Baker", "Zoe Zed"}  # Zoe is another job's
    assert mirror.by_name()["Zoe Zed"] == zoe
    assert sync(run_cli, mirror)[0] == 3  # --yes again on the next run too


def test_valves_trip_and_nothing_is_written(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 1})
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    book, bound, writes = scene.phonebook(), scene.bindings(), len(scene.writes())

    scene.source.write_text("ID,Name,Mobile,Office\n", encoding="utf-8")  # a truncated export
    code, out, err = sync(run_cli, scene)
    assert code == 3, out + err
    assert "safety valve empty-source" in err
    assert (scene.phonebook(), scene.bindings(), len(scene.writes())) == (book, bound, writes)

    scene.write_source(FIRST_SOURCE[:1])  # three owned records gone: more than max_deletes 1
    code, out, err = sync(run_cli, scene)
    assert code == 3, out + err
    assert "safety valve max-deletes: would delete 3 contacts" in err
    assert "--allow-deletes 3" in err
    assert (scene.phonebook(), scene.bindings(), len(scene.writes())) == (book, bound, writes)
    with SyncState.open(scene.state_path, job="crm", server=scene.server.url) as state:
        last = state.last_run()
    assert last is not None and last.result == "valve"

    # An export cut off in the middle of a row: its missing records are not deletes, and
    # no --allow-deletes lets them through.
    scene.write_source(FIRST_SOURCE)
    text = scene.source.read_text(encoding="utf-8")
    scene.source.write_text(text[: text.index("Bob Baker") + 5], encoding="utf-8")
    code, out, err = sync(run_cli, scene, "--allow-deletes", "3")
    assert code == 3, out + err
    assert "safety valve incomplete-source: the source was not read completely" in err
    assert "contacts.csv:3: the last row has 2 of 4 fields and the file ends there" in err
    assert (scene.phonebook(), scene.bindings(), len(scene.writes())) == (book, bound, writes)

    scene.write_source(FIRST_SOURCE[:1])
    assert sync(run_cli, scene, "--allow-deletes", "2")[0] == 3  # fewer than it deletes
    code, out, err = sync(run_cli, scene, "--allow-deletes", "3")
    assert code == 0, out + err
    assert set(scene.by_name()) == {"Hannah Hand", "Harry Hand", "Alice Archer"}


def test_dry_run_writes_nothing_to_sipalto_or_the_state(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 5})
    scene.write_source(FIRST_SOURCE)
    book = scene.phonebook()

    code, out, err = sync(run_cli, scene, "--dry-run")
    assert code == 0, err
    assert "Dry run of job crm" in out
    assert "3 to add" in out
    assert scene.writes() == []
    assert scene.phonebook() == book
    assert not scene.state_path.exists() and not scene.state_path.parent.exists()
    assert not (scene.home / "owners.db").exists()
    assert [p.name.split("-")[-1] for p in scene.report_files()] == [
        "plan.html", "plan.json", "report.json", "summary.txt"
    ]  # fmt: skip

    assert sync(run_cli, scene)[0] == 0
    scene.write_source(FIRST_SOURCE[:3])
    state_before = scene.state_path.read_bytes()
    book = scene.phonebook()
    code, out, err = sync(run_cli, scene, "--dry-run")
    assert code == 0, err
    assert "1 to delete" in out
    assert scene.phonebook() == book
    assert scene.state_path.read_bytes() == state_before


def test_a_lost_state_rebinds_by_matching_and_deletes_nothing_it_cannot_prove(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 5})
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    book = scene.phonebook()
    for path in scene.state_path.parent.iterdir():
        path.unlink()  # the state is lost (the registry of owners is not)
    scene.write_source(FIRST_SOURCE[:3])  # Dan left the source while the state was lost

    code, out, err = sync(run_cli, scene)
    assert code == 0, out + err
    assert scene.phonebook() == book  # no second copies, and Dan not deleted
    assert set(scene.bindings()) == {"A1", "B2", "C3"}
    ids = scene.by_name()
    # The machine's registry still says this job made Bob and Carol: owned again.
    assert scene.owned() == {ids["Bob Baker"], ids["Carol Cole"]}


def test_a_state_made_for_another_server_is_reset_and_said_so(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, policy={"delete": "owned", "max_deletes": 5})
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    elsewhere = sandbox_factory([*HAND_MADE, ALICE])
    moved = Scene(elsewhere, scene.folder, scene.home, policy={"delete": "owned", "max_deletes": 5})
    moved.write_source(FIRST_SOURCE[:2])

    code, out, err = sync(run_cli, moved)
    assert code == 0, out + err
    assert f"made for server {scene.server.url}" in err
    assert "The state was reset" in out
    assert set(moved.by_name()) == {"Hannah Hand", "Harry Hand", "Alice Archer", "Bob Baker"}
    assert moved.writes() == [("POST", "/phone-books/add-global-contact", 200)]


def test_quiet_prints_nothing_on_success_and_json_logs_one_object_per_line(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path)
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene, "-q") == (0, "", "")

    code, out, err = sync(run_cli, scene, "--log-format", "json")
    assert code == 0 and out == ""
    events = [json.loads(line) for line in err.splitlines()]
    assert events[0]["event"] == "run.start"
    assert events[-1]["event"] == "run.end"
    assert events[-1]["counts"]["unchanged"] == 4
    assert all(e["job"] == "crm" and e["level"] in ("info", "warning") for e in events)

    scene.source.write_text("ID,Name,Mobile,Office\n", encoding="utf-8")
    code, out, err = sync(run_cli, scene, "-q", "--log-format", "json")
    assert code == 3 and out == ""
    (valve, end) = [json.loads(line) for line in err.splitlines()]
    assert (valve["event"], valve["valve"]) == ("valve", "empty-source")
    assert end["outcome"] == "valve"


def test_rejected_records_are_listed_and_exit_4_with_detailed_exitcode(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path)
    scene.write_source([*FIRST_SOURCE, ("F6", "Fay Nonumber", "")])
    code, out, err = sync(run_cli, scene, "--detailed-exitcode")
    assert code == 4, err
    assert "Rejected (1):" in out
    assert "contacts.csv:6: Fay Nonumber: no phone number" in out
    assert sync(run_cli, scene)[0] == 0


def test_reports_are_named_by_job_and_time_and_pruned(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path, keep_reports=2)
    scene.write_source(FIRST_SOURCE)
    unrelated = scene.reports / "notes.txt"
    scene.reports.mkdir()
    unrelated.write_text("mine", encoding="utf-8")
    for _ in range(3):
        assert sync(run_cli, scene)[0] == 0
    names = [p.name for p in scene.report_files() if p != unrelated]
    assert len(names) == 8, names  # two runs of four files: the first run's html pruned too
    assert all(name.startswith("crm-") for name in names)
    pages = [p for p in scene.report_files() if p.suffix == ".html"]
    assert [p.with_suffix(".json").exists() for p in pages] == [True, True]  # beside its plan
    page = pages[-1].read_text(encoding="utf-8")
    assert f"<dt>Source</dt><dd>{scene.source}</dd>" in page
    assert f"<dt>Phonebook</dt><dd>{scene.server.url}</dd>" in page
    assert unrelated.exists()
    report = scene.last_report()
    assert report["outcome"] == "ok"
    assert report["counts"]["unchanged"] == 4
    assert report["job"]["sipalto"] == {"base_url": scene.server.url}


def test_an_apply_that_does_not_finish_exits_1_and_the_next_run_completes_it(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory([*HAND_MADE, ALICE], read_only_users={"demo"})
    scene = Scene(server, tmp_path / "job", tmp_path / "home")
    scene.write_source(FIRST_SOURCE)

    code, out, err = sync(run_cli, scene)
    assert code == 1, out + err
    assert "the apply did not finish" in err
    assert set(scene.bindings()) == {"A1"}  # the match is recorded; the adds were refused
    with SyncState.open(scene.state_path, job="crm", server=server.url) as state:
        last = state.last_run()
    assert last is not None and last.result == "error"

    server.state.read_only_users.clear()
    code, out, err = sync(run_cli, scene)
    assert code == 0, out + err
    assert set(scene.bindings()) == {"A1", "B2", "C3", "D4"}
    assert len(scene.by_name()) == 6


def test_base_url_on_the_command_line_wins_over_the_environment(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = scene_for(sandbox_factory, tmp_path)
    scene.write_source(FIRST_SOURCE)
    env = {**scene.env, "SIPALTO_BASE_URL": "http://127.0.0.1:9"}  # nothing listens there
    result = run_cli("--base-url", scene.server.url, *scene.args(), env=env)
    assert result.exit_code == 0, result.stderr
    assert f"Run of job crm against {scene.server.url}: done." in result.stdout


@pytest.mark.parametrize("phones", ["merge", "replace"])
def test_a_kept_edit_survives_a_later_change_in_the_source(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path, phones: str
) -> None:
    policy = {"on_phonebook_edit": "keep", "phones": phones}
    scene = scene_for(sandbox_factory, tmp_path, policy=policy)
    scene.write_source(FIRST_SOURCE)
    assert sync(run_cli, scene)[0] == 0
    carol = scene.by_name()["Carol Cole"]
    scene.edit(carol, phone2="07700900333")  # a second number added by hand
    code, out, _ = sync(run_cli, scene)
    assert code == 0
    assert "Edited in Sipalto since this job wrote them (1):" in out
    assert f"[contact {carol}]" in out
    assert scene.phonebook()[carol] == ("Carol Cole", "07700900003", "07700900333")
    # Kept: the new baseline, not reported again.
    code, out, _ = sync(run_cli, scene)
    assert code == 0
    assert "Edited in Sipalto" not in out
    # The source renames her: the rename is made on top of the edit, which stays, and
    # stays on every later run.
    renamed = [(k, "Carol Cole-Smith" if k == "C3" else n, p) for k, n, p in FIRST_SOURCE]
    scene.write_source(renamed)
    for _ in range(3):
        code, out, err = sync(run_cli, scene)
        assert code == 0, out + err
        assert "Edited in Sipalto" not in out
        assert scene.phonebook()[carol] == ("Carol Cole-Smith", "07700900003", "07700900333"), out
    # The source drops her number: it goes, the kept one stays.
    moved = [(k, n, "07700900444" if k == "C3" else p) for k, n, p in renamed]
    scene.write_source(moved)
    expected = ("Carol Cole-Smith", "07700900333", "07700900444")
    if phones == "merge":  # merge never removes a number
        expected = ("Carol Cole-Smith", "07700900003", "07700900333", "07700900444")
    for _ in range(2):
        assert sync(run_cli, scene)[0] == 0
        assert tuple(n for n in scene.phonebook()[carol] if n) == expected
