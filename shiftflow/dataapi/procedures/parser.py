"""CREATE PROCEDURE read into syntax.py's form: the signature, and the PL/pgSQL body Redshift supports
(c_PLpgSQL-structure.md, c_PLpgSQL-statements.md). Lexing is sqlglot's tokenizer (the project splitter's); the SQL a
statement carries is kept as a slice of the body's text. Anything outside that subset fails when the procedure is
created, with "not supported locally: <what>", never when it runs.
"""

from __future__ import annotations

import functools

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.procedures import syntax as s
from shiftflow.dataapi.translate.commands.tokens import closing_paren, expanded, word
from shiftflow.dataapi.translate.model import NotSupportedLocally, SqlSyntaxError, unterminated_text
from shiftflow.sql.splitter import SqlSplitError, tokenize

_MODES = {"IN", "OUT", "INOUT"}
_LEVELS = {"INFO", "NOTICE", "LOG", "WARNING", "EXCEPTION", "DEBUG"}
# Statements that are plain SQL, by their first word (the rest of Redshift's commands; COPY / UNLOAD refused).
_SQL_VERBS = {"INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "WITH", "CREATE", "DROP", "ALTER", "TRUNCATE",
              "ANALYZE", "VACUUM", "GRANT", "REVOKE", "COMMENT", "SET", "RESET", "LOCK", "REFRESH", "VALUES", "("}
_S3_COMMANDS = {"COPY", "UNLOAD"}
# First words of type names of more than one word: an unnamed argument's type, not a name and a type.
_MULTI_WORD_TYPES = {"DOUBLE", "CHARACTER", "CHAR", "NATIONAL", "TIMESTAMP", "TIME", "BIT"}


def tokens_of(text: str) -> list[Token]:
    """The text's tokens, with the arguments of commands (DECLARE, EXECUTE, FETCH ...) tokenized too."""
    tokens = expanded(text, tokenize(text))
    result: list[Token] = []
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else None
        # EXECUTE's arguments come back as one STRING token whose text is the source itself, right after the
        # verb (a literal's text has no quotes); its positions are not the source's.
        offset = text.find(token.text, previous.end + 1) if previous is not None else -1
        if previous is not None and previous.token_type == TokenType.EXECUTE and token.token_type == TokenType.STRING \
                and offset > previous.end and not text[previous.end + 1 : offset].strip():
            for inner in tokenize(token.text):
                result.append(Token(inner.token_type, inner.text, inner.line, inner.col, inner.start + offset,
                                    inner.end + offset, inner.comments))
        else:
            result.append(token)
    return result


@functools.lru_cache(maxsize=256)  # a procedure's definition is read on each CALL
def parse_procedure(statement: str) -> s.Procedure:
    try:
        tokens = tokenize(statement)
    except SqlSplitError as error:
        raise unterminated_text(statement, error) from None
    index = next(i for i, t in enumerate(tokens) if word(t) == "PROCEDURE") + 1
    schema, name, index = _qualified_name(tokens, index)
    if index >= len(tokens) or tokens[index].token_type != TokenType.L_PAREN:
        raise _syntax(tokens, index)
    close = _matching(tokens, index)
    arguments = tuple(_argument(statement, part) for part in _split_commas(tokens[index + 1 : close]))
    body: str | None = None
    nonatomic, settings, language, definer = False, [], None, False
    i = close + 1
    while i < len(tokens):
        w = word(tokens[i])
        if w == "AS" and i + 1 < len(tokens) and tokens[i + 1].token_type in (TokenType.HEREDOC_STRING,
                                                                             TokenType.STRING):
            body, i = tokens[i + 1].text, i + 2
        elif w == "LANGUAGE" and i + 1 < len(tokens):
            language, i = tokens[i + 1].text.lower(), i + 2
        elif w == "NONATOMIC":
            nonatomic, i = True, i + 1
        elif w == "SECURITY" and i + 1 < len(tokens):
            definer, i = word(tokens[i + 1]) == "DEFINER", i + 2
        elif w == "SET" and i + 3 < len(tokens):
            settings.append((tokens[i + 1].text.lower(), tokens[i + 3].text))
            i += 4
        else:
            raise _syntax(tokens, i)
    if language != "plpgsql":
        raise NotSupportedLocally(f"stored procedures in LANGUAGE {language or '(none)'}")
    if body is None:
        raise _syntax(tokens, len(tokens) - 1)
    if settings:
        raise NotSupportedLocally("CREATE PROCEDURE ... SET configuration options")
    block = BodyParser(body).procedure_block()
    return s.Procedure(schema, name, arguments, block, nonatomic, tuple(settings), definer)


