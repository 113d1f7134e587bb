"""Bad input, fuzzed (issue 6, part 4): registry names, metadata and lookups.

Hypothesis throws arbitrary text (and non-text) at every public entry of a
``Registry``. Only the documented errors may escape, each with its message:
``InvalidNameError`` (a ``ValueError``) naming the bad character,
``TypeError`` for a name that is not a string, ``UnknownComponentError`` (a
``KeyError``) for an absent name, ``RegistryCollisionError`` (a
``ValueError``) for a taken name. A stateful test checks register /
override / unregister / lookup sequences against a plain-dict model.
"""

from __future__ import annotations

import ast
import re
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from codex_ml.registry import (
    InvalidNameError,
    Registry,
    RegistryCollisionError,
    RegistryError,
    UnknownComponentError,
)

pytestmark = pytest.mark.slow  # kill trials, fuzzers, stress: `-m "not slow"` skips them locally

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALLOWED_PUNCT = "-_.:@/"


def private() -> Registry[Any]:
    return Registry("widgets", publish=False, factory=False)


def key(name: str) -> str:
    """The documented lookup key: strip, lower case, '-' and '_' alike."""
    return name.strip().lower().replace("-", "_")


def first_bad_char(name: str) -> str | None:
    """The character the error must name, '' for an empty name, None if the name is valid."""
    stripped = name.strip()
    if not stripped:
        return ""
    for char in stripped:
        if not (char.isascii() and char.isalnum()) and char not in ALLOWED_PUNCT:
            return char
    return None


valid_names = st.text(alphabet=string.ascii_letters + string.digits + ALLOWED_PUNCT, min_size=1,
                      max_size=24).filter(lambda s: s.strip() != "")
any_text = st.text(max_size=40)
not_text = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.binary(max_size=8),
                     st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                          max_size=2))


# ------------------------------------------------------------------- names
@FUZZ
@given(name=any_text)
@example(name="0\xa0")  # Unicode whitespace around an ASCII name: stripped on register and on lookup
def test_register_accepts_exactly_the_documented_names(name: str) -> None:
    reg, obj = private(), object()
    bad = first_bad_char(name)
    if bad is None:
        assert reg.register(name, obj) is obj
        display = name.strip()
        assert reg.list() == [display]  # the first spelling is kept for display
        for spelling in (name, display, display.upper(), display.lower(), display.replace("-", "_"),
                         display.replace("_", "-"), f"  {display}\t"):
            assert spelling in reg and reg.get(spelling) is obj and reg[spelling] is obj
        assert reg.metadata(name)["name"] == display
        assert reg.search(display)[:1] == [display]
    else:
        problem = f"character {bad!r} is not allowed" if bad else "it is empty"
        with pytest.raises(InvalidNameError, match=re.escape(problem)) as info:
            reg.register(name, obj)
        assert isinstance(info.value, ValueError) and isinstance(info.value, RegistryError)
        assert f"invalid widget name {name!r}" in str(info.value)
        assert reg.list() == [] and len(reg) == 0
        suggested = re.search(r"e\.g\. (.+)\.$", str(info.value))
        assert suggested, str(info.value)
        reg.register(ast.literal_eval(suggested.group(1)), obj)  # the suggested name is a valid one


@FUZZ
@given(name=not_text)
def test_names_that_are_not_text_are_a_type_error(name: Any) -> None:
    reg = private()
    with pytest.raises(TypeError, match=r"name must be a str, got "):
        reg.register(name, object())
    with pytest.raises(TypeError, match=r"name must be a str, got "):
        reg.get(name)
    with pytest.raises(TypeError, match=r"name must be a str, got "):
        reg[name]
    with pytest.raises(TypeError, match=r"name must be a str, got "):
        reg.metadata(name)
    assert (name in reg) is False


@pytest.mark.parametrize("call", ["search", "unregister"])
def test_search_and_unregister_reject_non_text_clearly(call: str) -> None:
    reg = private()
    with pytest.raises(TypeError, match=r"must be a str"):
        getattr(reg, call)(3)


# ----------------------------------------------------------------- lookups
@pytest.fixture(scope="module")
def populated() -> tuple[Registry[Any], dict[str, object]]:
    reg = private()
    objects: dict[str, object] = {}
    for name in ["accuracy@token", "offline:tiny-vocab", "openai/gpt-4o", "decoder_only", "MiniLM", "a.b",
                 "x", "k"]:
        objects[key(name)] = reg.register(name, object(), description=f"the {name} widget",
                                          tags=("fuzz", name[:1]))
    return reg, objects


@FUZZ
@given(query=any_text)
def test_lookups_with_any_text_never_misbehave(populated: tuple[Registry[Any], dict[str, object]],
                                               query: str) -> None:
    reg, objects = populated
    expected = objects.get(key(query))
    assert (query in reg) is (expected is not None)
    assert reg.get(query) is expected
    sentinel = object()
    assert reg.get(query, sentinel) is (expected if expected is not None else sentinel)
    if expected is None:
        with pytest.raises(UnknownComponentError) as info:
            reg[query]
        assert isinstance(info.value, KeyError)
        assert str(info.value).startswith(f"unknown widget {query!r}.")
        assert "Fix:" in str(info.value)
        with pytest.raises(KeyError, match=re.escape(f"unknown widget {query!r}")):
            reg.metadata(query)
        with pytest.raises(KeyError, match=re.escape(f"unknown widget {query!r}")):
            reg.create(query)
        with pytest.raises(KeyError, match=re.escape(f"unknown widget {query!r}")):
            reg.unregister(query)
    else:
        assert reg[query] is expected and reg.create(query) is expected
    found = reg.search(query)
    assert set(found) <= set(reg.list()) and len(found) == len(set(found))
    if expected is not None:
        assert found[0] == reg.metadata(query)["name"]  # an exact match ranks first
    assert len(reg) == len(objects)  # looking never changes what is registered


