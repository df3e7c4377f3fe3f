"""Adaptive Cards (schema 1.5, what Teams renders) for every engine reply and case notification.

Pure functions from transport-neutral replies to card JSON: no Bot Framework types, no I/O, no
policy decisions (the engine already said what to show). Every clickable action is an
``Action.Execute`` (Teams updates the card in place from our invoke response) with an
``Action.Submit`` fallback carrying the same data, for clients without Universal Actions.

Cards stay under Teams' ~28 KB message limit: long texts are clipped, and if a card still comes
out too big it is rebuilt in a compact form (citations without their quotes, a shorter preview).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from adapters.teams import actions as act
from bot.cases.notify import Notification
from bot.conversation.replies import (
    BACK,
    BASED_ON,
    DONT_SEND,
    NOTE,
    PROGRESS,
    SEND,
    START_AGAIN,
    STOP,
    WHAT_TO_DO,
    WHY,
    ChoiceKind,
    CitationView,
    EscalationOffer,
    EscalationSent,
    Explanation,
    Feedback,
    FlowChoice,
    LanguageSwitch,
    Notice,
    Outcome,
    Question,
    SwitchOffer,
    Verdict,
    group_citations,
)
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.languages import join_names
from bot.publishing.notices import FLOWS, SUBMITTED_BY, facts_of, title_of

CARD_VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 27 * 1024  # Teams refuses a message over ~28 KB; keep a margin for the envelope
TEXT_LIMIT = 2000
PREVIEW_LIMIT = 3000
SUMMARY_LIMIT = 120
MAX_ACTIONS = 6  # Teams' host config shows six actions and hides the rest behind "…"
BUTTON_LABEL_LIMIT = 50  # Teams cuts a longer button title off; it never wraps
OPTION_INPUT = "o"  # the Input.ChoiceSet of a question with many or long options
FLOW_INPUT = "f"  # the Input.ChoiceSet of the topic menu

VERDICT_COLOURS = {Verdict.GO: "Good", Verdict.CARE: "Warning", Verdict.STOP: "Attention", Verdict.ACT: "Accent"}
VERDICT_STYLES = {Verdict.GO: "good", Verdict.CARE: "warning", Verdict.STOP: "attention", Verdict.ACT: "accent"}
TARGET_LABELS = {  # the built-in names of escalation targets the settings give no name to (translated where shown)
    "line_manager": N_("your line manager"),
    "comms": N_("Communications"),
    "legal": N_("Legal"),
    "hr": N_("HR"),
    "safeguarding": N_("Safeguarding"),
}

Card = dict[str, Any]


# ---- building blocks -------------------------------------------------------------------------


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _unmerged(clip(text)) or " ", "wrap": True, **style}


_LIST_ITEM = ("- ", "* ", "• ")


def _unmerged(text: str) -> str:
    """A blank line between a markdown list and the line after it: Teams' markdown otherwise runs
    the next line (a "Policy:" line, say) into the last bullet."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        is_item = line.lstrip().startswith(_LIST_ITEM) or line.lstrip()[:3].rstrip(". ").isdigit()
        was_item = previous.lstrip().startswith(_LIST_ITEM)
        if was_item and line.strip() and not is_item and not line.startswith(" "):
            out.append("")
        out.append(line)
    return "\n".join(out)


def needs_choice_set(labels: list[str], room: int = MAX_ACTIONS) -> bool:
    """Buttons only when every label fits on a button and they fit the card; otherwise a choice set,
    whose options wrap and are all shown (nothing hidden behind "…")."""
    return len(labels) > room or any(len(label) > BUTTON_LABEL_LIMIT for label in labels)


def choice_set(input_id: str, choices: list[tuple[str, str]], label: str, language: str = "en") -> dict[str, Any]:
    """Every option visible (expanded radio buttons), wrapping, and required before the button works."""
    _ = interface(language)
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "expanded",
        "wrap": True,
        "isRequired": True,
        "errorMessage": _("Pick one of the options first."),
        "label": label,
        "choices": [{"title": clip(title, 300), "value": value} for title, value in choices],
    }


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    out: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        out["actions"] = actions
    return out