def renamed(statement: str, new_name: str) -> str:
    """The CREATE PROCEDURE statement with the procedure's name (its last part) replaced."""
    tokens = tokenize(statement)
    index = next(i for i, t in enumerate(tokens) if word(t) == "PROCEDURE") + 1
    _, _, after = _qualified_name(tokens, index)
    last = tokens[after - 1]
    quoted = new_name if new_name == new_name.lower() and new_name.isidentifier() else '"' + new_name + '"'
    return statement[: last.start] + quoted + statement[last.end + 1 :]


def _qualified_name(tokens: list[Token], index: int) -> tuple[str | None, str, int]:
    parts = [_name(tokens[index])]
    index += 1
    while index + 1 < len(tokens) and tokens[index].token_type == TokenType.DOT:
        parts.append(_name(tokens[index + 1]))
        index += 2
    return (parts[-2] if len(parts) > 1 else None), parts[-1], index


def _name(token: Token) -> str:
    return token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()


def _argument(statement: str, tokens: list[Token]) -> s.Argument:
    if not tokens:
        raise _syntax(tokens, 0)
    words = [word(t) for t in tokens]
    name, mode, start = "", "IN", 0
    if words[0] in _MODES:
        mode, start = words[0], 1
        if len(tokens) > 2 and tokens[1].token_type in (TokenType.VAR, TokenType.IDENTIFIER):
            name, start = _name(tokens[1]), 2
    elif len(words) > 1 and words[1] in _MODES:
        name, mode, start = _name(tokens[0]), words[1], 2
    elif len(tokens) > 1 and tokens[0].text.isidentifier() and words[0] not in _MULTI_WORD_TYPES \
            and tokens[1].token_type != TokenType.L_PAREN:
        name, start = _name(tokens[0]), 1
    type_text = statement[tokens[start].start : tokens[-1].end + 1]
    return s.Argument(name, mode, type_text)


def argument_list(statement: str, tokens: list[Token]) -> tuple[s.Argument, ...]:
    """DROP PROCEDURE's `(name mode type, ...)`: the arguments as CREATE reads them."""
    return tuple(_argument(statement, part) for part in _split_commas(tokens))


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        if token.token_type == TokenType.COMMA and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def _matching(tokens: list[Token], index: int) -> int:
    closing = closing_paren(tokens, index)
    if closing < 0:
        raise _syntax(tokens, len(tokens) - 1)
    return closing


def _syntax(tokens: list[Token], index: int) -> SqlSyntaxError:
    if not tokens:
        return SqlSyntaxError("", 1)
    token = tokens[min(index, len(tokens) - 1)]
    return SqlSyntaxError(token.text, token.start + 1)


