"""Users, groups and roles on the PostgreSQL engine (r_CREATE_USER.md, r_ALTER_USER.md, r_CREATE_GROUP.md,
r_CREATE_ROLE.md, r_ALTER_ROLE.md, r_DROP_ROLE.md, r_GRANT.md, r_REVOKE.md).

PostgreSQL has users, groups and privileges with Redshift's meaning (Redshift's users, groups and roles are all
PostgreSQL roles, cluster-wide as on Redshift); what Redshift writes otherwise is put in PostgreSQL's words:
- GRANT / REVOKE ROLE r [, ROLE r2] TO / FROM {user | ROLE r3} [WITH ADMIN OPTION]: PostgreSQL's role membership
  (GRANT r, r2 TO user, r3); GRANT ... ON ... TO ROLE r: GRANT ... TO r;
- DROP ROLE r FORCE: DROP ROLE r (PostgreSQL drops a role that is granted to others);
- ALTER ROLE r WITH RENAME TO s: ALTER ROLE r RENAME TO s;
- CREATE / ALTER USER: PASSWORD DISABLE is PASSWORD NULL, CONNECTION LIMIT UNLIMITED -1; SESSION TIMEOUT n and
  RESET SESSION TIMEOUT (how long an idle connection lives) do nothing; NOCREATEUSER too (no user is a superuser).
What has no PostgreSQL counterpart fails with "not supported locally": system privileges (GRANT CREATE SCHEMA TO
ROLE r), ASSUMEROLE privileges, datashare and model privileges, role owners, EXTERNALID (roles of an identity
provider), SYSLOG ACCESS (refuse_redshift_only, for both engines); CREATEUSER (a superuser) on this engine, whose
sessions log in as a role that is no superuser and cannot make one (engines/postgres.py: a PostgreSQL superuser
would run programs and read the machine's files). The DuckDB engine, which has no users, keeps
its own catalog of them (shiftflow/dataapi/principals/). A clear-text password is checked by Redshift's rules on
both (password_problem).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import closing_paren, word
from shiftflow.dataapi.translate.model import (AroundStatement, EngineSql, NotSupportedLocally, SessionCommand,
                                              SqlSyntaxError)

# The first word of Redshift's system privileges (r_GRANT.md: "GRANT { CREATE USER | DROP SCHEMA | ... } TO ROLE").
_SYSTEM_PRIVILEGE_WORDS = frozenset("""CREATE ALTER DROP TRUNCATE ACCESS IGNORE EXPLAIN ANALYZE VACUUM CANCEL
    MANAGE""".split())
# Objects of GRANT ... ON that only Redshift has.
_REDSHIFT_ONLY_OBJECTS = {"DATASHARE": "datashare privileges", "MODEL": "model privileges (CREATE MODEL)",
                          "COPY": "ASSUMEROLE privileges", "TEMPLATE": "COPY template privileges"}


def is_role_command(tokens: list[Token]) -> bool:
    """GRANT / REVOKE without a statement sqlglot models, and CREATE / ALTER / DROP of users, groups and roles."""
    words = [word(t) for t in tokens[:2]]
    return bool(words) and (words[0] in {"GRANT", "REVOKE"} or (
        len(words) == 2 and words[0] in {"CREATE", "ALTER", "DROP"} and words[1] in {"USER", "GROUP", "ROLE"}))


def refuse_redshift_only(tokens: list[Token]) -> None:
    """What neither engine has (see the module docstring): raises NotSupportedLocally."""
    words = [word(t) for t in tokens]
    if "EXTERNALID" in words:
        raise NotSupportedLocally("EXTERNALID (roles and users of an identity provider)")
    if "SYSLOG" in words:
        raise NotSupportedLocally("SYSLOG ACCESS (which users' queries the system tables show)")
    if words[0] not in {"GRANT", "REVOKE"}:
        return
    if "ASSUMEROLE" in words:
        raise NotSupportedLocally("ASSUMEROLE privileges (GRANT ASSUMEROLE ON an IAM role)")
    on = words.index("ON") if "ON" in words else None
    if on is not None and on + 1 < len(words) and words[on + 1] in _REDSHIFT_ONLY_OBJECTS:
        raise NotSupportedLocally(_REDSHIFT_ONLY_OBJECTS[words[on + 1]])
    start = 4 if words[1:4] == ["ADMIN", "OPTION", "FOR"] else 1  # REVOKE ADMIN OPTION FOR ROLE r FROM u
    if on is None and words[start] != "ROLE" and words[start] in _SYSTEM_PRIVILEGE_WORDS:
        raise NotSupportedLocally("system privileges (GRANT CREATE USER, DROP SCHEMA ... TO a role)")


def require_argument_lists(tokens: list[Token]) -> None:
    """GRANT / REVOKE ... ON FUNCTION | PROCEDURE name (argument types) [, ...]: Redshift's grammar takes no name
    without its list (r_GRANT.md: "Because stored procedure names can be overloaded, you must include the argument
    list"), where PostgreSQL finds an unambiguous one: a syntax error at what follows the name, on both engines."""
    words = [word(t) for t in tokens]
    if words[:1] not in (["GRANT"], ["REVOKE"]) or "ON" not in words:
        return
    on = words.index("ON")
    if words[on + 1 : on + 2] not in (["FUNCTION"], ["PROCEDURE"]):
        return
    index = on + 2
    while index < len(tokens):
        while index + 2 < len(tokens) and tokens[index + 1].token_type == TokenType.DOT:
            index += 2  # schema.name
        index += 1
        if index >= len(tokens) or tokens[index].token_type != TokenType.L_PAREN:
            token = tokens[min(index, len(tokens) - 1)]
            raise SqlSyntaxError(token.text, token.start + 1)
        index = closing_paren(tokens, index) + 1
        if index <= 0 or index >= len(tokens) or tokens[index].token_type != TokenType.COMMA:
            return
        index += 1


# Redshift's errors of DROP ROLE without FORCE (r_DROP_ROLE.md), on both engines.
ROLE_GRANTED_TO_A_USER = "cannot drop this role since it has been granted on a user"
ROLE_INHERITS_A_ROLE = "cannot drop this role since it depends on another role"


def _postgres_drop_role(name: str) -> str:
    """DROP ROLE r (RESTRICT) as Redshift refuses it: PostgreSQL drops a role granted to a user or inheriting one.
    The session's login role, a member of every role it creates (engines/postgres.py), is no such user."""
    literal = "'" + name.replace("'", "''") + "'"
    members = ("SELECT 1 FROM pg_auth_members m JOIN pg_roles granted ON granted.oid = m.roleid"
               " JOIN pg_roles member ON member.oid = m.member")
    return ("DO $drop_role$ BEGIN"
            f" IF EXISTS ({members} WHERE granted.rolname = {literal} AND member.rolcanlogin"
            " AND member.rolname <> session_user) THEN"
            f" RAISE EXCEPTION '{ROLE_GRANTED_TO_A_USER}'; END IF;"
            f" IF EXISTS ({members} WHERE member.rolname = {literal} AND NOT granted.rolcanlogin) THEN"
            f" RAISE EXCEPTION '{ROLE_INHERITS_A_ROLE}'; END IF;"
            f" EXECUTE 'DROP ROLE ' || quote_ident({literal}); END $drop_role$")


_PASSWORD_HASH = re.compile(r"(md5[0-9a-fA-F]{32}|sha256\|.+)$")


def password_problem(password: str) -> str | None:
    """Redshift's error for a clear-text password its rules refuse (r_CREATE_USER.md: 8 to 64 characters, an
    uppercase letter, a lowercase letter and a digit); None for a good one or an MD5 / SHA-256 hash."""
    if _PASSWORD_HASH.match(password):
        return None
    if not 8 <= len(password) <= 64:
        return "password must be between 8 and 64 characters long"
    if not (re.search("[A-Z]", password) and re.search("[a-z]", password) and re.search("[0-9]", password)):
        return "password must contain an uppercase letter, a lowercase letter and a number"
    return None


def check_passwords(tokens: list[Token]) -> None:
    """CREATE / ALTER USER ... PASSWORD 'text': raises Redshift's error when the rules refuse it (both engines)."""
    for index, token in enumerate(tokens[:-1]):
        if word(token) == "PASSWORD" and tokens[index + 1].token_type == TokenType.STRING:
            problem = password_problem(tokens[index + 1].text)
            if problem:
                raise EngineError(problem)


def postgres_role_command(statement: str, tokens: list[Token]) -> str:
    """The statement in PostgreSQL's words (see the module docstring); raises NotSupportedLocally."""
    refuse_redshift_only(tokens)
    require_argument_lists(tokens)
    words = [word(t) for t in tokens]
    if words[0] in {"GRANT", "REVOKE"}:
        return _grant(statement, tokens, words)
    if words[1] == "USER":
        check_passwords(tokens)
    if words[:2] == ["DROP", "ROLE"] and len(tokens) == 3 or words[:2] + words[3:] == ["DROP", "ROLE", "RESTRICT"]:
        name = tokens[2].text if tokens[2].token_type == TokenType.IDENTIFIER else tokens[2].text.lower()
        return _postgres_drop_role(name)
    edits: list[tuple[int, int, str]] = []  # (first token, last token, replacement)
    if words[:2] == ["DROP", "ROLE"] and words[-1] == "FORCE":
        edits.append((len(tokens) - 1, len(tokens) - 1, ""))
    if words[:2] == ["ALTER", "ROLE"] and len(words) > 4 and words[3] == "WITH":
        if words[4] == "OWNER":
            raise NotSupportedLocally("role owners (ALTER ROLE ... OWNER TO)")
        if words[4] == "RENAME":
            edits.append((3, 3, ""))
    if words[1] == "USER":
        edits += _user_options(words)
    return _edited(statement, tokens, edits)


def postgres_owner_only_procedure(create: str, tokens: list[Token]) -> str:
    """CREATE PROCEDURE for PostgreSQL, which lets PUBLIC execute a new procedure: "By default, EXECUTE privilege
    for new procedures is granted to the procedure owner and superusers" on Redshift
    (stored-procedure-security-and-privileges.md). The statement run, then EXECUTE revoked from PUBLIC on the
    procedure it made, whichever overload of the name that is (one it replaced keeps its privileges)."""
    words = [word(t) for t in tokens]
    index = words.index("PROCEDURE") + 1
    parts = [t.text if t.token_type == TokenType.IDENTIFIER else t.text.lower() for t in tokens[index : index + 3]
             if t.token_type != TokenType.DOT][: 2 if index + 1 < len(tokens) and tokens[index + 1].token_type
                                                == TokenType.DOT else 1]
    name = "'" + parts[-1].replace("'", "''") + "'"
    tag = "$shiftflow_procedure$"
    if tag in create:
        return create
    return (f"DO $shiftflow_create$ DECLARE before oid[]; created regprocedure; BEGIN"
            f" SELECT coalesce(array_agg(oid), '{{}}') INTO before FROM pg_proc WHERE proname = {name} AND prokind = 'p';"
            f" EXECUTE {tag}{create}{tag};"
            f" FOR created IN SELECT oid::regprocedure FROM pg_proc WHERE proname = {name} AND prokind = 'p'"
            " AND NOT oid = ANY(before) LOOP"
            " EXECUTE 'REVOKE EXECUTE ON PROCEDURE ' || created::text || ' FROM PUBLIC'; END LOOP; END $shiftflow_create$")


def _grant(statement: str, tokens: list[Token], words: list[str]) -> str:
    # ROLE before each granted role (role membership) and before each grantee role (GRANT ... ON ... TO ROLE r) is
    # Redshift's word alone.
    if "ON" in words and "ROLE" not in words:
        return statement
    edits = [(i, i, "") for i, name in enumerate(words)
             if name == "ROLE" and i + 1 < len(tokens) and words[i - 1] in {"GRANT", "REVOKE", ",", "TO", "FROM", "FOR"}]
    return _edited(statement, tokens, edits)


CREATEUSER_REFUSED = ("CREATEUSER (a superuser) on the PostgreSQL engine, whose sessions log in as a role that is no"
                      " PostgreSQL superuser (use the DuckDB engine for Redshift superusers)")


def _user_options(words: list[str]) -> list[tuple[int, int, str]]:
    edits = []
    for i, name in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if name == "PASSWORD" and following == "DISABLE":
            edits.append((i + 1, i + 1, "NULL"))
        elif name == "CREATEUSER":
            raise NotSupportedLocally(CREATEUSER_REFUSED)
        elif name == "NOCREATEUSER":
            edits.append((i, i, ""))
        elif name == "LIMIT" and words[i - 1] == "CONNECTION" and following == "UNLIMITED":
            edits.append((i + 1, i + 1, "-1"))
        elif name == "SESSION" and following == "TIMEOUT":
            first = i - 1 if words[i - 1] == "RESET" else i
            last = i + 1 if first < i else i + 2
            edits.append((first, min(last, len(words) - 1), ""))
    return edits


def _edited(statement: str, tokens: list[Token], edits: list[tuple[int, int, str]]) -> str:
    pieces, position = [], 0
    for first, last, replacement in sorted(edits):
        pieces.append(statement[position : tokens[first].start])
        pieces.append(replacement)
        position = tokens[last].end + 1
    pieces.append(statement[position:])
    text = "".join(pieces)
    if edits and [word(t) for t in tokens[:2]] == ["ALTER", "USER"] and not text[tokens[2].end + 1 :].strip():
        return "DO $noop$ BEGIN END $noop$"  # ALTER USER u RESET SESSION TIMEOUT: nothing left to change
    return text


# --- a missing user or group in Redshift's words -------------------------------------------------------------------
# Redshift keeps PostgreSQL 8.0's users and groups (pg_user, pg_group): a GRANT to, or SET SESSION AUTHORIZATION
# of, a user that does not exist fails with `user "x" does not exist` (PostgreSQL 8.0's assign_session_authorization
# and aclchk.c; Redshift's own text in dbt-labs/dbt-core#8563 and dbt-labs/dbt-redshift#415 for a GRANT), a group
# with `group "g" does not exist`; a role (Redshift's RBAC) is a role. PostgreSQL names all of them roles.
_MISSING_ROLE = re.compile(r'role "((?:[^"]|"")*)" does not exist')
_PRINCIPAL_VERBS = frozenset({"GRANT", "REVOKE", "SET", "ALTER", "DROP", "CREATE"})


def _principal_name(token: Token) -> str:
    return token.text if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING) else token.text.lower()


