"""The Registry contract (docs/guides/registries.md), on private registries."""

from __future__ import annotations

import re
import warnings

import pytest

from codex_ml.models import BaseModel
from codex_ml.pipelines import BasePipeline
from codex_ml.registry import (
    InvalidNameError,
    Registry,
    RegistryCollisionError,
    RegistryError,
    UnknownComponentError,
    data_loader_registry,
    model_registry,
    pipeline_registry,
    trainer_registry,
)
from codex_ml.training import BaseTrainer


def build(**kwargs):
    return {"built": kwargs}


# ---------------------------------------------------------------- names
@pytest.mark.parametrize("registered, asked", [
    ("MiniLM", "minilm"), ("minilm", "MiniLM"), ("decoder_only", "decoder-only"),
    ("decoder-only", "DECODER_ONLY"), ("  padded ", "padded"),
])
def test_names_are_normalised(fresh: Registry, registered: str, asked: str) -> None:
    fresh.register(registered, build)
    assert fresh.get(asked) is build
    assert fresh.list() == [registered.strip()]  # first spelling kept for display


@pytest.mark.parametrize("name", ["accuracy@token", "offline:tiny-vocab", "openai/gpt-4o", "a.b_c-d"])
def test_allowed_punctuation(fresh: Registry, name: str) -> None:
    fresh.register(name, build)
    assert name in fresh


@pytest.mark.parametrize("name, char", [("a b", " "), ("bad!", "!"), ("x$y", "$"), ("tab\tx", "\t"), ("é", "é")])
def test_bad_characters_name_the_character(fresh: Registry, name: str, char: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"character {char!r} is not allowed")) as info:
        fresh.register(name, build)
    assert isinstance(info.value, InvalidNameError) and isinstance(info.value, RegistryError)


def test_empty_and_non_string_names(fresh: Registry) -> None:
    with pytest.raises(ValueError, match="it is empty"):
        fresh.register("  ", build)
    with pytest.raises(TypeError, match="name must be a str"):
        fresh.register(3, build)  # type: ignore[call-overload]


# ------------------------------------------------------------- register
def test_decorator_and_direct_return_the_object(fresh: Registry) -> None:
    @fresh.register("deco", version="1.0", author="me")
    def deco(**kwargs):
        return kwargs

    assert fresh.register("direct", build) is build
    assert fresh.get("deco") is deco and fresh.get("direct") is build
    meta = fresh.metadata("deco")
    assert (meta["version"], meta["author"], meta["tags"]) == ("1.0", "me", ())
    assert set(meta) >= {"version", "author", "description", "tags", "provenance"}


def test_same_object_again_is_a_no_op(fresh: Registry) -> None:
    fresh.register("x", build)
    fresh.register("x", build)
    assert fresh.list() == ["x"]


def test_collision_names_both_provenances(fresh: Registry) -> None:
    def first(): ...
    def second(): ...
    fresh.register("dup", first)
    with pytest.raises(RegistryCollisionError, match=r"'DUP' is already registered \(as 'dup'\) by .*first.*test_registry\.py:\d+.*second.*override=True") as info:
        fresh.register("DUP", second)
    assert isinstance(info.value, ValueError)
    assert fresh.get("dup") is first  # nothing lost


def test_override_replaces_last_write_wins(fresh: Registry) -> None:
    def first(): ...
    def second(): ...
    fresh.register("dup", first)
    fresh.register("dup", second, override=True)
    assert fresh.get("dup") is second


def test_provenance_records_module_qualname_file_line(fresh: Registry) -> None:
    fresh.register("p", build)
    prov = fresh.metadata("p")["provenance"]
    assert prov["module"] == __name__ and prov["qualname"] == "build"
    assert prov["file"].endswith("test_registry.py") and prov["line"] > 0
    assert prov["source"] == "in-process"


# ------------------------------------------------------ interface checks
def test_model_class_must_implement_forward() -> None:
    with model_registry.snapshot():
        with pytest.raises(TypeError, match=r"^Model class MyModel .*must implement forward\(\) method$"):
            @model_registry.register("my-model")
            class MyModel(BaseModel):
                pass
        assert "my-model" not in model_registry


