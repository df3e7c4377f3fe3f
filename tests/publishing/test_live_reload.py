"""A published change is served by every runtime on the database without a restart; a turn sees
one library version, and a conversation started before the change finishes on the old one."""

from __future__ import annotations

import threading
import time

from bot.conversation.events import FreeText, Start
from bot.conversation.replies import Question
from bot.runtime import Runtime
from tests.publishing.conftest import ASHA, KIM, NEW_ADVICE, WIKI_ADVICE, WIKI_ANSWERS, Org, outcome_of, walk


def wait_for(condition: object, what: str, deadline_seconds: float = 30.0) -> None:
    """A correctness wait with a generous deadline (not a timing assertion)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


def test_another_runtime_serves_the_published_change_and_old_conversations_finish_on_the_old_version(
    org: Org, database_url: str
) -> None:
    serving = org.runtime(database_url, live_reload=True)  # polls every 0.2 s (authoring.reload_seconds)
    admin = org.runtime(database_url, live_reload=False)
    try:
        assert admin.publishing is not None and serving.live is not None
        # Kim starts before the change is published and is two answers in
        replies = serving.engine.handle(KIM, Start(flow_id="wiki-edit"))
        for answer in WIKI_ANSWERS[:2]:
            question = next(r for r in reversed(replies) if isinstance(r, Question))
            replies = serving.engine.handle(KIM, FreeText(answer, question.conversation_id))
        pending = next(r for r in reversed(replies) if isinstance(r, Question))

        change = admin.publishing.submit([org.edited_wiki()], "asha")
        admin.publishing.approve(change.id, "lee")
        wait_for(lambda: serving.library.version == 2, "the serving runtime to swap in version 2")

        # Kim's conversation finishes on the version it started on
        kim = outcome_of(serving.engine.handle(KIM, FreeText(WIKI_ANSWERS[2], pending.conversation_id)))
        assert NEW_ADVICE not in kim.text and WIKI_ADVICE in kim.text
        # a conversation started now gets the reviewed advice
        assert NEW_ADVICE in outcome_of(walk(serving.engine, ASHA, "wiki-edit", WIKI_ANSWERS)).text
    finally:
        serving.close()
        admin.close()


def test_a_turn_pins_one_library_version_even_if_a_new_one_is_swapped_in_meanwhile(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None and runtime.live is not None
    library = runtime.library
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    runtime.publishing.approve(change.id, "lee")
    old_flow = library.get("wiki-edit")
    with library.pin():
        assert runtime.live.check()  # the swap happens in the middle of the "turn"
        assert library.version == 1 and library.get("wiki-edit") is old_flow
        seen_elsewhere: list[int | None] = []
        other = threading.Thread(target=lambda: seen_elsewhere.append(library.version))
        other.start()
        other.join()
        assert seen_elsewhere == [2]  # a turn on another thread already gets the new version
    assert library.version == 2 and NEW_ADVICE in (library.get("wiki-edit").states["wikipedia_care"].say or "")


def test_no_turn_fails_while_versions_are_swapped_in(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None and runtime.live is not None
    errors: list[BaseException] = []
    results: list[str] = []
    stop = threading.Event()

    def talk(n: int) -> None:
        from bot.conversation.events import Actor

        actor = Actor(user_id=f"console:talker{n}", display_name=f"T{n}", platform="console")
        while not stop.is_set():
            try:
                results.append(outcome_of(walk(runtime.engine, actor, "wiki-edit", WIKI_ANSWERS)).text)
            except BaseException as err:
                errors.append(err)
                return

    talkers = [threading.Thread(target=talk, args=(n,)) for n in range(2)]
    for thread in talkers:
        thread.start()
    for wording in ("One.", "Two.", "Three."):
        change = runtime.publishing.submit([org.edited_wiki(wording)], "asha")
        runtime.publishing.approve(change.id, "lee")
        assert runtime.live.check()
    stop.set()
    for thread in talkers:
        thread.join(60)
    assert errors == []
    assert results, "no turn ran"
    assert all(WIKI_ADVICE in text for text in results)
    assert runtime.library.version == 4


def test_a_version_that_cannot_be_loaded_leaves_the_served_one_in_place(org: Org, runtime: Runtime) -> None:
    from bot.publishing import versions

    assert runtime.live is not None
    with runtime.store.transaction() as conn:
        versions.publish(
            conn, {"citations.yaml": "not: [a registry"}, source="change", by="hand", now=runtime.clock.now()
        )
    assert runtime.live.check() is False
    assert runtime.library.version == 1 and "wiki-edit" in runtime.library
    assert runtime.live.check() is False  # not tried (and logged) again on every poll


def test_readyz_and_metrics_show_the_library_version_served(org: Org, runtime: Runtime) -> None:
    import json

    from bot.ops.health import OpsEndpoints

    assert runtime.publishing is not None and runtime.live is not None
    ops = OpsEndpoints.for_runtime(runtime)
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    runtime.publishing.approve(change.id, "lee")
    response = ops.respond("/readyz")
    assert response is not None
    ready = json.loads(response.body)
    assert ready["library_version"] == 1
    assert "version 2 is published and is being loaded" in ready["checks"]["library"]["detail"]
    runtime.live.check()
    response = ops.respond("/readyz")
    assert response is not None
    ready = json.loads(response.body)
    assert ready["library_version"] == 2 and ready["checks"]["library"]["detail"] == "serving flow library version 2"
    metrics = ops.respond("/metrics")
    assert metrics is not None
    assert b"policybot_library_version 2.0" in metrics.body
    assert b'policybot_library_reloads_total{result="swapped"}' in metrics.body


def test_a_one_flow_change_keeps_every_other_flow_as_it_was(org: Org, runtime: Runtime) -> None:
    assert runtime.publishing is not None and runtime.live is not None
    untouched = runtime.library.get("legal-threat")
    change = runtime.publishing.submit([org.edited_wiki()], "asha")
    runtime.publishing.approve(change.id, "lee")
    assert runtime.live.check()
    assert runtime.library.get("legal-threat") is untouched  # not read or checked again
    assert NEW_ADVICE in (runtime.library.get("wiki-edit").states["wikipedia_care"].say or "")
    assert sorted(f.id for f in runtime.library.all()) == sorted(
        p.name.removesuffix(".yaml")
        for p in org.flows.glob("*.yaml")
        if not p.name.endswith(".test.yaml") and p.name != "citations.yaml"
    )
