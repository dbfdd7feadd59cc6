"""Transaction control, COPY and UNLOAD, recognised from their leading tokens before any parsing.

COPY and UNLOAD are read token by token: sqlglot parses Redshift COPY options into wrongly paired
CopyParameter nodes (`csv ignoreheader 1` becomes csv=ignoreheader, 1=delimiter ...) and UNLOAD only as a Command.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.commands.tokens import identifier, word
from shiftflow.dataapi.translate.model import NotSupportedLocally, S3Command, TransactionControl
from shiftflow.sql.splitter import tokenize

_BEGIN_WORDS = {"BEGIN", "START"}
_COMMIT_WORDS = {"COMMIT", "END"}
_ROLLBACK_WORDS = {"ROLLBACK", "ABORT"}
# What may follow the verb: BEGIN [WORK | TRANSACTION] [ISOLATION LEVEL ...] [READ WRITE | READ ONLY].
_TRANSACTION_TAIL = {"WORK", "TRANSACTION", "ISOLATION", "LEVEL", "SERIALIZABLE", "READ", "WRITE", "ONLY",
                     "COMMITTED", "UNCOMMITTED", "REPEATABLE", ","}

# Options followed by a keyword value rather than a string or number (FORMAT AS CSV, IAM_ROLE DEFAULT ...).
_KEYWORD_VALUED = {"FORMAT", "IAM_ROLE", "COMPUPDATE", "STATUPDATE", "PARALLEL", "ENCODING", "MANIFEST"}
_KEYWORD_VALUES = {"CSV", "JSON", "PARQUET", "ORC", "AVRO", "FIXEDWIDTH", "SHAPEFILE", "DEFAULT", "ON", "OFF",
                   "TRUE", "FALSE", "PRESET", "VERBOSE", "UTF8", "UTF16", "UTF16LE", "UTF16BE"}


def transaction_control(tokens: list[Token]) -> TransactionControl | None:
    """BEGIN, START TRANSACTION, COMMIT, END [TRANSACTION], ROLLBACK, ABORT; None for anything else."""
    if not tokens:
        return None
    verb = word(tokens[0])
    if verb == "START" and (len(tokens) < 2 or word(tokens[1]) != "TRANSACTION"):
        return None
    if any(word(token) not in _TRANSACTION_TAIL for token in tokens[1:]):
        return None
    if verb in _BEGIN_WORDS:
        return TransactionControl("begin")
    if verb in _COMMIT_WORDS:
        return TransactionControl("commit")
    if verb in _ROLLBACK_WORDS:
        return TransactionControl("rollback")
    return None


def _raw_string(statement: str, token: Token) -> str:
    """A string option's value as written: only doubled quotes are undone, so '\\N' stays backslash-N."""
    return statement[token.start + 1 : token.end].replace("''", "'")


def _options(statement: str, tokens: list[Token]) -> tuple[tuple[str, str], ...]:
    """Redshift's `NAME [AS] value | NAME` option lists, names upper-cased, FORMAT AS X folded into X."""
    options: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        name = word(tokens[i])
        i += 1
        if name == "PARTITION":  # UNLOAD ... PARTITION BY (...): the whole clause is unsupported
            raise NotSupportedLocally("UNLOAD option PARTITION BY")
        if i < len(tokens) and tokens[i].token_type == TokenType.ALIAS:
            i += 1
        value = ""
        if i < len(tokens) and tokens[i].token_type == TokenType.STRING:
            value, i = _raw_string(statement, tokens[i]), i + 1
        elif i < len(tokens) and tokens[i].token_type == TokenType.NUMBER:
            value, i = tokens[i].text, i + 1
            if i < len(tokens) and word(tokens[i]) in {"MB", "GB"}:  # MAXFILESIZE 100 MB
                value, i = f"{value} {word(tokens[i])}", i + 1
        elif name in _KEYWORD_VALUED and i < len(tokens) and word(tokens[i]) in _KEYWORD_VALUES:
            value, i = word(tokens[i]), i + 1
        if name == "FORMAT" and value in {"CSV", "JSON", "PARQUET", "ORC", "AVRO", "FIXEDWIDTH", "SHAPEFILE"}:
            name, value = value, ""
            if i < len(tokens) and tokens[i].token_type == TokenType.STRING:  # FORMAT AS JSON 'auto'
                value, i = _raw_string(statement, tokens[i]), i + 1
        options.append((name, value))
    return tuple(options)


def parse_copy(statement: str, tokens: list[Token]) -> S3Command:
    """COPY table [(columns)] FROM 's3://...' options."""
    i = 1
    start = i
    while i < len(tokens) and tokens[i].token_type not in {TokenType.FROM, TokenType.L_PAREN}:
        i += 1
    table = identifier(tokens[start:i], statement)
    columns: list[str] = []
    if i < len(tokens) and tokens[i].token_type == TokenType.L_PAREN:
        i += 1
        while i < len(tokens) and tokens[i].token_type != TokenType.R_PAREN:
            if tokens[i].token_type != TokenType.COMMA:
                columns.append(identifier([tokens[i]], statement))
            i += 1
        i += 1
    if not table or i + 1 >= len(tokens) or tokens[i].token_type != TokenType.FROM:
        raise NotSupportedLocally("COPY without FROM 's3://...'")
    source = tokens[i + 1]
    url = _raw_string(statement, source) if source.token_type == TokenType.STRING else ""
    if not url.startswith("s3://"):
        raise NotSupportedLocally(f"COPY from {url or source.text!r} (only s3:// sources)")
    return S3Command(kind="copy", url=url, table=table, columns=tuple(columns),
                     options=_options(statement, tokens[i + 2 :]))


def parse_unload(statement: str, tokens: list[Token]) -> S3Command:
    """UNLOAD ('query') TO 's3://...' options. The tokenizer returns everything after UNLOAD as one string."""
    rest_start = tokens[0].end + 1
    rest = statement[rest_start:]
    inner = tokenize(rest)
    if (len(inner) < 5 or inner[0].token_type != TokenType.L_PAREN or inner[1].token_type != TokenType.STRING
            or inner[2].token_type != TokenType.R_PAREN or word(inner[3]) != "TO"
            or inner[4].token_type != TokenType.STRING):
        raise NotSupportedLocally("UNLOAD not of the form UNLOAD ('query') TO 's3://...'")
    url = _raw_string(rest, inner[4])
    if not url.startswith("s3://"):
        raise NotSupportedLocally(f"UNLOAD to {url!r} (only s3:// targets)")
    # The query's quotes are escaped as '' or \' ; the tokenizer's text has both undone.
    return S3Command(kind="unload", url=url, query=inner[1].text, options=_options(rest, inner[5:]))
