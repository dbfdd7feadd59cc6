"""Real-world Redshift SQL through the emulator (issue 13's corpus figure): how much of it runs as on Redshift.

    .venv/bin/python benchmarks/sql_corpus.py CORPUS_DIR [--engine duckdb|postgres] [--json OUT] [--failures N]

CORPUS_DIR holds one folder per source (nothing is downloaded: the corpus is gathered beforehand and stays out of
the repository). In a source folder:
- `*.md` files are pages of the AWS Redshift developer guide: each example statement of an Examples section runs, and
  where the page shows its output (a psql table), the emulator's rows are compared with it; the SQL reference's
  `r_*.md` pages all, any other page only when it documents an output (the guide's prose pages show none);
- `*.sql` files are scripts from public repositories: each statement runs, with no expected output.
Each page, and each folder of scripts (DDL files first), runs on one fresh engine session, over a small TICKIT
sample database (the tables most reference examples query, in a schema behind `public` on the search path): a
statement that reads a TICKIT table the page did not create itself runs, but is not compared.

Every statement gets one outcome: same (rows as documented), wrong (different rows, no error: the worst),
name (same rows, other column names), follows (different rows after an earlier statement of the page was refused
or failed: the page's setup did not happen), error (an engine error), unsupported ("not supported locally": a
feature the emulator lacks), internals ("not supported locally" for what needs Redshift's own internals or another AWS
service: system tables, Spectrum, Lambda UDFs, datashares, models, WLM; see INTERNALS), ran
(no documented output to compare; a documented ERROR counts as same when the statement fails too), missing (it reads a table or object neither the corpus nor the sample defines), s3
(COPY / UNLOAD: needs objects the corpus lacks), template (a jinja or psql-variable script, not SQL as written).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import decimal
import itertools
import json
import logging
import math
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shiftflow.dataapi.engines.base import EngineError, QueryResult
from shiftflow.dataapi.translate import (EngineSql, NotSupportedLocally, S3Command, SessionCommand,
                                         TransactionControl, translate)
from shiftflow.dataapi.translate.commands.settings import described
from shiftflow.dataapi.translate.model import CASE_SENSITIVE_IDENTIFIERS
from shiftflow.dataapi.translate.streaming import case_sensitive_identifiers
from shiftflow.dataapi.translate.system import SessionFacts, SystemLog, system_parameters
from shiftflow.sql.splitter import SqlSplitError, split_statements, tokenize

OUTCOMES = ("same", "wrong", "name", "follows", "error", "unsupported", "internals", "ran", "missing", "s3", "template")
REFUSED = frozenset({"error", "unsupported", "internals", "missing", "s3"})

# Refusals of what only a Redshift cluster (its system tables, plans, workload manager, Python runtime) or another
# AWS service (S3 data lakes through Spectrum, Lambda, SageMaker, IAM identity, other clusters' datashares) can
# answer: issue 13's goal counts the statements that do not need these, and these must be refused by name.
INTERNALS = re.compile(
    r"not supported locally: (system table |svv_table_info\.|stl_load_errors\.|SELECT \* from stl_load_errors"
    r"|external schemas and tables|Lambda UDFs|Python UDFs|CREATE LIBRARY|datashare|CREATE MODEL|DROP MODEL"
    r"|SHOW (MODEL|DATASHARES|EXTERNAL|DATABASES|ALL)|explain_model\(|identity providers|EXTERNALID"
    r"|ASSUMEROLE|has_assumerole_privilege\(|default_iam_role\(|current_aws_account|current_namespace"
    r"|change_(query|session|user)_priority\(|slice_num\(|ANALYZE COMPRESSION|EXPLAIN statement"
    r"|SET (datashare|enable_spectrum|spectrum_|pg_federation)|SHOW pg_federation"
    r"|(size|checksum)\(\) \(.*Redshift's (in-memory|internal)"
    r"|(COPY from|UNLOAD to) '(?!s3://))")
STATEMENT_SECONDS = 20.0

# The TICKIT sample database's tables (the Getting Started guide's DDL), a few deterministic rows each.
TICKIT_TABLES = {
    "users": "userid integer not null, username char(8), firstname varchar(30), lastname varchar(30), "
             "city varchar(30), state char(2), email varchar(100), phone char(14), likesports boolean, "
             "liketheatre boolean, likeconcerts boolean, likejazz boolean, likeclassical boolean, likeopera boolean, "
             "likerock boolean, likevegas boolean, likebroadway boolean, likemusicals boolean",
    "venue": "venueid smallint not null, venuename varchar(100), venuecity varchar(30), venuestate char(2), "
             "venueseats integer",
    "category": "catid smallint not null, catgroup varchar(10), catname varchar(10), catdesc varchar(50)",
    "date": "dateid smallint not null, caldate date not null, day character(3) not null, week smallint not null, "
            "month character(5) not null, qtr character(5) not null, year smallint not null, holiday boolean",
    "event": "eventid integer not null, venueid smallint not null, catid smallint not null, "
             "dateid smallint not null, eventname varchar(200), starttime timestamp",
    "listing": "listid integer not null, sellerid integer not null, eventid integer not null, "
               "dateid smallint not null, numtickets smallint not null, priceperticket decimal(8,2), "
               "totalprice decimal(8,2), listtime timestamp",
    "sales": "salesid integer not null, listid integer not null, sellerid integer not null, buyerid integer not null, "
             "eventid integer not null, dateid smallint not null, qtysold smallint not null, "
             "pricepaid decimal(8,2), commission decimal(8,2), saletime timestamp",
}
TICKIT_ROWS = {
    "users": ["(1,'JSG99FHE','Rafael','Taylor','Kent','WA','r@example.com','(664) 602-4412',true,false,null,"
              "false,true,null,false,true,false,true)",
              "(2,'PGL08LJI','Vladimir','Humphrey','Murfreesboro','SK','v@example.com','(783) 492-1886',null,"
              "null,null,true,false,null,true,false,true,true)"],
    "venue": ["(1,'Toyota Park','Bridgeview','IL',0)", "(2,'Columbus Crew Stadium','Columbus','OH',0)"],
    "category": ["(1,'Sports','MLB','Major League Baseball')", "(9,'Concerts','Pop','All rock and pop music concerts')"],
    "date": ["(1827,'2008-01-01','TU',1,'JAN','1',2008,true)", "(1828,'2008-01-02','WE',1,'JAN','1',2008,false)"],
    "event": ["(1,1,1,1827,'Gotterdammerung','2008-01-25 14:30:00')",
              "(2,2,9,1828,'Boris Godunov','2008-10-15 20:00:00')"],
    "listing": ["(1,1,1,1827,4,10.00,40.00,'2008-01-24 06:43:29')", "(2,2,2,1828,2,20.50,41.00,'2008-03-05 12:25:29')"],
    "sales": ["(1,1,1,2,1,1827,4,728.00,109.20,'2008-02-18 02:36:48')",
              "(2,2,2,1,2,1828,2,76.00,11.40,'2008-06-06 05:00:16')"],
}
TICKIT_SCHEMA = "tickit_sample"


@dataclasses.dataclass(frozen=True)
class Table:
    """A documented result: column names and rows as text; `partial` when the page shows only its first rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    partial: bool = False


