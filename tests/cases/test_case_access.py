"""Who may see and act on a case: checked against the directory, whatever a payload claims."""

from __future__ import annotations

import pytest

from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import Actor
from bot.errors import NotAllowed, PolicybotError
from bot.language.i18n.wording import said_in
from bot.runtime import Runtime
from tests.cases.conftest import AMARA, BEN, CARA, DEV, LEE, STRANGER, Inbox, Org, escalate


def _case(org: Org, clock: FakeClock, answer: str = "Yes") -> tuple[Runtime, str]:
    runtime = org.runtime(clock)
    case_id = escalate(runtime, AMARA, answer).case_id
    assert case_id is not None and runtime.cases is not None
    return runtime, case_id


def test_someone_the_case_was_not_sent_to_cannot_read_or_act_on_it(org: Org, clock: FakeClock) -> None:
    runtime, case_id = _case(org, clock)
    cases = runtime.cases
    assert cases is not None
    for action in (
        lambda: cases.get(case_id, BEN),
        lambda: cases.acknowledge(case_id, BEN),
        lambda: cases.resolve(case_id, BEN),
        lambda: cases.message_employee(case_id, BEN, "hello"),
        lambda: cases.withdraw(case_id, BEN),
    ):
        with pytest.raises(NotAllowed, match="not sent to you"):
            action()
    # Someone the directory does not know at all is told why.
    with pytest.raises(NotAllowed, match="not in the staff directory"):
        cases.acknowledge(case_id, STRANGER)
    # A case id that does not exist gets the same answer as someone else's case.
    with pytest.raises(NotAllowed, match="not sent to you"):
        cases.get("0" * 32, BEN)
    assert cases.get(case_id, AMARA).state == "open"  # nothing changed
    assert cases.waiting_for(BEN) == []


def test_forged_actor_ids_are_refused(org: Org, clock: FakeClock) -> None:
    runtime, case_id = _case(org, clock)
    cases = runtime.cases
    assert cases is not None
    forgeries = [
        # A Slack account that is not Dev's, claiming Dev's email: Dev's Slack id is on file.
        Actor(user_id="slack:T1:U0EVIL0001", email="dev.patel@example.gov.uk", platform="slack"),
        # Ben's Teams account with Dev's email: the two point at different people.
        Actor(user_id=BEN.user_id, email="DEV.PATEL@example.gov.uk", platform="teams"),
        # A console id for someone who does not exist, with Dev's display name.
        Actor(user_id="console:dev-patel", display_name="Dev Patel", platform="console"),
    ]
    for forged in forgeries:
        with pytest.raises(NotAllowed):
            cases.acknowledge(case_id, forged)
        with pytest.raises(NotAllowed):
            cases.get(case_id, forged)
    # The employee's own Slack id with the manager's email: still only the employee.
    employee_claiming_manager = Actor(user_id=AMARA.user_id, email="dev.patel@example.gov.uk", platform="slack")
    with pytest.raises(NotAllowed, match="raised this case"):
        cases.acknowledge(case_id, employee_claiming_manager)
    # The real manager, by Slack id alone (no email) or by email from another platform, may act.
    assert cases.get(case_id, Actor(user_id="slack:T9:U0DEVPAT01", platform="slack")).id == case_id
    teams_dev = Actor(user_id="teams:aaaa-dev", email="dev.patel@example.gov.uk", platform="teams")
    assert cases.acknowledge(case_id, teams_dev).changed
    assert cases.get(case_id, AMARA).state == "acknowledged"


def test_the_employee_sees_and_withdraws_but_cannot_acknowledge_their_own_case(org: Org, clock: FakeClock) -> None:
    runtime, case_id = _case(org, clock)
    cases = runtime.cases
    assert cases is not None
    with pytest.raises(NotAllowed, match="raised this case"):
        cases.acknowledge(case_id, AMARA)
    with pytest.raises(NotAllowed, match="raised this case"):
        cases.resolve(case_id, AMARA)
    with pytest.raises(NotAllowed, match="Only Amara Okafor"):
        cases.withdraw(case_id, DEV)
    # The same person on another platform, found by email, is still the employee.
    amara_on_teams = Actor(user_id="teams:amara-aad", email="Amara.Okafor@example.gov.uk", platform="teams")
    assert [c.id for c in cases.cases_for(amara_on_teams)] == [case_id]

    result = cases.withdraw(case_id, AMARA)
    assert result.changed and result.case.state == "withdrawn" and result.case.closed_by_name == "Amara Okafor"
    again = cases.acknowledge(case_id, DEV)
    assert not again.changed and "withdrew this case" in again.message
    inbox = Inbox()
    Worker(runtime, inbox).run_once()
    assert [n.kind for n in inbox.to("Dev Patel")] == ["case_opened", "withdrawn"]
    assert cases.waiting_for(DEV) == []


