"""Citations against the policies they quote: is each quote still there, and who relies on it.

A citation names its policy by the registry's ``policies:`` key (``policy: notts``). That key is
the id of an imported policy source (``policybot policy import FILE --id notts``): when a source
with that id has been imported, its newest version is the text every quote is checked against.
When none has, the registry's ``file:`` in the policy folder is read the same way (the fallback,
so a checkout with the four sample policies works before anything is imported).

Which flows rely on a citation comes from the flows themselves: an outcome's ``cite`` and
``cite_if``, a question's ``cite`` and a flow's own ``cite`` (its "why?" answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PolicybotError
from bot.language.citations import Citation, Registry
from bot.language.flow_model import OUTCOME, Flow
from bot.language.policy_docs.changes import Changes
from bot.language.policy_docs.model import Clause, PolicyDocument
from bot.language.policy_docs.readers import read_document


@dataclass(frozen=True)
class Use:
    """One place a flow cites a citation: an outcome, a question, or the flow as a whole."""

    flow_id: str
    state: str | None  # None: the flow's own ``cite``
    outcome: bool

    def __str__(self) -> str:
        if self.state is None:
            return f"{self.flow_id} (the whole flow)"
        return f"{self.flow_id} / {self.state}" + ("" if self.outcome else " (question)")


@dataclass(frozen=True)
class PolicyText:
    """The text a policy's quotes are checked against, and where it came from."""

    key: str
    document: PolicyDocument | None
    where: str  # "imported policy 'notts', version 3" or "file ../shared/policy/004_....txt"
    problem: str | None = None  # why there is no text, when ``document`` is None


@dataclass(frozen=True)
class Broken:
    """A citation whose quote (or verbatim wording) is not in its policy's current text."""

    citation: Citation
    what: str  # "quote" or "verbatim"
    where: str


def uses_of(flows: Iterable[Flow]) -> dict[str, list[Use]]:
    """Every citation id the flows cite, and where, in flow and state order."""
    found: dict[str, list[Use]] = {}
    for flow in flows:
        for cid in flow.cite:
            found.setdefault(cid, []).append(Use(flow.id, None, False))
        for state in flow.states.values():
            for cid in state.every_cite:
                found.setdefault(cid, []).append(Use(flow.id, state.name, state.kind == OUTCOME))
    return found


def policy_texts(
    registry: Registry, imported: Mapping[str, tuple[PolicyDocument, str]], policy_dir: Path | None
) -> dict[str, PolicyText]:
    """Each registry policy's current text: the imported source with its key, else its file."""
    texts: dict[str, PolicyText] = {}
    for key, policy in registry.policies.items():
        if key in imported:
            document, where = imported[key]
            texts[key] = PolicyText(key, document, where)
            continue
        fix = f"import it with `policybot policy import FILE --id {key}`"
        if policy_dir is None:
            texts[key] = PolicyText(
                key, None, "", f"policy '{key}' has not been imported and there is no policy folder; {fix}"
            )
            continue
        path = policy_dir / policy.file
        if not path.is_file():
            texts[key] = PolicyText(
                key, None, str(path), f"policy '{key}' has not been imported and {path} is not there; {fix}"
            )
            continue
        try:
            texts[key] = PolicyText(key, read_document(path), f"file {path}")
        except PolicybotError as err:
            texts[key] = PolicyText(key, None, str(path), f"policy '{key}' has not been imported and {err}")
    return texts


def broken_citations(registry: Registry, texts: Mapping[str, PolicyText]) -> list[Broken]:
    """Each quote or verbatim passage not word for word in its policy's text (registry order).

    Matching is the registry's: whitespace, curly quotes, dash styles and ``**`` are ignored,
    case and every word count. Policies with no text are reported by ``policy_texts``, not here.
    """
    broken = []
    for citation in registry.citations.values():
        text = texts.get(citation.policy.key)
        if text is None or text.document is None:
            continue
        for what, passage in (("quote", citation.quote), ("verbatim", citation.verbatim)):
            if passage is not None and not text.document.contains(passage):
                broken.append(Broken(citation, what, text.where))
    return broken


def citations_in(registry: Registry, key: str, document: PolicyDocument, clause: Clause) -> list[str]:
    """The ids of the citations of policy ``key`` whose quote falls in ``clause`` of ``document``."""
    return [
        c.id
        for c in registry.citations.values()
        if c.policy.key == key and any(found.label == clause.label for found in document.locate(c.quote))
    ]


@dataclass(frozen=True)
class ClauseChange:
    """One new, changed or removed clause, and the citations that quote it (before or after)."""

    how: str  # "new", "changed", "removed"
    clause: Clause  # the new text, or the old one for a removed clause
    before: Clause | None
    citations: list[str]


def affected(
    registry: Registry, key: str, old: PolicyDocument, new: PolicyDocument, changes: Changes
) -> list[ClauseChange]:
    """Each change with the citations that quoted the old clause or quote the new one."""
    found = [ClauseChange("changed", after, before, _ids(registry, key, (old, before), (new, after)))
             for before, after in changes.changed]  # fmt: skip
    found += [ClauseChange("new", c, None, _ids(registry, key, (new, c))) for c in changes.added]
    found += [ClauseChange("removed", c, c, _ids(registry, key, (old, c))) for c in changes.removed]
    return found


def _ids(registry: Registry, key: str, *places: tuple[PolicyDocument, Clause]) -> list[str]:
    return list(
        dict.fromkeys(cid for document, clause in places for cid in citations_in(registry, key, document, clause))
    )