@dataclasses.dataclass(frozen=True)
class Example:
    source: str
    location: str  # file:line
    sql: str
    expected: Table | None = None
    setup: bool = False  # run again for a later folder (its parent's DDL): not counted twice
    expected_error: str = ""  # the page shows it failing with this error


@dataclasses.dataclass(frozen=True)
class Outcome:
    example: Example
    kind: str
    detail: str = ""


# ---- the corpus ------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```")
_DASHES = re.compile(r"^\s*-{2,}[-+|\s]*$")
_ROW_COUNT = re.compile(r"^\s*\(\d+ rows?\);?\s*$")  # r_is_char.md ends its output with "(1 row);"
_EXAMPLE_HEADING = re.compile(r"^#+ .*example", re.IGNORECASE)


def _unescape_markdown(text: str) -> str:
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)


def page_examples(path: Path, source: str) -> list[Example]:
    """The example statements of one SQL reference page, each with the output the page shows after it (if any)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    examples: list[Example] = []
    in_examples = "example" in path.name.lower()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            in_examples = "example" in path.name.lower() or bool(_EXAMPLE_HEADING.match(line))
        if _FENCE.match(line):
            end = next((j for j in range(index + 1, len(lines)) if _FENCE.match(lines[j])), len(lines))
            if in_examples:
                found = _block_examples(lines[index + 1 : end], f"{path.name}:{index + 2}", source)
                if found and examples and found[0].expected_error and found[0].sql == examples[-1].sql:
                    examples.pop()  # a block of its own shows the statement before it failing (SQL Workbench's)
                examples += found
            index = end
        index += 1
    return examples


def _block_examples(block: list[str], location: str, source: str) -> list[Example]:
    """Statements and result tables of one code block, in order: a table belongs to the statement before it."""
    examples: list[Example] = []
    pending: list[str] = []
    index = 0
    while index < len(block):
        if index + 1 < len(block) and block[index].strip() and _DASHES.match(block[index + 1]) \
                and _statements("\n".join(pending)):
            table, index = _result_table(block, index)
            statements = _statements("\n".join(pending))
            for sql in statements[:-1]:
                examples.append(Example(source, location, sql))
            if statements:
                examples.append(Example(source, location, statements[-1], table))
            pending = []
            continue
        if block[index].lstrip().upper().startswith("ERROR:") and _statements("\n".join(pending)):
            statements = _statements("\n".join(pending))  # the page shows the last one failing
            examples += [Example(source, location, sql) for sql in statements[:-1]]
            examples.append(Example(source, location, statements[-1], expected_error=block[index].strip()))
            pending = []
            while index < len(block) and block[index].strip():
                index += 1
            continue
        if _WORKBENCH_ERROR.match(block[index]) and _statements("\n".join(pending)) and not any(
                line.lstrip().upper().startswith("ERROR:") for line in block[index:]):
            # SQL Workbench's report of the statement before it failing, the statement repeated after it and no
            # error text (JSON_ARRAY_LENGTH.md): the statement fails, with an error the page does not show
            statements = _statements("\n".join(pending))
            examples += [Example(source, location, sql) for sql in statements[:-1]]
            examples.append(Example(source, location, statements[-1], expected_error=block[index].strip()))
            return examples
        # "(10 rows)" after output shown without a header; SQL Workbench's line before the failing statement
        if not _ROW_COUNT.match(block[index]) and not _WORKBENCH_ERROR.match(block[index]):
            pending.append(block[index])
        index += 1
    examples += [Example(source, location, sql) for sql in _statements("\n".join(pending))]
    return examples


_WORKBENCH_ERROR = re.compile(r"\s*An error occurred when executing the SQL command:\s*$")


def _result_table(block: list[str], index: int) -> tuple[Table, int]:
    header, dashes = block[index], block[index + 1]
    bordered = "|" in header or "+" in dashes
    rows: list[tuple[str, ...]] = []
    partial = False
    index += 2
    while index < len(block) and block[index].strip():
        line = block[index]
        index += 1
        if _ROW_COUNT.match(line):
            break
        if line.strip() in {"...", "…", "(...)"}:
            partial = True
            continue
        rows.append(_cells(line) if bordered else (line.strip(),))
    columns = _cells(header) if bordered else (header.strip(),)
    return Table(tuple(c.lower() for c in columns), tuple(rows), partial), index


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in _unescape_markdown(line).strip().strip("|").split("|"))


_SQL_START = re.compile(r"^\s*(select|with|insert|update|delete|create|drop|alter|set|reset|show|begin|commit|end|"
                        r"rollback|abort|call|copy|unload|merge|truncate|grant|revoke|analyze|vacuum|explain|declare|"
                        r"fetch|close|values|comment|prepare|execute|deallocate|start|lock|refresh|cancel|\()\b",
                        re.IGNORECASE)


def _statements(text: str) -> list[str]:
    """The SQL statements of a piece of a code block, as written (the pages escape Markdown in prose, not in code:
    a doubled backslash there is two); none when it is prose, a synopsis or a shell session."""
    if re.search(r"\[ *,? *\.\.\. *\]|\{ *\w+ *\|", text):
        return []  # a synopsis ([, ...], { a | b }) is not a statement
    try:
        pieces = [statement.text for statement in split_statements(text)]
    except SqlSplitError:
        pieces = [text]
    # Output shown without a table (INFO:, ERROR:, bare values) and elided statements ("where ...") are not SQL.
    return [piece for piece in pieces
            if _SQL_START.match(_without_leading_comments(piece)) and "..." not in piece and "[waits]" not in piece]


def _without_leading_comments(sql: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*\s*", "", sql, flags=re.DOTALL)


def script_examples(directory: Path, source: str, root: Path) -> list[Example]:
    """The statements of one folder's .sql files: the files with CREATE TABLE first (a benchmark's DDL before
    its queries), then by name; the DDL files of its parent folders up to `root` before them (queries/ beside
    ddl.sql)."""
    parents = [folder for folder in directory.parents if folder.is_relative_to(root) and folder != directory]
    inherited = sorted(f for folder in parents for f in folder.glob("*.sql") if _creates_tables(f))
    files = inherited + sorted(directory.glob("*.sql"), key=lambda f: (not _creates_tables(f), f.name))
    examples: list[Example] = []
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        relative = file.relative_to(root)
        if "{{" in text or "{%" in text:
            examples.append(Example(source, f"{relative}", "-- jinja template"))
            continue
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("\\"))  # psql commands
        try:
            statements = split_statements(text)
        except SqlSplitError as error:
            examples.append(Example(source, f"{relative}", f"-- unsplittable: {error}"))
            continue
        examples += [Example(source, f"{relative}:{index + 1}", statement.text, setup=file in inherited)
                     for index, statement in enumerate(statements)]
    return examples


def _creates_tables(file: Path) -> bool:
    return bool(re.search(r"\bcreate\s+table\b", file.read_text(encoding="utf-8", errors="replace"), re.IGNORECASE))


def corpus_groups(corpus: Path) -> Iterator[tuple[str, list[Example]]]:
    """(group name, its statements): one group per reference page, one per folder of scripts."""
    for source in sorted(p for p in corpus.iterdir() if p.is_dir()):
        for page in sorted(source.rglob("*.md")):
            examples = page_examples(page, source.name)
            # the SQL reference's pages (r_DATEADD_function.md ...) and any other page that documents an output
            # (JSON_EXTRACT_PATH_TEXT.md, c_Examples_of_UPDATE_statements.md ...): the rest are guides whose
            # statements show no result to compare
            if examples and (page.name.startswith("r_") or any(e.expected or e.expected_error for e in examples)):
                yield f"{source.name}/{page.name}", examples
        for folder in sorted({f.parent for f in source.rglob("*.sql")}):
            yield f"{source.name}/{folder.relative_to(source)}", script_examples(folder, source.name, source)


# ---- running ---------------------------------------------------------------------------------------------------

_DATABASES = itertools.count()


class CorpusSession:
    """One engine session with the TICKIT sample, running statements as the emulator's runner does."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.session = engine.session(f"corpus_{next(_DATABASES)}")
        self.in_transaction = False
        self._roles_before = self._roles()
        self._load_sample()

    def _load_sample(self) -> None:
        self.session.execute(f"CREATE SCHEMA IF NOT EXISTS {TICKIT_SCHEMA}", {})
        for table, columns in TICKIT_TABLES.items():
            name = f'{TICKIT_SCHEMA}."{table}"'
            self.session.execute(f"CREATE TABLE {name} ({columns})", {})
            self.session.execute(f"INSERT INTO {name} VALUES {', '.join(TICKIT_ROWS[table])}", {})
        path = f"public, {TICKIT_SCHEMA}" if self.engine.name == "postgres" else f"public,{TICKIT_SCHEMA}"
        self.session.execute(f"SET search_path = '{path}'" if self.engine.name == "duckdb"
                             else f"SET search_path = {path}", {})

    def run(self, sql: str) -> QueryResult:
        case_sensitive = CASE_SENSITIVE_IDENTIFIERS.set(case_sensitive_identifiers(self.session, sql))  # as the runner
        try:
            translated = translate(sql, self.session.engine)
        finally:
            CASE_SENSITIVE_IDENTIFIERS.reset(case_sensitive)
        timer = threading.Timer(STATEMENT_SECONDS, self.session.interrupt)
        timer.start()
        try:
            if isinstance(translated, TransactionControl):  # as the runner: no-ops where Redshift only warns
                if (translated.action == "begin") != self.in_transaction:
                    getattr(self.session, translated.action)()
                    self.in_transaction = translated.action == "begin"
                return QueryResult()
            if isinstance(translated, S3Command):
                raise _NeedsS3()
            parameters = {name: "1" for name in translated.parameter_names}
            # the emulated system tables as the service binds them for a fresh session (no loads, no history)
            parameters.update(system_parameters(translated.parameter_names, SessionFacts(), SystemLog(), 1))
            if isinstance(translated, SessionCommand):
                return described(self.session, translated.run(self.session, parameters, self.in_transaction))
            assert isinstance(translated, EngineSql)
            result = translated.execute(self.session, parameters)
            if translated.commits and self.in_transaction:
                self.session.commit()
                self.session.begin()
            return described(self.session, result)
        finally:
            timer.cancel()

    def forget(self, table: str) -> None:
        """Drop what an earlier example made under this name, before an example makes it again."""
        for kind in ("VIEW", "TABLE"):
            try:
                self.session.execute(f'DROP {kind} IF EXISTS "{table}" CASCADE', {})
            except EngineError:
                self.recover()

    def forget_principal(self, kind: str, name: str) -> None:
        """Drop a user, group or role an earlier example created, before an example creates it again."""
        try:
            self.run(f"DROP {kind} {name}" + (" FORCE" if kind.upper() == "ROLE" else ""))
        except Exception:  # noqa: BLE001 - still held by a grant of the page: the example then shows that
            self.recover()

    def recover(self) -> None:
        """After a failure, as a Redshift session: an open transaction is aborted."""
        if self.in_transaction or self.engine.name == "postgres":
            try:
                self.session.rollback()
            except EngineError:
                pass
            self.in_transaction = False

    def _roles(self) -> set[str]:
        if self.engine.name != "postgres":
            return set()
        return {row[0] for row in self.session.execute("SELECT rolname FROM pg_roles", {}).rows}

    def close(self) -> None:
        """PostgreSQL's users, groups and roles are the server's: those a group made go with it, as every DuckDB
        group runs on an engine of its own (a later page creates its own `dbuser` again)."""
        if self.engine.name == "postgres":
            self.recover()
            try:
                self.session.execute("RESET SESSION AUTHORIZATION", {})
                for role in sorted(self._roles() - self._roles_before):
                    quoted = '"' + role.replace('"', '""') + '"'
                    self.session.execute(f"DROP OWNED BY {quoted} CASCADE", {})
                    self.session.execute(f"DROP ROLE {quoted}", {})
            except EngineError as error:
                logging.getLogger(__name__).warning("could not drop the group's roles: %s", error)
        self.session.close()


