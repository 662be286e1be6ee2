"""Settings that differ by document language.

Heuristic filters were tuned on English web text; Kazakh and Russian need their own
thresholds. A setting is either one value for every language, or a table keyed by the
document's `lang` with a "default" row, e.g. `{"default": 10, "kk": 13}`. A table given
by the user is laid over the operator's built-in table, so overriding one language
keeps the others.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT = "default"


def is_language_table(value: Any) -> bool:
    """A mapping keyed by language codes (strings); a mapping keyed by numbers is one value."""
    return isinstance(value, Mapping) and all(isinstance(key, str) for key in value)


class PerLanguage:
    """One setting, looked up by the document's language."""

    def __init__(self, value: Any, builtin: Any = None):
        if is_language_table(value):
            base = {} if builtin is None else builtin if is_language_table(builtin) else {DEFAULT: builtin}
            table = {**base, **value}
        else:
            table = {DEFAULT: value}
        if DEFAULT not in table:
            raise ValueError(f"a per-language setting needs a {DEFAULT!r} entry: {table}")
        self.table = table

    def __call__(self, lang: str | None) -> Any:
        return self.table.get(lang or DEFAULT, self.table[DEFAULT])

    def map(self, function) -> PerLanguage:
        """The same setting with `function` applied to each language's value (e.g. compiled once)."""
        return PerLanguage({lang: function(value) for lang, value in self.table.items()})
