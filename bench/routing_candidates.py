"""The routers that were measured before one was chosen (docs/routing.md), on the same evidence
(each flow's title, triggers, examples, Welsh examples and negatives) and the same held-out set.

Needs the optional extras, which policybot itself never uses:

    .venv/bin/pip install -e '.[routing-candidates]'
    HF_HUB_OFFLINE=1 .venv/bin/python bench/routing_candidates.py

Only tests/routing/eval.yaml is used here: holdout.yaml stays unseen by any choice.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.conversation.library import FlowLibrary, default_flows_dir  # noqa: E402
from bot.conversation.routing import training_texts  # noqa: E402
from bot.language.settings import load_settings  # noqa: E402
from tests.routing.evalsets import EVAL, load  # noqa: E402

FLOWS = FlowLibrary.load(default_flows_dir(), load_settings(None)).all()
IDS = [f.id for f in FLOWS]
TEXTS, LABELS = training_texts(FLOWS)
Y = [IDS[i] for i in LABELS]
MESSAGES = load(EVAL)
Ranker = Callable[[str], list[str]]


def report(name: str, rank: Ranker, seconds_to_build: float) -> None:
    ranks: dict[str, list[int]] = defaultdict(list)
    started = time.perf_counter()
    for m in MESSAGES:
        r = rank(m.text).index(m.flow)
        ranks["all"].append(r)
        ranks[m.language].append(r)
    per_message = (time.perf_counter() - started) / len(MESSAGES) * 1000

    def pct(part: str, within: int) -> str:
        return f"{100 * sum(r < within for r in ranks[part]) / len(ranks[part]):5.1f}%"

    print(f"| {name} | {pct('all', 1)} | {pct('all', 3)} | {pct('english', 1)} | {pct('welsh', 1)} | "
          f"{seconds_to_build * 1000:.0f} ms | {per_message:.2f} ms |")  # fmt: skip


def timed(build: Callable[[], Ranker]) -> tuple[Ranker, float]:
    started = time.perf_counter()
    rank = build()
    return rank, time.perf_counter() - started


def old_rapidfuzz() -> Ranker:
    """The router before this one: rapidfuzz over title, description and triggers."""
    from rapidfuzz import fuzz, utils

    def score(a: str, b: str) -> float:
        a, b = utils.default_process(a), utils.default_process(b)
        return 100.0 if a == b else 0.7 * fuzz.token_set_ratio(a, b) + 0.3 * fuzz.token_sort_ratio(a, b)

    phrases = {f.id: [f.title, *f.triggers, *([f.description] if f.description else [])] for f in FLOWS}
    return lambda text: sorted(IDS, key=lambda i: (-max(score(text, p) for p in phrases[i]), i))


def rapidfuzz_examples() -> Ranker:
    from rapidfuzz import fuzz, utils

    prepared = [(utils.default_process(t), y) for t, y in zip(TEXTS, Y, strict=True)]

    def rank(text: str) -> list[str]:
        a, best = utils.default_process(text), dict.fromkeys(IDS, 0.0)
        for t, y in prepared:
            best[y] = max(best[y], 0.7 * fuzz.token_set_ratio(a, t) + 0.3 * fuzz.token_sort_ratio(a, t))
        return sorted(IDS, key=lambda i: -best[i])

    return rank


def bm25_per_flow() -> Ranker:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    docs = [" ".join(t for t, y in zip(TEXTS, Y, strict=True) if y == i) for i in IDS]
    index = bm25s.BM25()
    index.index(bm25s.tokenize(docs, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)

    def rank(text: str) -> list[str]:
        query = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        scores = index.get_scores(query)
        return [IDS[i] for i in np.argsort(-scores, kind="stable")]

    return rank


def wordllama_model():  # type: ignore[no-untyped-def]
    import wordllama
    from wordllama import WordLlama

    # WordLlama.load() looks for its tokenizer in wordllama/tokenizer/, but the wheel ships it in
    # wordllama/tokenizers/, so by default it downloads the tokenizer from Hugging Face. Pointing
    # cache_dir at the package folder finds both files, and disable_download makes sure.
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def wordllama_knn() -> Ranker:
    model = wordllama_model()
    vectors, labels = model.embed(TEXTS, norm=True), np.array(Y)

    def rank(text: str) -> list[str]:
        sims = vectors @ model.embed([text], norm=True)[0]
        scores = {i: float(np.sort(sims[labels == i])[::-1][:3].mean()) for i in IDS}
        return sorted(IDS, key=lambda i: -scores[i])

    return rank


def sklearn_tfidf_lr(with_wordllama: bool = False) -> Ranker:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    pieces = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    model = wordllama_model() if with_wordllama else None

    def features(texts: list[str], fit: bool = False):  # type: ignore[no-untyped-def]
        parts = [words.fit_transform(texts), pieces.fit_transform(texts)] if fit else [
            words.transform(texts), pieces.transform(texts)]  # fmt: skip
        if model is not None:
            parts.append(csr_matrix(model.embed(texts, norm=True)))
        return hstack(parts).tocsr()

    classifier = LogisticRegression(C=10, max_iter=3000).fit(features(TEXTS, fit=True), Y)
    return lambda text: list(classifier.classes_[np.argsort(-classifier.predict_proba(features([text]))[0])])


def shipped() -> Ranker:
    from bot.conversation.router import ExampleRouter

    router = ExampleRouter(FLOWS)
    return lambda text: [m.flow.id for m in router.understand(text).matches]


def import_seconds(module: str) -> float:
    import subprocess

    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    print(f"{len(MESSAGES)} messages of tests/routing/eval.yaml, {len(TEXTS)} training messages, "
          f"load average {os.getloadavg()[0]:.2f}, HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE')}\n")  # fmt: skip
    print("| router | top-1 | top-3 | top-1 English | top-1 Welsh | build | per message |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, build in (
        ("rapidfuzz on titles and triggers (the router before)", old_rapidfuzz),
        ("rapidfuzz, best match over every example", rapidfuzz_examples),
        ("BM25 (bm25s + PyStemmer), one document per flow", bm25_per_flow),
        ("wordllama embeddings, mean of the 3 nearest examples", wordllama_knn),
        ("scikit-learn logistic regression, TF-IDF words + pieces", sklearn_tfidf_lr),
        ("the same plus wordllama embeddings", lambda: sklearn_tfidf_lr(with_wordllama=True)),
        ("**shipped: naive Bayes, TF-IDF words + pieces (numpy)**", shipped),
    ):
        rank, seconds = timed(build)
        report(name, rank, seconds)
    print("\nimport time in a fresh process:")
    for module in ("numpy", "pycld2", "sklearn.linear_model", "wordllama", "bm25s"):
        print(f"  {module:22} {import_seconds(module):.3f} s")
    try:
        from wordllama import WordLlama

        WordLlama.load(disable_download=True)
        print("\nwordllama: the default load found its files offline")
    except FileNotFoundError as err:
        print(f"\nwordllama: the default load with downloads disabled fails: {err}")


if __name__ == "__main__":
    main()
