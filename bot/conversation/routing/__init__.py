"""The router's engine room: features, the learnt model and language detection.

``bot.conversation.router`` is the interface the rest of the core uses; this package is one way
of answering it (naive Bayes over word and word-piece features, trained on the flows' own
examples) and can be swapped without touching the engine, the opening policy or the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.conversation.routing.features import FeatureSpace
from bot.conversation.routing.language import language_of
from bot.conversation.routing.model import NaiveBayes, Nearest
from bot.language.flow_model import Flow

# How sharply naive Bayes' log-likelihoods turn into probabilities. Naive Bayes counts every word
# piece as separate evidence and so is far too sure of itself; dividing by this brings its top
# probability in line with how often it is right on held-out examples (docs/routing.md).
TEMPERATURE = 3.0


def training_texts(flows: Sequence[Flow]) -> tuple[list[str], list[int]]:
    """Every message the flows offer as evidence, with the index of the flow it belongs to.

    A flow's negatives count as examples of the flow they belong to; one naming a flow that is
    not loaded is left out.
    """
    position = {flow.id: i for i, flow in enumerate(flows)}
    texts: list[str] = []
    labels: list[int] = []
    for i, flow in enumerate(flows):
        own = [flow.title, *flow.triggers, *flow.examples, *flow.welsh_examples]
        texts += own
        labels += [i] * len(own)
    for flow in flows:
        for text, other in flow.negatives.items():
            if other in position:
                texts.append(text)
                labels.append(position[other])
    return texts, labels


@dataclass(frozen=True)
class Scored:
    """One message, understood: a probability per flow (in the order given), the language, and
    how closely it resembles the nearest example (0..1)."""

    probabilities: list[float]
    language: str
    familiarity: float
    nearest: str | None


class ExampleModel:
    """Learnt once per set of flow versions, then shared by every thread (read-only)."""

    def __init__(self, flows: Sequence[Flow]) -> None:
        texts, labels = training_texts(flows)
        self.texts = texts
        self.space = FeatureSpace(texts)
        self.bayes = NaiveBayes(self.space.rows, np.array(labels, dtype=np.int64), len(flows), len(self.space))
        self.nearest = Nearest(self.space.rows, len(self.space), self.space.is_piece)

    def tables(self) -> dict[str, NDArray[Any]]:
        """Everything scoring needs, as plain arrays (for the cache: no pickles)."""
        return {
            "texts": np.array(self.texts, dtype=str),
            "vocabulary": np.array(list(self.space.index), dtype=str),
            "idf": self.space.idf,
            "is_piece": self.space.is_piece,
            "bayes_base": self.bayes.base,
            "bayes_indptr": self.bayes.indptr,
            "bayes_classes": self.bayes.classes,
            "bayes_weights": self.bayes.weights,
            "nearest_indptr": self.nearest.indptr,
            "nearest_rows": self.nearest.rows,
            "nearest_values": self.nearest.values,
        }

    @classmethod
    def from_tables(cls, tables: dict[str, NDArray[Any]], classes: int) -> ExampleModel:
        model = cls.__new__(cls)
        model.texts = [str(t) for t in tables["texts"]]
        model.space = FeatureSpace.restore([str(t) for t in tables["vocabulary"]], tables["idf"], tables["is_piece"])
        model.bayes = NaiveBayes.restore(
            tables["bayes_base"], tables["bayes_indptr"], tables["bayes_classes"], tables["bayes_weights"], classes
        )
        model.nearest = Nearest.restore(
            tables["nearest_indptr"], tables["nearest_rows"], tables["nearest_values"], len(model.texts),
            tables["is_piece"],
        )  # fmt: skip
        return model

    def score(self, text: str) -> Scored:
        ids, values = self.space.vector(text)
        logits = self.bayes.log_likelihoods(ids, values) / TEMPERATURE
        logits -= logits.max()
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum()
        similarity, best = self.nearest.best(ids, values)
        return Scored(
            probabilities=[float(p) for p in probabilities],
            language=language_of(text),
            familiarity=similarity,
            nearest=self.texts[best] if best >= 0 else None,
        )
