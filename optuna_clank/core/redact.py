"""Database URLs with their passwords masked, so that logs, errors and notes never show a secret."""

from __future__ import annotations

import re

_SECRET_QUERY = re.compile(r"(?i)\b(password|passwd|pwd|sslpassword)=([^&;\s]*)")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe for logs and error messages.

    Works on text SQLAlchemy cannot parse too, and masks up to the LAST ``@`` before the
    query, so an unescaped ``@`` in a password never leaks its tail.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        query_at = rest.find("?")
        at = rest.rfind("@", 0, len(rest) if query_at < 0 else query_at)
        if at >= 0:
            user, colon, _ = rest[:at].partition(":")
            if colon and "/" not in user:
                rest = f"{user}:***{rest[at:]}"
        url = f"{scheme}{separator}{rest}"
    return _SECRET_QUERY.sub(r"\1=***", url)