def test_seed_003_plugin_types_register() -> None:
    with model_registry.snapshot(), trainer_registry.snapshot(), pipeline_registry.snapshot(), \
            data_loader_registry.snapshot():
        @model_registry.register("my-model", version="1.0", author="you")
        class MyModel(BaseModel):
            def __init__(self, config):
                super().__init__(config)

            def forward(self, x):
                return x * 2

        @trainer_registry.register("my-trainer")
        class MyTrainer(BaseTrainer):
            def training_step(self, batch, batch_idx):
                return batch

            def validation_step(self, batch, batch_idx):
                return batch

        @pipeline_registry.register("my-pipe")
        class MyPipeline(BasePipeline):
            def run(self, *args, **kwargs):
                return "ran"

        @data_loader_registry.register("my-data")
        class MyDataset:
            def __len__(self):
                return 2

            def __getitem__(self, idx):
                return idx

        from codex_ml.registry import get_model, get_model_metadata
        model_cls = get_model("my-model")  # the class comes back (docs/compatibility.md)
        assert model_cls is MyModel and model_cls({"a": 1})(3) == 6
        assert get_model_metadata("my-model")["author"] == "you"
        assert pipeline_registry.create("my-pipe").run() == "ran"
        # get_<kind>(name, **kwargs) is create(): kwargs build it, as does a no-argument class
        assert isinstance(get_model("my-model", config={"a": 1}), MyModel)
        from codex_ml.registry import get_pipeline
        assert isinstance(get_pipeline("my-pipe"), MyPipeline)


@pytest.mark.parametrize("registry, missing", [
    (trainer_registry, r"Trainer class Half .*must implement validation_step\(\) method"),
    (pipeline_registry, r"Pipeline class Half .*must implement run\(\) method"),
    (data_loader_registry, r"Dataset class Half .*must implement __len__\(\) and __getitem__\(\) methods"),
])
def test_interface_messages(registry: Registry, missing: str) -> None:
    class Half(BaseTrainer if registry is trainer_registry else object):  # type: ignore[misc]
        def training_step(self, batch, batch_idx):
            return None

    with registry.snapshot(), pytest.raises(TypeError, match=missing):
        registry.register("half", Half)


def test_iterable_dataset_passes() -> None:
    class Stream:
        def __iter__(self):
            return iter([1, 2])

    with data_loader_registry.snapshot():
        data_loader_registry.register("stream", Stream)
        assert list(data_loader_registry.create("stream")) == [1, 2]


def test_factory_products_are_checked_at_create() -> None:
    class NoForward:
        pass

    with model_registry.snapshot():
        model_registry.register("fac", lambda **kw: NoForward())
        with pytest.raises(TypeError, match=r"Model class NoForward .*must implement forward\(\) method"):
            model_registry.create("fac")
        # factories may return (model, tokenizer) pairs (docs/compatibility.md); the model is checked
        model_registry.register("pair", lambda **kw: (NoForward(), "tok"))
        with pytest.raises(TypeError, match="NoForward"):
            model_registry.create("pair")


def test_a_value_where_a_model_class_belongs_is_refused_at_registration() -> None:
    with model_registry.snapshot():
        with pytest.raises(TypeError, match=r"^model 'five' \(.*\) is the int value 5: neither a model class nor "
                                            r"a factory, and it does not implement forward\(\)\. Fix: register"):
            model_registry.register("five", 5)
        assert "five" not in model_registry


def test_a_ready_made_dataset_object_is_registered_as_itself() -> None:
    class Rows:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    rows = Rows()
    with data_loader_registry.snapshot():
        data_loader_registry.register("rows", rows)
        assert data_loader_registry.create("rows") is rows  # not called: an instance is no factory
        with pytest.raises(TypeError, match=r"^dataset 'number' .* it does not implement __len__\(\) and "):
            data_loader_registry.register("number", 3)


def test_a_component_object_is_itself_even_when_it_can_be_called() -> None:
    import functools

    class Model:
        def forward(self, x):
            return x

        __call__ = forward  # as torch modules are

    class Builder:
        def __call__(self, **kwargs):
            return Model()

    model = Model()
    with model_registry.snapshot():
        model_registry.register("instance", model)
        assert model_registry.create("instance") is model  # not called: it is the model
        with pytest.raises(TypeError, match=r"^model 'instance' is a registered model object, not a factory, so "
                                            r"it takes no arguments \(got dtype\)\. Fix: "):
            model_registry.create("instance", dtype="float16")
        model_registry.register("partial", functools.partial(Model))
        assert isinstance(model_registry.create("partial"), Model)  # a partial builds
        with pytest.raises(TypeError, match=r"^model 'builder' .* does not implement forward\(\)\. Fix: .* "
                                            r"\(or pass factory=True: calling it builds one\)\.$"):
            model_registry.register("builder", Builder())
        model_registry.register("builder", Builder(), factory=True)
        assert isinstance(model_registry.create("builder"), Model)


