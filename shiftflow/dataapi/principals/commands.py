"""CREATE / ALTER / DROP USER, GROUP and ROLE, GRANT and REVOKE, ALTER DEFAULT PRIVILEGES on the DuckDB engine
(r_CREATE_USER.md, r_ALTER_USER.md, r_DROP_USER.md, r_CREATE_GROUP.md, r_ALTER_GROUP.md, r_DROP_GROUP.md,
r_CREATE_ROLE.md, r_ALTER_ROLE.md, r_DROP_ROLE.md, r_GRANT.md, r_REVOKE.md, r_ALTER_DEFAULT_PRIVILEGES.md).

Also ALTER TABLE / VIEW / SCHEMA / DATABASE / FUNCTION ... OWNER TO (r_ALTER_TABLE.md, r_ALTER_SCHEMA.md ...).
Each checks what Redshift checks (the principals and objects named exist, a new name is free, a password meets
Redshift's rules) and records what a later statement's check reads (catalog.py, access.py). What the engines do not
have (system privileges, role owners) fails with "not supported locally", as on the PostgreSQL engine
(translate/commands/roles.py, which also holds the refusals both engines share).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.principals import access, catalog
from shiftflow.dataapi.translate.commands.roles import (check_passwords, is_role_command, refuse_redshift_only,
                                                       require_argument_lists)
from shiftflow.dataapi.translate.commands.tokens import word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand

# Redshift queries that fail as Redshift would when a table or schema does not exist (names resolved as any
# query's are); the translator is handed in (translate/__init__.py imports this module).
Probe = Callable[[str], EngineSql]

_PRINCIPAL_WORDS = {"USER": "user", "GROUP": "group", "ROLE": "role"}


@dataclass(frozen=True)
class PrincipalCommand(SessionCommand):
    """The statement's steps, each a call on the catalog or a probe, run in order in the statement's transaction."""

    steps: tuple[Callable[[EngineSession], None], ...] = field(default=())

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        for step in self.steps:
            step(session)
        return QueryResult()


_OWNED = {"TABLE": "relation", "VIEW": "relation", "SCHEMA": "schema", "DATABASE": "database",
          "FUNCTION": "function"}


def is_principal_command(tokens: list[Token]) -> bool:
    """The role commands (roles.is_role_command), ALTER DEFAULT PRIVILEGES and ALTER TABLE / VIEW / SCHEMA /
    DATABASE / FUNCTION ... OWNER TO."""
    return is_role_command(tokens) or [word(t) for t in tokens[:3]] == ["ALTER", "DEFAULT", "PRIVILEGES"] \
        or _is_owner_change(tokens)


def _is_owner_change(tokens: list[Token]) -> bool:
    words = [word(t) for t in tokens if t.token_type != TokenType.SEMICOLON]
    return len(words) > 4 and words[0] == "ALTER" and words[1] in _OWNED and words[-3:-1] == ["OWNER", "TO"]


def principal_command(tokens: list[Token], probe: Probe) -> PrincipalCommand:
    """The DuckDB engine's run of one of these statements (is_principal_command); raises NotSupportedLocally."""
    refuse_redshift_only(tokens)
    require_argument_lists(tokens)
    words = [word(t) for t in tokens]
    if _is_owner_change(tokens):
        return PrincipalCommand(steps=tuple(_owner_change(tokens, probe)))
    if words[0] in {"GRANT", "REVOKE"}:
        return PrincipalCommand(steps=tuple(_privileges(tokens, probe)))
    if words[:3] == ["ALTER", "DEFAULT", "PRIVILEGES"]:
        return PrincipalCommand(steps=tuple(_default_privileges(tokens, probe)))
    kind = _PRINCIPAL_WORDS[words[1]]
    if words[0] == "CREATE":
        return PrincipalCommand(steps=tuple(_create(kind, tokens)))
    if words[0] == "DROP":
        return PrincipalCommand(steps=tuple(_drop(kind, tokens)))
    return PrincipalCommand(steps=tuple(_alter(kind, tokens)))