class _NeedsS3(Exception):
    pass


# PostgreSQL names a function with its argument types: function f(integer, integer) does not exist.
# A materialized view the group's refused CREATE never made: the emulator's own REFRESH / DROP message.
_MISSING = re.compile(r"(?:Table|Schema|Function|Macro|relation|function|materialized view)(?: with name)?"
                      r" \"?([\w.]+)\"?(?:\(.*\))? does not exist", re.IGNORECASE)
# Users, groups, roles, databases and procedures are the corpus's own objects (Redshift has no built-in procedure):
# one the group never creates is missing, as a table is (PostgreSQL engine: "role "dwuser" does not exist").
_MISSING_OWN = re.compile(r"^(?:role|user|group|database) \"([^\"]+)\" does not exist|^procedure ([\w.]+)\(.*\) does not exist")
_CREATES_OWN = re.compile(r"\bcreate\s+(?:user|group|role|database|(?:or\s+replace\s+)?procedure)\s+\"?([\w.]+)",
                          re.IGNORECASE)
_CREATED_PRINCIPAL = re.compile(r"^\s*create\s+(user|group|role)\s+(\w+)", re.IGNORECASE)
_LATE_BINDING = re.compile(r"\bwith\s+no\s+schema\s+binding\b", re.IGNORECASE)
_DROPS_FUNCTION = re.compile(r"\s*drop\s+function\b", re.IGNORECASE)
# A session context variable (a dotted name: SET app_context.user_id ..., set_config('app.username', ...)).
_UNSET_VARIABLE = re.compile(r"unrecognized configuration parameter \"(\w+\.\w+)\"")
_SETS_VARIABLE = re.compile(r"\bset\s+(?:session\s+|local\s+)?(\w+\.\w+)|\bset_config\s*\(\s*'(\w+\.\w+)'",
                            re.IGNORECASE)
