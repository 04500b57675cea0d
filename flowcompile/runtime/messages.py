"""The messages an agent receives: a system sentence and its rendered prompt.

The system sentence is the backend interface's `introduction`: the agent's
role, name and workflow, and for an agent inside a switch case the case it
handles; the user message is its prompt with its inputs.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from flowcompile.backends.base import Message, introduction

system_text = introduction
"""The system message of an agent (naming its switch case, if any)."""


def render_samples(texts: Sequence[str]) -> str:
    """The k samples of a replicated fork as numbered blocks."""
    return "\n\n".join(f"Sample {i}:\n{text}" for i, text in enumerate(texts, start=1))


def render_user(prompt: str | None, names: Sequence[str], texts: Sequence[str]) -> str:
    """The prompt template with `{name}` replaced by the matching input text.

    Inputs the template does not mention are appended as `\\n\\n{name}:\\n{text}`
    blocks, so an agent sees everything it is wired to; without a template the
    message is those blocks alone.
    """
    values = dict(zip(names, texts, strict=True))
    if prompt is None:
        return "\n\n".join(f"{name}:\n{text}" for name, text in values.items())
    mentioned = {field for _, field, _, _ in string.Formatter().parse(prompt) if field}
    body = prompt.format_map(values)
    extra = "".join(f"\n\n{name}:\n{text}" for name, text in values.items() if name not in mentioned)
    return body + extra


def agent_messages(
    role: str,
    agent: str,
    workflow: str,
    prompt: str | None,
    names: Sequence[str],
    texts: Sequence[str],
    case: str | None = None,
) -> tuple[Message, Message]:
    """The (system, user) messages of one agent call."""
    return (
        Message("system", system_text(role, agent, workflow, case)),
        Message("user", render_user(prompt, names, texts)),
    )
