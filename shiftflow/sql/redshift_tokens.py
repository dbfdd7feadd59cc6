"""sqlglot's Redshift tokenizer, with one gap closed: `$1,$2` are positional parameters, not a dollar quote.

Redshift, as PostgreSQL, opens a dollar-quoted string only with `$$` or `$tag$`, the tag an identifier (letters,
digits and underscores, not starting with a digit). sqlglot 30.30 takes any text without a blank up to the next `$`
for a tag, so an SQL UDF body such as `dateadd(year, -1*$1::int, $1)` (`$1::int, $` read as a tag) or `f($1,$2)`
fails to tokenize. Drop this module once sqlglot's TokenizerCore._scan_string checks the tag.
"""

from __future__ import annotations

import re

from sqlglot.dialects.redshift import Redshift
from sqlglot.tokenizer_core import TokenizerCore

_DOLLAR_QUOTE_OPENING = re.compile(r"\$(?:[^\W\d]\w*)?\$")


class _TagCheckingCore(TokenizerCore):
    __slots__ = ()

    def _scan_string(self, start: str) -> bool:
        if start == "$" and not _DOLLAR_QUOTE_OPENING.match(self.sql, self._current - 1):
            # a `$` that opens no dollar quote: the parameter marker sqlglot falls back to for `$1 `
            self._add(self.heredoc_string_alternative)
            return True
        return super()._scan_string(start)


class RedshiftTokenizer(Redshift.Tokenizer):
    def _init_core(self) -> TokenizerCore:
        core = super()._init_core()
        core.__class__ = _TagCheckingCore  # same slots: only _scan_string differs
        return core


class RedshiftDialect(Redshift):
    """sqlglot's Redshift, tokenized by RedshiftTokenizer: the base of the splitter's and the translator's dialect."""

    Tokenizer = RedshiftTokenizer