# Errors that depend on a table's rows: on rows the corpus does not have (the sample's, or none where a COPY loads
# the page's), Redshift raises them as well, as a statement timeout the page's data reaches (see _run_one).
_DATA_ERROR = re.compile(r"\bdivision by zero\b")
_SYSTEM = re.compile(r"^(pg_|stl_|stv_|svl_|svv_|sys_|svcs_|stcs_|information_schema)", re.IGNORECASE)


def _corpus_lacks(message: str, sql: str, lineage: Lineage) -> bool:
    """The error names a table or schema neither the corpus nor the sample defines (a user's own object, not a
    system table), a function the corpus defines in a statement that failed or drops without defining it, or a
    session context variable (a dotted name) the group shows without setting: not the emulator's failure."""
    variable = _UNSET_VARIABLE.search(message)
    if variable is not None:
        return variable.group(1).lower() not in lineage.variables
    own = _MISSING_OWN.search(message)
    if own is not None:
        return (own.group(1) or own.group(2)).split(".")[-1].lower() not in lineage.own
    match = _MISSING.search(message)
    if match is None or _LATE_BINDING.search(sql):  # a late-binding view needs no object when it is made
        return False
    name = match.group(1).split(".")[-1].lower()
    if _SYSTEM.match(name) or _SYSTEM.match(match.group(1)):
        return False
    qualified = match.group(1).lower().split(".")
    if len(qualified) > 1 and qualified[-2] != TICKIT_SCHEMA and name in TICKIT_TABLES and name not in lineage.created:
        return True  # public.category: the sample's tables live in its own schema
    if re.search(r"function|macro", match.group(0), re.IGNORECASE):
        # a function the group defines in a statement that failed, or one a DROP names that it never defines
        return name in lineage.functions or (bool(_DROPS_FUNCTION.match(sql)) and name not in lineage.functions)
    if name in TICKIT_TABLES and re.match(r"public\.", match.group(1), re.IGNORECASE) and name not in lineage.created:
        return True  # the page's reader has the TICKIT tables in public; the corpus keeps its sample in another schema
    return name not in lineage.created | set(TICKIT_TABLES) or name in lineage.failed


