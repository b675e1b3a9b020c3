"""Lint cypher/*.cypher with Neo4j's own parser and semantic analysis, offline.

There is no Neo4j server here; tools/cypher-lint/lint.mjs runs the npm package
@neo4j-cypher/language-support (pinned) under node. This module runs it and
reads its JSON.

    python -m service.cypher_lint [FILE...]   # default: every cypher/*.cypher

Setup (once, and after package-lock.json changes): make setup, or cd tools/cypher-lint && npm ci
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from service.errors import PokinError

ROOT = Path(__file__).resolve().parent.parent
CYPHER_DIR = ROOT / "cypher"
LINT_DIR = ROOT / "tools" / "cypher-lint"
LINT_SCRIPT = LINT_DIR / "lint.mjs"
PACKAGE_DIR = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"
SETUP_HINT = f"run the setup: make setup (or: cd {LINT_DIR} && npm ci)"
TIMEOUT_S = 600


class CypherLintUnavailable(PokinError):
    """node or the linter's node_modules is missing, or the linter itself is broken."""

    code = "cypher_lint_unavailable"


@dataclass(frozen=True)
class Diagnostic:
    """One finding; line and column are 1-based."""

    severity: Literal["error", "warning"]
    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.severity}: {self.message}"


def node_executable() -> str | None:
    return shutil.which("node")


def check_setup() -> str:
    """Return the node executable, or raise CypherLintUnavailable saying what to do."""
    node = node_executable()
    if node is None:
        raise CypherLintUnavailable(f"node is not installed (Node.js 20 or later is needed); then {SETUP_HINT}")
    if not PACKAGE_DIR.is_dir():
        raise CypherLintUnavailable(f"{PACKAGE_DIR} is missing: {SETUP_HINT}")
    return node


def lint_files(paths: Iterable[str | Path]) -> dict[str, list[Diagnostic]]:
    """Lint each file; map each path as given (str) to its diagnostics, in order.

    Raises CypherLintUnavailable if node or node_modules is missing, or if the
    linter reports that it cannot be trusted (its self-test failed).
    """
    files = [str(p) for p in paths]
    if not files:
        return {}
    node = check_setup()
    try:
        proc = subprocess.run(
            [node, str(LINT_SCRIPT), *[str(Path(f).resolve()) for f in files]],
            cwd=LINT_DIR,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise CypherLintUnavailable(f"cypher lint took longer than {TIMEOUT_S}s") from e
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise CypherLintUnavailable(
            f"cypher lint (exit {proc.returncode}) printed no JSON report; stderr:\n{proc.stderr.strip()}"
        ) from None
    if proc.returncode not in (0, 1) or "error" in report:
        raise CypherLintUnavailable(f"cypher lint failed (exit {proc.returncode}): {report.get('error', proc.stderr.strip())}")
    entries = report["files"]
    if len(entries) != len(files):
        raise CypherLintUnavailable(f"cypher lint reported {len(entries)} files for {len(files)} given")
    return {
        given: [Diagnostic(d["severity"], d["message"], d["line"], d["column"]) for d in entry["diagnostics"]]
        for given, entry in zip(files, entries, strict=True)
    }


def lint_text(text: str, *, directory: Path | None = None) -> list[Diagnostic]:
    """Lint one query given as text (written to a temporary .cypher file)."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "query.cypher"
        path.write_text(text, encoding="utf-8")
        return lint_files([path])[str(path)]


def default_files() -> list[Path]:
    return sorted(CYPHER_DIR.glob("*.cypher"))


def has_errors(results: dict[str, list[Diagnostic]]) -> bool:
    return any(d.severity == "error" for diags in results.values() for d in diags)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in args):
        print(__doc__.strip())
        return 0
    files: list[str | Path] = list(args) if args else list(default_files())
    if not files:
        print(f"no .cypher files in {CYPHER_DIR}")
        return 0
    try:
        results = lint_files(files)
    except CypherLintUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    errors = warnings = 0
    for file, diags in results.items():
        for d in diags:
            print(f"{file}:{d}")
            errors += d.severity == "error"
            warnings += d.severity == "warning"
    print(f"{len(results)} files linted: {errors} errors, {warnings} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
