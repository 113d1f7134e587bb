"""``offline:scripted``: a rule-based policy read from ``policy.json``.

::

    {"default_action": "explore",
     "rules": [{"contains": "hello", "action": "greet"},
               {"field": "obstacle", "equals": true, "action": "turn_left"},
               {"equals": 0, "action": "start"}]}

Rules are tried in order and the first that matches gives the action; if
none matches, ``default_action``. A rule has an ``action`` and one matcher:

* ``{"equals": V}``: the observation equals ``V``;
* ``{"contains": "s"}``: ``"s"`` occurs in the observation's text (case-insensitive);
* ``{"field": "k", "equals": V}``: the observation is a mapping and ``obs["k"] == V``.

The agent is deterministic; it counts its steps (``steps``) and ``reset()``
sets them back to zero.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_ml.catalogue import paths
from codex_ml.catalogue.jsonfile import FixtureError, field, load_json_object, reject_unknown

_WHAT = "scripted agent policy"
_KEYS = ("name", "description", "default_action", "rules")
_MISSING = object()


@dataclass(frozen=True)
class Rule:
    """One ``if observation matches: action`` line of the policy."""

    action: Any
    equals: Any = _MISSING
    contains: str | None = None
    field: str | None = None

    def matches(self, observation: Any) -> bool:
        if self.field is not None:
            if not isinstance(observation, Mapping) or self.field not in observation:
                return False
            return _same(observation[self.field], self.equals)
        if self.contains is not None:
            return self.contains.lower() in str(observation).lower()
        return _same(observation, self.equals)


def _same(a: Any, b: Any) -> bool:
    """Equality where ``True``/``False`` never equal ``1``/``0`` (JSON keeps them apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _parse_rule(raw: object, index: int, file: Path) -> Rule:
    where = f"{_WHAT} {file}: rules[{index}]"
    if not isinstance(raw, dict) or "action" not in raw:
        raise FixtureError(f"{where} must be an object with an 'action', found {raw!r}")
    unknown = sorted(set(raw) - {"action", "equals", "contains", "field"})
    if unknown:
        raise FixtureError(
            f"{where} has unknown key(s) {unknown}; use equals, contains or field+equals"
        )
    if "contains" in raw:
        if len(raw) != 2 or not isinstance(raw["contains"], str):
            raise FixtureError(f"{where}: 'contains' takes a string and no other matcher")
        return Rule(raw["action"], contains=raw["contains"])
    if "equals" not in raw:
        raise FixtureError(
            f"{where} needs a matcher: 'equals', 'contains', or 'field' with 'equals'"
        )
    if "field" in raw and not isinstance(raw["field"], str):
        raise FixtureError(f"{where}: 'field' must be a string key, found {raw['field']!r}")
    return Rule(raw["action"], equals=raw["equals"], field=raw.get("field"))


class ScriptedAgent:
    """``act(observation) -> action`` by the first matching rule of a fixed policy."""

    def __init__(self, rules: list[Rule], default_action: Any, *, name: str = "scripted") -> None:
        self.rules = list(rules)
        self.default_action = default_action
        self.name = name
        self.steps = 0

    def act(self, observation: Any) -> Any:
        self.steps += 1
        for rule in self.rules:
            if rule.matches(observation):
                return rule.action
        return self.default_action

    __call__ = act

    def reset(self) -> None:
        self.steps = 0

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ScriptedAgent:
        file = Path(path)
        data = load_json_object(file, _WHAT)
        reject_unknown(data, _KEYS, file, _WHAT)
        if "default_action" not in data:
            raise FixtureError(
                f"{_WHAT} {file} is missing 'default_action' (the action when no rule matches)"
            )
        rules_raw = field(data, "rules", list, file, _WHAT, default=[])
        rules = [_parse_rule(r, i, file) for i, r in enumerate(rules_raw)]
        name = field(data, "name", str, file, _WHAT, default="scripted")
        return cls(rules, data["default_action"], name=name)

    def __repr__(self) -> str:
        return f"ScriptedAgent(name={self.name!r}, rules={len(self.rules)})"


def build_scripted_agent(path: str | os.PathLike[str] | None = None) -> ScriptedAgent:
    """Catalogue factory of ``offline:scripted`` (``artifacts/rl/scripted_agent/policy.json``)."""
    return ScriptedAgent.from_file(paths.resolve("scripted_agent", path))
