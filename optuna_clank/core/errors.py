"""The one exception family the command line reports as a plain ``error:`` line (exit 2)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (a bad file, key, option or address); ``str()`` is one line."""