def execute(title: str, payload: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
    """A button: Action.Execute, falling back to Action.Submit with the same data."""
    title = clip(title, BUTTON_LABEL_LIMIT)  # answers never get here when long (needs_choice_set)
    action: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": payload["verb"], "data": payload}
    fallback: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": payload}
    if style:
        action["style"] = style
        fallback["style"] = style
    action["fallback"] = fallback
    return action


def attachment(content: Card) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": content}


def size_of(content: Card) -> int:
    """The bytes the card takes on the wire, as the SDK sends it: aiohttp's ``json=`` is
    ``json.dumps`` with ASCII escaping, so "é" costs 6 bytes and an emoji 12, not their UTF-8 length."""
    return len(json.dumps(content).encode("ascii"))


def preview(text: str) -> str:
    """One line of preview text (an activity's ``summary``: what a notification and the chat list show)."""
    line = " ".join(text.split())
    return clip(line, SUMMARY_LIMIT) or "Policybot"


def summary_of(content: Card) -> str:
    """The preview text for a card: its ``fallbackText`` when it has one (what a client that cannot
    draw the card shows instead), else its first text, so a case card reads "URGENT: …" in a
    notification rather than Teams' "Sent a card"."""
    fallback = content.get("fallbackText") if isinstance(content, dict) else None
    if isinstance(fallback, str) and fallback.strip():
        return preview(fallback)
    stack: list[Any] = [content]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("type") == "TextBlock" and isinstance(node.get("text"), str) and node["text"].strip():
                return preview(node["text"])
            if node.get("type") == "RichTextBlock":
                runs = [r.get("text", "") for r in node.get("inlines", []) if isinstance(r, dict)]
                if "".join(runs).strip():
                    return preview("".join(runs))
            stack[:0] = [node[k] for k in ("body", "items", "columns") if k in node]
        elif isinstance(node, list):
            stack[:0] = node
    return "Policybot"


def fitted(build: Callable[[bool], Card]) -> Card:
    """Build the full card; if it is too big for Teams, build the compact one instead."""
    full = build(False)
    if size_of(full) <= MAX_CARD_BYTES:
        return full
    compact = build(True)
    if size_of(compact) <= MAX_CARD_BYTES:
        return compact
    return _hard_clip(compact)


def _hard_clip(content: Card) -> Card:
    """Last resort: shorten every text until the card fits (nothing else may grow that large)."""
    limit = 400
    clipped = content
    while size_of(clipped) > MAX_CARD_BYTES and limit >= 50:
        clipped = _map_text(content, lambda t, n=limit: clip(t, n))  # type: ignore[misc]
        limit //= 2
    return clipped


def _map_text(node: Any, change: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {k: (change(v) if k == "text" and isinstance(v, str) else _map_text(v, change)) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_text(v, change) for v in node]
    return node


def progress_text(step: int, max_steps: int, language: str = "en") -> str:
    _ = interface(language)
    if max_steps <= step:
        return _("Question {step} (the last one)").format(step=step) if step > 1 else _("One question")
    return _(PROGRESS).format(step=step, steps=max_steps)


LANGUAGE_NAMES = {"en": N_("English"), "cy": N_("Welsh")}  # a language as a reader of another says it


def policy_heading(title: str, source_language: str, language: str) -> str:
    """A policy's title; for a reader of another language, the language its quotes stay in
    ("… (yn Saesneg)"), as the terminal shows it."""
    if source_language == language:
        return title
    _ = interface(language)
    name = _(LANGUAGE_NAMES.get(source_language, source_language))
    return f"{title} " + _("(in {language})").format(language=name)


def citation_blocks(
    citations: list[CitationView], *, compact: bool = False, language: str = "en"
) -> list[dict[str, Any]]:
    """Each policy named once (with the language it is written in, when that is not the reader's),
    then each of its clauses once, with its summaries (and quotes, which stay as the policy says)."""
    blocks: list[dict[str, Any]] = []
    sources = {c.policy_title: c.source_language for c in citations}
    for group in group_citations(citations):
        heading = policy_heading(group.policy_title, sources.get(group.policy_title, "en"), language)
        blocks.append(text_block(f"**{heading}**", spacing="Medium"))
        for clause in group.clauses:
            blocks.append(text_block(f"- **{clause.label}**: {clause.summary}".rstrip(": "), spacing="Small"))
            if not compact:
                for quoted in clause.quotes:
                    blocks.append(text_block(f"“{clip(quoted, 600)}”", isSubtle=True, spacing="None"))
    return blocks


WHY_HEADING = N_("Why: the policy behind this")


def why_toggle(
    citations: list[CitationView], *, compact: bool, element_id: str = "why", language: str = "en"
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A hidden container of citations and the "Why?" button that shows it (no round trip)."""
    if not citations:
        return None, None
    _ = interface(language)
    container = {
        "type": "Container",
        "id": element_id,
        "isVisible": False,
        "style": "emphasis",
        "items": [
            text_block(_(WHY_HEADING), weight="Bolder"),
            *citation_blocks(citations, compact=compact, language=language),
        ],
    }
    button = {"type": "Action.ToggleVisibility", "title": _(WHY), "targetElements": [element_id]}
    return container, button


# ---- conversation cards ----------------------------------------------------------------------


def question_card(q: Question) -> Card:
    _ = interface(q.language)

    def build(compact: bool) -> Card:
        progress = progress_text(q.step, q.max_steps, q.language)
        shown = {
            "ft": clip(q.flow_title, 100 if compact else 200),
            "q": clip(q.text, 150 if compact else 600),
            "p": progress,
            "lg": q.language,  # the language to redraw the clicked card in
        }
        body: list[dict[str, Any]] = [
            text_block(q.flow_title, size="Small", isSubtle=True, weight="Bolder"),
        ]
        if q.intro:
            body.append(text_block(q.intro, spacing="Small"))
        body.append(text_block(q.text, size="Medium", weight="Bolder"))
        body.append(text_block(progress, size="Small", isSubtle=True, spacing="None"))
        labels = [option.label for option in q.options]
        if needs_choice_set(labels):
            answers = {f"a{option.index}": clip(option.label, 80 if compact else 200) for option in q.options}
            body.append(
                choice_set(OPTION_INPUT, [(o.label, str(o.index)) for o in q.options], _("Your answer"), q.language)
            )
            answer = act.data(act.CHOOSE, c=q.conversation_id, s=q.state, t=q.turn, v={**shown, **answers})
            body.append({"type": "ActionSet", "actions": [execute(_("Answer"), answer, style="positive")]})
        else:
            buttons = [
                execute(
                    option.label,
                    act.data(
                        act.CHOOSE,
                        c=q.conversation_id,
                        s=q.state,
                        o=option.index,
                        t=q.turn,
                        v={**shown, "a": clip(option.label, 100 if compact else 300)},
                    ),
                )
                for option in q.options
            ]
            body.append({"type": "ActionSet", "actions": buttons})
        container, why = why_toggle(q.citations, compact=compact, language=q.language)
        if container:
            body.append(container)
        extra: list[dict[str, Any]] = [why] if why else []
        if q.can_go_back:
            extra.append(execute(_(BACK), act.data(act.BACK, c=q.conversation_id, v=shown)))
        extra.append(execute(_(STOP), act.data(act.CANCEL, c=q.conversation_id, v=shown)))
        return card(body, extra)

    return fitted(build)


def answered_card(shown: dict[str, Any], status: str) -> Card:
    """The clicked question card redrawn from its own data: the question, the outcome of the
    click, and no buttons left (so nobody clicks it twice)."""
    body: list[dict[str, Any]] = []
    if shown.get("ft"):
        body.append(text_block(str(shown["ft"]), size="Small", isSubtle=True, weight="Bolder"))
    if shown.get("q"):
        body.append(text_block(str(shown["q"]), weight="Bolder"))
    if shown.get("p"):
        body.append(text_block(str(shown["p"]), size="Small", isSubtle=True, spacing="None"))
    body.append(text_block(status, color="Accent"))
    return card(body)


def shown_language(shown: dict[str, Any]) -> str:
    """The language a clicked card was drawn in (its buttons carry it), for its redrawn status."""
    language = shown.get("lg")
    return language if isinstance(language, str) and language else "en"


def chosen_status(shown: dict[str, Any], option: int | None = None) -> str:
    _ = interface(shown_language(shown))
    answer = shown.get("a") or (shown.get(f"a{option}") if option is not None else None)
    return _("✔ You answered: {answer}").format(answer=answer or _("done"))


def outcome_card(o: Outcome, *, escalation_state: str | None = None) -> Card:
    """The answer. ``escalation_state``: None while the offer is open, or "sent" / "declined"."""
    _ = interface(o.language)

    def build(compact: bool) -> Card:
        body: list[dict[str, Any]] = [
            text_block(o.flow_title, size="Small", isSubtle=True, weight="Bolder"),
            {
                "type": "Container",
                "style": VERDICT_STYLES[o.verdict],
                "items": [text_block(o.headline, size="Large", weight="Bolder", color=VERDICT_COLOURS[o.verdict])],
            },
            text_block(o.text),
        ]
        if o.score is not None:
            scored = _("You got {correct} of {total} right.").format(correct=o.score.correct, total=o.score.total)
            body.append(text_block(scored, weight="Bolder"))
        if o.checklist:
            body.append(text_block(_(WHAT_TO_DO), weight="Bolder", spacing="Medium"))
            body.append(text_block("\n".join(f"- {clip(item, 500)}" for item in o.checklist), spacing="Small"))
        if o.citations:
            body.append(text_block(_(BASED_ON), weight="Bolder", spacing="Medium"))
            body.extend(citation_blocks(o.citations, compact=compact, language=o.language))
        buttons: list[dict[str, Any]] = []
        if o.escalation is not None:
            body.extend(escalation_blocks(o, o.escalation, escalation_state, compact=compact))
            if escalation_state is None and not o.escalation.required and o.case_id is None:
                names = _first_names(o.escalation, o.language)
                buttons.append(
                    execute(
                        _("Send to {names}").format(names=names),
                        act.data(act.ESCALATE, c=o.conversation_id),
                        style="positive",
                    )
                )
                buttons.append(execute(_(DONT_SEND), act.data(act.DECLINE, c=o.conversation_id)))
        buttons.append(execute(_(START_AGAIN), act.data(act.RESTART, c=o.conversation_id)))
        buttons.append(execute(_("Something else"), act.data(act.MENU)))
        return card(body, buttons)

    return fitted(build)


def escalation_blocks(o: Outcome, offer: EscalationOffer, state: str | None, *, compact: bool) -> list[dict[str, Any]]:
    _ = interface(o.language)
    names = ", ".join(o.sent_to) if o.sent_to else _first_names(offer, o.language)
    items: list[dict[str, Any]] = []
    if o.case_id is not None or state == "sent":
        sent = "✔ " + _("Sent to {names}. You will be told when they pick it up.").format(names=names)
        if o.case_id:
            sent += f" {_('Case')} {o.case_id[:8]}."
        items.append(text_block(sent, weight="Bolder"))
    elif state == "declined":
        items.append(text_block(_("Not sent. Type restart if you change your mind."), weight="Bolder"))
    elif offer.required:
        items.append(
            text_block(
                _(
                    "The policy says {names} must be told now. Escalations are not switched on in this "
                    "installation, so please contact them yourself and show them this."
                ).format(names=names),
                weight="Bolder",
            )
        )
    else:
        items.append(text_block(_("Tell {names}?").format(names=names), weight="Bolder"))
    if offer.then:
        later = _names(offer, offer.then, o.language)
        if offer.deadline:
            told = _("If nobody acknowledges it within {deadline}, {later} will be told.").format(
                deadline=offer.deadline, later=later
            )
        else:
            told = _("If nobody acknowledges it in time, {later} will be told.").format(later=later)
        items.append(text_block(told, size="Small", spacing="Small"))
    items.append(text_block(_("What they will receive:"), size="Small", isSubtle=True, spacing="Medium"))
    items.append(text_block(clip(offer.preview, 800 if compact else PREVIEW_LIMIT), size="Small", spacing="Small"))
    if state is None and o.case_id is None and not offer.required:
        items.append(
            {
                "type": "Input.Text",
                "id": act.NOTE_INPUT,
                "label": _(NOTE),
                "placeholder": _("Anything they should know"),
                "isMultiline": True,
                "maxLength": act.NOTE_MAX,
            }
        )
    return [{"type": "Container", "style": "emphasis", "spacing": "Medium", "items": items}]


def _first_names(offer: EscalationOffer, language: str = "en") -> str:
    """Who it goes to first: the real recipients the core worked out, else the targets' names."""
    return _joined(offer.recipients, language) if offer.recipients else _names(offer, offer.targets, language)


def _joined(names: list[str], language: str = "en") -> str:
    """ "A, B and C" in the reader's language (Welsh "a", "ac", "a'r" as bot.language says)."""
    return join_names(names, language, interface(language)("and"))


def _names(offer: EscalationOffer, targets: list[str], language: str = "en") -> str:
    _ = interface(language)
    names = [offer.target_names.get(t) or _(TARGET_LABELS.get(t, t.replace("_", " "))) for t in targets]
    return _joined(names, language) if names else _("nobody")


def flow_choice_card(choice: FlowChoice, *, intro: str | None = None, language: str = "en") -> Card:
    """The topic menu (or "which of these?"); ``language`` is the menu's (the engine localised it)."""
    _ = interface(language)

    def build(compact: bool) -> Card:
        body: list[dict[str, Any]] = []
        if intro:
            body.append(text_block(intro))
        if choice.kind is ChoiceKind.NOT_THIS:  # one quiet line above the flow's first question
            body.append(text_block(f"✅ {choice.prompt}", isSubtle=True, size="Small"))
        else:
            body.append(text_block(choice.prompt, weight="Bolder"))
        limit = 80 if compact else 200
        candidates = choice.candidates[:20]
        if needs_choice_set([c.title for c in candidates]):
            # The topic menu: every check listed (safeguarding too), none behind "…".
            situations = [(c.title, c.flow_id) for c in candidates]
            body.append(choice_set(FLOW_INPUT, situations, _("Pick a situation"), language))
            start = act.data(act.START, v={"q": clip(choice.prompt, limit), "lg": language})
            body.append({"type": "ActionSet", "actions": [execute(_("Start"), start, style="positive")]})
            return card(body)
        buttons = [
            execute(
                clip(c.title, limit),
                act.data(
                    act.START,
                    f=c.flow_id,
                    v={"q": clip(choice.prompt, limit), "a": clip(c.title, limit), "lg": language},
                ),
            )
            for c in candidates
        ]
        if buttons:
            body.append({"type": "ActionSet", "actions": buttons})
        return card(body)

    return fitted(build)


def explanation_card(explanation: Explanation, language: str = "en") -> Card:
    _ = interface(language)

    def build(compact: bool) -> Card:
        if not explanation.citations:
            return card([text_block(_("This step does not rest on a particular policy paragraph."))])
        return card(
            [
                text_block(_(WHY_HEADING), weight="Bolder"),
                *citation_blocks(explanation.citations, compact=compact, language=language),
            ]
        )

    return fitted(build)


def feedback_card(feedback: Feedback, language: str = "en") -> Card:
    _ = interface(language)
    if feedback.correct is True:
        head = [text_block("✔ " + _("Right."), weight="Bolder", color="Good")]
    elif feedback.correct is False:
        head = [text_block("✘ " + _("Not quite."), weight="Bolder", color="Attention")]
    else:
        head = []
    return card([*head, text_block(feedback.text)])


def escalation_sent_card(sent: EscalationSent, language: str = "en") -> Card:
    _ = interface(language)
    reference = _("Reference: {case}").format(case=sent.case_id)
    return card([text_block(sent.text, weight="Bolder"), text_block(reference, size="Small", isSubtle=True)])


def switch_offer_card(offer: SwitchOffer) -> Card:
    """Typed text that sounds like another situation: a button to start it; the question follows."""
    _ = interface(offer.language)
    shown = {"q": clip(offer.text, 300), "a": clip(offer.flow_title, 200), "lg": offer.language}
    start = _("Start: {title}").format(title=offer.flow_title)[:60]
    return card(
        [
            text_block(offer.text, weight="Bolder"),
            text_block(_("Or answer the question below to carry on with this check."), size="Small", isSubtle=True),
        ],
        [execute(start, act.data(act.START, f=offer.flow_id, v=shown))],
    )


def language_switch_actions(switch: LanguageSwitch, shown: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The one-tap language switch as a row of buttons (each language named in itself, Welsh
    first, as the core orders them), never behind "…": its own ActionSet in the card's body.
    ``shown`` is what the card it sits on needs to be redrawn with once it is pressed."""
    buttons = [
        execute(
            choice.label,
            act.data(act.LANGUAGE, lg=choice.language, c=switch.conversation_id, v=shown or None),
        )
        for choice in switch.choices
        if not choice.current
    ]
    if not buttons:
        return None
    return {"type": "ActionSet", "id": "language", "spacing": "Medium", "separator": True, "actions": buttons}


def with_language_switch(content: Card, switch: LanguageSwitch) -> Card:
    """``content`` with the switch added at the foot of its body (a copy; the card is not changed).
    The switch's buttons carry what the card's own buttons carry to redraw it once clicked."""
    shown = next(
        (a["data"]["v"] for a in _executes(content) if isinstance(a.get("data", {}).get("v"), dict)),
        None,
    )
    row = language_switch_actions(switch, shown)
    if row is None:
        return content
    return {**content, "body": [*content.get("body", []), row]}


def language_switch_card(switch: LanguageSwitch) -> Card | None:
    """The switch on a card of its own, for a reply set with no card to carry it (only notices)."""
    row = language_switch_actions(switch)
    if row is None:
        return None
    current = next((c.label for c in switch.choices if c.current), switch.current)
    return card([text_block(f"🌐 {current}", size="Small", isSubtle=True), {**row, "separator": False}])


def _executes(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            found.append(node)
        for key, value in node.items():
            if key != "fallback":
                found.extend(_executes(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_executes(value))
    return found


def notice_text(notice: Notice) -> str:
    return notice.text


def resume_card(
    conversation_id: str,
    flow_title: str,
    question: str,
    *,
    start_new: tuple[str | None, str | None] | None = None,
    language: str = "en",
) -> Card:
    """ "Carry on where you left off?"; with ``start_new`` (a flow id or the words typed elsewhere),
    the question asked before a check started in another chat would set this one aside."""
    _ = interface(language)
    actions = [execute(_("Carry on"), act.data(act.RESUME, c=conversation_id), style="positive")]
    if start_new is not None:
        flow_id, words = start_new
        start = act.data(act.START, f=flow_id, x=clip(words or "", 200) or None)
        actions.append(execute(_("Start the new check"), start))
        intro = _("You're part-way through a check. Carry on with it, or start the new one (it will wait for you)?")
    else:
        actions.append(execute(_("Something else"), act.data(act.MENU)))
        intro = _("You have a check you didn't finish:")
    return card([text_block(intro, weight="Bolder"), text_block(f"{flow_title}: {question}")], actions)


def error_text(correlation_id: str, language: str = "en") -> str:
    """The apology for a failed turn; the reference last, so it can be read off and matched to the log."""
    _ = interface(language)
    return _(
        "Sorry, something went wrong on my side and I couldn't finish that. Your answers so far are kept: "
        "try again in a moment. If it keeps happening, give IT this reference: {reference}"
    ).format(reference=correlation_id)


# ---- case cards (proactive) --------------------------------------------------------------------

CASE_BUTTON_TITLES = {
    "acknowledge": N_("Acknowledge"),
    "resolve": N_("Resolved"),
    "message_employee": N_("Message the employee"),
}
URGENT = N_("URGENT: {title}")  # the core's own words for an urgent title


def case_card(n: Notification) -> Card:
    """A case notification: to a manager 1:1, to a team's channel, or progress to the employee,
    in the recipient's language (the core wrote the title, text and facts in it already)."""
    _ = interface(n.recipient.language)

    def build(compact: bool) -> Card:
        urgent = n.urgency == "urgent"
        marked = _(URGENT).format(title="").strip()
        title = n.title if not urgent or n.title.upper().startswith(marked.upper()) else _(URGENT).format(title=n.title)
        body: list[dict[str, Any]] = [
            {
                "type": "Container",
                "style": "attention" if urgent else "accent",
                "items": [text_block(title, size="Medium", weight="Bolder")],
            },
            text_block(clip(n.text, 1000 if compact else PREVIEW_LIMIT)),
        ]
        facts = [
            {"title": clip(label, 80), "value": clip(value, 300 if compact else 1000)}
            for label, value in n.facts
            if value
        ]
        if facts:
            body.append({"type": "FactSet", "facts": facts})
        if not any(label == _("Case") for label, _value in n.facts):
            body.append(text_block(f"{_('Case')} {n.case_id[:8]}", size="Small", isSubtle=True))
        buttons: list[dict[str, Any]] = []
        for name in n.actions:
            verb = act.CASE_VERBS.get(name)
            if verb is None:
                continue
            payload = act.data(verb, k=n.case_id, n=n.id)
            if name == "message_employee":
                buttons.append(
                    {
                        "type": "Action.ShowCard",
                        "title": _(CASE_BUTTON_TITLES[name]),
                        "card": {
                            "type": "AdaptiveCard",
                            "body": [
                                {
                                    "type": "Input.Text",
                                    "id": act.MESSAGE_INPUT,
                                    "label": _("Your message"),
                                    "isMultiline": True,
                                    "isRequired": True,
                                    "errorMessage": _("Write a message first"),
                                    "maxLength": act.MESSAGE_MAX,
                                }
                            ],
                            "actions": [execute(_(SEND), payload)],
                        },
                    }
                )
            else:
                buttons.append(
                    execute(_(CASE_BUTTON_TITLES[name]), payload, style="positive" if name == "acknowledge" else None)
                )
        return card(body, buttons)

    return fitted(build)


CASE_STATES = {
    "open": N_("waiting for someone to pick it up"),
    "acknowledged": N_("picked up"),
    "resolved": N_("resolved"),
    "withdrawn": N_("withdrawn"),
}


def cases_card(mine: list[Any], waiting: list[Any], language: str = "en") -> Card:
    """ "my cases": what the person raised, and live cases waiting for them (bot.cases.model.Case),
    in the person's language (flow titles and names stay as the core gave them)."""
    _ = interface(language)

    def state_of(case: Any) -> str:
        if case.state == "acknowledged" and case.acknowledged_by_name:
            return _("picked up by {name}").format(name=case.acknowledged_by_name)
        known = CASE_STATES.get(case.state)
        return _(known) if known else str(case.state)

    body: list[dict[str, Any]] = [text_block(_("Your cases"), size="Medium", weight="Bolder")]
    if mine:
        for case in mine[:10]:
            line = _("**{title}**: {state} (case {case})").format(
                title=case.flow_title, state=state_of(case), case=case.short_id
            )
            body.append(text_block(line, spacing="Small"))
    else:
        body.append(text_block(_("You have not raised any cases."), isSubtle=True))
    if waiting:
        body.append(text_block(_("Waiting for you"), size="Medium", weight="Bolder", spacing="Medium"))
        for case in waiting[:10]:
            line = _("**{employee}**: {title}, {state} (case {case})").format(
                employee=case.employee_name, title=case.flow_title, state=state_of(case), case=case.short_id
            )
            body.append(text_block(line, spacing="Small"))
        body.append(text_block(_("Use the buttons on each case's card to act on it."), size="Small", isSubtle=True))
    return card(body)


def case_card_after(previous: Card | None, status: str, *, keep_actions: bool = False) -> Card:
    """A case card redrawn after a click: same content, a status line, and (usually) no buttons."""
    if previous is None:
        return card([text_block(status, weight="Bolder", color="Good")])
    body = [b for b in previous.get("body", []) if not _is_status(b)]
    body.append({**text_block(status, weight="Bolder", color="Good"), "id": "status"})
    updated = {**previous, "body": body}
    if not keep_actions:
        updated.pop("actions", None)
    return updated


def _is_status(block: dict[str, Any]) -> bool:
    return block.get("id") == "status"


# ---- flow library reviews (bot/publishing/notices.py) ------------------------------------------

REVIEW_KINDS = ("change_submitted", "change_decided")
REVIEW_BUTTON_TITLES = {"approve_change": N_("Approve"), "request_changes": N_("Request changes")}
REVIEW_PREVIEW = N_("Change waiting for your review: {about}")
REVIEW_FROM = N_("from {name}")
REASON_LABEL = N_("What should the author change?")
REASON_MISSING = N_("Say what should change, so the author knows")
SEND_BACK = N_("Send back to the author")
DIFF_LINES = 120  # lines of the diff on a full card; a compact one shows fewer
DIFF_LINES_COMPACT = 40
DIFF_LINE_LIMIT = 300
NBSP = "\u00a0"


def notification_card(n: Notification) -> Card:
    """The card for any notification the outbox delivers: a review request, its outcome, or a case."""
    if n.kind == "change_submitted":
        return review_card(n)
    if n.kind == "change_decided":
        return review_decided_card(n)
    return case_card(n)


def diff_block(text: str, change_id: str, max_lines: int) -> dict[str, Any]:
    """The readable diff, laid out as written: one monospace line each, in RichTextBlocks (their
    text runs are not read as markdown, so a "- " or "*" in a flow's text stays as typed) with
    leading spaces kept as no-break spaces. Cut at ``max_lines`` with the command for the rest."""
    lines = text.splitlines() or [" "]
    pointer = f"policybot library diff {change_id[:8]}"
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"… (the whole diff: {pointer})"]
    items: list[dict[str, Any]] = []
    for line in lines:
        shown = clip(line.rstrip(), DIFF_LINE_LIMIT) if line.strip() else ""
        indent = len(line) - len(line.lstrip(" "))
        shown = NBSP * indent + shown if shown else NBSP
        items.append(
            {
                "type": "RichTextBlock",
                "spacing": "None",
                "inlines": [{"type": "TextRun", "text": shown, "fontType": "Monospace", "size": "Small"}],
            }
        )
    return {"type": "Container", "style": "emphasis", "items": items}


def _review_facts(n: Notification, compact: bool) -> list[dict[str, Any]]:
    """The notice's facts, labels in the recipient's language."""
    return [
        {"title": clip(label, 80), "value": clip(value, 300 if compact else 1000)}
        for label, value in facts_of(n)
        if value
    ]


def review_card(n: Notification) -> Card:
    """ "A change to the flow library waits for your review": what changed, who sent it, and the two
    buttons, Approve and Request changes (which asks why, required). The facts carry the change id,
    so there is no "Case …" line; the preview text says what it is before the card is opened."""

    _ = interface(n.recipient.language)  # the buttons in the reviewer's language

    def build(compact: bool) -> Card:
        body: list[dict[str, Any]] = [
            {
                "type": "Container",
                "style": "accent",
                "items": [text_block(title_of(n), size="Medium", weight="Bolder")],
            }
        ]
        facts = _review_facts(n, compact)
        if facts:
            body.append({"type": "FactSet", "facts": facts})
        body.append(diff_block(n.text, n.case_id, DIFF_LINES_COMPACT if compact else DIFF_LINES))
        buttons: list[dict[str, Any]] = []
        for name in n.actions:
            if name == "approve_change":
                buttons.append(
                    execute(
                        _(REVIEW_BUTTON_TITLES[name]),
                        act.data(act.APPROVE_CHANGE, k=n.case_id, n=n.id),
                        style="positive",
                    )
                )
            elif name == "request_changes":
                buttons.append(
                    {
                        "type": "Action.ShowCard",
                        "title": _(REVIEW_BUTTON_TITLES[name]),
                        "card": {
                            "type": "AdaptiveCard",
                            "body": [
                                {
                                    "type": "Input.Text",
                                    "id": act.REASON_INPUT,
                                    "label": _(REASON_LABEL),
                                    "isMultiline": True,
                                    "isRequired": True,
                                    "errorMessage": _(REASON_MISSING),
                                    "maxLength": act.REASON_MAX,
                                }
                            ],
                            "actions": [execute(_(SEND_BACK), act.data(act.REQUEST_CHANGES, k=n.case_id, n=n.id))],
                        },
                    }
                )
        content = card(body, buttons)
        names = dict(n.facts)  # as the core stored them, labels in English
        sender = names.get(SUBMITTED_BY)
        about = ", ".join(x for x in (names.get(FLOWS), _(REVIEW_FROM).format(name=sender) if sender else None) if x)
        shown = _(REVIEW_PREVIEW).format(about=about or title_of(n))
        content["fallbackText"] = preview(f"{shown} ({n.case_id[:8]})")
        return content

    return fitted(build)


def review_decided_card(n: Notification) -> Card:
    """To the author: their change was published, or sent back with the reviewer's reason."""
    body: list[dict[str, Any]] = [
        text_block(title_of(n), size="Medium", weight="Bolder"),
        text_block(clip(n.text, PREVIEW_LIMIT)),
    ]
    facts = _review_facts(n, False)
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    return card(body)


def review_card_after(previous: Card | None, status: str) -> Card:
    """A review card after a reviewer's click: the change as it was shown, their result as its
    status line, no buttons, and no "waiting for your review" preview text any more."""
    updated = case_card_after(previous, status)
    updated.pop("fallbackText", None)
    return updated