def _name(token: Token) -> str:
    """A principal's name as Redshift keeps it: folded to lower case unless quoted (r_CREATE_USER.md)."""
    if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
        return token.text
    return token.text.lower()


def _names(tokens: list[Token], start: int, stop_words: frozenset[str] = frozenset()) -> tuple[list[str], int]:
    """A comma-separated list of names from `start`; the names and the index after the list."""
    names, index = [], start
    while index < len(tokens) and word(tokens[index]) not in stop_words:
        names.append(_name(tokens[index]))
        index += 1
        if index < len(tokens) and tokens[index].token_type == TokenType.COMMA:
            index += 1
            continue
        break
    return names, index


def _create(kind: str, tokens: list[Token]) -> list[Callable[[EngineSession], None]]:
    words = [word(t) for t in tokens]
    if len(tokens) < 3:
        raise EngineError(f'syntax error at end of input (CREATE {kind.upper()} needs a name)')
    name = _name(tokens[2])
    options = _user_options(tokens, 3) if kind == "user" else {}
    steps: list[Callable[[EngineSession], None]] = [
        lambda s: catalog.create(s, kind, name, options.get("superuser") == "true", options.get("createdb") == "true",
                                 options.get("connection_limit", "UNLIMITED"))]
    if "valid_until" in options:
        steps.append(lambda s: catalog.update(s, kind, name, "valid_until", options["valid_until"]))
    if kind == "user" and "PASSWORD" not in words:
        raise EngineError("syntax error: CREATE USER needs a PASSWORD (a password or DISABLE)")
    groups: list[str] = []
    if kind == "user" and "GROUP" in words and words[words.index("GROUP") - 1] == "IN":
        groups, _ = _names(tokens, words.index("GROUP") + 1)
    if kind == "group" and "USER" in words:
        members, _ = _names(tokens, words.index("USER") + 1)
        steps += [lambda s, m=m: catalog.add_member(s, "group", name, "user", m) for m in members]
    steps += [lambda s, g=g: catalog.add_member(s, "group", g, "user", name) for g in groups]
    return steps


