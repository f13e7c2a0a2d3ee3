"""Matching: evidence, verdicts, blocking and one-to-one assignment."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from planning_helpers import contact, item_for, plan, record

from connector.reconcile.blocking import RemoteIndex
from connector.reconcile.evidence import (
    DIFFERENT,
    MATCH,
    REVIEW,
    MatchSettings,
    Party,
    compare,
    make_party,
    name_similarity,
)
from connector.reconcile.matching import ADD, find_duplicates, find_namesakes, match_all
from connector.reconcile.names import GENERIC_WORDS, name_tokens

SETTINGS = MatchSettings()


def party(name: str, *numbers: str) -> Party:
    return make_party(name, numbers)


def similarity(a: str, b: str) -> tuple[float, float]:
    return name_similarity(name_tokens(a), name_tokens(b))


@pytest.mark.parametrize(
    ("a", "b", "score", "weakest"),
    [
        ("John Smith", "Smith, John", 100, 100),
        ("Jon Smith", "John Smith", 92.9, 85.7),
        ("J Smith", "John Smith", 95, 90),
        ("Jane Smith", "John Smith", 75, 50),
        ("Bob Smith", "Robert Smith", 72.2, 44.4),
        ("John Smith", "John Michael Smith", 86.7, 100),
        ("John Smith", "John Smith Jr", 86.7, 0),
        ("John Smith Snr", "John Smith Jr", 80.0, 0),
        ("Van Der Berg", "Vanderberg", 100, 100),
    ],
)
def test_name_similarity_pairs_words_and_keeps_the_weakest(
    a: str, b: str, score: float, weakest: float
) -> None:
    assert similarity(a, b) == (score, weakest)


@pytest.mark.parametrize(
    ("a", "b", "verdict"),
    [
        (party("John Smith", "07852902011"), party("John Smith", "07852902011"), MATCH),
        (party("Jon Smith", "07852902011"), party("John Smith", "07852902011"), MATCH),
        (party("Dr. J. Smith", "07852902011"), party("John Smith", "07852902011"), MATCH),
        (party("Acme Ltd", "01491833000"), party("ACME Limited", "01491833000"), MATCH),
        (party("Jane Smith", "01491833000"), party("John Smith", "01491833000"), REVIEW),
        (party("Bob Smith", "07852902011"), party("Robert Smith", "07852902011"), REVIEW),
        (party("Beta Corp", "01491833000"), party("Acme Ltd", "01491833000"), DIFFERENT),
        (party("John Smith", "07852902011"), party("John Smith", "07700900001"), REVIEW),
        (party("Jon Smith", "07852902011"), party("John Smith", "07700900001"), REVIEW),
        (party("Jane Smith", "07852902011"), party("John Smith", "07700900001"), DIFFERENT),
        (
            party("Rajesh Kumar Patel", "07700900103", "01614960103"),
            party("Rajesh Patel", "07700900103", "01614960103"),
            MATCH,
        ),
        (party("Rajesh Kumar Patel", "07700900103"), party("Rajesh Patel", "07700900103"), REVIEW),
        (
            party("John Smith Jr", "01491833000", "07852902011"),
            party("John Smith", "01491833000", "07852902011"),
            REVIEW,
        ),
    ],
)
def test_a_verdict_needs_both_a_shared_number_and_an_agreeing_name(
    a: Party, b: Party, verdict: str
) -> None:
    assert compare(a, b, SETTINGS).verdict == verdict


def test_shared_switchboard_is_not_a_match() -> None:
    evidence = compare(
        party("Beta Corp", "01491833000"), party("Acme Ltd", "01491833000"), SETTINGS
    )
    assert evidence.verdict == DIFFERENT
    assert evidence.reason == (
        "shares number 01491833000 but the name is different (25): a shared line"
    )


def test_evidence_reason_and_score_read_as_a_person_would_check() -> None:
    evidence = compare(
        party("Jon Smith", "07852902011"), party("John Smith", "07852902011"), SETTINGS
    )
    assert evidence.reason == "name alike (92.9), same number 07852902011"
    assert evidence.score == 92.9
    alone = compare(
        party("John Smith", "07852902011"), party("John Smith", "07700900001"), SETTINGS
    )
    assert alone.reason == "same name, no number in common"
    assert alone.score == 50


def test_thresholds_are_configurable() -> None:
    strict = MatchSettings(match_name_score=95)
    a, b = party("Jon Smith", "07852902011"), party("John Smith", "07852902011")
    assert compare(a, b, strict).verdict == REVIEW


def test_settings_reject_nonsense_and_round_trip_as_json() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        MatchSettings(word_floor=120)
    with pytest.raises(ValueError, match="must not exceed the match scores"):
        MatchSettings(review_shared_score=95)
    custom = MatchSettings(match_name_score=90, max_postings=50)
    assert MatchSettings.from_json(custom.to_json()) == custom
    with pytest.raises(ValueError, match="unknown match settings"):
        MatchSettings.from_json({"typo_score": 1})


def test_one_remote_contact_is_matched_by_at_most_one_record() -> None:
    sources = [party("J Smith", "07852902011"), party("John Smyth", "07852902011")]
    remotes = [party("John Smith", "07852902011")]
    first, second = match_all(sources, remotes, SETTINGS)
    assert (first.verdict, first.remote) == (MATCH, 0)
    assert second.verdict == REVIEW
    assert second.taken == ((0, 0),)


def test_remote_duplicates_are_reported_and_one_of_them_matched() -> None:
    remotes = [party("John Smith", "07852902011"), party("Smith, John", "07852902011")]
    (outcome,) = match_all([party("John Smith", "07852902011")], remotes, SETTINGS)
    assert outcome.verdict == MATCH
    assert outcome.remote == 0
    assert [r for r, _ in outcome.duplicates] == [1]


def test_the_contact_already_bearing_the_name_wins_a_tie() -> None:
    remotes = [party("ACME Limited", "01614960000"), party("Acme Ltd", "01614960000")]
    (outcome,) = match_all([party("Acme Ltd", "01614960000")], remotes, SETTINGS)
    assert outcome.remote == 1


def test_a_similar_name_without_a_shared_number_is_found_by_name_blocking() -> None:
    remotes = [party("John Smith", "07700900001"), party("Mary Jones", "07700900002")]
    (outcome,) = match_all([party("Jon Smith", "07852902011")], remotes, SETTINGS)
    assert outcome.verdict == REVIEW
    assert [r for r, _ in outcome.candidates] == [0]


_BLOCK_NAMES = [
    "John Smith", "Jon Smith", "J Smith", "Jane Smith", "John Smyth", "Smith John",
    "Mary Jones", "Mary J Jones", "M Jones", "Acme Ltd", "Acme", "Jon", "Anne-Marie Lee",
]  # fmt: skip


@given(
    st.lists(st.sampled_from(_BLOCK_NAMES), max_size=12),
    st.lists(st.sampled_from(_BLOCK_NAMES), max_size=6),
    st.sets(st.integers(0, 11)),
    st.integers(1, 4),
)
def test_names_asked_at_once_find_what_names_asked_one_by_one_find(
    book: list[str], asked: list[str], taken: set[int], cap: int
) -> None:
    """``by_names`` builds the name index for the names asked about only: it must find
    what the whole phonebook's index finds, crowded blocks (over ``max_postings``) and
    contacts taken by other records included."""
    settings = MatchSettings(max_postings=cap)
    remotes = [party(name, f"077009{n:05d}") for n, name in enumerate(book)]
    parties = [party(name) for name in asked]
    one_by_one = RemoteIndex(remotes, settings)
    expected = [one_by_one.by_name(p, taken) for p in parties]
    assert RemoteIndex(remotes, settings).by_names(parties, taken) == expected


def test_a_contact_matched_by_another_record_is_no_candidate_by_name() -> None:
    sources = [party("John Smith", "07700900001"), party("John Smith", "07852902011")]
    remotes = [party("John Smith", "07700900001")]
    first, second = match_all(sources, remotes, SETTINGS)
    assert first.verdict == MATCH
    assert second.verdict == ADD
    assert second.taken == ((0, 0),)


def test_a_pinned_pair_is_matched_first_whatever_the_evidence() -> None:
    sources = [party("Bob Jones", "07911123456"), party("Robert Jones", "07911123456")]
    remotes = [party("Robert Jones", "07911123456")]
    first, second = match_all(sources, remotes, SETTINGS, pinned={0: 0})
    assert (first.verdict, first.remote) == (MATCH, 0)
    assert second.verdict == REVIEW  # its match is taken by the reviewer's choice


def test_a_crowded_number_only_blocks_contacts_of_the_same_name() -> None:
    crowd = MatchSettings(max_postings=2)
    remotes = [party(f"Person {n}", "01491833000") for n in range(5)]
    remotes.append(party("Reception", "01491833000"))
    (outcome,) = match_all([party("Reception", "01491833000")], remotes, crowd)
    assert (outcome.verdict, outcome.remote) == (MATCH, 5)


def test_source_records_repeating_an_earlier_one_are_found() -> None:
    sources = [
        party("John Smith", "07852902011"),
        party("Jane Smith", "07852902011"),  # a family member sharing the number
        party("Smith, John", "07852902011", "01491833000"),
        None,  # rejected or decided: takes no part
        party("Jon Smith", "01491833000"),  # shares only with a repeat: merged all the same
        party("Jon Smith", "07700900001"),  # shares nothing
    ]
    repeats = find_duplicates(sources, SETTINGS)
    assert {i: root for i, (root, _) in repeats.items()} == {2: 0, 4: 0}


def test_source_records_with_an_earlier_name_and_other_numbers_are_found() -> None:
    sources = [
        party("New Person", "02079460777"),
        party("New Person", "07700900777"),  # same name, no number in common
        party("Person, New", "07700900778"),  # the same name words, in another order
        None,  # rejected, decided or merged: takes no part
        party("New Person", "02079460777", "07700900779"),  # shares a number: not this rule
        party("Newer Person", "07700900780"),  # a like name is not the same name
        party("Kept Apart", "07700900781"),
        party("Kept Apart", "07700900782"),  # both keyed by the source's own ids
        party("Half Kept", "07700900783"),
        party("Half Kept", "07700900784"),  # only the later one keyed: the rule holds
    ]
    keyed = [False] * 6 + [True, True, False, True]
    assert find_namesakes(sources, keyed) == {1: 0, 2: 0, 9: 8}


# -- a shared number and one name inside the other ---------------------------------------------

NUMBER = "01134960123"


@pytest.mark.parametrize(
    ("record", "contact", "reason"),
    [
        (
            "Harbour Dental",
            "Harbour Dental (Leeds)",
            "same number 01134960123; 'Harbour Dental' is contained in 'Harbour Dental (Leeds)'",
        ),
        (
            "Kestrel Joinery Ltd",
            "Kestrel",
            "same number 01134960123; 'Kestrel' is contained in 'Kestrel Joinery Ltd'",
        ),
        (
            "The Crown",
            "The Crown at Wells",
            "same number 01134960123; 'The Crown' is contained in 'The Crown at Wells'",
        ),
        (
            "The Heron, Frome",
            "The Heron",
            "same number 01134960123; 'The Heron' is contained in 'The Heron, Frome'",
        ),
        (
            "Katsu",
            "Restaurant Katsu",
            "same number 01134960123; 'Katsu' is contained in 'Restaurant Katsu'",
        ),
        (
            "Harbour Dental Reception",
            "Harbour Dental",
            "same number 01134960123; 'Harbour Dental' is contained in 'Harbour Dental Reception'",
        ),
        (
            "Mill Race Deli",
            "Mill Race Delicatessen",
            "same number 01134960123; 'Mill Race Deli' is short for 'Mill Race Delicatessen'",
        ),
        (
            "St Anne's Surgery",
            "Saint Annes Surgery",
            "same number 01134960123; 'St Anne's Surgery' is short for 'Saint Annes Surgery'",
        ),
        (
            "Smith Bros Roofing",
            "Smith Brothers Roofing (Leeds)",
            "same number 01134960123; 'Smith Bros Roofing' is contained in "
            "'Smith Brothers Roofing (Leeds)'",
        ),
        (
            "Steak House",
            "Steak House, The",
            "same number 01134960123; 'Steak House' is 'Steak House, The' without the article",
        ),
        ("Old Bakery, The", "The Old Bakery", "same name, same number 01134960123"),
    ],
)
def test_a_shared_number_and_one_name_inside_the_other_is_a_match(
    record: str, contact: str, reason: str
) -> None:
    evidence = compare(party(record, NUMBER), party(contact, NUMBER), SETTINGS)
    assert (evidence.verdict, evidence.reason) == (MATCH, reason)
    (outcome,) = match_all([party(record, NUMBER)], [party(contact, NUMBER)], SETTINGS)
    assert (outcome.verdict, outcome.remote) == (MATCH, 0)


@pytest.mark.parametrize(
    ("record", "contact", "verdict"),
    [
        ("Reception", "Harbour Dental Reception", REVIEW),  # only a generic word in common
        ("The Office", "The Office at Mill Race", REVIEW),
        ("Restaurant", "Restaurant Katsu", REVIEW),
        ("The", "The Crown", REVIEW),
        ("John Smith", "John Smith Jr", REVIEW),  # parent and child
        ("Peter Hale Snr", "Peter Hale", REVIEW),
        ("Smith", "John Smith", REVIEW),  # a family landline: the surname is not the person
        ("Rajesh Patel", "Rajesh Kumar Patel", REVIEW),  # not in order: a middle name
        ("Harbour Dental (Leeds)", "Harbour Dental (York)", REVIEW),  # two branches
        ("Harbour Physio", "Harbour Dental", REVIEW),  # two firms of one building
        ("Saint Annes", "Street Annes", REVIEW),  # St is either, Saint is never Street
    ],
)
def test_containment_keeps_every_protection(record: str, contact: str, verdict: str) -> None:
    evidence = compare(party(record, NUMBER), party(contact, NUMBER), SETTINGS)
    assert (evidence.verdict, evidence.contained) == (verdict, None)


def test_containment_needs_a_shared_number() -> None:
    evidence = compare(
        party("Kestrel", NUMBER), party("Kestrel Joinery Ltd", "01134960124"), SETTINGS
    )
    assert (evidence.verdict, evidence.reason) == (DIFFERENT, "no number in common")


def test_a_name_inside_two_contacts_on_the_number_goes_to_review() -> None:
    remotes = [party("Harbour Dental (Leeds)", NUMBER), party("Harbour Dental (York)", NUMBER)]
    (outcome,) = match_all([party("Harbour Dental", NUMBER)], remotes, SETTINGS)
    assert outcome.verdict == REVIEW
    assert [r for r, _ in outcome.candidates] == [0, 1]
    assert outcome.candidates[0][1].reason == (
        "shares number 01134960123; 'Harbour Dental' is contained in 'Harbour Dental (Leeds)'"
        ", but another contact on that number is as close"
    )


def test_a_contained_name_another_contact_on_the_number_carries_goes_to_review() -> None:
    remotes = [party("Acme", NUMBER), party("Acme Sales", NUMBER)]
    (outcome,) = match_all([party("Acme Lettings", NUMBER)], remotes, SETTINGS)
    assert outcome.verdict == REVIEW
    assert outcome.candidates[0][0] == 0


def test_a_colleague_on_the_switchboard_is_no_rival() -> None:
    remotes = [party("Jane Smith", NUMBER), party("Kestrel Joinery Ltd", NUMBER)]
    (outcome,) = match_all([party("Kestrel", NUMBER)], remotes, SETTINGS)
    assert (outcome.verdict, outcome.remote) == (MATCH, 1)


def test_a_name_alike_two_branches_on_the_number_goes_to_review() -> None:
    remotes = [
        party("Mill Race Solicitors (Harrogate)", NUMBER),
        party("Mill Race Solicitors (Keswick)", NUMBER),
    ]
    (outcome,) = match_all([party("Mill Race Solicitors", NUMBER)], remotes, SETTINGS)
    assert outcome.verdict == REVIEW
    assert outcome.candidates[0][1].reason == (
        "name alike (90), same number 01134960123, but another contact on that number is as close"
    )


def test_a_contact_another_record_takes_is_no_rival() -> None:
    # "J Smith" is as close to "John Smith" as to "Jon Smith", but the record "John Smith"
    # takes its namesake. Once that is written, the next run binds the pair and no longer
    # sees that contact: "J Smith" has only "Jon Smith" left on the number and matches it.
    # Calling the taken contact a rival now would send it to review now and rename "Jon
    # Smith" next time: the plan after applying a plan must agree with it.
    sources = [party("John Smith", "07852902011"), party("J Smith", "07852902011")]
    remotes = [party("John Smith", "07852902011"), party("Jon Smith", "07852902011")]
    first, second = match_all(sources, remotes, SETTINGS)
    assert (first.verdict, first.remote) == (MATCH, 0)
    assert (second.verdict, second.remote) == (MATCH, 1)
    assert second.evidence is not None
    assert second.evidence.reason == "name alike (95), same number 07852902011"


def test_a_contact_a_reviewer_pinned_to_another_record_is_no_rival() -> None:
    # A pin whose record is decided elsewhere (None) still claims the contact.
    remotes = [party("John Smith", "07852902011"), party("Jon Smith", "07852902011")]
    _, outcome = match_all([None, party("J Smith", "07852902011")], remotes, SETTINGS, {0: 0})
    assert (outcome.verdict, outcome.remote) == (MATCH, 1)


def test_a_contact_another_record_only_reviews_is_still_a_rival() -> None:
    # "Jane Smith" does not take "John Smith" (a family landline), so the next run still
    # sees both contacts beside "J Smith": it stays in review with both.
    sources = [party("Jane Smith", "07852902011"), party("J Smith", "07852902011")]
    remotes = [party("John Smith", "07852902011"), party("Jon Smith", "07852902011")]
    first, second = match_all(sources, remotes, SETTINGS)
    assert (first.verdict, second.verdict) == (REVIEW, REVIEW)
    assert [r for r, _ in second.candidates] == [0, 1]
    assert second.candidates[0][1].rival


def test_rivals_give_way_one_taken_contact_after_another() -> None:
    # "John Smith" takes its namesake; then "J Smith" (on the first number) has only "Jon
    # Smith" left and takes it; then "J Smith" on the second number has only "Joe Smith".
    sources = [
        party("J Smith", "01134960200"),
        party("J Smith", "07852902011"),
        party("John Smith", "07852902011"),
    ]
    remotes = [
        party("John Smith", "07852902011"),
        party("Jon Smith", "07852902011", "01134960200"),
        party("Joe Smith", "01134960200"),
    ]
    outcomes = match_all(sources, remotes, SETTINGS)
    assert [(o.verdict, o.remote) for o in outcomes if o] == [(MATCH, 2), (MATCH, 1), (MATCH, 0)]


RIVAL_NAMES = st.sampled_from(
    [
        "John Smith",
        "Jon Smith",
        "J Smith",
        "Jane Smith",
        "Smith, John",
        "Harbour Dental",
        "Harbour Dental (Leeds)",
        "Harbour Dental (York)",
        "Kestrel",
        "Kestrel Joinery Ltd",
        "Acme",
        "Acme Sales",
    ]
)
RIVAL_PARTIES = st.builds(
    make_party,
    RIVAL_NAMES,
    st.lists(
        st.sampled_from(["07852902011", "01134960123", "01134960200"]), min_size=1, max_size=2
    ),
)


@given(st.lists(RIVAL_PARTIES, max_size=6), st.lists(RIVAL_PARTIES, max_size=6))
def test_matching_what_is_left_over_matches_nothing_more(
    sources: list[Party], remotes: list[Party]
) -> None:
    # The next run sees only the records and contacts this one left unmatched.
    outcomes = match_all(sources, remotes, SETTINGS)
    taken = {o.remote for o in outcomes if o is not None and o.verdict == MATCH}
    left = [r for r in range(len(remotes)) if r not in taken]
    unmatched = [
        None if o is not None and o.verdict == MATCH else p
        for p, o in zip(sources, outcomes, strict=True)
    ]
    again = match_all(
        unmatched,
        [remotes[r] for r in left],
        SETTINGS,
    )
    assert all(o is None or o.verdict != MATCH for o in again), (outcomes, again)


@given(
    st.lists(st.one_of(st.none(), RIVAL_PARTIES), max_size=8),
    st.lists(st.tuples(st.integers(0, 8), RIVAL_NAMES), max_size=4),
)
def test_records_sharing_no_number_change_no_repeat(
    sources: list[Party | None], lone: list[tuple[int, str]]
) -> None:
    """Records whose numbers no other record has (the same names as the others, though)
    are never repeats nor first records, and the others' repeats are as without them."""
    mixed: list[Party | None] = list(sources)
    for n, (at, name) in enumerate(lone):
        mixed.insert(min(at, len(mixed)), make_party(name, (f"0777000000{n}",)))
    own = [i for i, p in enumerate(mixed) if p is not None and p.numbers[0].startswith("0777")]
    others = [i for i in range(len(mixed)) if i not in own]
    repeats = find_duplicates(mixed, SETTINGS)
    assert not any(i in own or root in own for i, (root, _) in repeats.items())
    alone = find_duplicates([mixed[i] for i in others], SETTINGS)
    assert {others[i]: (others[root], ev) for i, (root, ev) in alone.items()} == repeats


