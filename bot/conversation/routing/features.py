"""Text to weighted features: the words and the pieces of words a message is made of.

Staff type "fb", "insta", "frend reqest", "slagging off", and in Welsh the first letter of a word
changes with the word before it ("cyngor", "gyngor", "nghyngor"). So a message is described twice
over: by its words and pairs of words (what it says), and by the 2- to 5-letter pieces of each
word (which survive typos, plurals, mutations and run-together words). Each part is weighted
TF-IDF style (a word common to every flow counts for little) and scaled to length 1, so a long
message weighs no more than a short one.

Plain Python and numpy: no model files, nothing to download, built in milliseconds from the
flows' examples.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

WORD = re.compile(r"[a-z0-9]+")
CHAR_SIZES = (2, 3, 4, 5)
APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`")  # "don't" and "dont" are the same word


def normalise(text: str) -> str:
    """Lower case, accents off (ŵ is w, é is e), apostrophes out ("i'm" is "im", "sy'n" is "syn")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(APOSTROPHES).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The words of a normalised text, one-letter words ("a", "i", "y") left out as noise."""
    return [w for w in WORD.findall(text) if len(w) > 1]


@lru_cache(maxsize=65536)
def pieces(token: str) -> tuple[str, ...]:
    """The 2- to 5-letter pieces of one word, padded so that its start and end show ("#" marks a
    piece, so the piece "an" and the word "an" stay apart). Words repeat across messages, so this
    is remembered."""
    padded = f" {token} "
    return tuple("#" + padded[i : i + size] for size in CHAR_SIZES for i in range(len(padded) - size + 1))


def terms(text: str) -> Counter[str]:
    """Every feature of a message with its count: words, pairs of words, and word pieces."""
    tokens = words(normalise(text))
    found = [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]
    for token in tokens:
        found += pieces(token)
    return Counter(found)


@dataclass(frozen=True)
class SparseRows:
    """Rows of feature weights in compressed form (the layout of a CSR matrix)."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    values: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.indptr) - 1


class FeatureSpace:
    """The vocabulary and TF-IDF weights learnt from the training messages."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.index: dict[str, int] = {}
        add = self.index.setdefault
        ids: list[int] = []
        counts: list[int] = []
        lengths: list[int] = []
        for text in texts:  # one pass: number each new feature as it is first seen
            features = terms(text)
            ids += [add(term, len(self.index)) for term in features]
            counts += features.values()
            lengths.append(len(features))
        flat = np.array(ids, dtype=np.int32)
        frequency = np.bincount(flat, minlength=len(self.index)).astype(np.float64)
        self.idf = (np.log((1 + len(texts)) / (1 + frequency)) + 1.0).astype(np.float32)
        self.is_piece = np.array([term.startswith("#") for term in self.index], dtype=bool)
        self.rows = self._weigh(flat, np.array(counts, dtype=np.float32), np.array(lengths, dtype=np.int64))

    @classmethod
    def restore(cls, vocabulary: list[str], idf: NDArray[np.float32], is_piece: NDArray[np.bool_]) -> FeatureSpace:
        """A space saved earlier (bot.conversation.routing.cache); it scores, it cannot be trained."""
        space = cls.__new__(cls)
        space.index = {term: i for i, term in enumerate(vocabulary)}
        space.idf, space.is_piece = idf, is_piece
        space.rows = SparseRows(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        return space

    def __len__(self) -> int:
        return len(self.index)

    def vector(self, text: str) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        """The message as (feature ids, weights); features never seen in training are dropped."""
        index = self.index
        known = [(index[t], c) for t, c in terms(text).items() if t in index]
        ids = np.array([i for i, _ in known], dtype=np.int32)
        counts = np.array([c for _, c in known], dtype=np.float32)
        rows = self._weigh(ids, counts, np.array([len(known)], dtype=np.int64))
        return rows.indices, rows.values

    def _weigh(self, ids: NDArray[np.int32], counts: NDArray[np.float32], lengths: NDArray[np.int64]) -> SparseRows:
        """TF-IDF rows, all messages at once: 1 + log(count) times idf, words and pieces each
        scaled to length 1 so that both count equally."""
        weights = (1.0 + np.log(counts)) * self.idf[ids] if len(ids) else np.zeros(0, dtype=np.float32)
        row = np.repeat(np.arange(len(lengths)), lengths)
        part = row * 2 + self.is_piece[ids]
        norms = np.sqrt(np.bincount(part, weights=weights.astype(np.float64) ** 2, minlength=2 * len(lengths)))
        scale = norms[part]
        weights = np.where(scale > 0, weights / np.where(scale > 0, scale, 1.0), 0.0)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return SparseRows(indptr, ids, weights.astype(np.float32))
