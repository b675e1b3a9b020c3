"""The Cypher linter (tools/cypher-lint, Neo4j's own parser + semantic analysis).

A lint that passes proves nothing by itself: the analyser can fail internally and
then report nothing. So known-bad queries are shown to FAIL with the expected
message before anything is taken as a proof of validity, and every file in
cypher/ must then lint without error.

Skipped only when node is not installed. If node_modules is missing these tests
FAIL, telling to run the setup (cd tools/cypher-lint && npm ci).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service import cypher_lint
from service.cypher_lint import (
    CYPHER_DIR,
    PACKAGE_DIR,
    ROOT,
    SETUP_HINT,
    CypherLintUnavailable,
    Diagnostic,
    lint_files,
)

pytestmark = [
    pytest.mark.lint,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]

# name -> (query, substring of the error message this version reports).
# Each was checked against @neo4j-cypher/language-support 2.0.0-next.38.
KNOWN_BAD: dict[str, tuple[str, str]] = {
    "syntax-error": ("MATCH (n RETURN n", "Invalid input 'RETURN'"),
    "neo4j4-size-of-pattern": (
        "MATCH (n) RETURN size((n)-->()) AS degree",
        "can no longer be used inside the function size()",
    ),
    "neo4j4-exists-property": ("MATCH (n) WHERE exists(n.uid) RETURN n", "property existence syntax"),
    "neo4j4-parameter-braces": ("WITH {p} AS p RETURN p", "Invalid input"),
    "undefined-variable": ("MATCH (n) RETURN m", "Variable `m` not defined"),
    "undefined-variable-in-order-by": ("MATCH (n) RETURN n.x AS a ORDER BY b", "Variable `b` not defined"),
    "duplicate-column": ("RETURN 1 AS x, 2 AS x", "Multiple result columns with the same name"),
    "duplicate-column-implicit": ("UNWIND [1, 2] AS x RETURN x, x", "Multiple result columns with the same name"),
    "with-not-aliased": ("MATCH (n) WITH n.x RETURN 1", "must be aliased"),
    "union-column-names": ("RETURN 1 AS x UNION RETURN 2 AS y", "same return column names"),
    "implicit-grouping": ("MATCH (n) RETURN n.x + count(*) AS c", "implicit grouping"),
    "distinct-order-by-hidden-variable": (
        "MATCH (n) RETURN DISTINCT n.x AS x ORDER BY n.y",
        "not possible to access variables declared before",
    ),
    "create-without-rel-type": ("CREATE (a)-[r]->(b)", "Exactly one relationship type must be specified for CREATE"),
    "type-mismatch": ("RETURN toUpper(1) AS u", "Type mismatch: expected String but was Integer"),
    "too-many-arguments": ("RETURN abs(1, 2) AS a", "Too many parameters for function 'abs'"),
    "falkordb-only-function": ("RETURN vecf32([1.0, 2.0]) AS v", "Function vecf32 is not present"),
    "falkordb-only-tojson": ("MATCH (n) RETURN toJSON(n) AS j", "Function toJSON is not present"),
    "falkordb-only-procedure": (
        "CALL db.idx.fulltext.queryNodes('Element', 'x') YIELD node RETURN node",
        "Procedure db.idx.fulltext.queryNodes is not present",
    ),
    "apoc-function": ("RETURN apoc.coll.sum([1, 2]) AS s", "Function apoc.coll.sum is not present"),
    "console-command": (":param x => 1", "Console commands are unsupported"),
    "two-statements": ("MATCH (n) RETURN n; MATCH (m) RETURN m", "2 statements in one file"),
    "empty-file": ("", "No Cypher statement"),
    "comment-only-file": ("// describes a query that is not there\n", "Expected any of"),
}

# name -> (query, substring of a warning that must be there, or None for no diagnostic at all).
KNOWN_GOOD: dict[str, tuple[str, str | None]] = {
    "call-with-importing-with": (
        "MATCH (n:Element {uid: $uid})\n"
        "CALL {\n  WITH n\n  MATCH (n)<-[:CONTRIBUTES_TO]-(c)\n  RETURN count(c) AS k\n}\n"
        "RETURN n.uid AS uid, k",
        # Neo4j 5 accepts it, with a deprecation notification (a warning, not an error)
        "CALL subquery without a variable scope clause is deprecated",
    ),
    "call-with-scope-clause": (
        "MATCH (n:Element {uid: $uid})\nCALL (n) { MATCH (n)<-[:CONTRIBUTES_TO]-(c) RETURN count(c) AS k }\nRETURN n.uid AS uid, k",
        None,
    ),
    "unwind-merge-set-plus-equals": ("UNWIND $rows AS r MERGE (n:Element {uid: r.uid}) SET n += r.props", None),
    "variable-length-path-and-list-comprehension": (
        "MATCH p = (a:Element {uid: $uid})-[:CONTRIBUTES_TO*0..]->(root:Element)\n"
        "WHERE NOT (root)-[:CONTRIBUTES_TO]->()\n"
        "RETURN [x IN nodes(p) WHERE x.uid IS NOT NULL | x.uid] AS path, length(p) AS depth",
        None,
    ),
    "merge-relationship-from-rows": (
        "UNWIND $rows AS r\nMATCH (a:Element {uid: r.child})\nMATCH (b:Element {uid: r.parent})\nMERGE (a)-[:CONTRIBUTES_TO]->(b)",
        None,
    ),
    "optional-match-collect": (
        "MATCH (n:Element)\nOPTIONAL MATCH (n)-[:CONTRIBUTES_TO]->(p:Element)\n"
        "RETURN n.uid AS uid, coalesce(p.uid, '') AS parent, collect(DISTINCT labels(n)) AS ls",
        None,
    ),
    "exists-and-count-subqueries": (
        "MATCH (n:Element) WHERE EXISTS { (n)-->() } RETURN n.uid AS uid, COUNT { (n)<--() } AS k",
        None,
    ),
    "pattern-comprehension-reduce-case": (
        "MATCH (n:Element)\n"
        "RETURN [(n)-[:CONTRIBUTES_TO]->(m) | m.uid] AS parents,\n"
        "       reduce(acc = 0, x IN [1, 2] | acc + x) AS s,\n"
        "       CASE WHEN n.target IS NULL THEN 0 ELSE 1 END AS has_target\n"
        "ORDER BY n.uid SKIP $skip LIMIT $limit",
        None,
    ),
    "merge-on-create-on-match": (
        "MERGE (n:Element {uid: $uid}) ON CREATE SET n.created = timestamp() ON MATCH SET n.seen = true RETURN n.uid AS uid",
        None,
    ),
    "detach-delete-in-list": ("MATCH (n:Element) WHERE n.uid IN $uids DETACH DELETE n", None),
    "constraint-ddl": ("CREATE CONSTRAINT element_uid IF NOT EXISTS FOR (n:Element) REQUIRE n.uid IS UNIQUE", None),
    "leading-comments-and-trailing-semicolon": (
        "// Lists every element.\n// Params: none.\nMATCH (n:Element)\nRETURN n.uid AS uid;\n",
        None,
    ),
}

# Neo4j 5 rejects these only at run time (or they are newer than some 5.x), and
# this linter does NOT catch them: kept here so that a version bump that changes
# it is noticed. Do not rely on the lint for these.
BLIND_SPOTS: dict[str, str] = {
    "mixed-type-list-property": "CREATE (n:Element {xs: [1, 'a']})",
    "map-property-value": "MATCH (n:Element) SET n.x = {a: 1}",
    "list-of-maps-property-value": "MATCH (n:Element) SET n.x = [{a: 1}]",
    "dynamic-label-5.26-plus": "MATCH (n) SET n:$($label)",
}


def _errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity == "error"]


def _show(diags: list[Diagnostic]) -> str:
    return "\n".join(str(d) for d in diags) or "(no diagnostic)"


@pytest.fixture(scope="module")
def setup_present() -> None:
    # Missing node_modules is a failure, never a skip: the proof would be missing.
    if not PACKAGE_DIR.is_dir():
        pytest.fail(f"Cypher linter not installed ({PACKAGE_DIR} is missing): {SETUP_HINT}", pytrace=False)


@pytest.fixture(scope="module")
def snippets(setup_present, tmp_path_factory) -> dict[str, list[Diagnostic]]:
    """Every snippet above, linted in one node run; name -> diagnostics."""
    folder = tmp_path_factory.mktemp("cypher-snippets")
    queries = {
        **{f"bad-{k}": q for k, (q, _) in KNOWN_BAD.items()},
        **{f"good-{k}": q for k, (q, _) in KNOWN_GOOD.items()},
        **{f"blind-{k}": q for k, q in BLIND_SPOTS.items()},
    }
    paths = {}
    for name, query in queries.items():
        path = folder / f"{name}.cypher"
        path.write_text(query, encoding="utf-8")
        paths[name] = str(path)
    results = lint_files(paths.values())
    return {name: results[path] for name, path in paths.items()}


def test_setup_is_installed() -> None:
    assert PACKAGE_DIR.is_dir(), f"Cypher linter not installed ({PACKAGE_DIR} is missing): {SETUP_HINT}"


@pytest.mark.parametrize("name", list(KNOWN_BAD))
def test_known_bad_query_is_an_error(snippets, name: str) -> None:
    query, expected = KNOWN_BAD[name]
    diags = snippets[f"bad-{name}"]
    assert any(expected in d.message for d in _errors(diags)), (
        f"{query!r} should fail with an error containing {expected!r}; got:\n{_show(diags)}"
    )


@pytest.mark.parametrize("name", list(KNOWN_GOOD))
def test_known_good_query_has_no_error(snippets, name: str) -> None:
    query, warning = KNOWN_GOOD[name]
    diags = snippets[f"good-{name}"]
    assert not _errors(diags), f"{query!r} is valid Neo4j 5; got:\n{_show(diags)}"
    if warning is None:
        assert diags == [], f"{query!r}: no diagnostic expected; got:\n{_show(diags)}"
    else:
        assert any(d.severity == "warning" and warning in d.message for d in diags), _show(diags)


@pytest.mark.parametrize("name", list(BLIND_SPOTS))
def test_documented_blind_spot_still_passes(snippets, name: str) -> None:
    diags = snippets[f"blind-{name}"]
    assert not _errors(diags), f"{BLIND_SPOTS[name]!r} is now caught by the linter: move it to KNOWN_BAD; got:\n{_show(diags)}"


def test_positions_are_one_based_and_count_comment_lines(snippets, tmp_path: Path) -> None:
    path = tmp_path / "positions.cypher"
    path.write_text("// Describes the query.\n// Second line.\nMATCH (n)\nRETURN m\n", encoding="utf-8")
    (diag,) = lint_files([path])[str(path)]
    assert (diag.severity, diag.line, diag.column) == ("error", 4, 8)
    assert "Variable `m` not defined" in diag.message


def test_silent_analysis_crash_is_reported_as_error(setup_present, tmp_path: Path) -> None:
    """The trap: this query has an undefined variable `m`, but the expression is so
    deep that the Neo4j analysis dies internally and the package reports NOTHING.
    lint.mjs must turn that into an error. (Takes ~10 s.)"""
    path = tmp_path / "deep.cypher"
    path.write_text("MATCH (n) RETURN n.a" + "[0]" * 10000 + " AS x, m\n", encoding="utf-8")
    diags = lint_files([path])[str(path)]
    assert any("semantic analysis failed internally" in d.message for d in _errors(diags)), _show(diags)


def test_cli_exit_codes(setup_present, tmp_path: Path) -> None:
    good = tmp_path / "good.cypher"
    good.write_text("MATCH (n:Element) RETURN n.uid AS uid\n", encoding="utf-8")
    bad = tmp_path / "bad.cypher"
    bad.write_text("MATCH (n) RETURN m\n", encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "service.cypher_lint", str(good)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    ko = subprocess.run([sys.executable, "-m", "service.cypher_lint", str(good), str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert ko.returncode == 1, ko.stdout + ko.stderr
    assert f"{bad}:1:18: error: Variable `m` not defined" in ko.stdout


def test_missing_node_modules_raises_with_setup_hint(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cypher_lint, "PACKAGE_DIR", tmp_path / "nowhere")
    path = tmp_path / "q.cypher"
    path.write_text("RETURN 1 AS one\n", encoding="utf-8")
    with pytest.raises(CypherLintUnavailable, match="npm ci"):
        lint_files([path])


def test_missing_node_raises(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cypher_lint, "node_executable", lambda: None)
    with pytest.raises(CypherLintUnavailable, match="node is not installed"):
        lint_files([tmp_path / "q.cypher"])


# --- the project's queries -------------------------------------------------


@pytest.fixture(scope="module")
def project_queries(setup_present) -> dict[str, list[Diagnostic]]:
    """Every cypher/*.cypher as it is when the tests run, linted in one node run."""
    return lint_files(sorted(CYPHER_DIR.glob("*.cypher")))


def test_every_cypher_file_has_no_error(project_queries) -> None:
    assert len(project_queries) >= 10, "cypher/ should hold the project's queries"
    bad = {f: _errors(d) for f, d in project_queries.items() if _errors(d)}
    assert not bad, "\n".join(f"{Path(f).relative_to(ROOT)}:{d}" for f, ds in bad.items() for d in ds)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in sorted(CYPHER_DIR.glob("*.cypher"))])
def test_cypher_file_has_no_error(project_queries, path: Path) -> None:
    diags = project_queries[str(path)]
    assert not _errors(diags), f"{path.relative_to(ROOT)}:\n{_show(diags)}"
