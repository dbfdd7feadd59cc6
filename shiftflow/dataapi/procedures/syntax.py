"""The parsed form of a PL/pgSQL body: blocks, statements and the SQL texts they carry (still Redshift SQL, with
the body's variable names in them: variables.py binds those when a statement runs)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Declaration:
    name: str
    type_text: str  # as written ("varchar(max)", "record", "refcursor"); "" for an ALIAS
    default: str | None = None  # expression text
    constant: bool = False
    not_null: bool = False
    cursor_query: str | None = None  # `name CURSOR FOR query`
    alias_of: int = 0  # `name ALIAS FOR $n`


@dataclass(frozen=True)
class Block:
    declarations: tuple[Declaration, ...]
    body: tuple[object, ...]
    handler: tuple[object, ...] | None = None  # EXCEPTION WHEN OTHERS THEN ...
    label: str | None = None


@dataclass(frozen=True)
class Sql:
    """An embedded SQL statement (INSERT, CREATE TABLE, SELECT ...), with an INTO target for SELECT INTO."""

    text: str
    into: tuple[str, ...] = ()
    perform: bool = False  # PERFORM: a query whose rows are thrown away


@dataclass(frozen=True)
class Assign:
    target: str
    expression: str


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[str, tuple[object, ...]], ...]  # (condition, statements)
    otherwise: tuple[object, ...] | None


@dataclass(frozen=True)
class Case:
    subject: str | None  # simple CASE's search expression; None: searched CASE
    branches: tuple[tuple[tuple[str, ...], tuple[object, ...]], ...]  # (expressions or a condition, statements)
    otherwise: tuple[object, ...] | None


@dataclass(frozen=True)
class Loop:
    body: tuple[object, ...]
    label: str | None = None
    condition: str | None = None  # WHILE


@dataclass(frozen=True)
class ForRange:
    variable: str
    low: str
    high: str
    body: tuple[object, ...]
    reverse: bool = False
    step: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class ForQuery:
    targets: tuple[str, ...]
    query: str  # SQL text, or an expression giving it when dynamic
    body: tuple[object, ...]
    dynamic: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Exit:
    label: str | None
    condition: str | None
    continues: bool = False  # CONTINUE


@dataclass(frozen=True)
class Return:
    pass


@dataclass(frozen=True)
class Raise:
    level: str  # INFO, NOTICE, LOG, WARNING, EXCEPTION; "" for a bare RAISE (re-throw)
    message: str = ""
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Execute:
    command: str  # expression giving the SQL text
    into: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnostics:
    target: str  # GET DIAGNOSTICS target := ROW_COUNT


@dataclass(frozen=True)
class Transaction:
    action: str  # "commit" | "rollback" | "start"


@dataclass(frozen=True)
class Call:
    name: str
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class Open:
    cursor: str
    query: str | None  # OPEN c FOR query / FOR EXECUTE expression; None: a bound cursor
    dynamic: bool = False
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fetch:
    cursor: str
    into: tuple[str, ...]


@dataclass(frozen=True)
class Close:
    cursor: str


@dataclass(frozen=True)
class Null:
    pass


@dataclass(frozen=True)
class Argument:
    name: str  # "" when the signature omits it ($n only)
    mode: str  # IN, OUT, INOUT
    type_text: str


@dataclass(frozen=True)
class Procedure:
    schema: str | None
    name: str
    arguments: tuple[Argument, ...]
    block: Block
    nonatomic: bool = False
    settings: tuple[tuple[str, str], ...] = field(default=())  # SET config options
    security_definer: bool = False  # SECURITY DEFINER: the body runs with its owner's privileges

    @property
    def inputs(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.mode in ("IN", "INOUT"))

    @property
    def outputs(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.mode in ("OUT", "INOUT"))