def test_recipients_team_members_and_comms_may_act_and_see_their_lists(org: Org, clock: FakeClock) -> None:
    runtime, manager_case = _case(org, clock)
    escalate(runtime, AMARA, "No")
    cases = runtime.cases
    assert cases is not None
    teams_case = cases.cases_for(AMARA)[0].id
    assert teams_case != manager_case

    assert [c.id for c in cases.waiting_for(DEV)] == [manager_case]
    # Lee holds the legal role: the case went to Legal's channel, so it waits for Lee.
    assert [c.id for c in cases.waiting_for(LEE)] == [teams_case]
    # Cara is in comms: both the case sent to comms and (as comms) any case may be acted on.
    assert [c.id for c in cases.waiting_for(CARA)] == [teams_case]
    assert cases.get(manager_case, CARA).id == manager_case
    with pytest.raises(NotAllowed):
        cases.get(teams_case, DEV)

    assert cases.message_employee(manager_case, CARA, "Comms here: we have seen it.").changed
    reply = cases.message_recipients(manager_case, AMARA, "Thanks, the post is down.")
    assert reply.message == "Sent to Dev Patel."
    inbox = Inbox()
    Worker(runtime, inbox).run_once()
    assert inbox.to("Amara Okafor", "message")[0].text == "Comms here: we have seen it."
    assert inbox.to("Dev Patel", "message")[0].text == "Thanks, the post is down."
    assert [e.action for e in cases.get(manager_case, DEV).events][-2:] == ["message", "message"]
    with pytest.raises(NotAllowed):
        cases.message_employee(manager_case, BEN, "I am not involved")

    assert cases.resolve(teams_case, CARA, "Handled by comms").changed
    assert [c.state for c in cases.cases_for(AMARA)] == ["resolved", "open"]
    assert [c.id for c in cases.cases_for(AMARA, include_closed=False)] == [manager_case]


def test_messages_must_have_words(org: Org, clock: FakeClock) -> None:
    runtime, case_id = _case(org, clock)
    assert runtime.cases is not None
    with pytest.raises(PolicybotError, match="empty"):
        runtime.cases.message_employee(case_id, DEV, "   ")
    with pytest.raises(PolicybotError, match="under 2000"):
        runtime.cases.message_employee(case_id, DEV, "x" * 2001)


def test_refusals_and_results_are_said_in_the_readers_language(org: Org, clock: FakeClock) -> None:
    """The case service decides the sentence; the adapter says it in the clicker's language."""
    runtime, case_id = _case(org, clock)
    cases = runtime.cases
    assert cases is not None
    with pytest.raises(NotAllowed) as own:
        cases.acknowledge(case_id, AMARA)
    assert str(own.value) == ("You raised this case, so you can't acknowledge or resolve it yourself; Dev Patel will.")
    assert said_in(own.value, "cy") == (
        "Chi a gododd yr achos hwn, felly ni allwch ei gydnabod na’i ddatrys eich hun; bydd Dev Patel yn gwneud hynny."
    )
    with pytest.raises(NotAllowed) as stranger:
        cases.get(case_id, STRANGER)
    assert said_in(stranger.value, "cy").startswith("Ni all policybot ddweud pwy ydych chi")

    done = cases.acknowledge(case_id, DEV)
    assert done.message == "Thanks, Dev Patel: Amara Okafor has been told you are dealing with it."
    assert done.message_in("cy") == "Diolch, Dev Patel: mae Amara Okafor wedi cael gwybod eich bod yn delio ag ef."
    # A repeat names the time in the reader's language (CLDR's Welsh day and month names)
    resolved = cases.resolve(case_id, DEV)
    assert resolved.message_in("cy") == "Wedi’i ddatrys. Mae Amara Okafor wedi cael gwybod."
    again = cases.resolve(case_id, DEV)
    assert not again.changed and again.message.startswith("This case was already resolved by Dev Patel on ")
    welsh = again.message_in("cy")
    assert welsh.startswith("Cafodd yr achos hwn ei ddatrys eisoes gan Dev Patel ar "), welsh
    english_time = again.message.removeprefix("This case was already resolved by Dev Patel on ")
    assert english_time not in welsh, (english_time, welsh)  # the time itself is in Welsh