@dataclasses.dataclass
class Lineage:
    """What a group's tables hold: `created` by the group itself; `sample` (TICKIT rows, not the documented data)
    and `loaded` (filled by a COPY the corpus cannot run): the tables whose contents the page's output cannot show."""

    created: set[str] = dataclasses.field(default_factory=set)
    sample: set[str] = dataclasses.field(default_factory=lambda: set(TICKIT_TABLES))
    loaded: set[str] = dataclasses.field(default_factory=set)
    functions: set[str] = dataclasses.field(default_factory=set)  # CREATE FUNCTION / PROCEDURE names
    own: set[str] = dataclasses.field(default_factory=set)  # users, groups, roles, databases, procedures created
    failed: set[str] = dataclasses.field(default_factory=set)  # created by a statement that failed
    variables: set[str] = dataclasses.field(default_factory=set)  # session context variables set (app.user_id)
    transfers: int = 0  # COPY and UNLOAD statements run (pg_last_copy_count() ... report the last)

    def record(self, sql: str, outcome: str) -> None:
        function = re.match(r"\s*create\s+(?:or\s+replace\s+)?(?:external\s+)?(?:function|procedure)\s+([\w.\"]+)",
                            sql, re.IGNORECASE)
        if function:
            self.functions.add(function.group(1).strip('"').split(".")[-1].lower())
        if outcome not in REFUSED:
            self.own |= {name.split(".")[-1].lower() for name in _CREATES_OWN.findall(sql)}
        self.variables |= {(a or b).lower() for a, b in _SETS_VARIABLE.findall(sql)}
        if re.match(r"\s*(copy|unload)\b", _without_leading_comments(sql), re.IGNORECASE):
            self.transfers += 1
        if outcome in REFUSED:
            self.failed |= _created_tables(sql)
        else:
            self.failed -= _created_tables(sql)
        targets = _created_tables(sql) | _written_tables(sql)
        if outcome == "s3":
            self.loaded |= _written_tables(sql)
        reads = _table_names(sql) - targets
        self.created |= _created_tables(sql)
        self.sample -= _created_tables(sql)
        if reads & self.sample:
            self.sample |= targets
        if reads & self.loaded:
            self.loaded |= targets


def run_group(engine: Any, examples: Sequence[Example]) -> list[Outcome]:
    session = CorpusSession(engine)
    lineage = Lineage()
    outcomes = []
    try:
        refused = False
        for example in examples:
            outcome = _run_one(session, example, lineage)
            if outcome.kind in {"wrong", "name"} and refused:
                # a page's setup the emulator refused (CREATE USER, GRANT, CREATE DATABASE ... COLLATE) or could
                # not run: its later examples show what that setup would have changed
                outcome = Outcome(example, "follows", outcome.detail)
            refused = refused or outcome.kind in REFUSED
            outcomes.append(outcome)
            lineage.record(example.sql, outcome.kind)
    finally:
        session.close()
    return outcomes