def test_source_records_containing_an_earlier_one_repeat_it_unless_two_do() -> None:
    sources = [
        party("Kestrel Joinery Ltd", NUMBER),
        party("Kestrel", NUMBER),  # inside the first: a repeat
        party("Harbour Dental (Leeds)", "01134960200"),
        party("Harbour Dental (York)", "01134960200"),
        party("Harbour Dental", "01134960200"),  # inside both: not a repeat of either
    ]
    repeats = find_duplicates(sources, SETTINGS)
    assert {i: root for i, (root, _) in repeats.items()} == {1: 0}


def test_the_plan_says_why_a_contained_name_is_matched() -> None:
    result = plan(
        [record("1", "Kestrel", "0113 496 0123")],
        [contact("7", "Kestrel Joinery Ltd", "+44 113 496 0123")],
    )
    item = item_for(result, "1")
    # The phonebook's fuller name is kept (names: phonebook, the default).
    assert (item.action, item.id) == ("unchanged", "7")
    assert item.reason == (
        "same number 01134960123; 'Kestrel' is contained in 'Kestrel Joinery Ltd'; "
        'the phonebook\'s name form kept (the source says "Kestrel")'
    )
    renamed = item_for(
        plan(
            [record("1", "Kestrel", "0113 496 0123")],
            [contact("7", "Kestrel Joinery Ltd", "+44 113 496 0123")],
            names="source",
        ),
        "1",
    )
    assert (renamed.action, renamed.after and renamed.after.name) == ("update", "Kestrel")


