"""Metrics against values computed by hand, through the functions and through the registry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from codex_ml.catalogue.jsonfile import FixtureError
from codex_ml.metrics import (
    WeightedAccuracy,
    build_weighted_accuracy,
    distinct_1,
    distinct_2,
    exact_match,
    f1,
    normalize_answer,
    perplexity,
    token_accuracy,
)


# ------------------------------------------------------------------ accuracy@token
def test_token_accuracy_skips_ignore_index() -> None:
    # positions: (5,5) right, (7,8) wrong, (1,-100) skipped, (2,2) right -> 2 of 3
    assert token_accuracy([5, 7, 1, 2], [5, 8, -100, 2]) == pytest.approx(2 / 3)


def test_token_accuracy_nested_batches_and_custom_ignore() -> None:
    preds = [[1, 2, 3], [4, 0, 0]]
    golds = [[1, 9, 3], [4, 0, 0]]
    assert token_accuracy(preds, golds) == pytest.approx(5 / 6)
    assert token_accuracy(preds, golds, ignore_index=0) == pytest.approx(3 / 4)


def test_token_accuracy_accepts_tensors() -> None:
    torch = pytest.importorskip("torch")
    preds = torch.tensor([[1, 2], [3, 4]])
    golds = torch.tensor([[1, -100], [0, 4]])
    assert token_accuracy(preds, golds) == pytest.approx(2 / 3)


def test_token_accuracy_errors_and_empty() -> None:
    with pytest.raises(ValueError, match="predictions have 2 tokens but targets have 3"):
        token_accuracy([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="needs targets"):
        token_accuracy([1, 2])
    assert math.isnan(token_accuracy([1, 2], [-100, -100]))


# ---------------------------------------------------------------------------- ppl
def test_perplexity_is_exp_of_mean_nll() -> None:
    nlls = [math.log(2), math.log(8)]  # mean = log 4
    assert perplexity(nlls) == pytest.approx(4.0)
    assert perplexity([[0.0, 0.0], [0.0]]) == pytest.approx(1.0)


def test_perplexity_edges() -> None:
    assert math.isnan(perplexity([]))
    assert perplexity([1e6]) == math.inf
    with pytest.raises(ValueError, match="negative log-likelihoods"):
        perplexity([-1.0])


# ------------------------------------------------------------------ SQuAD metrics
def test_normalisation() -> None:
    assert normalize_answer("The  Cat, sat!") == "cat sat"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"  # whole words only


def test_exact_match_by_hand() -> None:
    preds = ["The Eiffel Tower", "paris", "1889"]
    refs = ["eiffel tower", ["London", "Paris."], "1887"]
    assert exact_match(preds, refs) == pytest.approx(2 / 3)
    assert exact_match("the answer", "Answer") == 1.0


def test_f1_by_hand() -> None:
    # pred tokens: cat sat on mat ; gold: cat lay on mat -> common 3, P=3/4, R=3/4, F1=0.75
    assert f1("the cat sat on the mat", "a cat lay on the mat") == pytest.approx(0.75)
    # pred "blue sky" vs gold "the sky is blue today": common 2, P=1, R=2/4, F1=2/3
    assert f1(["blue sky"], ["the sky is blue today"]) == pytest.approx(2 / 3)
    # best of several references
    assert f1(["red"], [["blue", "red"]]) == 1.0
    assert f1(["a"], ["the"]) == 1.0  # both normalise to nothing
    assert f1(["cat"], ["the"]) == 0.0


def test_squad_errors() -> None:
    with pytest.raises(ValueError, match="got 2 predictions but 1 references"):
        f1(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="predictions must contain strings"):
        exact_match([1], ["1"])
    with pytest.raises(ValueError, match="needs targets"):
        exact_match(["a"])


# --------------------------------------------------------------------- distinct-n
def test_distinct_by_hand() -> None:
    texts = ["the cat the cat", "a dog"]
    # unigrams: the cat the cat a dog -> 6 total, 4 unique
    assert distinct_1(texts) == pytest.approx(4 / 6)
    # bigrams: (the cat)(cat the)(the cat) + (a dog) -> 4 total, 3 unique (none across texts)
    assert distinct_2(texts) == pytest.approx(3 / 4)
    assert distinct_2(["single"]) == 0.0
    assert distinct_1("x y x") == pytest.approx(2 / 3)


def test_distinct_rejects_other_n() -> None:
    with pytest.raises(ValueError, match="dist-2 counts 2-grams; got n=3"):
        distinct_2(["a b c"], n=3)


# ------------------------------------------------------------- weighted accuracy
def test_weighted_accuracy_from_packaged_json() -> None:
    metric = build_weighted_accuracy()
    # weights: positive 2, negative 2, neutral 1, other 1
    preds = ["positive", "neutral", "neutral", "spam"]
    golds = ["Positive", "negative", "neutral", "ham"]
    # correct: positive (2), neutral (1); total weight 2 + 2 + 1 + 1 = 6
    assert metric(preds, golds) == pytest.approx(3 / 6)
    assert metric(preds, golds, weights=[1, 1, 1, 1]) == pytest.approx(2 / 4)


def test_weighted_accuracy_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(
        json.dumps({"weights": {"1": 3}, "default_weight": 0.5, "case_sensitive": True})
    )
    metric = build_weighted_accuracy(path)
    assert metric([1, 0], [1, 1]) == pytest.approx(3 / 6)
    assert metric([0, 0], [0, 0]) == pytest.approx(1.0)


def test_weighted_accuracy_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text("{not json")
    with pytest.raises(FixtureError, match=r"w\.json is not valid JSON.*line 1"):
        build_weighted_accuracy(path)
    path.write_text(json.dumps({"weights": {"a": -1}}))
    with pytest.raises(FixtureError, match=r"w\.json.*finite numbers >= 0"):
        build_weighted_accuracy(path)
    path.write_text(json.dumps({"weight": {}}))
    with pytest.raises(FixtureError, match=r"unknown key\(s\) \['weight'\]"):
        build_weighted_accuracy(path)
    with pytest.raises(FileNotFoundError, match="weighted-accuracy weights"):
        build_weighted_accuracy(tmp_path / "absent.json")


def test_weighted_accuracy_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        WeightedAccuracy({})(["a", "b"], ["a"])


# ------------------------------------------------------------------- via registry
def test_registry_returns_the_functions_and_builds_weighted() -> None:
    from codex_ml.registry import metric_registry

    assert metric_registry.get("accuracy@token") is token_accuracy
    assert metric_registry.create("ppl") is perplexity
    assert metric_registry.get("exact_match") is exact_match
    assert metric_registry.get("dist-1") is distinct_1
    weighted = metric_registry.create("offline:weighted-accuracy")
    assert isinstance(weighted, WeightedAccuracy)
    assert weighted(["neutral"], ["neutral"]) == 1.0
