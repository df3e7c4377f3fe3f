"""Changes are checked when submitted, reviewed by someone else, and published whole."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.errors import NotAllowed, PolicybotError
from bot.publishing import versions
from bot.publishing.changes import ChangeRefused, change_json
from bot.publishing.diff import as_text
from bot.publishing.tables import library_versions
from bot.runtime import Runtime
from tests.publishing.conftest import KIM, NEW_ADVICE, WIKI_ADVICE, WIKI_ANSWERS, Org, outcome_of, walk


def version_count(runtime: Runtime) -> int:
    with runtime.store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(library_versions)).scalar_one())


def test_a_change_that_fails_validate_is_refused_with_file_and_line(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    broken = org.folder / "edits" / "wiki-edit.yaml"
    broken.parent.mkdir()
    source = (org.flows / "wiki-edit.yaml").read_text(encoding="utf-8")
    broken.write_text(source.replace("next: wikipedia_care", "next: wikipedia_kare", 1), encoding="utf-8")
    with pytest.raises(ChangeRefused) as refused:
        runtime.publishing.submit([broken], "asha")
    shown = [str(p) for p in refused.value.problems]
    line = 1 + source[: source.index("next: wikipedia_care")].count("\n")
    assert any(s.startswith(f"{broken}:{line}:") and "wikipedia_kare" in s for s in shown), shown
    assert runtime.publishing.history() == []


def test_a_change_that_breaks_a_scenario_test_is_refused(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    edited = org.folder / "edits" / "wiki-edit.yaml"
    edited.parent.mkdir()
    source = (org.flows / "wiki-edit.yaml").read_text(encoding="utf-8")
    # the scenarios expect the advice to say "Talk page"
    edited.write_text(source.replace("Talk page", "discussion page"), encoding="utf-8")
    with pytest.raises(ChangeRefused) as refused:
        runtime.publishing.submit([edited], "asha")
    assert any("FAIL wiki-edit" in p.message and "Talk page" in p.message for p in refused.value.problems)
    assert all(":" in str(p) for p in refused.value.problems)


def test_only_authors_and_reviewers_may_submit(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    with pytest.raises(NotAllowed, match="not named as an author"):
        runtime.publishing.submit([org.edited_wiki()], "kim")
    assert runtime.publishing.submit([org.edited_wiki()], "sam").author == "sam"  # a reviewer may


def test_self_approval_and_non_reviewers_are_refused_and_publish_nothing(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "sam", "my own change")
    with pytest.raises(NotAllowed, match="someone else has to review"):
        runtime.publishing.approve(change.id, "sam")
    with pytest.raises(NotAllowed, match="not a reviewer"):
        runtime.publishing.approve(change.id, "kim")
    with pytest.raises(NotAllowed, match="not a reviewer"):
        runtime.publishing.reject(change.id, "asha", "no")
    assert version_count(runtime) == 1
    assert runtime.publishing.get(change.id[:8]).status == "pending"
    decision = runtime.publishing.approve(change.id[:8], "lee")
    assert decision.published_version == 2
    assert version_count(runtime) == 2


def test_a_flow_escalating_to_legal_needs_two_different_approvals(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    wiki = runtime.publishing.submit([org.edited_wiki()], "asha")
    assert wiki.approvals_needed == 1  # wiki-edit escalates to comms only
    legal = runtime.publishing.submit([org.edited_legal()], "asha", "retitle")
    assert legal.approvals_needed == 2
    first = runtime.publishing.approve(legal.id, "lee")
    assert first.published_version is None and "1 more approval" in first.message
    assert version_count(runtime) == 1
    with pytest.raises(NotAllowed, match="already approved"):
        runtime.publishing.approve(legal.id, "lee")
    second = runtime.publishing.approve(legal.id, "sam")
    assert second.published_version == 2
    assert second.change.approvals == ["lee", "sam"]
    assert runtime.library.version == 1  # this runtime does not poll: it swaps on check()
    assert runtime.live is not None and runtime.live.check()
    assert runtime.library.get("legal-threat").title.startswith("Reviewed - ")


def test_a_settings_change_needs_two_approvals_when_any_flow_escalates_to_legal(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    edited = org.folder / "edits" / "policybot.yaml"
    edited.parent.mkdir()
    edited.write_text(org.settings.read_text() + "retention_days: 60\n", encoding="utf-8")
    change = runtime.publishing.submit([edited], "asha")
    assert change.approvals_needed == 2 and change.flows == []


def test_reject_records_why_and_the_change_cannot_then_be_published(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha", "new wording")
    with pytest.raises(PolicybotError, match="say why"):
        runtime.publishing.reject(change.id, "lee", "  ")
    runtime.publishing.reject(change.id, "lee", "too short")
    with pytest.raises(PolicybotError, match="already rejected"):
        runtime.publishing.approve(change.id, "sam")
    [entry] = [change_json(c) for c in runtime.publishing.history("wiki-edit")]
    assert entry["status"] == "rejected" and entry["author"] == "asha" and entry["note"] == "new wording"
    assert entry["reviews"][0]["reviewer"] == "lee" and entry["reviews"][0]["why"] == "too short"
    json.dumps(entry)  # the --json output is plain JSON


def test_a_second_change_to_a_flow_already_changed_is_refused_at_approval(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    first = runtime.publishing.submit([org.edited_wiki("First.")], "asha")
    second = runtime.publishing.submit([org.edited_wiki("Second.")], "asha")
    runtime.publishing.approve(first.id, "lee")
    with pytest.raises(PolicybotError, match="changed in the live library after this change was submitted"):
        runtime.publishing.approve(second.id, "lee")
    assert version_count(runtime) == 2


def test_a_change_to_another_flow_is_published_on_top_of_a_newer_version(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    wiki = runtime.publishing.submit([org.edited_wiki()], "asha")
    legal = runtime.publishing.submit([org.edited_legal()], "asha")
    runtime.publishing.approve(wiki.id, "lee")
    runtime.publishing.approve(legal.id, "lee")
    assert runtime.publishing.approve(legal.id, "sam").published_version == 3
    assert runtime.live is not None and runtime.live.check()
    assert NEW_ADVICE in outcome_of(walk(runtime.engine, KIM, "wiki-edit", WIKI_ANSWERS)).text
    assert runtime.library.get("legal-threat").title.startswith("Reviewed - ")


def test_the_diff_names_the_outcome_and_shows_the_advice_before_and_after(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    text = as_text(runtime.publishing.diff(change.id))
    assert "== wiki-edit.yaml (changed)" in text
    assert "outcome 'wikipedia_care': advice" in text
    before = next(line for line in text.splitlines() if "before:" in line)
    after = next(line for line in text.splitlines() if "after:" in line)
    assert WIKI_ADVICE in before and NEW_ADVICE not in before
    assert NEW_ADVICE in after
    assert f"[+{NEW_ADVICE}+]" in text


def test_the_diff_names_a_new_option_and_a_changed_question(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    source = (org.flows / "wiki-edit.yaml").read_text(encoding="utf-8")
    edited = org.folder / "edits" / "wiki-edit.yaml"
    edited.parent.mkdir()
    edited.write_text(
        source.replace("en: Which site is it on?", "en: Which website is it?").replace(
            "        next: other_wiki_care\n",
            '        next: other_wiki_care\n      - {label: "Wikimedia Commons", next: other_wiki_care}\n',
            1,
        ),
        encoding="utf-8",
    )
    text = as_text(runtime.publishing.diff(runtime.publishing.submit([edited], "asha").id))
    assert "question 'site': question text" in text and "after:  Which website is it?" in text
    assert "question 'site': new option 'Wikimedia Commons' -> other_wiki_care" in text


def test_rollback_puts_a_flow_back_and_is_recorded_like_a_change(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    runtime.publishing.approve(change.id, "lee")
    with pytest.raises(NotAllowed, match="only a reviewer"):
        runtime.publishing.rollback("wiki-edit", 1, "asha")
    rolled = runtime.publishing.rollback("wiki-edit", 1, "sam")
    assert rolled.kind == "rollback" and rolled.status == "published" and rolled.published_version == 3
    with runtime.store.transaction() as conn:
        one, three = versions.read(conn, 1), versions.read(conn, 3)
    assert one is not None and three is not None
    assert three.files["wiki-edit.yaml"] == one.files["wiki-edit.yaml"] and three.source == versions.ROLLBACK
    history = [change_json(c) for c in runtime.publishing.history("wiki-edit")]
    assert [h["kind"] for h in history] == ["change", "rollback"]
    assert history[1]["reviews"][0]["reviewer"] == "sam"
    with pytest.raises(PolicybotError, match="already as it was"):
        runtime.publishing.rollback("wiki-edit", 1, "sam")


def test_a_press_delivered_twice_is_applied_once_and_a_refused_press_claims_nothing(org: Org, runtime: Runtime) -> None:
    """A chat platform's retry (or a replay from the inbound journal) carries the same delivery id."""
    assert runtime.publishing is not None
    legal = runtime.publishing.submit([org.edited_legal()], "asha")
    assert legal.approvals_needed == 2
    for _ in range(2):  # refused each time: the refusal rolled its claim back
        with pytest.raises(NotAllowed, match="not a reviewer"):
            runtime.publishing.approve(legal.id, "kim", delivery_id="press-kim")
    runtime.publishing.approve(legal.id, "lee", delivery_id="press-lee")
    again = runtime.publishing.approve(legal.id, "lee", delivery_id="press-lee")
    assert again.published_version is None and again.message.startswith("Already done: your approval is recorded")
    assert runtime.publishing.get(legal.id).approvals == ["lee"]
    wiki = runtime.publishing.submit([org.edited_wiki()], "asha")
    runtime.publishing.reject(wiki.id, "sam", "cite the clause", delivery_id="modal-1")
    assert runtime.publishing.reject(wiki.id, "sam", "cite the clause", delivery_id="modal-1").status == "rejected"
    assert len(runtime.publishing.get(wiki.id).reviews) == 1