def test_only_a_callable_can_be_a_factory(fresh: Registry) -> None:
    fresh.register("answer", 42)  # the registry builds by default; a value is kept as a value
    assert fresh.get("answer") == 42 and fresh.create("answer") == 42
    with pytest.raises(TypeError, match=r"^widget 'x' was registered with factory=True, but int 3 cannot be "
                                        r"called\. Fix: .* pass factory=False"):
        fresh.register("x", 3, factory=True)
    assert "x" not in fresh


# ---------------------------------------------------------------- lookup
def test_get_default_and_getitem_unknown(fresh: Registry) -> None:
    fresh.register("offline:tiny-vocab", build)
    sentinel = object()
    assert fresh.get("nope", sentinel) is sentinel
    assert fresh.get("nope") is None
    with pytest.raises(KeyError) as info:
        fresh["tiny-vocab"]
    err = info.value
    assert isinstance(err, UnknownComponentError)
    assert "did you mean 'offline:tiny-vocab'?" in str(err).lower()
    assert err.close_matches == ["offline:tiny-vocab"]
    assert any("codex_ml.test_widgets" in s for s in err.searched)


def test_create_and_resolve_and_instantiate(fresh: Registry) -> None:
    fresh.register("b", build)
    assert fresh.create("b", x=1) == {"built": {"x": 1}}
    assert fresh.resolve_and_instantiate("b", y=2) == {"built": {"y": 2}}


def test_plain_values_are_returned_as_is() -> None:
    values = Registry("values", factory=False, publish=False)

    def metric(predictions, targets=None, scale=1.0):
        return scale * len(predictions)

    values.register("m", metric)
    assert values.create("m") is metric
    assert values.create("m", scale=2.0)([1, 2]) == 4.0  # kwargs bind, nothing is called early
    values.register("const", 42)
    assert values.create("const") == 42


def test_dict_like_interface(fresh: Registry) -> None:
    fresh.register("b", build, tags=("x",))
    fresh.register("a", len, tags=("x", "y"))
    assert fresh.list() == ["a", "b"] and list(fresh) == ["a", "b"] and len(fresh) == 2
    assert fresh.values() == [len, build]
    assert fresh.items() == [("a", len), ("b", build)]
    assert "A" in fresh and "c" not in fresh and 3 not in fresh
    assert fresh.list(tags=["y"]) == ["a"]
    assert fresh.filter(lambda obj: obj is build) == {"b": build}


def test_search_is_ranked(fresh: Registry) -> None:
    for name, desc in [("gan", ""), ("gan-xl", ""), ("stylegan", ""), ("vae", "a gan-like model"),
                       ("gann", ""), ("other", "")]:
        fresh.register(name, lambda: None, description=desc)
    fresh.register("tagged", lambda: None, tags=("gan", "images"))
    # exact > prefix > substring > fuzzy over names, aliases, tags and description; a name first at a level
    assert fresh.search("gan") == ["gan", "tagged", "gan-xl", "gann", "stylegan", "vae"]
    assert fresh.search("imag") == ["tagged"]  # a tag's prefix
    assert fresh.search("gam")[:1] == ["gan"]  # fuzzy last resort
    assert fresh.search("stylgan") == ["stylegan", "gan"]  # the closest spelling first
    assert fresh.search("zzz") == []


def test_unregister(fresh: Registry) -> None:
    fresh.register("gone", build)
    fresh.unregister("GONE")
    assert "gone" not in fresh
    with pytest.raises(UnknownComponentError, match="unknown widget 'gone'"):
        fresh.unregister("gone")


def test_aliases_and_deprecation(fresh: Registry) -> None:
    fresh.register("new-name", build, aliases=("old-alias",))
    assert fresh.get("old_alias") is build
    fresh.deprecate("legacy", "new-name", "legacy is gone; use new-name")
    with pytest.warns(DeprecationWarning, match="legacy is gone"):
        assert fresh.get("legacy") is build
    assert fresh.list() == ["new-name"]
    assert "legacy" in fresh.list(include_deprecated=True)
    with pytest.raises(RegistryCollisionError, match="'new-name'"):
        fresh.register("other", len, aliases=("new-name",))


def test_in_process_wins_over_plugin_and_override(fresh: Registry) -> None:
    from codex_ml.registry._context import loading
    from codex_ml.registry._entry import ENTRY_POINT, Provenance

    fresh.register("x", build)
    plugin = Provenance(ENTRY_POINT, distribution="evil-plugin", entry_point="codex_ml.x:x = evil:x")
    with loading(plugin, fresh.kind):
        fresh.register("x", len)
    assert fresh.get("x") is build
    assert any("evil-plugin" in s for s in fresh.report().shadowed)
    with loading(plugin, fresh.kind):
        fresh.register("x", len, override=True)
    assert fresh.get("x") is len


