"""The tiny, dependency-free fixtures: tokenizers, sequence model, datasets, rewards, agent, manifests."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from codex_ml.catalogue import integrity, paths
from codex_ml.catalogue.jsonfile import FixtureError
from codex_ml.data import LinesDataset, TinyCorpus, load_tiny_corpus
from codex_ml.models.tiny_sequence import TinySequenceModel, build_tiny_sequence_model
from codex_ml.rewards import HeuristicRewardModel, LengthRewardModel, build_length_reward
from codex_ml.rl import ScriptedAgent, build_scripted_agent
from codex_ml.tokenizers import ByteTokenizer, VocabTokenizer
from codex_ml.tokenizers.vocab import build_tiny_vocab_tokenizer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in paths.ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def write(path: Path, data: object) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# ------------------------------------------------------------------- tiny vocab
def test_tiny_vocab_has_six_tokens_and_specials() -> None:
    tok = build_tiny_vocab_tokenizer()
    assert tok.vocab_size == 6 == len(tok)
    assert (tok.pad_token_id, tok.unk_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2, 3)
    assert tok.encode("Hello, world") == [4, 1, 5]  # the comma is unknown
    assert tok.encode("hello", add_special_tokens=True) == [2, 4, 3]
    assert tok.decode([2, 4, 5, 3, 0]) == "hello world"
    assert tok.decode([4, 1], skip_special_tokens=False) == "hello <unk>"


def test_vocab_tokenizer_errors(tmp_path: Path) -> None:
    tok = VocabTokenizer({"a": 0, "b": 1})
    with pytest.raises(ValueError, match="token 'c' is not in the vocabulary .* no '<unk>'"):
        tok.encode("a c")
    with pytest.raises(ValueError, match=r"token id 7 is outside the vocabulary \(0\.\.1\)"):
        tok.decode([7])
    with pytest.raises(FixtureError, match="ids must be 0..1"):
        VocabTokenizer({"a": 0, "b": 5})
    bad = write(tmp_path / "vocab.json", "[1, 2]")
    with pytest.raises(FixtureError, match=r"vocab\.json must hold a JSON object"):
        build_tiny_vocab_tokenizer(bad)


def test_vocab_roundtrip_save(tmp_path: Path) -> None:
    tok = build_tiny_vocab_tokenizer()
    saved = tok.save(tmp_path)
    assert VocabTokenizer.from_file(saved).get_vocab() == tok.get_vocab()


def test_byte_tokenizer_roundtrip() -> None:
    tok = ByteTokenizer()
    text = "héllo wörld"
    ids = tok.encode(text, add_special_tokens=True)
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.decode(ids) == text and tok.vocab_size == 259
    with pytest.raises(ValueError, match="outside the byte vocabulary"):
        tok.decode([300])


# ---------------------------------------------------------- tiny sequence model
def test_tiny_sequence_generates_deterministically() -> None:
    model = build_tiny_sequence_model()
    assert model.generate("hello", max_new_tokens=4) == "world"
    assert model.generate("", max_new_tokens=8) == "hello world"
    assert model.generate("", max_new_tokens=1) == "hello"
    assert [model.generate("Hello") for _ in range(3)] == ["world"] * 3


def test_next_token_probs_by_hand() -> None:
    model = build_tiny_sequence_model()
    # after "hello": counts {world: 2}; 4 candidates (unk, eos, hello, world), k = 0.1
    probs = model.next_token_probs([4])
    assert probs[5] == pytest.approx((2 + 0.1) / (2 + 0.4))
    assert probs[1] == pytest.approx(0.1 / 2.4)
    assert probs[0] == probs[2] == 0.0  # pad and bos are never predicted
    assert sum(probs) == pytest.approx(1.0)


def test_fit_counts_and_nll_fall() -> None:
    model = TinySequenceModel(["<pad>", "<unk>", "<bos>", "<eos>", "hello", "world"], smoothing=0.5)
    data = ["hello world", "hello world", "world hello"]
    before = model.nll("hello world", add_eos=True)
    assert before == pytest.approx(math.log(4))  # untrained: uniform over 4 candidates
    model.fit(data)
    after = model.nll("hello world", add_eos=True)
    assert after < before
    # p(hello | <bos>) = (2 + 0.5) / (3 + 2) after fitting
    assert model.next_token_probs([])[4] == pytest.approx(2.5 / 5)
    assert model.token_nlls([4, 5])[0] == pytest.approx(-math.log(0.5))


def test_fit_accepts_id_sequences_and_higher_order() -> None:
    vocab = ["<pad>", "<unk>", "<bos>", "<eos>", "hello", "world"]
    model = TinySequenceModel(vocab, order=3, smoothing=0.0)
    model.fit([[4, 4, 5], [4, 4, 5], [5, 4, 4]])
    assert model.predict([4, 4]) == 5  # (hello hello) -> world twice, -> eos once
    assert model.predict([5, 4, 4]) == 5  # only the last order-1 tokens count
    assert model.generate_ids([5], max_new_tokens=5) == [4, 4, 5]
    model.fit([[5], [4]])
    assert model.predict([]) == 4  # hello and world tie after <bos>: the lowest id wins
    with pytest.raises(ValueError, match="outside the model vocabulary"):
        model.fit([[9]])


def test_forward_shapes() -> None:
    model = build_tiny_sequence_model()
    single = model.forward([2, 4])
    assert len(single) == 2 and len(single[0]) == 6
    batch = model([[4], [4, 5]])
    assert [len(row) for row in batch] == [1, 2]


def test_state_roundtrip(tmp_path: Path) -> None:
    model = build_tiny_sequence_model()
    model.fit(["hello hello world"], reset=False)
    saved = model.save(tmp_path)
    again = TinySequenceModel.from_file(saved)
    assert again.state_dict() == model.state_dict()
    assert again.generate("") == model.generate("")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", r"model\.json is not valid JSON"),
        ({"vocab": ["a"], "order": 0}, "order must be an integer from 1 to 8"),
        (
            {"vocab": ["a", "b"], "counts": {"a": {"zzz": 1}}},
            "token 'zzz' in counts is not in its vocab",
        ),
        ({"vocab": ["a"], "format": "other/v9"}, "format 'other/v9' is not supported"),
        ({"vocab": ["a"], "ordr": 2}, r"unknown key\(s\) \['ordr'\]"),
        ({"order": 2}, "missing required key 'vocab'"),
        ({"vocab": ["a"], "counts": {"": {"a": -1}}}, "non-negative integers"),
    ],
)
def test_malformed_model_json(tmp_path: Path, content: object, message: str) -> None:
    path = write(tmp_path / "model.json", content)
    with pytest.raises(FixtureError, match=message):
        build_tiny_sequence_model(path)


# ----------------------------------------------------------------------- datasets
def test_tiny_corpus_is_real_text() -> None:
    corpus = load_tiny_corpus()
    assert isinstance(corpus, TinyCorpus)
    assert len(corpus) >= 200
    words = {w for line in corpus for w in line.lower().split()}
    assert len(words) > 500
    assert corpus[0] == "hello world" and corpus[:2] == list(corpus)[:2]


def test_tiny_corpus_errors(tmp_path: Path) -> None:
    empty = write(tmp_path / "c.txt", "\n\n")
    with pytest.raises(FixtureError, match=r"c\.txt has no text"):
        load_tiny_corpus(empty)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(FixtureError, match="not UTF-8"):
        load_tiny_corpus(binary)


def test_lines_streams_and_reiterates(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "one\r\ntwo\n\n  three  \n")
    data = LinesDataset(path)
    assert list(data) == ["one", "two", "", "  three  "]
    assert list(data) == list(data)  # a fresh pass each time
    assert list(LinesDataset(path, skip_blank=True, strip=True)) == ["one", "two", "three"]
    assert list(LinesDataset(path, limit=2)) == ["one", "two"]
    assert iter(data) is not iter(data)


def test_lines_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"lines dataset: .*nope\.txt does not exist"):
        LinesDataset(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="needs path"):
        LinesDataset()
    with pytest.raises(ValueError, match="not a regular file"):
        LinesDataset(tmp_path)
    binary = tmp_path / "latin.txt"
    binary.write_bytes("caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.txt is not valid utf-8 text"):
        list(LinesDataset(binary))
    assert list(LinesDataset(binary, encoding="latin-1")) == ["caf\u00e9"]


# -------------------------------------------------------------------- rewards
def test_length_reward_by_hand() -> None:
    reward = build_length_reward()  # target 12 words, tolerance 2, 0.1 per word, [-1, 1]
    assert reward.score("p", " ".join(["w"] * 12)) == 1.0
    assert reward.score("p", " ".join(["w"] * 14)) == 1.0
    assert reward.score("p", " ".join(["w"] * 17)) == pytest.approx(0.7)
    assert reward.score("p", "") == pytest.approx(0.0)  # 12 off, 10 beyond tolerance
    assert reward.score("p", " ".join(["w"] * 100)) == -1.0


def test_length_reward_characters(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lr.json", {"unit": "characters", "target_length": 5, "penalty_per_unit": 0.5}
    )
    reward = build_length_reward(path)
    assert reward.score("", "abcde") == 1.0
    assert reward.score("", "abcdefg") == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"unit": "tokens", "target_length": 3}, "'unit' must be str .one of"),
        ({"target_length": -1}, "'target_length' must be int"),
        ({"unit": "words"}, "missing required key 'target_length'"),
        ({"target_length": 3, "min_reward": 2, "max_reward": 1}, "min_reward <= max_reward"),
    ],
)
def test_length_reward_bad_config(tmp_path: Path, content: object, message: str) -> None:
    with pytest.raises(FixtureError, match=message):
        build_length_reward(write(tmp_path / "lr.json", content))


def test_heuristic_reward() -> None:
    rm = HeuristicRewardModel(target_words=4)
    assert rm.score("tell me about cats", "") == -1.0
    # relevance: content words {tell, about, cats}; completion has "cats" -> 1/3
    # diversity: 4 distinct of 4 -> 1 ; length 4/4 -> 1 ; mean 7/9 -> 2*7/9 - 1
    assert rm.score("tell me about cats", "cats are small animals") == pytest.approx(2 * 7 / 9 - 1)
    assert rm.score("x", "loop loop loop loop") < rm.score("x", "one two three four")
    with pytest.raises(ValueError, match="target_words"):
        HeuristicRewardModel(target_words=0)


# ---------------------------------------------------------------------- agent
def test_scripted_agent_policy() -> None:
    agent = build_scripted_agent()
    assert isinstance(agent, ScriptedAgent)
    assert agent.act("Hello there") == "greet"
    assert agent.act("goodbye") == "farewell"
    assert agent.act({"obstacle": True, "goal_visible": True}) == "turn_left"
    assert agent.act({"obstacle": False, "goal_visible": True}) == "move_forward"
    assert agent.act(0) == "start"
    assert agent.act(False) == "explore"  # false is not 0 in the policy
    assert agent.steps == 6
    agent.reset()
    assert agent.steps == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"rules": []}, "missing 'default_action'"),
        ({"default_action": 1, "rules": [{"action": 2}]}, r"rules\[0\] needs a matcher"),
        (
            {"default_action": 1, "rules": [{"action": 2, "startswith": "x"}]},
            r"unknown key\(s\) \['startswith'\]",
        ),
        ({"default_action": 1, "rules": ["x"]}, r"rules\[0\] must be an object"),
        ({"default_action": 1, "rules": {}}, "'rules' must be list"),
    ],
)
def test_scripted_agent_bad_policy(tmp_path: Path, content: object, message: str) -> None:
    with pytest.raises(FixtureError, match=message):
        ScriptedAgent.from_file(write(tmp_path / "policy.json", content))


def test_length_reward_model_direct() -> None:
    with pytest.raises(ValueError, match="unit must be one of"):
        LengthRewardModel(target_length=1, unit="bytes")


# ------------------------------------------------------------------ manifests
def test_manifest_verifies_files(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_bytes(paths.packaged_path("scripted_agent").read_bytes())  # type: ignore[union-attr]
    digest = hashlib.sha256(policy.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{digest}  policy.json\n")
    assert build_scripted_agent(policy).act("hello") == "greet"
    assert integrity.verify_directory(tmp_path) == ["policy.json"]
    policy.write_text(policy.read_text().replace("greet", "GREET"))
    with pytest.raises(integrity.IntegrityError, match=r"checksum mismatch for .*policy\.json"):
        build_scripted_agent(policy)


def test_manifest_errors(tmp_path: Path) -> None:
    (tmp_path / "SHA256SUMS").write_text("nothex  file\n")
    with pytest.raises(integrity.IntegrityError, match=r"SHA256SUMS:1: malformed line"):
        integrity.verify_directory(tmp_path)
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64} *gone.bin\n")
    with pytest.raises(integrity.IntegrityError, match=r"gone\.bin is listed in .* but missing"):
        integrity.verify_directory(tmp_path)