def _run_one(session: CorpusSession, example: Example, lineage: Lineage) -> Outcome:
    if example.sql.startswith("-- jinja") or example.sql.startswith("-- unsplittable") or _has_psql_variables(example.sql):
        return Outcome(example, "template", example.sql[:60])
    for table in _created_tables(example.sql) & lineage.created:
        session.forget(table)  # the page makes it anew (a reader runs each example on its own)
    for kind, name in _CREATED_PRINCIPAL.findall(example.sql):
        if name.lower() in lineage.own:
            session.forget_principal(kind, name)
    try:
        result = session.run(example.sql)
    except NotSupportedLocally as error:
        session.recover()
        other = _OTHER_DATABASE.search(str(error))
        if other and other.group(1).lower() not in lineage.own:  # a datashare's, a zero-ETL integration's ...
            return Outcome(example, "missing", f"reads database {other.group(1)}, which the corpus never creates")
        return _refusal(example, str(error))
    except _NeedsS3:
        return Outcome(example, "s3")
    except Exception as error:  # noqa: BLE001 - an engine error of any kind is one outcome
        session.recover()
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "not supported locally" in message:  # raised when the query runs (e.g. AVG of DECIMAL on DuckDB)
            return _refusal(example, message)
        if example.expected_error:
            return Outcome(example, "same", f"fails as documented ({example.expected_error}): {message}")
        if _DATA_ERROR.search(message) and _table_names(example.sql) & (lineage.loaded | lineage.sample):
            return Outcome(example, "ran", f"a data error on rows the corpus lacks, as Redshift raises it: {message}")
        kind = "missing" if _corpus_lacks(message, example.sql, lineage) else "error"
        return Outcome(example, kind, f"{type(error).__name__}: {message}")
    reads = _table_names(example.sql) | _catalog_reads(example.sql)
    if _catalog_reads(example.sql) - lineage.created - lineage.sample - lineage.loaded:
        return Outcome(example, "missing", "a catalog query about a table the corpus never creates")
    if _LAST_TRANSFER.search(example.sql) and not lineage.transfers:
        return Outcome(example, "missing", "the last COPY / UNLOAD of a session the page does not show")
    if example.expected_error and "canceled on user's request" in example.expected_error:
        return Outcome(example, "ran", "a statement timeout the page's data reaches and the sample's does not")
    if example.expected_error:
        return Outcome(example, "wrong", f"ran; the page documents {example.expected_error}")
    if example.expected is None:
        return Outcome(example, "ran")
    if reads & lineage.loaded:
        return Outcome(example, "s3", "reads a table a COPY loads")
    if reads & lineage.sample:
        return Outcome(example, "ran", "reads the TICKIT sample")
    if _NONDETERMINISTIC.search(example.sql):
        return Outcome(example, "ran", "the clock or a random value")
    return compare(example, result)


_OTHER_DATABASE = re.compile(r'cross-database query \(an object of database "([^"]+)"')
_LAST_TRANSFER = re.compile(r"\bpg_last_(copy|unload)_(count|id)\b", re.IGNORECASE)
_NONDETERMINISTIC = re.compile(r"\b(sysdate|getdate|current_date|current_time|current_timestamp|localtimestamp|"
                               r"localtime|now|timeofday|random|pg_backend_pid|current_user|session_user|user|"
                               r"current_database|version)\b", re.IGNORECASE)


def _has_psql_variables(sql: str) -> bool:
    try:
        tokens = tokenize(sql)
    except SqlSplitError:
        return False
    # `:name` but not a `::type` cast; at the statement's start too (rsql's `:EXPLAIN select ...`)
    return any(a.text == ":" and b.start == a.end + 1 and (b.text.isidentifier() or b.text.startswith("'"))
               and (a.start == 0 or sql[a.start - 1] != ":") for a, b in zip(tokens, tokens[1:]))


_TABLE_AFTER = re.compile(r"\b(?:from|join|into|update|table|exists)\s+([\w.\"]+)", re.IGNORECASE)


_LIKE_PARENT = re.compile(r"\(\s*like\s+([\w.\"]+)", re.IGNORECASE)
# A catalog query names the tables it is about by literal: pg_table_def's tablename, information_schema's table_name.
_CATALOG_FILTER = re.compile(r"\b(?:tablename|table_name)\s*(?:=\s*'(\w+)'|in\s*\(([^)]*)\))", re.IGNORECASE)


def _table_names(sql: str) -> set[str]:
    return {name.strip('"').split(".")[-1].strip('"').lower() for name in _TABLE_AFTER.findall(sql)
            + _LIKE_PARENT.findall(sql)}


def _catalog_reads(sql: str) -> set[str]:
    """The user tables a query of pg_table_def or information_schema is about (its output shows their definition)."""
    if not re.search(r"\b(pg_table_def|information_schema)\b", sql, re.IGNORECASE):
        return set()
    names = set()
    for single, listed in _CATALOG_FILTER.findall(sql):
        names |= {single.lower()} if single else {n.strip().strip("'").lower() for n in listed.split(",")}
    return {name for name in names if name and not _SYSTEM.match(name)}