def test_snapshot_restores_state(fresh: Registry) -> None:
    fresh.register("keep", build)
    with fresh.snapshot():
        fresh.register("temp", len)
        fresh.unregister("keep")
        assert fresh.list() == ["temp"]
    assert fresh.list() == ["keep"] and fresh.get("keep") is build


def test_refresh_keeps_in_process_registrations(fresh: Registry) -> None:
    fresh.register("mine", build)
    fresh.refresh()
    assert fresh.get("mine") is build


def test_seed_001_toy_tokenizer() -> None:
    from codex_ml.registry import get_tokenizer, register_tokenizer, tokenizer_registry

    with tokenizer_registry.snapshot():
        @register_tokenizer("toy")
        def build_toy_tokenizer(**kwargs):
            return {"vocab": kwargs.get("vocab", {})}

        assert get_tokenizer("toy", vocab={"a": 0, "b": 1}) == {"vocab": {"a": 0, "b": 1}}
    assert "toy" not in tokenizer_registry


def test_user_defined_kind_joins_the_registry_of_registries() -> None:
    from codex_ml.registry import PluginWarning, registries
    from codex_ml.registry.testing import isolated

    with isolated():
        schedulers = Registry("schedulers_test", entry_point_group="codex_ml.schedulers_test")
        assert registries.get("schedulers_test") is schedulers
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            again = Registry("schedulers_test")  # the same file again (a re-import): replaces, quietly
        assert registries.get("schedulers_test") is again
        with pytest.warns(PluginWarning, match=r"Registry\('schedulers_test'\) made at elsewhere\.py:1 replaces "
                          r"the one made by codex_ml\.registry\._registry:Registry \(\S+test_registry\.py:\d+\): "
                          r"the CLI, the docs and plugins now see the new one.*Fix: make the registry in one module"):
            namespace: dict[str, object] = {"Registry": Registry}
            exec(compile("other = Registry('schedulers_test')", "elsewhere.py", "exec"), namespace)  # noqa: S102
        assert registries.get("schedulers_test") is namespace["other"]
    assert "schedulers_test" not in registries


def test_a_registry_of_a_built_in_kind_stays_private_and_says_so() -> None:
    from codex_ml.registry import PluginWarning, registries
    from codex_ml.registry.testing import isolated

    with isolated():
        with pytest.warns(PluginWarning, match=r"Registry\('models'\) made at \S+test_registry\.py:\d+ stays "
                          r"private: 'models' is a built-in kind, and the CLI, the docs and plugins keep using "
                          r"codex_ml's registry \(built-in codex_ml\.registry\._kinds:models\)\. Fix: register "
                          r"into that one"):
            mine = Registry("models")
        assert registries.get("models") is model_registry and mine is not model_registry
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            Registry("models", publish=False)  # said to be private: nothing to say


@pytest.mark.parametrize("kind", [5, None, "", "  "])
def test_a_registry_kind_that_is_not_a_name_is_a_type_error(kind: object) -> None:
    with pytest.raises(TypeError, match=r"a registry's kind must be a non-empty str \(e\.g\. Registry\('schedulers'\)\)"):
        Registry(kind, publish=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "suggested"), [
    ("gpt2", ["gpt2-offline"]),                                   # the start of a name
    ("tiny-vocab", ["offline:tiny-vocab"]),                       # the name without its namespace
    ("offline:tiny-vocb", ["offline:tiny-vocab", "offline:tiny-corpus", "offline:tiny-sequence"]),  # closest first
    ("GPT2_OFLINE", ["gpt2-offline"]),                            # case, '-' and '_' alike
    ("zz", []),
])
def test_did_you_mean_puts_the_best_suggestion_first(typed: str, suggested: list[str]) -> None:
    from codex_ml.registry._search import close_matches

    names = ["gpt2-offline", "offline:tiny-vocab", "offline:tiny-corpus", "offline:tiny-sequence", "minilm"]
    assert close_matches(typed, names) == suggested


def test_a_lookup_miss_suggests_a_name_it_is_the_start_of(fresh: Registry[object]) -> None:
    fresh.register("gpt2-offline", object(), factory=False)
    with pytest.raises(UnknownComponentError, match=r"unknown widget 'gpt2'\. Did you mean 'gpt2-offline'\?"):
        fresh["gpt2"]
