#!/usr/bin/env node
// Lints Cypher files with Neo4j's own parser and semantic analysis, offline.
//
//   node lint.mjs FILE...
//
// Prints one JSON object on stdout:
//   {"files": [{"file": F, "diagnostics": [{"severity": "error"|"warning",
//                                           "message": M, "line": L, "column": C}]}]}
// line and column are 1-based. Exit code: 0 = no error-severity diagnostic,
// 1 = at least one, 2 = the linter itself is broken (then the JSON object has
// an "error" key and no verdict can be trusted).
//
// Pinned to @neo4j-cypher/language-support 2.0.0-next.38 (see package.json).
// It reaches into two internal modules of that exact version, which is why the
// version is pinned exactly.
//
// Why the extra guards: the package wraps Neo4j's semantic analysis (Java,
// compiled to JS) and, when that analysis fails internally (e.g. stack overflow
// on a deeply nested expression), it returns NO diagnostics at all instead of
// an error - a crashed analysis looks exactly like a clean query. Two guards:
//   1. self-test: before linting, known-bad queries must each yield an error,
//      otherwise the whole run is declared broken (exit 2);
//   2. per statement: when the parser saw variables but the analysis returned
//      an empty symbol table and no error, the analysis did not run; this is
//      reported as an error on that file.

import { readFileSync } from 'node:fs';

const PACKAGE = '@neo4j-cypher/language-support';
// Internal modules of the pinned version: the variant of lintCypherQuery that
// takes a parse we made ourselves (so the guard below can see each statement's
// variables), and that parser. Same files as the public entry point imports, so
// the same module instances.
const INTERNAL_DIR = `./node_modules/${PACKAGE}/dist/esm/project/language-support/src/`;

async function loadPackage() {
  try {
    const pub = await import(PACKAGE);
    const { lintCypherQueryWithParsingResult } = await import(
      new URL(INTERNAL_DIR + 'syntaxValidation/syntaxValidation.js', import.meta.url).href);
    const { createParsingResult } = await import(
      new URL(INTERNAL_DIR + 'cypherLanguageService.js', import.meta.url).href);
    const api = {
      lintCypherQueryWithParsingResult,
      createParsingResult,
      isNotParamError: pub.isNotParamError,
      testData: pub.testData,
    };
    for (const [name, value] of Object.entries(api)) {
      if (value === undefined) throw new Error(`${PACKAGE} has no ${name}: not version 2.0.0-next.38?`);
    }
    return api;
  } catch (e) {
    process.stdout.write(JSON.stringify({
      error: `cannot load ${PACKAGE} (run the setup: npm ci in tools/cypher-lint): ${e && e.message}`,
      files: [],
    }) + '\n');
    process.exit(2);
  }
}

const { lintCypherQueryWithParsingResult, createParsingResult, isNotParamError, testData } =
  await loadPackage();

// LSP DiagnosticSeverity: 1 Error, 2 Warning, 3 Information, 4 Hint.
const SEVERITY_ERROR = 1;

// Neo4j 5 is what the files must run on.
const CYPHER_VERSION = 'CYPHER 5';

// Function/procedure registry: with none, unknown functions and procedures pass
// silently (e.g. FalkorDB-only ones such as vecf32() or db.idx.fulltext.*).
// The package ships a snapshot of a Neo4j server's registry (testData.mockSchema);
// keep only what a plain Neo4j 5 has: built-in functions, and procedures that
// are not from the APOC / GDS plugins.
function neo4jRegistry() {
  const fns = testData.mockSchema.functions[CYPHER_VERSION];
  const procs = testData.mockSchema.procedures[CYPHER_VERSION];
  const builtinFunctions = Object.fromEntries(
    Object.entries(fns).filter(([, fn]) => fn.isBuiltIn === true),
  );
  const coreProcedures = Object.fromEntries(
    Object.entries(procs).filter(
      ([name]) => !name.startsWith('apoc.') && !name.startsWith('gds.'),
    ),
  );
  return {
    defaultLanguage: CYPHER_VERSION,
    functions: { [CYPHER_VERSION]: builtinFunctions },
    procedures: { [CYPHER_VERSION]: coreProcedures },
    // no labels / relationshipTypes / propertyKeys: no "not in the database"
    // warnings; no graphSchema: that code path needs Node >= 22.
  };
}

const DB_SCHEMA = neo4jRegistry();

