"""The flow library in the database: seeded on the first start, served from it, exported back out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.publishing import versions
from bot.publishing.snapshot import CITATIONS, SETTINGS, read_folder
from bot.runtime import Runtime
from tests.publishing.conftest import ASHA, KIM, NEW_ADVICE, WIKI_ANSWERS, Org, outcome_of, walk


def live(runtime: Runtime) -> versions.Version:
    with runtime.store.transaction() as conn:
        found = versions.live(conn)
    assert found is not None
    return found


def test_the_first_start_stores_the_flows_folder_as_version_1(org: Org, runtime: Runtime) -> None:
    version = live(runtime)
    assert version.number == 1 and version.source == versions.SEED
    assert version.files == read_folder(org.flows, org.settings)
    assert {"wiki-edit.yaml", "wiki-edit.test.yaml", CITATIONS, SETTINGS} <= set(version.files)
    assert runtime.library.version == 1
    # and the chat needs nothing else: a flow runs from it
    assert outcome_of(walk(runtime.engine, KIM, "wiki-edit", WIKI_ANSWERS)).state == "wikipedia_care"


def test_a_second_start_with_the_same_folder_adds_no_version(org: Org, sqlite_url: str, runtime: Runtime) -> None:
    again = org.runtime(sqlite_url, live_reload=False)
    assert live(again).number == 1 and again.library.version == 1
    again.close()


def test_an_edited_folder_is_seeded_again_while_nobody_reviews_and_nothing_reviewed_is_published(
    org: Org, sqlite_url: str
) -> None:
    org.settings.write_text("directory: directory.yaml\n", encoding="utf-8")  # no authoring: nobody reviews
    first = org.runtime(sqlite_url)
    first.close()
    (org.flows / "wiki-edit.yaml").write_text(org.edited_wiki().read_text(encoding="utf-8"), encoding="utf-8")
    second = org.runtime(sqlite_url)
    assert live(second).number == 2 and live(second).source == versions.SEED
    assert NEW_ADVICE in outcome_of(walk(second.engine, KIM, "wiki-edit", WIKI_ANSWERS)).text
    second.close()


def test_with_reviewers_named_the_folder_only_seeds_an_empty_database(
    org: Org, sqlite_url: str, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Otherwise anyone starting policybot with --flows at their own copy would publish it unreviewed."""
    (org.flows / "wiki-edit.yaml").write_text(org.edited_wiki().read_text(encoding="utf-8"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.publishing.versions"):
        again = org.runtime(sqlite_url)
    assert live(again).number == 1
    assert NEW_ADVICE not in outcome_of(walk(again.engine, KIM, "wiki-edit", WIKI_ANSWERS)).text
    assert "differs from the live flow library" in caplog.text
    # a reviewed change is served; the folder still is not
    assert again.publishing is not None
    change = again.publishing.submit([org.edited_wiki("Third wording.")], "asha")
    again.publishing.approve(change.id, "lee")
    again.close()
    (org.flows / "wiki-edit.yaml").write_text("flow: broken\n", encoding="utf-8")
    third = org.runtime(sqlite_url)
    assert live(third).number == 2 and live(third).source == versions.CHANGE
    assert "Third wording." in outcome_of(walk(third.engine, ASHA, "wiki-edit", WIKI_ANSWERS)).text
    third.close()


def test_export_writes_the_live_library_back_out_as_it_is_stored(org: Org, runtime: Runtime, tmp_path: Path) -> None:
    assert runtime.publishing is not None
    change = runtime.publishing.submit([org.edited_wiki()], "asha", "clearer")
    runtime.publishing.approve(change.id, "lee")
    out = tmp_path / "exported"
    names = runtime.publishing.export(out)
    assert "wiki-edit.yaml" in names
    assert NEW_ADVICE in (out / "flows" / "wiki-edit.yaml").read_text(encoding="utf-8")
    assert read_folder(out / "flows", out / SETTINGS) == live(runtime).files


def test_two_replicas_seeding_an_empty_database_at_once_store_one_version(org: Org, database_url: str) -> None:
    import threading

    made: list[Runtime] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            made.append(org.runtime(database_url, live_reload=False))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert [r.library.version for r in made] == [1, 1]
    with made[0].store.transaction() as conn:
        assert versions.live_number(conn) == 1
    for r in made:
        r.close()