# ---------------------------------------------------------------- metadata
_RESERVED = {"name", "obj", "override", "factory", "aliases", "tags", "kind", "loaded", "target",
             "provenance", "error", "self"}
meta_keys = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(lambda k: k not in _RESERVED)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=10)
tag_text = st.text(alphabet=string.ascii_letters + string.digits + "-_ .:", min_size=1, max_size=12).filter(
    lambda t: t.strip() != "")


@FUZZ
@given(name=valid_names, metadata=st.dictionaries(meta_keys, json_values, max_size=6),
       tags=st.lists(tag_text, max_size=4))
def test_metadata_round_trips(name: str, metadata: dict[str, Any], tags: list[str]) -> None:
    reg, obj = private(), object()
    reg.register(name, obj, tags=tags, **metadata)
    meta = reg.metadata(name)
    for k, v in metadata.items():
        assert meta[k] == v
    assert meta["tags"] == tuple(tags)
    for std in ("version", "author", "description", "tags"):
        assert std in meta  # every entry has the standard keys
    assert meta["provenance"]["source"] == "in-process"
    for tag in tags:
        assert reg.list(tags=[tag]) == [name.strip()]
        assert name.strip() in reg.search(tag)


def test_a_single_string_tag_is_one_tag() -> None:
    reg = private()
    reg.register("lm", object(), tags="causal-lm")
    assert reg.metadata("lm")["tags"] == ("causal-lm",)


def test_tags_that_are_not_a_list_get_a_clear_error() -> None:
    with pytest.raises(TypeError, match="tags"):
        private().register("lm", object(), tags=5)


# ------------------------------------------------------------------ aliases
def test_failed_register_leaves_nothing_behind() -> None:
    reg = private()
    reg.register("taken", object())
    with pytest.raises(RegistryCollisionError, match="'taken' is already registered"):
        reg.register("newcomer", object(), aliases=("taken",))
    assert "newcomer" not in reg and reg.list() == ["taken"]


def test_alias_of_another_entry_cannot_be_taken_silently() -> None:
    reg = private()
    first = reg.register("first", object(), aliases=("old-name",))
    with pytest.raises(RegistryCollisionError, match="old-name"):
        reg.register("second", object(), aliases=("old-name",))
    assert reg.get("old-name") is first


# ---------------------------------------------------------- stateful model
small_names = st.text(alphabet="aB-_", min_size=1, max_size=3)  # many spellings of few keys


class RegistryModel(RuleBasedStateMachine):
    """Register / override / unregister / look up against a dict keyed like the registry."""

    names = Bundle("names")

    def __init__(self) -> None:
        super().__init__()
        self.reg = private()
        self.model: dict[str, tuple[str, object]] = {}  # key -> (display name, object)

    @rule(target=names, name=small_names)
    def register(self, name: str) -> str:
        obj = object()
        k = key(name)
        if k in self.model:
            with pytest.raises(RegistryCollisionError, match="is already registered"):
                self.reg.register(name, obj)
        else:
            assert self.reg.register(name, obj) is obj
            self.model[k] = (name, obj)
        return name

    @rule(name=names)
    def register_same_object_again(self, name: str) -> None:
        if key(name) in self.model:
            display, obj = self.model[key(name)]
            self.reg.register(name.upper(), obj)  # a no-op: re-imports are safe
            assert self.reg.list().count(display) == 1

    @rule(target=names, name=small_names)
    def override(self, name: str) -> str:
        obj = object()
        self.reg.register(name, obj, override=True)
        self.model[key(name)] = (name, obj)  # last write wins, with its spelling
        return name

    @rule(name=names)
    def unregister(self, name: str) -> None:
        if key(name) in self.model:
            self.reg.unregister(name)
            del self.model[key(name)]
        else:
            with pytest.raises(UnknownComponentError):
                self.reg.unregister(name)

    @rule(name=small_names)
    def look_up(self, name: str) -> None:
        expected = self.model.get(key(name))
        assert self.reg.get(name) is (expected[1] if expected else None)

    @invariant()
    def list_matches_get(self) -> None:
        listed = self.reg.list()
        assert sorted(listed, key=key) == sorted((d for d, _ in self.model.values()), key=key)
        for display in listed:
            assert self.reg.get(display) is self.model[key(display)][1]
        assert len(self.reg) == len(self.model)


TestRegistryModel = RegistryModel.TestCase
TestRegistryModel.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)


@FUZZ
@given(old=valid_names, new=valid_names)
def test_deprecated_names_resolve_and_warn(old: str, new: str) -> None:
    assume(key(old) != key(new))
    reg = private()
    obj = reg.register(new, object())
    reg.deprecate(old, new, f"{old} is old")
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} is old")):
        assert reg.get(old) is obj
    assert reg.list() == [new.strip()]
