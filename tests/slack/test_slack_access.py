"""Only the council's own people may use the bot (issue 15, hole 8).

In a Slack Connect channel shared with another organisation, that organisation's people can
mention the bot, type its command or click a case button someone forwarded. They get a polite
refusal, only they can see, and nothing else: no check started, no case raised, nothing shown.
"""

from __future__ import annotations

from conftest import EMPLOYEE, SlackHarness
from slack_requests import app_mention, block_actions, slash_command
from sqlalchemy import func, select

from adapters.slack.access import REFUSAL
from bot.cases.tables import cases
from bot.store.schema import conversations

SHARED = "C0SHARED"
OUTSIDER = "U0OUTSIDER"
OTHER_ORG = "T0OTHERORG"


def counts(slack: SlackHarness) -> tuple[int, int]:
    with slack.runtime.store.transaction() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(conversations)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(cases)).scalar_one()),
        )


def test_someone_from_another_organisation_is_refused_politely_and_nothing_happens(slack: SlackHarness) -> None:
    slack.fake.add_channel(SHARED)
    slack.fake.add_user(OUTSIDER, "outsider", "someone@elsewhere.example")
    # An @mention in the shared channel: Slack marks the person's own workspace in user_team.
    mention = {**app_mention(OUTSIDER, "someone threatened to sue me", channel=SHARED), "user_team": OTHER_ORG}
    assert slack.event(mention).status == 200
    slack.fake.wait_for("chat.postEphemeral")
    [told] = slack.fake.ephemeral
    assert told["user"] == OUTSIDER and told["channel"] == SHARED and "only for the council" in told["text"]
    # A click on a case button forwarded into the channel.
    click = block_actions(OUTSIDER, {"action_id": "case_acknowledge", "value": "case1"}, channel_id=SHARED)
    click["user"]["team_id"] = OTHER_ORG
    assert slack.sender.interactive(click).status == 200
    slack.fake.wait_for("chat.postEphemeral", 2)
    # The slash command typed from the other organisation's workspace.
    command = {**slash_command(OUTSIDER, "someone threatened to sue me", channel_id=SHARED), "team_id": OTHER_ORG}
    resp = slack.sender.form(command)
    assert resp.status == 200 and resp.json()["text"] == REFUSAL
    slack.settle()
    assert counts(slack) == (0, 0)  # no check started, no case raised
    assert slack.dm_messages(OUTSIDER) == []
    assert not slack.fake.calls_to("views.open")


def test_the_councils_own_people_in_the_same_shared_channel_are_served(slack: SlackHarness) -> None:
    slack.fake.add_channel(SHARED)
    slack.event(app_mention(EMPLOYEE, "someone threatened to sue me", channel=SHARED))
    assert "Where was the post made?" in slack.last_dm(EMPLOYEE).text
    assert counts(slack)[0] == 1
