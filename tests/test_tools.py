"""Tools and their schemas, kept at registration and checked for drift (docs/compatibility.md)."""

from __future__ import annotations

import pytest

from codex_ml.registry import ToolSignatureError, register_tool, tool, tool_registry


def test_schema_from_signature_and_drift() -> None:
    with tool_registry.snapshot():
        @tool
        def create_scatter(path: str, alpha: float = 0.5) -> str:
            return f"scatter:{path}:{alpha}"

        assert tool_registry.get("create_scatter")("data.csv") == "scatter:data.csv:0.5"
        schema = tool_registry.metadata("create_scatter")["schema"]
        assert schema == {"type": "object", "required": ["path"],
                          "properties": {"path": {"type": "string"}, "alpha": {"type": "number"}}}

        def renamed(csv_path: str, alpha: float = 0.5) -> str:
            return csv_path

        create_scatter.__code__ = renamed.__code__  # the function changed under the registry
        with pytest.raises(ToolSignatureError, match=r"tool 'create_scatter' .* parameter 'path' is in the "
                           r"schema but not in the function's signature") as info:
            tool_registry.get("create_scatter")
        assert isinstance(info.value, TypeError) and info.value.parameter == "path"


def test_author_schema_is_checked_at_registration() -> None:
    def sentiment(text: str) -> float:
        return 0.0

    good = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    with tool_registry.snapshot():
        register_tool("sentiment", sentiment, schema=good)
        assert tool_registry.create("sentiment") is sentiment
        bad = {"type": "object", "properties": {"text": {"type": "integer"}}, "required": ["text"]}
        with pytest.raises(ToolSignatureError, match="parameter 'text' has type 'string' in the function but 'integer'"):
            register_tool("sentiment2", sentiment, schema=bad)


def test_tool_decorator_with_schema_and_required_drift() -> None:
    with tool_registry.snapshot():
        @tool(name="adder", schema={"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"]})
        def add(a, b):
            return a + b

        assert tool_registry.get("adder")(1, 2) == 3
        add.__defaults__ = (5,)  # 'b' became optional: the schema says required
        with pytest.raises(ToolSignatureError, match="parameter 'b' is optional in the function"):
            tool_registry.get("adder")


def test_tool_must_be_callable() -> None:
    with pytest.raises(TypeError, match="tool 'x' must be callable"):
        register_tool("x", 42)
