"""Approvals racing on two runtimes (two replicas, or a replica and an admin's terminal)."""

from __future__ import annotations

import threading

from bot.errors import PolicybotError
from bot.publishing import versions
from tests.publishing.conftest import Org


def race(*calls: object) -> list[object]:
    """Run the calls at the same instant; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: object) -> None:
        barrier.wait(30)
        try:
            results[i] = call()  # type: ignore[operator]
        except Exception as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_reviewers_approving_a_two_approval_change_at_once_publish_it_once(org: Org, database_url: str) -> None:
    one, two = org.runtime(database_url), org.runtime(database_url)
    try:
        assert one.publishing is not None and two.publishing is not None
        change = one.publishing.submit([org.edited_legal()], "asha")
        assert change.approvals_needed == 2
        results = race(
            lambda: one.publishing.approve(change.id, "lee"), lambda: two.publishing.approve(change.id, "sam")
        )  # type: ignore[union-attr]
        assert not [r for r in results if isinstance(r, Exception)], results
        published = [r.published_version for r in results]  # type: ignore[attr-defined]
        assert sorted(published, key=lambda v: v or 0) == [None, 2]
        found = one.publishing.get(change.id)
        assert found.status == "published" and sorted(found.approvals) == ["lee", "sam"]
    finally:
        one.close()
        two.close()


def test_two_changes_approved_at_once_never_share_a_version(org: Org, database_url: str) -> None:
    one, two = org.runtime(database_url), org.runtime(database_url)
    try:
        assert one.publishing is not None and two.publishing is not None
        wiki = one.publishing.submit([org.edited_wiki()], "asha")
        legal = one.publishing.submit([org.edited_legal()], "asha")
        one.publishing.approve(legal.id, "sam")  # one of its two approvals
        results = race(lambda: one.publishing.approve(wiki.id, "lee"), lambda: two.publishing.approve(legal.id, "lee"))  # type: ignore[union-attr]
        refused = [r for r in results if isinstance(r, Exception)]
        assert all(isinstance(r, PolicybotError) and "try again" in str(r) for r in refused), refused
        with one.store.transaction() as conn:
            numbers = [v for v in range(1, 4) if versions.read(conn, v) is not None]
            live = versions.live(conn)
        assert live is not None
        published = [c for c in (one.publishing.get(wiki.id), one.publishing.get(legal.id)) if c.status == "published"]
        assert numbers == list(range(1, 2 + len(published)))
        assert sorted(c.published_version for c in published) == numbers[1:]  # type: ignore[type-var]
        for change in published:  # each published version holds its change (and the earlier one's)
            with one.store.transaction() as conn:
                version = versions.read(conn, change.published_version or 0)
            assert version is not None
            for name, text in change.files.items():
                assert version.files[name] == text
    finally:
        one.close()
        two.close()