def _created_tables(sql: str) -> set[str]:
    match = re.match(r"\s*create\s+(?:(?:local\s+)?(?:temp|temporary)\s+)?(?:table|view|materialized\s+view)\s+"
                     r"(?:if\s+not\s+exists\s+)?([\w.\"]+)", sql, re.IGNORECASE)
    return {match.group(1).strip('"').split(".")[-1].strip('"').lower()} if match else set()


def _written_tables(sql: str) -> set[str]:
    """The table a statement writes; a cursor its DECLARE fills (what FETCH reads holds what its query read)."""
    sql = _without_leading_comments(sql)
    match = re.match(r"\s*(?:insert\s+into|update|delete\s+from|copy|merge\s+into)\s+([\w.\"]+)", sql, re.IGNORECASE)
    match = match or re.match(r"\s*declare\s+([\w\"]+)\s+(?:\w+\s+)*?cursor\b", sql, re.IGNORECASE)
    return {match.group(1).strip('"').split(".")[-1].strip('"').lower()} if match else set()


# ---- comparing -------------------------------------------------------------------------------------------------

def _refusal(example: Example, message: str) -> Outcome:
    return Outcome(example, "internals" if INTERNALS.search(message) else "unsupported", message)


def compare(example: Example, result: QueryResult) -> Outcome:
    expected = example.expected
    assert expected is not None
    actual_rows = [tuple(_without_sample_schema(render(value)) for value in row) for row in result.rows]
    expected_rows = [tuple(_normalized(cell) for cell in row) for row in expected.rows]
    if not result.columns:
        if not _QUERY.match(_without_leading_comments(example.sql)):  # the page shows the table it changed
            return Outcome(example, "ran", "the page shows a table after a statement that returns none")
        return Outcome(example, "wrong", "no result set")
    if len(expected.columns) != len(result.columns) and not (len(expected.columns) == 1 and len(result.columns) > 1):
        return Outcome(example, "wrong", f"{len(result.columns)} columns, documented {len(expected.columns)}")
    if len(expected.columns) == 1 and len(result.columns) > 1:  # an unbordered multi-column table: one cell a row
        actual_rows = [(" ".join(row),) for row in actual_rows]
        expected_rows = [(" ".join(row[0].split()),) for row in expected_rows]
        actual_rows = [(" ".join(row[0].split()),) for row in actual_rows]
    if not expected_rows and not expected.partial and len(result.rows) == 1 and all(v is None for v in result.rows[0]):
        expected_rows = [tuple("" for _ in expected.columns)]  # a NULL row, printed as a blank line the page drops
    ordered = _ordered(example.sql)
    if not _rows_match(actual_rows, expected_rows, ordered, expected.partial):
        return Outcome(example, "wrong", f"got {_short(actual_rows)} documented {_short(expected_rows)}")
    names = tuple(column.name.lower() for column in result.columns)
    if len(names) == len(expected.columns) and names != expected.columns:
        return Outcome(example, "name", f"columns {names} documented {expected.columns}")
    return Outcome(example, "same")


_QUERY = re.compile(r"(select|with|values|show|\()", re.IGNORECASE)
_SAMPLE_ON_PATH = re.compile(rf",\s*{TICKIT_SCHEMA}\b")


def _without_sample_schema(text: str) -> str:
    """The search path as the page's reader has it: the corpus put its sample schema behind `public`."""
    return _SAMPLE_ON_PATH.sub("", text)


def _short(rows: Sequence[tuple[str, ...]]) -> str:
    return repr(list(rows[:3]))[:300]


def _ordered(sql: str) -> bool:
    return bool(re.search(r"\border\s+by\b[^()]*$", sql, re.IGNORECASE | re.DOTALL))


def _rows_match(actual: list[tuple[str, ...]], expected: list[tuple[str, ...]], ordered: bool, partial: bool) -> bool:
    if partial or (expected and len(actual) > len(expected) and len(expected) >= 3):
        # "..." or a documented excerpt: the shown rows must appear (in order, when the query orders them)
        if ordered:
            return len(actual) >= len(expected) and all(_row_equal(a, e) for a, e in zip(actual, expected))
        return _each_found_once(actual, expected)
    if len(actual) != len(expected):
        return False
    if ordered:
        return all(_row_equal(a, e) for a, e in zip(actual, expected))
    return _each_found_once(actual, expected)


def _each_found_once(actual: list[tuple[str, ...]], expected: list[tuple[str, ...]]) -> bool:
    """Every expected row matches a distinct actual row, in any order."""
    remaining = list(actual)
    for row in expected:
        found = next((a for a in remaining if _row_equal(a, row)), None)
        if found is None:
            return False
        remaining.remove(found)
    return True


def _row_equal(actual: tuple[str, ...], expected: tuple[str, ...]) -> bool:
    return len(actual) == len(expected) and all(_cell_equal(a, e) for a, e in zip(actual, expected))


def _cell_equal(actual: str, expected: str) -> bool:
    if actual == expected or " ".join(actual.split()) == " ".join(expected.split()):
        return True
    instants = _instant(actual), _instant(expected)
    if None not in instants:  # a TIMESTAMPTZ prints in the session's time zone: some pages ran in another one
        return instants[0] == instants[1]
    if actual.startswith("\x00float:"):  # a DOUBLE PRECISION / REAL: Redshift prints 15 or 17 digits
        value = float(actual[len("\x00float:"):])
        try:
            documented = float(expected)
        except ValueError:
            return False
        return math.isclose(value, documented, rel_tol=1e-6, abs_tol=1e-9)
    return False