function severityName(severity) {
  return severity === SEVERITY_ERROR ? 'error' : 'warning';
}

/** Lints one query text; returns [{severity, message, line, column}], 1-based. */
function lintText(text) {
  const parsingResult = createParsingResult(text, { consoleCommandsEnabled: false });
  const { diagnostics, symbolTables } = lintCypherQueryWithParsingResult(text, DB_SCHEMA, {
    consoleCommandsEnabled: false,
    parsingResult,
  });

  const out = [];
  const seen = new Set();
  for (const d of diagnostics) {
    // An empty DbSchema declares no parameters, so every $param would be an
    // error "Parameter $x is not defined."; parameters are supplied at run time.
    if (!isNotParamError(d)) continue;
    const item = {
      severity: severityName(d.severity),
      message: d.message,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
    };
    const key = JSON.stringify(item);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }

  const statements = parsingResult.statementsParsing.filter(
    (s) => (s.command.type === 'cypher' || s.command.type === 'auto') &&
      s.command.statement.trim().length > 0,
  );
  const hasError = () => out.some((d) => d.severity === 'error');

  if (statements.length === 0 && !hasError()) {
    out.push({ severity: 'error', message: 'No Cypher statement in this file.', line: 1, column: 1 });
  }
  if (statements.length > 1) {
    const second = statements[1].command.start;
    out.push({
      severity: 'error',
      message: `${statements.length} statements in one file; Neo4j runs exactly one statement per query.`,
      line: second ? second.line : 1,
      column: second ? second.column + 1 : 1,
    });
  }

  // Guard 2: a statement whose parse has variables but whose analysis produced
  // an empty symbol table and no error was never analysed (silent crash).
  if (!hasError()) {
    parsingResult.statementsParsing.forEach((s, i) => {
      const table = symbolTables[i] ?? [];
      if (s.command.type !== 'cypher' && s.command.type !== 'auto') return;
      if (s.collectedVariables.length > 0 && table.length === 0) {
        const start = s.command.start;
        out.push({
          severity: 'error',
          message:
            'Neo4j semantic analysis failed internally on this statement and reported nothing ' +
            '(e.g. too deeply nested expression); the statement is NOT verified.',
          line: start ? start.line : 1,
          column: start ? start.column + 1 : 1,
        });
      }
    });
  }

  out.sort((a, b) => a.line - b.line || a.column - b.column);
  return out;
}

// Guard 1: each of these must produce an error, or the analyser is not working.
const SELF_TEST = [
  ['MATCH (n RETURN n', 'Invalid input'],
  ['MATCH (n) RETURN m', 'Variable `m` not defined'],
  ['MATCH (n) RETURN size((n)-->())', 'pattern expression'],
  ['RETURN toUpper(1)', 'Type mismatch'],
  ['RETURN pokinNoSuchFunction(1)', 'not present in the database'],
  ['UNWIND $rows AS r RETURN r AS x, r AS x', 'Multiple result columns'],
];

function selfTest() {
  const failures = [];
  for (const [query, expected] of SELF_TEST) {
    let diags;
    try {
      diags = lintText(query);
    } catch (e) {
      failures.push(`${query}: threw ${e}`);
      continue;
    }
    if (!diags.some((d) => d.severity === 'error' && d.message.includes(expected))) {
      failures.push(`${query}: expected an error containing ${JSON.stringify(expected)}, got ${JSON.stringify(diags)}`);
    }
  }
  return failures;
}

function main(argv) {
  const files = argv.slice(2);
  const failures = selfTest();
  if (failures.length > 0) {
    process.stdout.write(JSON.stringify({
      error: 'Cypher linter self-test failed: the Neo4j semantic analysis is not reporting errors, ' +
        'so no verdict can be trusted. ' + failures.join(' | '),
      files: [],
    }) + '\n');
    return 2;
  }

  const results = [];
  for (const file of files) {
    let diagnostics;
    try {
      diagnostics = lintText(readFileSync(file, 'utf8'));
    } catch (e) {
      const message = e && e.code === 'ENOENT' || e && e.code === 'EISDIR'
        ? `cannot read file: ${e.message}`
        : `linter crashed on this file: ${e}`;
      diagnostics = [{ severity: 'error', message, line: 1, column: 1 }];
    }
    results.push({ file, diagnostics });
  }
  process.stdout.write(JSON.stringify({ files: results }) + '\n');
  return results.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}

process.exitCode = main(process.argv);
