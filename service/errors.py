"""One exception root for pokin and its few meaningful subclasses."""

from __future__ import annotations

from dataclasses import dataclass


class PokinError(Exception):
    """Root of every error pokin raises on purpose."""

    status_code = 500
    code = "error"


@dataclass(frozen=True)
class PlanProblem:
    """One problem of a plan file: where (file, line, field) and what."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class InvalidPlan(PokinError):
    """A plan file that cannot be loaded; nothing was written."""

    status_code = 422
    code = "invalid_plan"

    def __init__(self, problems: list[PlanProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(PokinError):
    status_code = 404
    code = "not_found"


class QueryError(PokinError):
    """A named query called wrongly: unknown name, missing or unused parameters."""

    status_code = 400
    code = "bad_query"


class GraphUnavailable(PokinError):
    """The graph store cannot be reached or started."""

    status_code = 503
    code = "graph_unavailable"


class Busy(PokinError):
    """What was asked for kept changing while it was read (plans replaced during a check); try again."""

    status_code = 409
    code = "changed_while_read"
