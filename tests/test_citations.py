"""The citation registry: the real one is sound, and broken ones are reported where they break."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from bot.errors import FileProblems, PolicybotError, Problem
from bot.language.citations import (
    AUDIENCES,
    Registry,
    check_quotes,
    default_policy_dir,
    default_registry_path,
    load_registry,
    normalise,
)
from tests.shared_inputs import policy_texts


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(default_registry_path())


@pytest.fixture(scope="module")
def policy_dir() -> Path:
    return policy_texts()


# --- the real registry ------------------------------------------------------------------------


def test_real_registry_loads_with_every_policy(registry: Registry) -> None:
    assert set(registry.policies) == {"dcc", "denb", "appb", "notts"}
    counts = Counter(c.policy.key for c in registry.citations.values())
    assert set(counts) == set(registry.policies), "every policy must have citations"
    assert len(registry.ids()) >= 100
    assert all(c.audience in AUDIENCES for c in registry.citations.values())


@pytest.mark.parametrize(
    "cid",
    [
        "notts-18",
        "notts-27",
        "notts-29",
        "notts-37",
        "notts-42",
        "notts-47d",
        "notts-54b",
        "notts-55",
        "notts-57",
        "notts-60",
        "notts-74",
        "appb-at-work-flowchart",
        "appb-wiki-ip-address",
        "appb-wiki-editor-permission",
        "appb-personal-no-council-it",
        "denb-3-welsh-reply",
        "denb-5-welsh-bilingual",
        "denb-5-welsh-emergency",
        "denb-faq-tough-day",
        "dcc-1-disclaimer",
    ],
)
def test_clauses_flows_rely_on_are_registered(registry: Registry, cid: str) -> None:
    assert cid in registry
    assert registry.get(cid).summary


def test_wording_people_must_use_is_kept_verbatim(registry: Registry) -> None:
    rules = registry.get("notts-57").verbatim
    assert rules is not None and rules.startswith("The views expressed by members of the public")
    for cid in ("dcc-1-disclaimer", "denb-3-disclaimer", "denb-5-disclaimer", "appb-personal-disclaimer"):
        verbatim = registry.get(cid).verbatim
        assert verbatim is not None and not verbatim.endswith("\n"), cid


def test_every_quote_and_verbatim_is_in_its_policy_text(registry: Registry, policy_dir: Path) -> None:
    assert check_quotes(registry, policy_dir) == []


def test_every_quote_locates_its_clause(registry: Registry, policy_dir: Path) -> None:
    """A quote found N times in its document must be used by exactly N citations (normally 1).

    Sentences the document itself repeats word for word may share a quote; anything else that
    matches several places is too short to locate a clause.
    """
    texts = {key: normalise((policy_dir / p.file).read_text(encoding="utf-8")) for key, p in registry.policies.items()}
    uses = Counter((c.policy.key, normalise(c.quote)) for c in registry.citations.values())
    ambiguous = {q: (texts[key].count(q), n) for (key, q), n in uses.items() if texts[key].count(q) != n}
    assert ambiguous == {}


# --- lookup -----------------------------------------------------------------------------------


def test_get_of_a_misspelt_id_suggests_the_right_one(registry: Registry) -> None:
    with pytest.raises(PolicybotError) as err:
        registry.get("nots-27")
    assert "'nots-27'" in str(err.value)
    assert "Did you mean 'notts-27'" in str(err.value)


def test_get_of_an_unrelated_id_says_so_without_guessing(registry: Registry) -> None:
    with pytest.raises(PolicybotError) as err:
        registry.get("zzzzzzzz")
    assert "zzzzzzzz" in str(err.value) and "Did you mean" not in str(err.value)
    assert "zzzzzzzz" not in registry


# --- malformed registries ---------------------------------------------------------------------

GOOD = """\
policies:
  p1: {file: p1.txt, title: "Policy one"}
citations:
  p1-rule:
    policy: p1
    clause: "paragraph 1"
    quote: "Always be kind"
    summary: "Be kind."
    audience: employee