def _user_options(tokens: list[Token], start: int) -> dict[str, str]:
    """CREATE / ALTER USER's options the catalog keeps; a clear-text password is checked by Redshift's rules."""
    check_passwords(tokens[start:])
    words = [word(t) for t in tokens]
    options: dict[str, str] = {}
    for index in range(start, len(tokens)):
        name = words[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if name in {"CREATEUSER", "NOCREATEUSER"}:
            options["superuser"] = str(name == "CREATEUSER").lower()
        elif name in {"CREATEDB", "NOCREATEDB"}:
            options["createdb"] = str(name == "CREATEDB").lower()
        elif name == "LIMIT" and words[index - 1] == "CONNECTION" and following is not None:
            options["connection_limit"] = following.text.upper() if word(following) == "UNLIMITED" else following.text
        elif name == "UNTIL" and words[index - 1] == "VALID" and following is not None:
            if following.token_type != TokenType.STRING:
                raise EngineError(f'syntax error at or near "{following.text}"')
            options["valid_until"] = _valid_until(following.text)
    return options


def _valid_until(text: str) -> str:
    """VALID UNTIL 'time': the time as pg_user shows it (a timestamp; 'infinity' kept as written)."""
    import datetime

    if text.strip().lower() == "infinity":
        return "infinity"
    try:
        return str(datetime.datetime.fromisoformat(text.strip()))
    except ValueError:
        raise NotSupportedLocally(f"VALID UNTIL '{text}' (only ISO dates and times are read locally)") from None


def _drop(kind: str, tokens: list[Token]) -> list[Callable[[EngineSession], None]]:
    words = [word(t) for t in tokens]
    start = 4 if words[2:4] == ["IF", "EXISTS"] else 2
    names, index = _names(tokens, start, frozenset({"FORCE", "RESTRICT", "CASCADE"}))
    force = "FORCE" in words[index:]
    return [lambda s, n=n: catalog.drop(s, kind, n, if_exists=start == 4, force=force) for n in names]


def _alter(kind: str, tokens: list[Token]) -> list[Callable[[EngineSession], None]]:
    words = [word(t) for t in tokens]
    name = _name(tokens[2])
    rest = words[3:]
    if rest[:1] == ["WITH"]:
        rest = rest[1:]
    offset = len(words) - len(rest)
    if rest[:2] == ["RENAME", "TO"]:
        new_name = _name(tokens[offset + 2])
        return [lambda s: catalog.rename(s, kind, name, new_name)]
    if rest[:2] == ["OWNER", "TO"]:
        raise NotSupportedLocally("role owners (ALTER ROLE ... OWNER TO)")
    if kind == "group" and rest[:1] in (["ADD"], ["DROP"]) and rest[1:2] == ["USER"]:
        members, _ = _names(tokens, offset + 2)
        change = catalog.add_member if rest[0] == "ADD" else catalog.remove_member
        return [lambda s, m=m: change(s, "group", name, "user", m) for m in members]
    if kind != "user":
        raise EngineError(f"syntax error at or near \"{tokens[offset].text if offset < len(tokens) else ''}\"")
    options = _user_options(tokens, offset)
    steps: list[Callable[[EngineSession], None]] = [lambda s: catalog.require(s, "user", name)]
    steps += [lambda s, c=c, v=v: catalog.update(s, "user", name, c, v) for c, v in options.items()]
    return steps  # PASSWORD, SESSION TIMEOUT, SET / RESET of a parameter: nothing a query sees


def _owner_change(tokens: list[Token], probe: Probe) -> list[Callable[[EngineSession], None]]:
    """ALTER TABLE / VIEW / SCHEMA / DATABASE / FUNCTION name ... OWNER TO user (r_ALTER_TABLE.md, r_ALTER_SCHEMA.md,
    r_ALTER_DATABASE.md, r_ALTER_FUNCTION.md): the object must exist, then the user; the catalog keeps the owner
    access.py checks against (a superuser runs it: access.py refuses it to other users)."""
    tokens = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    kind, new_owner = _OWNED[word(tokens[1])], _name(tokens[-1])
    name_tokens = []
    for token in tokens[2:-3]:
        if token.token_type == TokenType.L_PAREN:
            break
        name_tokens.append(token)
    written = "".join(f'"{t.text}"' if t.token_type == TokenType.IDENTIFIER else t.text for t in name_tokens)
    steps: list[Callable[[EngineSession], None]] = []
    if kind == "relation":
        query = probe(f"SELECT 1 FROM {written} WHERE FALSE")
        steps.append(lambda s: query.execute(s, {}))
    elif kind == "schema":
        steps.append(lambda s: _require_schema(s, written))
    elif kind == "database":
        steps.append(lambda s: _require_database(s, _folded(written)))
    else:
        full = " ".join(f'"{t.text}"' if t.token_type == TokenType.IDENTIFIER else t.text for t in tokens[2:-3])
        steps.append(lambda s: access.require_function(s, _split_name(full)[-1]))

    def record(session: EngineSession) -> None:
        catalog.require(session, "user", new_owner)
        keyed, keys = _object_keys(session, "table" if kind == "relation" else kind, written)
        for key in keys:
            catalog.set_owner(session, keyed, key, new_owner)

    return [*steps, record]


def _require_database(session: EngineSession, name: str) -> None:
    current = session.execute("SELECT shiftflow_current_database()", {}).rows[0][0]
    if name != str(current).lower():
        raise EngineError(f'database "{name}" does not exist')


def _grantees(tokens: list[Token], start: int) -> list[tuple[str, str]]:
    """TO / FROM {name | GROUP name | ROLE name | PUBLIC} [, ...]: (kind, name) pairs."""
    grantees, index = [], start
    while index < len(tokens):
        current = word(tokens[index])
        if current in {"WITH", "CASCADE", "RESTRICT", "GRANTED"}:
            break
        if current in {"GROUP", "ROLE"}:
            grantees.append((current.lower(), _name(tokens[index + 1])))
            index += 2
        elif current == "PUBLIC":
            grantees.append(("public", "public"))
            index += 1
        else:
            grantees.append(("user", _name(tokens[index])))
            index += 1
        if index < len(tokens) and tokens[index].token_type == TokenType.COMMA:
            index += 1
            continue
        break
    return grantees


def _privileges(tokens: list[Token], probe: Probe) -> list[Callable[[EngineSession], None]]:
    words = [word(t) for t in tokens]
    granting = words[0] == "GRANT"
    target = words.index("TO" if granting else "FROM") if ("TO" if granting else "FROM") in words else None
    if target is None:
        raise EngineError(f'syntax error at end of input ({words[0]} needs {"TO" if granting else "FROM"})')
    grantees = _grantees(tokens, target + 1)
    if "ON" not in words[:target]:  # GRANT [ROLE] r [, ...] TO ... / REVOKE [ADMIN OPTION FOR] [ROLE] r FROM ...
        first = 4 if words[1:4] == ["ADMIN", "OPTION", "FOR"] else 1
        roles = [_name(t) for t in tokens[first:target] if word(t) != "ROLE" and t.token_type != TokenType.COMMA]
        admin = (granting and words[-3:] == ["WITH", "ADMIN", "OPTION"]) or first == 4
        return [lambda s, r=r, k=k, n=n: _membership(s, granting, admin, r, k, n) for r in roles for k, n in grantees]
    steps: list[Callable[[EngineSession], None]] = [
        lambda s, k=k, n=n: catalog.require(s, k, n) for k, n in grantees if k != "public"]
    on = words.index("ON")
    privileges = _privilege_words(tokens[1:on])
    object_kind, objects = _objects(tokens, on + 1, target)
    steps += _object_checks(object_kind, objects, probe)
    steps += [lambda s, k=k, n=n, o=o: _record(s, granting, k, n, privileges, object_kind, o)
              for k, n in grantees for o in objects]
    return steps


def _membership(session: EngineSession, granting: bool, admin: bool, role: str, grantee_kind: str,
                grantee: str) -> None:
    """GRANT ROLE r TO ... [WITH ADMIN OPTION] / REVOKE [ADMIN OPTION FOR] ROLE r FROM ...: a superuser, or a user
    holding r's ADMIN OPTION (the catalog keeps it as a privilege on the role)."""
    catalog.require(session, "role", role)
    kind = catalog.kind_of_grantee(session, grantee) if grantee_kind == "user" else grantee_kind
    catalog.require(session, kind, grantee)
    access.require_admin_option(session, role)
    if granting:
        catalog.add_member(session, "role", role, kind, grantee)
        if admin:
            catalog.grant(session, kind, grantee, "ADMIN OPTION", "role", role)
    else:
        if not admin:
            catalog.remove_member(session, "role", role, kind, grantee)
        catalog.revoke(session, kind, grantee, "ADMIN OPTION", "role", role)


def _record(session: EngineSession, granting: bool, grantee_kind: str, grantee: str, privileges: list[str],
            written_kind: str, written: str) -> None:
    """The grant or revocation of each privilege (ALL expanded) on each object the written name means, by the
    objects' keys access.py checks against."""
    kind, keys = _object_keys(session, written_kind, written)
    who = access.acting_user(session)
    not_owned = [key for key in keys if who is not None and access.owner(session, kind, key) != who.name]
    for key in not_owned if kind == "relation" else ():
        # PostgreSQL's rule: a grantor holding nothing on the object is refused (holding some, it is warned)
        if who is not None and not any(access.holds(session, who, p, kind, key) for p in access.ALL_PRIVILEGES[kind]):
            raise EngineError(f"permission denied for relation {key.rpartition('.')[2]}")
    if not_owned:
        raise NotSupportedLocally(f"{'GRANT' if granting else 'REVOKE'} on an object the user does not own (the"
                                  " emulator does not keep WITH GRANT OPTION)")
    expanded = [p for privilege in privileges
                for p in (access.ALL_PRIVILEGES.get(kind, ()) if privilege == "ALL" else (
                    "TEMP" if privilege == "TEMPORARY" else privilege,))]
    for key in keys:
        for privilege in expanded:
            if granting:
                catalog.grant(session, grantee_kind, grantee, privilege, kind, key)
            else:
                catalog.revoke(session, grantee_kind, grantee, privilege, kind, key,
                               access.public_default(privilege, kind, key))


def _object_keys(session: EngineSession, kind: str, written: str) -> tuple[str, list[str]]:
    """(the kind access.py names, the keys) of ON [TABLE] t / SCHEMA s / ALL TABLES IN SCHEMA s / FUNCTION f(...) /
    PROCEDURE p(...) / ALL FUNCTIONS | PROCEDURES IN SCHEMA s."""
    parts = [_folded(part) for part in _split_name(written.split("(")[0].strip())]
    if kind == "table":
        found = access.resolve(session, access.Relation(parts[-2] if len(parts) > 1 else None, parts[-1]))
        return "relation", [f"{found[0]}.{found[1]}"] if found else []
    if kind == "all tables in schema":
        relations = access.relations_in(session, parts[-1])
        return "relation", [f"{parts[-1]}.{name}" for name in relations]
    if kind == "all functions in schema":
        return "function", access.functions_in(session, parts[-1])
    if kind == "procedure":  # p(int) and p(varchar) are two procedures (access.procedure_keys)
        return kind, access.procedure_keys(session, written)
    if kind == "all procedures in schema":
        return "procedure", access.procedures_in(session, parts[-1])
    if kind in {"schema", "database", "function", "language"}:
        return kind, [parts[-1]]
    return kind, [written]


def _split_name(text: str) -> list[str]:
    """a.b, "A"."b.c": the dotted parts, quotes kept."""
    parts, current, quoted = [], "", False
    for character in text:
        if character == '"':
            quoted = not quoted
        if character == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += character
    return [*parts, current]


def _folded(part: str) -> str:
    part = part.strip()
    return part[1:-1].replace('""', '"') if part.startswith('"') and part.endswith('"') else part.lower()


def _privilege_words(tokens: list[Token]) -> list[str]:
    """SELECT, INSERT (col, ...), ALL [PRIVILEGES] ...: the privileges, a column list dropped (kept table-wide)."""
    privileges, depth = [], 0
    for token in tokens:
        depth += (token.token_type == TokenType.L_PAREN) - (token.token_type == TokenType.R_PAREN)
        if depth == 0 and token.token_type not in (TokenType.COMMA, TokenType.R_PAREN):
            privileges.append(word(token))
    if privileges[:3] == ["GRANT", "OPTION", "FOR"]:  # REVOKE GRANT OPTION FOR ...
        privileges = privileges[3:]
    return ["ALL"] if not privileges or privileges[0] == "ALL" else privileges


def _objects(tokens: list[Token], start: int, stop: int) -> tuple[str, list[str]]:
    """ON [TABLE] t [, ...] | ON SCHEMA s | ON ALL TABLES IN SCHEMA s | ON DATABASE d | ON FUNCTION f(...) ...:
    the object kind and the names, as written (an argument list kept with its function)."""
    words = [word(t) for t in tokens[start:stop]]
    if words[:1] == ["ALL"] and "SCHEMA" in words:
        kind = "all " + words[1].lower() + " in schema"
        first = words.index("SCHEMA") + 1
    elif words[:1] and words[0] in {"TABLE", "SCHEMA", "DATABASE", "FUNCTION", "PROCEDURE", "LANGUAGE"}:
        kind, first = words[0].lower(), 1
    else:
        kind, first = "table", 0
    names, current, depth = [], "", 0
    for token in tokens[start + first : stop]:
        if token.token_type == TokenType.COMMA and depth == 0:
            names.append(current)
            current = ""
            continue
        depth += token.token_type == TokenType.L_PAREN
        depth -= token.token_type == TokenType.R_PAREN
        current += ("" if not current or token.token_type in (TokenType.DOT, TokenType.L_PAREN, TokenType.R_PAREN)
                    or current.endswith((".", "(")) else " ") + (f'"{token.text}"' if token.token_type ==
                                                                   TokenType.IDENTIFIER else token.text)
    if current:
        names.append(current)
    return kind, names


def _object_checks(kind: str, objects: list[str], probe: Probe) -> list[Callable[[EngineSession], None]]:
    if kind == "table":
        queries = [probe(f"SELECT 1 FROM {name} WHERE FALSE") for name in objects]
        return [lambda s, q=q: q.execute(s, {}) for q in queries]
    if kind == "schema" or kind.endswith("in schema"):
        return [lambda s, n=n: _require_schema(s, n) for n in objects]
    if kind == "database":
        return [lambda s, n=n: _require_database(s, _folded(n)) for n in objects]
    if kind == "function":  # f(int) and f(varchar) are two functions (access.require_function)
        return [lambda s, n=n: access.require_function(s, _split_name(n)[-1]) for n in objects]
    if kind == "procedure":  # the procedure of those argument types must exist (access.procedure_keys)
        return [lambda s, n=n: _require_procedure(s, n) for n in objects]
    return []  # languages: named as written, not checked locally


def _require_procedure(session: EngineSession, written: str) -> None:
    access.procedure_keys(session, written)


def _require_schema(session: EngineSession, name: str) -> None:
    unquoted = name[1:-1] if name.startswith('"') else name.lower()
    rows = session.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = $name",
                           {"name": unquoted}).rows
    if not rows[0][0]:
        raise EngineError(f'schema "{unquoted}" does not exist')


