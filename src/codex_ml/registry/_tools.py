"""Tool schemas (docs/guides/registries.md, "Tools and their schema").

A tool is a function registered with a JSON-schema-like description of its
parameters, generated from its signature or written by its author. On every
access the live signature is compared with the schema, so drift (a renamed,
added or retyped parameter) is caught before an agent calls the tool wrongly.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

from ._errors import ToolSignatureError

if TYPE_CHECKING:
    from typing import Any

_JSON_TYPES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "dict": "object",
    "None": "null",
}


def schema_from_signature(fn: Any) -> dict[str, Any]:
    """``{"type": "object", "properties": {...}, "required": [...]}`` of ``fn``."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for param in _parameters(fn):
        spec: dict[str, Any] = {}
        json_type = _json_type(param.annotation)
        if json_type:
            spec["type"] = json_type
        if param.default is param.empty:
            required.append(param.name)
        props[param.name] = spec
    return {"type": "object", "properties": props, "required": required}


def check(tool: str, fn: Any, schema: dict[str, Any], provenance: str) -> None:
    """Raise ``ToolSignatureError`` naming the first parameter that drifted."""
    live = schema_from_signature(fn)
    props = schema.get("properties")
    if not isinstance(props, dict):
        raise ToolSignatureError(tool, "<schema>", "cannot be checked: the schema has no 'properties' mapping", provenance)
    declared, actual = dict(props), live["properties"]
    for name in declared:
        if name not in actual:
            raise ToolSignatureError(tool, name, "is in the schema but not in the function's signature", provenance)
    for name in actual:
        if name not in declared:
            raise ToolSignatureError(tool, name, "is in the function's signature but not in the schema", provenance)
    required = set(schema.get("required", []))
    for name, spec in actual.items():
        _check_parameter(tool, name, spec, declared[name], name in live["required"], name in required, provenance)


def _check_parameter(
    tool: str, name: str, live: dict[str, Any], declared: Any, live_req: bool, decl_req: bool, provenance: str
) -> None:
    declared_type = declared.get("type") if isinstance(declared, dict) else None
    if live.get("type") and declared_type and live["type"] != declared_type:
        raise ToolSignatureError(
            tool, name, f"has type {live['type']!r} in the function but {declared_type!r} in the schema", provenance
        )
    if live_req != decl_req:
        now = "required" if live_req else "optional"
        raise ToolSignatureError(tool, name, f"is {now} in the function but not in the schema", provenance)


def _parameters(fn: Any) -> list[Any]:
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"tool {fn!r} has no inspectable signature: {exc}") from exc
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p for p in sig.parameters.values() if p.kind not in kinds]


def _json_type(annotation: Any) -> str:
    if annotation is None:
        return ""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    base = text.split("[", 1)[0].strip()
    return _JSON_TYPES.get(base, "")
