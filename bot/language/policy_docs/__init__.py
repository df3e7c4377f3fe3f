"""A council's own policy documents, read into clauses (issue 17): pure, no database.

A council replaces the four sample policies with its own by importing them (``policybot policy
import``). This package turns a file into a ``PolicyDocument``: its clauses, each with a label a
person can find it by ("paragraph 27", "section 2.1, bullet 3", "heading 'Personal use', paragraph
2") and its text.

- ``model``: ``Clause`` and ``PolicyDocument`` (its normalised text, content digest, where a quote
  falls);
- ``readers``: .txt, .md, .docx (python-docx) and text .pdf (pypdf) into lines, and every way a
  file can be unusable as one plain sentence (``PolicybotError``);
- ``structure``: those lines into clauses (numbered paragraphs, numbered sections, headings,
  bullets, plain paragraphs);
- ``changes``: what changed between two versions of a document;
- ``checks``: every citation's quote against the current text of its policy, and which flow
  outcomes a citation (so a clause) reaches.

Storing versions is the store's job (bot.store.policy_sources).
"""

from __future__ import annotations

from bot.language.policy_docs.model import Clause, PolicyDocument

__all__ = ["Clause", "PolicyDocument"]
