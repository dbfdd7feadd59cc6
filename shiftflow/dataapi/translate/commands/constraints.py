"""ALTER TABLE t ADD [CONSTRAINT name] PRIMARY KEY | UNIQUE | FOREIGN KEY ... and ALTER TABLE t DROP CONSTRAINT.

Redshift keeps these declarations as hints for its planner and never enforces them ("Uniqueness, primary key, and
foreign key constraints are informational only; they are not enforced", r_CREATE_TABLE_NEW.md). Both engines would
enforce them, rejecting data Redshift accepts (ALTER TABLE fails on a duplicate already loaded, later inserts on a
new one); CREATE TABLE drops them for the same reason (rewrite.py). So ADD checks what the emulator can know of
Redshift's own checks (the table, its columns, a foreign key's table and columns exist), DROP CONSTRAINT that the
table exists; declarations.py keeps the constraints (and finds an unknown name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineSession, QueryResult
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand

_UNENFORCED = (exp.PrimaryKey, exp.UniqueColumnConstraint, exp.ForeignKey)


@dataclass(frozen=True)
class ConstraintCheck(SessionCommand):
    """The queries that fail as Redshift's ALTER TABLE would (an unknown table or column); no result set."""

    checks: tuple[EngineSql, ...]

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        for check in self.checks:
            check.execute(session, {})
        return QueryResult()


def constraint_alter(tree: exp.Expression, translate_query: Callable[[str], EngineSql]) -> ConstraintCheck | None:
    """The check for an ALTER TABLE whose actions all add unenforced constraints; None for any other statement.
    `translate_query` turns a Redshift query into the engine's (names resolved as any query's are)."""
    if not isinstance(tree, exp.Alter) or (tree.args.get("kind") or "").upper() != "TABLE":
        return None
    actions = tree.args.get("actions") or []
    drops = [action for action in actions
             if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "CONSTRAINT"]
    declarations = [_declaration(item) for action in actions if isinstance(action, exp.AddConstraint)
                    for item in action.expressions]
    if not actions or len(declarations) + len(drops) != len(actions) or any(d is None for d in declarations):
        return None
    checks = [_columns_exist(tree.this, [], translate_query)] if drops else []
    for declaration in declarations:
        assert declaration is not None
        checks.append(_columns_exist(tree.this, _columns(declaration), translate_query))
        reference = declaration.args.get("reference") if isinstance(declaration, exp.ForeignKey) else None
        if reference is not None and isinstance(reference.this, exp.Schema):
            checks.append(_columns_exist(reference.this.this, list(reference.this.expressions), translate_query))
    return ConstraintCheck(checks=tuple(checks))


def _declaration(item: exp.Expression) -> exp.Expression | None:
    """PRIMARY KEY (...), UNIQUE (...) or FOREIGN KEY (...) REFERENCES ..., named (CONSTRAINT n ...) or not."""
    if isinstance(item, exp.Constraint):
        kinds = item.expressions
        return kinds[0] if len(kinds) == 1 and isinstance(kinds[0], _UNENFORCED) else None
    return item if isinstance(item, _UNENFORCED) else None


def _columns(declaration: exp.Expression) -> list[exp.Expression]:
    if isinstance(declaration, exp.UniqueColumnConstraint):
        schema = declaration.this
        return list(schema.expressions) if isinstance(schema, exp.Schema) else []
    return list(declaration.expressions)


def _columns_exist(table: exp.Expression, columns: list[exp.Expression],
                   translate_query: Callable[[str], EngineSql]) -> EngineSql:
    projections = [exp.Column(this=column.copy()) for column in columns] or [exp.Literal.number(1)]
    query = exp.select(*projections).from_(table.copy()).where(exp.false())
    return translate_query(query.sql("redshift"))