def _listed(tokens: list[Token], start: int, kind: str) -> list[tuple[str, str]]:
    """Names in a comma list from `start`, each `kind` unless GROUP / ROLE / USER / PUBLIC says otherwise."""
    named, index = [], start
    while index < len(tokens):
        current = word(tokens[index])
        if current in {"GROUP", "ROLE", "USER"} and index + 1 < len(tokens):
            named.append((current.lower(), _principal_name(tokens[index + 1])))
            index += 2
        elif current == "PUBLIC":
            index += 1
        else:
            named.append((kind, _principal_name(tokens[index])))
            index += 1
        if index < len(tokens) and tokens[index].token_type == TokenType.COMMA:
            index += 1
            continue
        return named
    return named


def principal_kinds(tokens: list[Token]) -> tuple[tuple[str, str], ...]:
    """(kind, name) of the users and groups a statement names where a missing one is an error: grantees of
    GRANT / REVOKE, SET SESSION AUTHORIZATION's user, OWNER TO's, ALTER DEFAULT PRIVILEGES FOR USER's, the users and
    groups of CREATE / ALTER / DROP USER and GROUP."""
    tokens = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    words = [word(t) for t in tokens]
    if not words or words[0] not in _PRINCIPAL_VERBS:
        return ()
    named: list[tuple[str, str]] = []
    if words[0] == "SET" and (words[-3:-1] == ["SESSION", "AUTHORIZATION"] or words[-3:-2] == [
            "SESSION_AUTHORIZATION"] and words[-2] in {"TO", "="}) and words[-1] != "DEFAULT":
        named.append(("user", _principal_name(tokens[-1])))
    if words[-3:-1] == ["OWNER", "TO"]:
        named.append(("user", _principal_name(tokens[-1])))
    if words[0] in {"GRANT", "REVOKE"} or words[:3] == ["ALTER", "DEFAULT", "PRIVILEGES"]:
        verb = next((i for i, w in enumerate(words) if i and w in {"GRANT", "REVOKE"}), 0)
        if words[verb + 1 : verb + 2] != ["ROLE"] and "ON" not in words[verb:] and words[0] in {"GRANT", "REVOKE"}:
            return ()  # GRANT ROLE r TO ...: a role's grantee may be a user or a role
        if "FOR" in words[:verb]:
            named += _listed(tokens, words.index("FOR") + 1, "user")
        target = next((i for i in range(verb, len(words)) if words[i] in {"TO", "FROM"}), None)
        if target is not None:
            named += _listed(tokens, target + 1, "user")
    if words[1:2] in (["USER"], ["GROUP"]) and words[0] in {"ALTER", "DROP"} and len(tokens) > 2:
        start = 4 if words[2:4] == ["IF", "EXISTS"] else 2
        if start == 2:
            named += _listed(tokens, 2, words[1].lower()) if words[0] == "DROP" else [
                (words[1].lower(), _principal_name(tokens[2]))]
        if words[0] == "ALTER" and words[1] == "GROUP" and words[3:5] in (["ADD", "USER"], ["DROP", "USER"]):
            named += _listed(tokens, 5, "user")
    if words[:2] == ["CREATE", "USER"] and "IN" in words and words[words.index("IN") + 1 : words.index("IN") + 2] \
            == ["GROUP"]:
        named += _listed(tokens, words.index("IN") + 2, "group")
    if words[:2] == ["CREATE", "GROUP"] and "USER" in words:
        named += _listed(tokens, words.index("USER") + 1, "user")
    return tuple((kind, name) for kind, name in named if kind in {"user", "group"})