_DEFAULT_OBJECTS = {"TABLES": "relation", "FUNCTIONS": "function", "PROCEDURES": "procedure"}


def _default_privileges(tokens: list[Token], probe: Probe) -> list[Callable[[EngineSession], None]]:
    """ALTER DEFAULT PRIVILEGES [FOR USER u [, ...]] [IN SCHEMA s [, ...]] GRANT | REVOKE privileges ON TABLES |
    FUNCTIONS | PROCEDURES TO | FROM grantees (r_ALTER_DEFAULT_PRIVILEGES.md): the users, schemas and grantees
    must exist; the catalog keeps the defaults, which access.py applies to what those users (by default the user
    running it) create from then on."""
    words = [word(t) for t in tokens]
    steps: list[Callable[[EngineSession], None]] = []
    verb = next(i for i, w in enumerate(words) if w in {"GRANT", "REVOKE"})
    users: list[str] = []
    if "FOR" in words[:verb]:
        users, _ = _names(tokens, words.index("FOR") + 2)
        steps += [lambda s, u=u: catalog.require(s, "user", u) for u in users]
    schemas: list[str] = []
    if "IN" in words[:verb] and words[words.index("IN") + 1] == "SCHEMA":
        schemas, _ = _names(tokens, words.index("IN") + 2)
        steps += [lambda s, n=n: _require_schema(s, n) for n in schemas]
    granting = words[verb] == "GRANT"
    target = words.index("TO" if granting else "FROM")
    grantees = _grantees(tokens, target + 1)
    steps += [lambda s, k=k, n=n: catalog.require(s, k, n) for k, n in grantees if k != "public"]
    on = words.index("ON", verb)
    kind = _DEFAULT_OBJECTS.get(words[on + 1] if on + 1 < len(words) else "")
    if kind is None:
        raise EngineError(f'syntax error at or near "{tokens[on + 1].text if on + 1 < len(tokens) else ""}"')
    privileges = [p for written in _privilege_words(tokens[verb + 1 : on])
                  for p in (access.ALL_PRIVILEGES[kind] if written == "ALL" else (written,))]

    def record(session: EngineSession) -> None:
        owners = users or [access.acting_name(session)]
        for owner in owners:
            for schema in [_folded(n) for n in schemas] or [""]:
                for grantee_kind, grantee in grantees:
                    for privilege in privileges:
                        catalog.default_privilege(session, granting, owner, schema, kind, grantee_kind, grantee,
                                                  privilege, access.public_default(privilege, kind, "*"))

    return [*steps, record]