_TIMESTAMPTZ = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:?\d\d)?")


def _instant(cell: str) -> datetime.datetime | None:
    if not _TIMESTAMPTZ.fullmatch(cell):
        return None
    offset = re.search(r"[+-]\d\d(:?\d\d)?$", cell)
    assert offset is not None
    hours = offset.group()
    text = cell[: offset.start()] + (hours if len(hours) > 3 else hours + ":00")
    return datetime.datetime.fromisoformat(text)


def render(value: Any) -> str:
    """A value as psql prints it (floats are compared by value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return f"\x00float:{value!r}"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        text = value.isoformat(" ")
        if value.utcoffset() is not None:
            text = re.sub(r"([+-]\d\d):00$", r"\1", text)
        return text
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()  # Redshift prints a VARBYTE as hexadecimal digits
    return str(value)


def _normalized(cell: str) -> str:
    if len(cell) > 1 and cell[0] == cell[-1] == "'":  # a few pages quote their output
        cell = cell[1:-1]
    if cell.lower() in {"null", "<null>", "(null)"}:
        return ""
    if cell.lower() in {"true", "false"}:
        return cell.lower()[0]
    return cell


# ---- reporting -------------------------------------------------------------------------------------------------

def measure(corpus: Path, engine_name: str = "duckdb") -> list[Outcome]:
    """Every statement's outcome. DuckDB: a new in-memory engine per group; PostgreSQL: one server, a new database
    per group."""
    shared = _engine(engine_name) if engine_name == "postgres" else None
    outcomes: list[Outcome] = []
    try:
        for _, examples in corpus_groups(corpus):
            engine = shared or _engine(engine_name)
            try:
                outcomes += run_group(engine, examples)
            finally:
                if shared is None:
                    engine.close()
    finally:
        if shared is not None:
            shared.close()
    return outcomes


def _engine(name: str) -> Any:
    if name == "postgres":
        from shiftflow.dataapi.engines.postgres import PostgresEngine

        return PostgresEngine()
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    return DuckDBEngine()


def figures(outcomes: Iterable[Outcome]) -> dict[str, dict[str, int]]:
    """Per source: the count of each outcome, and the total."""
    table: dict[str, dict[str, int]] = collections.defaultdict(lambda: dict.fromkeys(("total", *OUTCOMES), 0))
    for outcome in outcomes:
        if outcome.example.setup:
            continue
        for key in (outcome.example.source, "all"):
            table[key]["total"] += 1
            table[key][outcome.kind] += 1
    return dict(table)


def failure_kinds(outcomes: Iterable[Outcome], kinds: tuple[str, ...] = ("error", "wrong", "name")) -> list[tuple[str, int]]:
    """The commonest failure messages, with identifiers and literals blurred so that one kind counts once."""
    counter: collections.Counter[str] = collections.Counter()
    for outcome in outcomes:
        if outcome.kind in kinds and not outcome.example.setup:
            blurred = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", outcome.detail)[:110]
            counter[f"{outcome.kind}: {blurred}"] += 1
    return counter.most_common()


def print_report(outcomes: list[Outcome], failures: int) -> None:
    table = figures(outcomes)
    print(f"{'source':<16}" + "".join(f"{kind:>{_width(kind)}}" for kind in ("total", *OUTCOMES)) + "    ran  honest")
    print("(ran: the share of the statements judged, internals left out, that ran as on Redshift; honest: those and"
          " the ones refused with \"not supported locally\")")
    for source, counts in sorted(table.items(), key=lambda item: item[0] == "all"):
        ran, honest = _as_redshift(counts)
        print(f"{source:<16}" + "".join(f"{counts[kind]:>{_width(kind)}}" for kind in ("total", *OUTCOMES))
              + f"{ran:>7.1%}{honest:>7.1%}")
    print("\ncommonest failures:")
    for kind, count in failure_kinds(outcomes)[:failures]:
        print(f"{count:>5}  {kind}")


def _width(kind: str) -> int:
    return max(8, len(kind) + 2)


def _as_redshift(counts: dict[str, int]) -> tuple[float, float]:
    """Of the statements the corpus lets judge (not missing a table, an S3 object, a template's values or the page's
    refused setup) and that do not need Redshift's internals (issue 13's goal): the share that ran as on Redshift,
    and the share that ran so or said plainly it cannot ("not supported locally")."""
    judged = (counts["total"] - counts["missing"] - counts["s3"] - counts["template"] - counts["follows"]
              - counts["internals"])
    ran = counts["same"] + counts["ran"]
    if not judged:
        return 1.0, 1.0
    return ran / judged, (ran + counts["unsupported"]) / judged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--engine", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--failures", type=int, default=40, help="how many failure kinds to list")
    options = parser.parse_args(argv)
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to a Command" warnings, per statement
    outcomes = measure(options.corpus, options.engine)
    print_report(outcomes, options.failures)
    if options.json:
        options.json.write_text(json.dumps([{"setup": o.example.setup, "source": o.example.source, "location": o.example.location,
                                             "sql": o.example.sql, "kind": o.kind, "detail": o.detail,
                                             "expected": dataclasses.asdict(o.example.expected)
                                             if o.example.expected else None} for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