@dataclass(frozen=True)
class PrincipalWords(AroundStatement):
    """A PostgreSQL statement naming users or groups: PostgreSQL's `role "x" does not exist` for one of them is
    Redshift's `user "x"` / `group "x"` (see principal_kinds)."""

    inner: EngineSql | SessionCommand
    kinds: tuple[tuple[str, str], ...]

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        try:
            return self.run_inner(session, parameters, in_transaction)
        except EngineError as error:
            found = _MISSING_ROLE.search(str(error))
            name = found.group(1).replace('""', '"') if found else None
            kind = next((k for k, n in self.kinds if n == name), None)
            if kind is None:
                raise
            raise EngineError(f'{kind} "{name}" does not exist', code=error.code) from None


def names_principals(statement: str) -> bool:
    """Whether the statement's first word is one of a statement that may name users or groups (cheap)."""
    first = statement.split(None, 1)[:1]
    return bool(first) and first[0].upper().rstrip(";") in _PRINCIPAL_VERBS


def with_principal_words(statement: str, tokens: list[Token],
                         translated: EngineSql | SessionCommand) -> EngineSql | SessionCommand:
    """The PostgreSQL statement, as a PrincipalWords when it names users or groups."""
    kinds = principal_kinds(tokens) if tokens and word(tokens[0]) in _PRINCIPAL_VERBS else ()
    return PrincipalWords(translated, kinds) if kinds else translated