DISTINCT_A = st.from_regex(r"xa[a-z]{1,6}", fullmatch=True)
DISTINCT_B = st.from_regex(r"xb[a-z]{1,6}", fullmatch=True)
GENERIC = st.sampled_from(sorted(GENERIC_WORDS))


@given(
    st.lists(DISTINCT_A, max_size=3),
    st.lists(DISTINCT_B, max_size=3),
    st.lists(GENERIC, min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)
def test_containment_never_merges_names_sharing_only_generic_words(
    mine: list[str], theirs: list[str], generic: list[str], rng: random.Random
) -> None:
    a, b = [*mine, *generic], [*theirs, *generic]
    rng.shuffle(a)
    rng.shuffle(b)
    evidence = compare(party(" ".join(a), NUMBER), party(" ".join(b), NUMBER), SETTINGS)
    assert evidence.contained is None


NAME_WORDS = st.lists(st.one_of(DISTINCT_A, GENERIC, st.sampled_from(["jr", "deli", "st"])))


@given(NAME_WORDS, NAME_WORDS, st.booleans())
def test_containment_never_merges_without_a_shared_number(
    a: list[str], b: list[str], bracket: bool
) -> None:
    longer = f"{' '.join(b)} ({' '.join(a)})" if bracket else " ".join([*a, *b])
    evidence = compare(party(" ".join(a), NUMBER), party(longer, "01134960999"), SETTINGS)
    assert evidence.verdict != MATCH
    assert evidence.contained is None
    shared = compare(party(" ".join(a), NUMBER), party(longer, NUMBER), SETTINGS)
    if shared.contained is not None:  # and with one, only on a distinctive word
        assert shared.contained.distinctive
