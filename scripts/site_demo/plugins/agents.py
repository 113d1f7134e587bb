"""An agent whose control flow is a graph: it exposes ``mermaid()``, the docs draw it."""

from __future__ import annotations

from codex_ml.registry import register_agent


class ReviewAgent:
    """Plans, searches the catalogue, drafts an answer and loops until a check passes."""

    name = "review-agent"

    def mermaid(self) -> str:
        return """graph TD
    plan[Plan] --> search[Search the catalogue]
    search --> draft[Draft an answer]
    draft --> check{Check}
    check -->|fails| plan
    check -->|passes| answer[Answer]"""

    def __call__(self, question: str) -> str:
        return f"plan, search, draft, check: {question}"


register_agent("review-agent", ReviewAgent(), description="Plan, search, draft, check: loops until the check passes.",
               tags=("agent", "graph", "demo"), version="0.3")
