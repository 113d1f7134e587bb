"""Complete, runnable examples of extending codex_ml (seed 003's ``examples/custom_plugin.py``).

    python examples/custom_plugin.py

1. directory plugins: a model, a trainer, a pipeline and a dataset written as
   plugin files into a temporary folder, discovered, looked up and used;
2. in-process registration: a tokenizer and a metric, decorator and direct;
3. a kind of your own (``schedulers``), which the CLI lists like the others;
4. what the errors look like: an unknown name, a class missing a method.

Entry-point plugins (installed packages) are shown in
docs/guides/entry_points.md and examples/plugins/.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from codex_ml.registry import (
    Registry,
    UnknownComponentError,
    discover_plugins,
    get_dataset,
    get_metric,
    get_model,
    get_model_metadata,
    get_pipeline,
    get_tokenizer,
    get_trainer,
    print_registry_summary,
    register_metric,
    register_model,
    register_tokenizer,
    search_models,
    set_auto_discover,
)

PLUGIN_FILES = {
    "models/scaler.py": '''
        from codex_ml.models import BaseModel
        from codex_ml.registry import register_model


        @register_model("scaler", version="1.0", author="examples", description="Multiplies by a factor",
                        tags=("toy", "example"))
        class Scaler(BaseModel):
            """y = factor * x"""

            def __init__(self, config):
                super().__init__(config)
                self.factor = config["factor"]

            def forward(self, x):
                return self.factor * x
        ''',
    "trainers/mean_loss.py": '''
        from codex_ml.registry import register_trainer
        from codex_ml.training import BaseTrainer


        @register_trainer("mean-loss", description="Reports the mean of a batch as its loss")
        class MeanLossTrainer(BaseTrainer):
            def training_step(self, batch, batch_idx):
                return {"loss": sum(batch) / len(batch), "batch": batch_idx}

            def validation_step(self, batch, batch_idx):
                return self.training_step(batch, batch_idx)
        ''',
    "pipelines/double_then_sum.py": '''
        from codex_ml.pipelines import BasePipeline
        from codex_ml.registry import get_model, register_pipeline


        @register_pipeline("double-then-sum")
        class DoubleThenSum(BasePipeline):
            def run(self, values):
                model = get_model("scaler")({"factor": 2})
                return sum(model(v) for v in values)
        ''',
    "data/squares.py": '''
        from codex_ml.registry import register_dataset


        @register_dataset("squares", description="The squares 0, 1, 4, ... of n integers")
        class Squares:
            def __init__(self, n=5):
                self.n = n

            def __len__(self):
                return self.n

            def __getitem__(self, idx):
                if not 0 <= idx < self.n:
                    raise IndexError(idx)
                return idx * idx
        ''',
}


def write_plugins(root: Path) -> None:
    for rel, code in PLUGIN_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip())


def directory_plugins(root: Path) -> None:
    print("1. directory plugins")
    write_plugins(root)
    set_auto_discover(False)  # we name the folder ourselves instead of ./plugins
    report = discover_plugins([root])
    assert not report.failed and not report.refused, (report.failed, report.refused)
    print(f"   imported {len(report.loaded)} plugin files")

    model = get_model("scaler")({"factor": 3})  # a class whose constructor needs a config
    assert model(14) == 42
    trainer = get_trainer("mean-loss")
    assert trainer.training_step([1, 2, 3], 0)["loss"] == 2.0
    assert get_pipeline("double-then-sum").run([1, 2, 3]) == 12
    assert list(get_dataset("squares", n=4)) == [0, 1, 4, 9]

    meta = get_model_metadata("scaler")
    print(f"   scaler: version {meta['version']} by {meta['author']}, from {meta['provenance']['summary']}")
    print(f"   search_models('scal') -> {search_models('scal')}")


def in_process() -> None:
    print("2. in-process registration")

    @register_tokenizer("whitespace", description="Splits on whitespace; ids are positions")
    def build_whitespace_tokenizer(**kwargs):
        class Whitespace:
            def __init__(self) -> None:
                self.vocab: dict[str, int] = {}

            def encode(self, text):
                return [self.vocab.setdefault(w, len(self.vocab)) for w in text.split()]

            def decode(self, ids):
                words = {i: w for w, i in self.vocab.items()}
                return " ".join(words[i] for i in ids)

            @property
            def vocab_size(self):
                return len(self.vocab)

        return Whitespace()

    def char_error_rate(predictions, targets=None, **kwargs):
        pairs = [(a, b) for p, t in zip(predictions, targets or []) for a, b in zip(p, t)]
        return sum(a != b for a, b in pairs) / len(pairs) if pairs else 0.0

    register_metric("char-error-rate", char_error_rate, tags=("text",))  # the direct form

    tokenizer = get_tokenizer("whitespace")
    ids = tokenizer.encode("to be or not to be")
    assert tokenizer.decode(ids) == "to be or not to be" and tokenizer.vocab_size == 4
    assert get_metric("char-error-rate")(["abc"], ["abd"]) == 1 / 3
    print(f"   whitespace tokenizer: {ids}; char-error-rate('abc', 'abd') = {1 / 3:.3f}")


def own_kind() -> None:
    print("3. a kind of your own")
    schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")

    @schedulers.register("step-decay", description="Halves the rate every `every` steps")
    def step_decay(every: int = 10):
        return lambda step: 0.5 ** (step // every)

    assert schedulers.create("step-decay", every=2)(4) == 0.25
    print(f"   schedulers: {schedulers.list()} (codex-ml ls would list this registry too)")


def errors() -> None:
    print("4. errors")
    try:
        get_model("scalar")
    except UnknownComponentError as exc:
        assert exc.close_matches == ["scaler"]
        print(f"   {str(exc)[:80]}...")
    try:
        @register_model("no-forward")
        class NoForward:
            pass
    except TypeError as exc:
        print(f"   {exc}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="codex-ml-plugins-") as folder:
        directory_plugins(Path(folder))
        in_process()
        own_kind()
        errors()
        print_registry_summary()


if __name__ == "__main__":
    main()
