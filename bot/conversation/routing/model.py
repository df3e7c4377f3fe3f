"""What the router learns from the examples: which flow a message is likeliest to be about, and
how much it looks like anything the flows describe at all.

- ``NaiveBayes`` is multinomial naive Bayes over the TF-IDF features: for each flow, how often
  each word and word piece turns up in that flow's examples. Training is counting, so it is
  rebuilt in milliseconds whenever a flow file changes, and it needs no optimiser, no model file
  and no machine-learning stack. docs/routing.md has the measurements that chose it over static
  word embeddings (wordllama), BM25 and linear classifiers.
- ``Nearest`` finds the single closest example (cosine similarity). A message nothing resembles
  ("qwertyuiop", "what's for lunch") gets a low familiarity even though naive Bayes always picks
  *some* flow, and that is what lets the bot say "I'm not sure" instead of guessing.

Both keep only sparse tables (per feature: which flows or examples have it), so memory and time
grow with what the examples contain, not with flows × vocabulary.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bot.conversation.routing.features import SparseRows

SMOOTHING = 0.1  # naive Bayes' alpha: how much an unseen feature is allowed to count for a flow


def _postings(
    keys: NDArray[np.int64], owners: NDArray[np.int64], values: NDArray[np.float32], size: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float32]]:
    """Entries grouped by key (a feature): indptr, then owners and values in key order."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=size)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, owners[order].astype(np.int32), values[order].astype(np.float32)


def _gather(indptr: NDArray[np.int64], ids: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The positions of every posting of the given features, and which query feature each came from."""
    starts, ends = indptr[ids], indptr[ids + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    which = np.repeat(np.arange(len(ids)), lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return starts[which] + offsets, which


class NaiveBayes:
    """Multinomial naive Bayes; ``log_likelihoods`` gives one score per class (higher is likelier)."""

    def __init__(self, rows: SparseRows, labels: NDArray[np.int64], classes: int, features: int) -> None:
        row_of = np.repeat(np.arange(len(rows)), np.diff(rows.indptr))
        keys = labels[row_of] * features + rows.indices.astype(np.int64)
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = np.bincount(inverse, weights=rows.values).astype(np.float32)
        klass, feature = unique // features, unique % features
        totals = np.bincount(klass, weights=sums, minlength=classes)
        # log P(feature | class) = log(alpha) - log(Z_c) + log(1 + S_cf / alpha); only the last
        # part depends on the feature, and it is zero wherever the class never saw it.
        self.base = (np.log(SMOOTHING) - np.log(totals + SMOOTHING * features)).astype(np.float32)
        self.indptr, self.classes, self.weights = _postings(
            feature, klass, np.log1p(sums / SMOOTHING).astype(np.float32), features
        )
        self.size = classes

    @classmethod
    def restore(
        cls,
        base: NDArray[np.float32],
        indptr: NDArray[np.int64],
        classes: NDArray[np.int32],
        weights: NDArray[np.float32],
        size: int,
    ) -> NaiveBayes:
        model = cls.__new__(cls)
        model.base, model.indptr, model.classes, model.weights, model.size = base, indptr, classes, weights, size
        return model

    def log_likelihoods(self, ids: NDArray[np.int32], values: NDArray[np.float32]) -> NDArray[np.float64]:
        scores = float(values.sum()) * self.base.astype(np.float64)
        positions, which = _gather(self.indptr, ids)
        if len(positions):
            scores += np.bincount(
                self.classes[positions], weights=self.weights[positions] * values[which], minlength=self.size
            )
        return scores


class Nearest:
    """Cosine similarity of a message's words to the words of its closest training example.

    Words only, not word pieces: pieces such as "on" or "er" are in nearly every example, which
    would make every message look a little familiar and make the look-up slow with many flows.
    """

    def __init__(self, rows: SparseRows, features: int, is_piece: NDArray[np.bool_]) -> None:
        row_of = np.repeat(np.arange(len(rows)), np.diff(rows.indptr))
        keep = ~is_piece[rows.indices]
        self.is_piece = is_piece
        self.indptr, self.rows, self.values = _postings(
            rows.indices[keep].astype(np.int64), row_of[keep], rows.values[keep], features
        )
        self.size = len(rows)

    @classmethod
    def restore(
        cls,
        indptr: NDArray[np.int64],
        rows: NDArray[np.int32],
        values: NDArray[np.float32],
        size: int,
        is_piece: NDArray[np.bool_],
    ) -> Nearest:
        model = cls.__new__(cls)
        model.indptr, model.rows, model.values, model.size, model.is_piece = indptr, rows, values, size, is_piece
        return model

    def best(self, ids: NDArray[np.int32], values: NDArray[np.float32]) -> tuple[float, int]:
        """(similarity 0..1, index of the example); (0.0, -1) when no word is shared.

        Both sides' words are already scaled to length 1 (bot.conversation.routing.features),
        so the dot product is the cosine."""
        keep = ~self.is_piece[ids]
        ids, values = ids[keep], values[keep]
        positions, which = _gather(self.indptr, ids)
        if not len(positions):
            return 0.0, -1
        cosines = np.bincount(self.rows[positions], weights=self.values[positions] * values[which], minlength=self.size)
        best = int(np.argmax(cosines))
        return float(min(1.0, cosines[best])), best