class BodyParser:
    """A recursive-descent reader of one body; positions are token indexes into the body's tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self.tokens = tokens_of(text)
        except SqlSplitError as error:
            raise NotSupportedLocally(f"a procedure body that cannot be tokenized ({error})") from None
        self.i = 0

    # ---- helpers ------------------------------------------------------------------------------------------------

    def _word(self, offset: int = 0) -> str:
        index = self.i + offset
        return word(self.tokens[index]) if index < len(self.tokens) else ""

    def _type(self, offset: int = 0) -> TokenType | None:
        index = self.i + offset
        return self.tokens[index].token_type if index < len(self.tokens) else None

    def _expect(self, *words: str) -> None:
        for expected in words:
            if self._word() != expected:
                raise _syntax(self.tokens, self.i)
            self.i += 1

    def _slice(self, start: int, stop: int) -> str:
        """The source text of tokens[start:stop]."""
        if stop <= start:
            raise _syntax(self.tokens, start)
        return self.text[self.tokens[start].start : self.tokens[stop - 1].end + 1]

    def _scan(self, stops: set[str], semicolon: bool = True) -> int:
        """The index of the first token from here, outside parentheses and CASE ... END, that is one of `stops`
        (or a semicolon)."""
        depth = cases = 0
        for index in range(self.i, len(self.tokens)):
            token = self.tokens[index]
            name = word(token)
            if token.token_type == TokenType.L_PAREN:
                depth += 1
            elif token.token_type == TokenType.R_PAREN:
                depth -= 1
            elif depth == 0 and name == "CASE":
                cases += 1
            elif depth == 0 and name == "END" and cases:
                cases -= 1
            elif depth == 0 and not cases and (name in stops or (semicolon and token.token_type == TokenType.SEMICOLON)):
                return index
        raise _syntax(self.tokens, len(self.tokens))

    def _until(self, *stops: str) -> str:
        """The text up to the next stop word (not consumed)."""
        stop = self._scan(set(stops), semicolon=False)
        text = self._slice(self.i, stop)
        self.i = stop
        return text

    def _to_semicolon(self) -> str:
        stop = self._scan(set())
        text = self._slice(self.i, stop)
        self.i = stop + 1
        return text

    def _semicolon(self) -> None:
        if self._type() != TokenType.SEMICOLON:
            raise _syntax(self.tokens, self.i)
        self.i += 1

    def _targets(self, text: str) -> tuple[str, ...]:
        return tuple(part.strip().lower() for part in text.split(","))

    # ---- blocks -------------------------------------------------------------------------------------------------

    def procedure_block(self) -> s.Block:
        label = self._label()
        block = self._block(label)
        if self._type() == TokenType.SEMICOLON:
            self.i += 1
        if self.i < len(self.tokens):
            raise _syntax(self.tokens, self.i)
        return block

    def _label(self) -> str | None:
        if self._type() == TokenType.LT and self._type(1) == TokenType.LT and self._type(3) == TokenType.GT:
            label = self.tokens[self.i + 2].text.lower()
            self.i += 5
            return label
        return None

    def _block(self, label: str | None) -> s.Block:
        declarations: list[s.Declaration] = []
        if self._word() == "DECLARE":
            self.i += 1
            while self._word() != "BEGIN":
                if self.i >= len(self.tokens):
                    raise _syntax(self.tokens, self.i)
                declarations.append(self._declaration())
        self._expect("BEGIN")
        body = self._statements({"END", "EXCEPTION"})
        handler = None
        if self._word() == "EXCEPTION":
            self.i += 1
            self._expect("WHEN")
            if self._word() != "OTHERS":
                raise NotSupportedLocally(f"EXCEPTION WHEN {self._word()} (Redshift supports only WHEN OTHERS)")
            self._expect("OTHERS", "THEN")
            handler = self._statements({"END"})
        self._expect("END")
        if self._type() != TokenType.SEMICOLON and self.i < len(self.tokens):
            self.i += 1  # END label
        return s.Block(tuple(declarations), body, handler, label)

    def _declaration(self) -> s.Declaration:
        name = _name(self.tokens[self.i])
        self.i += 1
        if self._word() == "ALIAS":
            self._expect("ALIAS", "FOR")
            if self._type() != TokenType.PARAMETER:
                raise _syntax(self.tokens, self.i)
            position = int(self.tokens[self.i + 1].text)
            self.i += 2
            self._semicolon()
            return s.Declaration(name, "", alias_of=position)
        if self._word() == "CURSOR":
            self.i += 1
            if self._type() == TokenType.L_PAREN:
                raise NotSupportedLocally("cursors declared with arguments (name CURSOR (arguments) FOR query)")
            if self._word() not in ("FOR", "IS"):
                raise _syntax(self.tokens, self.i)
            self.i += 1
            return s.Declaration(name, "refcursor", cursor_query=self._to_semicolon())
        constant = self._word() == "CONSTANT"
        if constant:
            self.i += 1
        stop = self._scan({"DEFAULT", "NOT"} | {":="})
        for index in range(self.i, stop):  # `:=` and `=` are tokens of their own
            if self.tokens[index].token_type in (TokenType.COLON_EQ, TokenType.EQ):
                stop = index
                break
        type_text = self._slice(self.i, stop)
        self.i = stop
        not_null = False
        if self._word() == "NOT":
            self._expect("NOT", "NULL")
            not_null = True
        default = None
        if self._word() == "DEFAULT" or self._type() in (TokenType.COLON_EQ, TokenType.EQ):
            self.i += 1
            default = self._to_semicolon()
        else:
            self._semicolon()
        if "%" in type_text:
            raise NotSupportedLocally(f"%TYPE / %ROWTYPE declarations ({name} {type_text})")
        if not_null and default is None:
            raise EngineError(f'variable "{name}" declared NOT NULL cannot default to NULL')
        return s.Declaration(name, type_text, default, constant, not_null)

    # ---- statements ---------------------------------------------------------------------------------------------

    def _statements(self, stops: set[str]) -> tuple[object, ...]:
        statements: list[object] = []
        while True:
            if self.i >= len(self.tokens):
                raise _syntax(self.tokens, self.i)
            if self._word() in stops:
                return tuple(statements)
            if self._type() == TokenType.SEMICOLON:  # an empty statement
                self.i += 1
                continue
            statements.append(self._statement())

    def _statement(self) -> object:
        label = self._label()
        name = self._word()
        if name in ("DECLARE", "BEGIN"):
            block = self._block(label)
            self._semicolon()
            return block
        if name == "LOOP":
            self.i += 1
            return self._loop_body(label, None)
        if name == "WHILE":
            self.i += 1
            condition = self._until("LOOP")
            self.i += 1
            return self._loop_body(label, condition)
        if name == "FOR":
            return self._for(label)
        if label is not None:
            raise _syntax(self.tokens, self.i)
        handler = getattr(self, f"_{name.lower()}", None) if name.isidentifier() else None
        if handler is not None and name in _STATEMENT_WORDS:
            return handler()
        if name in _S3_COMMANDS:
            raise NotSupportedLocally(f"{name} inside a stored procedure (the emulator runs {name} itself: run it "
                                      "as a statement of its own)")
        if self._type(1) in (TokenType.COLON_EQ, TokenType.EQ) or (
                self._type(1) == TokenType.DOT and self._type(3) in (TokenType.COLON_EQ, TokenType.EQ)):
            return self._assignment()
        if name in _SQL_VERBS or self._type() == TokenType.L_PAREN:
            return self._sql()
        raise NotSupportedLocally(f"the PL/pgSQL statement {self.tokens[self.i].text!r} in a stored procedure")

    def _assignment(self) -> s.Assign:
        target_end = self._scan({":="}, semicolon=True)
        for index in range(self.i, target_end):
            if self.tokens[index].token_type in (TokenType.COLON_EQ, TokenType.EQ):
                target_end = index
                break
        target = self._slice(self.i, target_end).lower().replace(" ", "")
        self.i = target_end + 1
        return s.Assign(target, self._to_semicolon())

    def _sql(self) -> s.Sql:
        start = self.i
        stop = self._scan(set())
        self.i = stop + 1
        if word(self.tokens[start]) == "SELECT":
            return self._select_into(start, stop)
        return s.Sql(self._slice(start, stop))

    def _select_into(self, start: int, stop: int) -> s.Sql:
        """SELECT [INTO target] expressions [INTO target] FROM ...: the query without its INTO, and the target."""
        depth = 0
        for index in range(start + 1, stop):
            token = self.tokens[index]
            if token.token_type == TokenType.L_PAREN:
                depth += 1
            elif token.token_type == TokenType.R_PAREN:
                depth -= 1
            elif depth == 0 and token.token_type == TokenType.INTO:
                end = index + 1
                if end < stop and word(self.tokens[end]) in ("TEMP", "TEMPORARY", "TABLE", "STRICT"):
                    if word(self.tokens[end]) == "STRICT":
                        raise NotSupportedLocally("SELECT INTO STRICT")
                    return s.Sql(self._slice(start, stop))  # SELECT ... INTO [TEMP] table: SQL's own
                end += 1
                while end + 1 < stop and self.tokens[end].token_type in (TokenType.COMMA, TokenType.DOT):
                    end += 2
                target = self._slice(index + 1, end)
                query = self.text[self.tokens[start].start : token.start] + " " + \
                    self.text[self.tokens[end - 1].end + 1 : self.tokens[stop - 1].end + 1]
                return s.Sql(query, into=self._targets(target))
        return s.Sql(self._slice(start, stop))

    def _loop_body(self, label: str | None, condition: str | None) -> s.Loop:
        body = self._statements({"END"})
        self._end_loop()
        return s.Loop(body, label, condition)

    def _end_loop(self) -> None:
        self._expect("END", "LOOP")
        if self._type() != TokenType.SEMICOLON:
            self.i += 1  # END LOOP label
        self._semicolon()

    def _for(self, label: str | None) -> object:
        self.i += 1
        in_index = self._scan({"IN"}, semicolon=False)
        targets = self._targets(self._slice(self.i, in_index))
        self.i = in_index + 1
        if self._word() == "EXECUTE":
            self.i += 1
            query, dynamic = self._until("LOOP"), True
        else:
            reverse = self._word() == "REVERSE"
            if reverse:
                self.i += 1
            source = self._until("LOOP")
            if not source.lstrip("( \n\t").upper().startswith(("SELECT", "WITH")):
                self.i += 1
                body = self._statements({"END"})
                self._end_loop()
                low, _, high = source.partition("..")
                step = None
                if " by " in high.lower():
                    position = high.lower().index(" by ")
                    high, step = high[:position], high[position + 4 :]
                if not high:
                    raise _syntax(self.tokens, in_index)
                return s.ForRange(targets[0], low, high, body, reverse, step, label)
            query, dynamic = source, False
        self.i += 1
        body = self._statements({"END"})
        self._end_loop()
        return s.ForQuery(targets, query, body, dynamic, label)

    def _if(self) -> s.If:
        self.i += 1
        branches = []
        otherwise = None
        while True:
            condition = self._until("THEN")
            self.i += 1
            branches.append((condition, self._statements({"ELSIF", "ELSEIF", "ELSE", "END"})))
            if self._word() in ("ELSIF", "ELSEIF"):
                self.i += 1
                continue
            if self._word() == "ELSE":
                self.i += 1
                otherwise = self._statements({"END"})
            self._expect("END", "IF")
            self._semicolon()
            return s.If(tuple(branches), otherwise)

    def _case(self) -> s.Case:
        self.i += 1
        subject = None if self._word() == "WHEN" else self._until("WHEN")
        branches = []
        otherwise = None
        while self._word() == "WHEN":
            self.i += 1
            start = self.i
            stop = self._scan({"THEN"}, semicolon=False)
            values = tuple(self._slice(a, b) for a, b in self._comma_spans(start, stop)) if subject else (
                self._slice(start, stop),)
            self.i = stop + 1
            branches.append((values, self._statements({"WHEN", "ELSE", "END"})))
        if self._word() == "ELSE":
            self.i += 1
            otherwise = self._statements({"END"})
        self._expect("END", "CASE")
        self._semicolon()
        return s.Case(subject, tuple(branches), otherwise)

    def _comma_spans(self, start: int, stop: int) -> list[tuple[int, int]]:
        spans, depth, first = [], 0, start
        for index in range(start, stop):
            kind = self.tokens[index].token_type
            depth += kind == TokenType.L_PAREN
            depth -= kind == TokenType.R_PAREN
            if kind == TokenType.COMMA and depth == 0:
                spans.append((first, index))
                first = index + 1
        spans.append((first, stop))
        return spans

    def _exit(self, continues: bool = False) -> s.Exit:
        self.i += 1
        label = None
        if self._type() != TokenType.SEMICOLON and self._word() != "WHEN":
            label = self.tokens[self.i].text.lower()
            self.i += 1
        condition = None
        if self._word() == "WHEN":
            self.i += 1
            condition = self._to_semicolon()
        else:
            self._semicolon()
        return s.Exit(label, condition, continues)

    def _continue(self) -> s.Exit:
        return self._exit(continues=True)

    def _return(self) -> s.Return:
        self.i += 1
        if self._type() != TokenType.SEMICOLON:
            raise NotSupportedLocally("RETURN with a value in a stored procedure")
        self._semicolon()
        return s.Return()

    def _raise(self) -> s.Raise:
        self.i += 1
        if self._type() == TokenType.SEMICOLON:
            self.i += 1
            return s.Raise("")
        level = self._word()
        if self._type() in (TokenType.STRING, TokenType.HEREDOC_STRING):
            level, self.i = "EXCEPTION", self.i - 1  # RAISE 'format': PL/pgSQL's default level
        elif level not in _LEVELS:
            raise NotSupportedLocally(f"RAISE {self.tokens[self.i].text} (Redshift's levels: INFO, NOTICE, LOG, "
                                      "WARNING, EXCEPTION)")
        self.i += 1
        if self._type() not in (TokenType.STRING, TokenType.HEREDOC_STRING):
            raise NotSupportedLocally("RAISE without a format string literal")
        message = self.tokens[self.i].text
        self.i += 1
        arguments: tuple[str, ...] = ()
        if self._type() == TokenType.COMMA:
            self.i += 1
            start = self.i
            stop = self._scan(set())
            arguments = tuple(self._slice(a, b) for a, b in self._comma_spans(start, stop))
            self.i = stop
        if self._word() == "USING":
            raise NotSupportedLocally("RAISE ... USING")
        self._semicolon()
        wanted = message.replace("%%", "").count("%")
        if wanted != len(arguments):
            raise EngineError(f"too {'few' if wanted > len(arguments) else 'many'} parameters specified for RAISE")
        return s.Raise(level, message, arguments)

    def _execute(self) -> s.Execute:
        self.i += 1
        stop = self._scan({"INTO", "USING"})
        command = self._slice(self.i, stop)
        self.i = stop
        into: tuple[str, ...] = ()
        if self._word() == "USING":
            raise NotSupportedLocally("EXECUTE ... USING")
        if self._word() == "INTO":
            self.i += 1
            into = self._targets(self._to_semicolon())
        else:
            self._semicolon()
        return s.Execute(command, into)

    def _perform(self) -> s.Sql:
        self.i += 1
        return s.Sql("SELECT " + self._to_semicolon(), perform=True)

    def _get(self) -> s.Diagnostics:
        self._expect("GET", "DIAGNOSTICS")
        target = _name(self.tokens[self.i])
        self.i += 1
        if self._type() not in (TokenType.COLON_EQ, TokenType.EQ):
            raise _syntax(self.tokens, self.i)
        self.i += 1
        item = self._word()
        if item != "ROW_COUNT":
            raise NotSupportedLocally(f"GET DIAGNOSTICS {item}")
        self.i += 1
        self._semicolon()
        return s.Diagnostics(target)

    def _commit(self) -> s.Transaction:
        return self._transaction("commit")

    def _rollback(self) -> s.Transaction:
        return self._transaction("rollback")

    def _abort(self) -> s.Transaction:
        return self._transaction("rollback")

    def _start(self) -> s.Transaction:
        self._expect("START", "TRANSACTION")
        self._semicolon()
        return s.Transaction("start")

    def _transaction(self, action: str) -> s.Transaction:
        self.i += 1
        if self._word() in ("WORK", "TRANSACTION"):
            self.i += 1
        self._semicolon()
        return s.Transaction(action)

    def _null(self) -> s.Null:
        self.i += 1
        self._semicolon()
        return s.Null()

    def _call(self) -> s.Call:
        self.i += 1
        _, name, after = _qualified_name(self.tokens, self.i)
        qualified = self._slice(self.i, after).lower()
        self.i = after
        if self._type() != TokenType.L_PAREN:
            raise _syntax(self.tokens, self.i)
        close = _matching(self.tokens, self.i)
        arguments = tuple(self._slice(a, b) for a, b in self._comma_spans(self.i + 1, close)) \
            if close > self.i + 1 else ()
        self.i = close + 1
        self._semicolon()
        return s.Call(qualified, arguments)

    def _open(self) -> s.Open:
        self.i += 1
        cursor = _name(self.tokens[self.i])
        self.i += 1
        if self._word() == "SCROLL" or self._word() == "NO":
            raise NotSupportedLocally("scrollable cursors")
        if self._word() != "FOR":
            if self._type() == TokenType.L_PAREN:
                raise NotSupportedLocally("cursors opened with arguments")
            self._semicolon()
            return s.Open(cursor, None)
        self.i += 1
        if self._word() == "EXECUTE":
            self.i += 1
            return s.Open(cursor, self._to_semicolon(), dynamic=True)
        return s.Open(cursor, self._to_semicolon())

    def _fetch(self) -> s.Fetch:
        self.i += 1
        if self._word() in ("NEXT", "FROM", "IN"):
            self.i += 1
            if self._word() in ("FROM", "IN"):
                self.i += 1
        cursor = _name(self.tokens[self.i])
        self.i += 1
        self._expect("INTO")
        return s.Fetch(cursor, self._targets(self._to_semicolon()))

    def _close(self) -> s.Close:
        self.i += 1
        cursor = _name(self.tokens[self.i])
        self.i += 1
        self._semicolon()
        return s.Close(cursor)


# PL/pgSQL statements BodyParser reads with a method of the same name.
_STATEMENT_WORDS = {"IF", "CASE", "EXIT", "CONTINUE", "RETURN", "RAISE", "EXECUTE", "PERFORM", "GET", "COMMIT",
                    "ROLLBACK", "ABORT", "START", "NULL", "CALL", "OPEN", "FETCH", "CLOSE"}

