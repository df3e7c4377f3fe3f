"""The optional Microsoft Graph manager lookup, against a local fake Graph and token endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.teams.graph import GraphClient, GraphDirectory, GraphError, GraphUnavailable
from adapters.teams.notifier import TeamsNotifier
from bot.cases.directory import Directory, Person
from bot.cases.tables import outbox
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import Actor
from bot.runtime import build_runtime

from .conftest import TEST_FLOWS, start_bot
from .fake_connector import FakeConnector, adaptive_cards
from .fake_graph import FakeGraph
from .teams_client import TeamsUser, texts_of

TENANT = "9f2c1b6e-0000-4000-8000-00000000c0de"
CLIENT_ID = "3f2b1c4d-5e6f-4a8b-9c0d-112233445566"
SECRET = "graph-test-secret"
SAM = "00000000-0000-4000-8000-00000000055a"
MORGAN = "00000000-0000-4000-8000-0000000000dd"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET) as fake:
        fake.add_user(MORGAN, "Morgan Boss", "morgan@council.example")
        fake.add_user(SAM, "Sam Starter", "sam@council.example", manager_id=MORGAN)
        yield fake


def client_for(graph: FakeGraph, secret: str = SECRET) -> GraphClient:
    return GraphClient(TENANT, CLIENT_ID, secret, login_url=graph.login_url, graph_url=graph.graph_url)


def test_the_manager_comes_back_with_an_app_only_token_fetched_once(graph: FakeGraph) -> None:
    client = client_for(graph)
    first = client.manager_of(SAM)
    second = client.manager_of("sam@council.example")
    assert first is not None and first.name == "Morgan Boss" and first.id == MORGAN
    assert second == first
    tokens = graph.token_requests()
    assert len(tokens) == 1
    assert tokens[0].form["grant_type"] == "client_credentials"
    assert tokens[0].form["scope"] == "https://graph.microsoft.com/.default"
    lookups = [c for c in graph.calls if c.path.endswith("/manager")]
    assert all(c.authorization and c.authorization.startswith("Bearer fake-graph-token-") for c in lookups)


def test_someone_without_a_manager_is_none(graph: FakeGraph) -> None:
    assert client_for(graph).manager_of(MORGAN) is None
    assert client_for(graph).manager_of("nobody@council.example") is None


def test_a_revoked_token_is_replaced_once(graph: FakeGraph) -> None:
    client = client_for(graph)
    client.manager_of(SAM)
    graph.revoke_tokens()
    assert client.manager_of(SAM) is not None
    assert len(graph.token_requests()) == 2


def test_throttling_is_reported_with_retry_after(graph: FakeGraph) -> None:
    graph.fail_next(1, 429, retry_after=7)
    with pytest.raises(GraphUnavailable) as caught:
        client_for(graph).manager_of(SAM)
    assert caught.value.retry_after == 7


def test_bad_credentials_say_what_to_check_without_the_secret(graph: FakeGraph) -> None:
    with pytest.raises(GraphError) as caught:
        client_for(graph, secret="wrong-secret-value").manager_of(SAM)
    assert "MICROSOFT_APP_PASSWORD" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value) and "wrong-secret-value" not in repr(
        client_for(graph, "wrong-secret-value")
    )


def test_the_file_wins_and_graph_fills_the_gaps(graph: FakeGraph) -> None:
    base = Directory(
        [
            Person(id="sam", name="Sam Starter", email="sam@council.example", teams_id=SAM),
            Person(id="lee", name="Lee Lead", email="lee@council.example", manager="kim"),
            Person(id="kim", name="Kim Chief", email="kim@council.example"),
        ]
    )
    directory = GraphDirectory(base, client_for(graph))
    sam = directory.get("sam")
    assert sam is not None
    manager, why = directory.line_manager(sam)
    assert manager is not None and manager.name == "Morgan Boss" and why is None
    assert manager.id == f"aad-{MORGAN}"
    assert directory.get(manager.id) == manager
    lee = directory.get("lee")
    assert lee is not None
    assert directory.line_manager(lee)[0] == directory.get("kim")  # from the file, no Graph call
    directory.line_manager(sam)
    assert len([c for c in graph.calls if c.path.endswith("/manager")]) == 1  # cached


def test_graph_down_means_comms_with_a_note_not_a_crash(graph: FakeGraph) -> None:
    base = Directory([Person(id="sam", name="Sam Starter", teams_id=SAM)])
    graph.fail_next(1, 503)
    sam = base.get("sam")
    assert sam is not None
    manager, why = GraphDirectory(base, client_for(graph)).line_manager(sam)
    assert manager is None and why is not None and "Microsoft Graph" in str(why)


def test_a_teams_user_missing_from_the_file_escalates_to_their_graph_manager_who_can_act(
    tmp_path: Path, graph: FakeGraph, connector: FakeConnector
) -> None:
    directory = GraphDirectory(Directory(), client_for(graph))
    clock = FakeClock()
    runtime = build_runtime(
        database_url=f"sqlite:///{tmp_path / 'g.db'}",
        flows_dir=TEST_FLOWS,
        clock=clock,
        people=directory,
        directory=directory,
    )
    running = start_bot(runtime, connector)
    try:
        morgan = TeamsUser(
            running.url,
            connector,
            name="Morgan Boss",
            teams_id="29:1morgan",
            aad_id=MORGAN,
            email="morgan@council.example",
        )
        morgan.post(morgan.installation("add"))
        sam = TeamsUser(
            running.url, connector, name="Sam Starter", teams_id="29:1sam", aad_id=SAM, email="sam@council.example"
        )
        sam.say("someone is threatening to sue me over my tweet")
        sam.click("On a council account or page")
        sam.click("Yes, it is still up")
        sam.click("Yes")
        assert "Morgan Boss" in "\n".join(texts_of(sam.last_card()[1]))  # {{ user.manager_name }} from Graph
        with runtime.store.engine.connect() as conn:
            [row] = conn.execute(select(outbox)).mappings().all()
        assert f'"key":"aad-{MORGAN}"' in row["recipient"]
        Worker(runtime, TeamsNotifier(running.service, loop=running.server.loop)).run_once()
        stored = connector.sent_to(morgan.conversation_id)[-1]
        result = morgan.click("Acknowledge", card=(stored, adaptive_cards(stored.latest)[0]))
        assert "Thanks, Morgan Boss" in "\n".join(texts_of(result.body["value"]))
    finally:
        running.server.stop()


def test_an_email_the_file_gives_another_teams_account_is_not_taken_over(graph: FakeGraph) -> None:
    base = Directory([Person(id="sam", name="Sam Starter", email="sam@council.example", teams_id=SAM)])
    directory = GraphDirectory(base, client_for(graph))
    impostor = Actor(
        user_id="teams:00000000-0000-4000-8000-0000000000ff",
        display_name="Sam?",
        email="sam@council.example",
        platform="teams",
    )
    assert directory.find(impostor) is None
