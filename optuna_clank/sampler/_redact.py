"""Redaction of anything key-like from the text that the LLM side stores or logs.

Answers end up in the study (``llm_rationale``) and error messages in the log; a model that
echoes a key, or a prompt injection that asks it to, must not put the key there. The parser
and the client both redact, so this sits below both.
"""

from __future__ import annotations

import os
import re

__all__ = ["redact_secrets"]

_SECRET_PATTERN = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}"  # OpenAI-style keys
    r"|Bearer\s+\S+"
    r"|(?:api[_-]?key|token|secret|password)\W+\S+"
    r"|\b[0-9a-fA-F]{24,}\b"  # long hex tokens
    r"|(?<![\w.-])(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[A-Za-z])[A-Za-z0-9+/_=-]{32,})",  # base64-like
    re.I,
)
_SECRET_ENV_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
_MIN_SECRET_CHARS = 8
_REDACTED = "[redacted]"


def redact_secrets(text: str) -> str:
    """``text`` with anything that looks like a key, and the values of key-like env vars, replaced.

    LLM answers are stored (``llm_rationale``) and logged; a model that echoes a key, or a
    prompt injection that asks it to, must not put the key into the study.
    """
    for name, value in os.environ.items():
        if len(value) >= _MIN_SECRET_CHARS and any(word in name.upper() for word in _SECRET_ENV_WORDS):
            text = text.replace(value, _REDACTED)
    return _SECRET_PATTERN.sub(_REDACTED, text)