"""


def write(tmp_path: Path, text: str, name: str = "citations.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[int, str]]:
    with pytest.raises(FileProblems) as err:
        load_registry(path)
    assert all(p.file == str(path) for p in err.value.problems)
    return [(p.line, p.message) for p in err.value.problems]


def test_the_minimal_registry_is_valid(tmp_path: Path) -> None:
    reg = load_registry(write(tmp_path, GOOD))
    cit = reg.get("p1-rule")
    assert (cit.policy.file, cit.quote, cit.audience, cit.verbatim, cit.line) == (
        "p1.txt",
        "Always be kind",
        "employee",
        None,
        4,
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('    quote: "Always be kind"\n', "", 4, "missing 'quote'"),
        ("    policy: p1\n", "    policy: p2\n", 5, "policy 'p2'"),
        ("  p1-rule:\n", "  P1_Rule:\n", 4, "only a-z"),
        ("    audience: employee\n", "    audience: employee\n    note: hi\n", 10, "unknown key 'note'"),
        ("    audience: employee\n", "    audience: everyone\n", 9, "must be one of"),
        ('    summary: "Be kind."\n', "    summary: [a, b]\n", 8, "'summary' in citation 'p1-rule' must be"),
        ("citations:\n", "citations:\n  bad: [1\n", 4, "YAML syntax error: the '[' opened on this line"),
        ("  p1: {file: p1.txt,", "  p1: {file: ../p1.txt,", 2, "bare file name"),
        ("citations:\n", "extra: 1\ncitations:\n", 3, "unknown key 'extra'"),
    ],
)
def test_a_broken_registry_is_reported_at_its_line(tmp_path: Path, old: str, new: str, line: int, words: str) -> None:
    assert old in GOOD
    found = problems_of(write(tmp_path, GOOD.replace(old, new)))
    assert any(at == line and words in message for at, message in found), found


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = GOOD + "  Bad!:\n    policy: nope\n    clause: x\n    summary: y\n    audience: manager\n"
    found = problems_of(write(tmp_path, text))
    assert [line for line, _ in found] == [10, 10, 11]
    assert "only a-z" in found[0][1] + found[1][1] and "missing 'quote'" in found[0][1] + found[1][1]
    assert "policy 'nope'" in found[2][1]


def test_a_registry_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "- just\n- a list\n"))
    assert found == [(1, "the registry must be a mapping of 'key: value' lines")]


# --- quote checking ---------------------------------------------------------------------------


def test_quotes_match_across_typography_but_not_case(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "p1.txt").write_text("1. **Always** be kind –\n   don’t “shout”.\n", encoding="utf-8")
    ok = load_registry(write(tmp_path, GOOD.replace('"Always be kind"', "'Always be kind - don''t \"shout\"'")))
    assert check_quotes(ok, policies) == []
    wrong_case = load_registry(write(tmp_path, GOOD.replace("Always be kind", "always be kind"), "b.yaml"))
    assert check_quotes(wrong_case, policies) == [
        Problem(
            str(tmp_path / "b.yaml"), 4, "the quote of 'p1-rule' is not in p1.txt; copy it exactly from the policy text"
        )
    ]


def test_an_altered_quote_in_the_real_registry_is_reported(registry: Registry, policy_dir: Path) -> None:
    cit = registry.get("notts-27")
    altered = dataclasses.replace(cit, quote=cit.quote.replace("immediately", "promptly"))
    broken = dataclasses.replace(registry, citations={**registry.citations, "notts-27": altered})
    problems = check_quotes(broken, policy_dir)
    assert len(problems) == 1
    assert problems[0].line == cit.line and "'notts-27'" in problems[0].message


def test_an_altered_verbatim_is_reported(registry: Registry, policy_dir: Path) -> None:
    cit = registry.get("notts-57")
    altered = dataclasses.replace(cit, verbatim=(cit.verbatim or "") + " Be nice.")
    broken = dataclasses.replace(registry, citations={**registry.citations, "notts-57": altered})
    assert [p.message.split(" of ")[0] for p in check_quotes(broken, policy_dir)] == ["the verbatim"]


def test_a_missing_policy_file_is_a_problem(tmp_path: Path) -> None:
    reg = load_registry(write(tmp_path, GOOD))
    problems = check_quotes(reg, tmp_path / "nowhere")
    assert [(p.line, "not found" in p.message) for p in problems] == [(2, True)]


def test_policy_dir_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICYBOT_POLICY_DIR", str(tmp_path))
    assert default_policy_dir() == tmp_path
    monkeypatch.delenv("POLICYBOT_POLICY_DIR")
    found = default_policy_dir()
    assert found is None or (found.is_dir() and found.name == "policy")


def test_default_registry_sits_in_the_flows_package() -> None:
    path = default_registry_path()
    assert path.name == "citations.yaml" and path.parent.name == "flows" and path.is_file()
