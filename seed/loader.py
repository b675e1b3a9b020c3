"""Read plan files (YAML) into validated models, with errors that name file, line and field."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service.errors import InvalidPlan, PlanProblem
from service.models import PlanDocument

SEED_DIR = Path(__file__).resolve().parent
PLAN_SUFFIXES = (".yaml", ".yml")


@dataclass
class _Lines:
    """Line numbers of every node of a YAML document, by path of keys and indexes."""

    by_path: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        while path:
            if path in self.by_path:
                return self.by_path[path]
            path = path[:-1]
        return self.by_path.get((), None)


    budget: int = 0  # nodes _construct may still build: an alias is built again wherever it is used

    def spend(self, node: yaml.Node, file: str) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise InvalidPlan([PlanProblem(file, node.start_mark.line + 1, "", (
                "too many values once its aliases (*name) are expanded: a plan file repeats values "
                "it needs, it does not multiply them"))])


# how deep a plan file may nest (plans nest about six levels); deeper, the YAML parser runs out of stack
MAX_DEPTH = 100


def _too_deep(text: str, file: str) -> InvalidPlan:
    """The problem of a file nested beyond MAX_DEPTH, at the line where it gets that deep (the tokens,
    read without recursing)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken,
                                  yaml.BlockSequenceStartToken, yaml.BlockMappingStartToken)):
                depth += 1
                if depth > MAX_DEPTH:
                    return InvalidPlan([PlanProblem(file, token.start_mark.line + 1, "",
                                                    f"nested more than {MAX_DEPTH} levels deep")])
            elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)):
                depth -= 1
    except yaml.MarkedYAMLError:
        pass
    return InvalidPlan([PlanProblem(file, None, "", f"nested more than {MAX_DEPTH} levels deep")])


def _construct(node: yaml.Node, path: tuple[Any, ...], lines: _Lines, file: str) -> Any:
    lines.spend(node, file)
    lines.by_path[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(key_node.value).get_single_data() if isinstance(key_node, yaml.ScalarNode) else None
            if key is None and not (isinstance(key_node, yaml.ScalarNode) and key_node.value in ("null", "~", "")):
                key = key_node.value
            if key in out:
                raise InvalidPlan([PlanProblem(file, key_node.start_mark.line + 1, _dotted(path + (key,)), "duplicate key")])
            lines.by_path[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, path + (key,), lines, file)
            lines.by_path[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
    if isinstance(value, str) and "\x00" in value:  # "\0" or "\x00" in a quoted string: the engine takes no NUL
        raise InvalidPlan([PlanProblem(file, node.start_mark.line + 1, _dotted(path), "holds a NUL character")])
    return value


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _field_name(data: Any, path: tuple[Any, ...]) -> str:
    """A readable field path: elements[3] becomes elements[3](id=p-bencana) where the id is known."""
    out = ""
    cur = data
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            if isinstance(cur, list) and 0 <= part < len(cur):
                cur = cur[part]
                if isinstance(cur, dict) and "id" in cur:
                    out += f"(id={cur['id']})"
            else:
                cur = None
        else:
            out += ("." if out else "") + str(part)
            cur = cur.get(part) if isinstance(cur, dict) else None
    return out


def parse_plan_text(text: str, file: str) -> PlanDocument:
    """Parse and validate one plan document.

    Raises:
        InvalidPlan: with every problem found, each naming file, line and field.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            raise InvalidPlan([PlanProblem(file, 1, "", "empty file")])
        # every node of the text once, and a margin for a few aliases
        lines = _Lines(budget=len(text) + 10_000)
        data = _construct(node, (), lines, file)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InvalidPlan([PlanProblem(file, line, "", f"not valid YAML: {e.problem or e}")]) from e
    except yaml.reader.ReaderError as e:  # a control character YAML does not allow (a raw NUL, ESC, ...)
        line = text.count("\n", 0, e.position) + 1
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise InvalidPlan([PlanProblem(file, line, "", f"not valid YAML: character {char} is not allowed in a plan file")]) from e
    except RecursionError:
        raise _too_deep(text, file) from None
    if not isinstance(data, dict):
        raise InvalidPlan([PlanProblem(file, 1, "", "expected a mapping with plan, jabatan, elements")])
    try:
        doc = PlanDocument.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            # pydantic reports "[key]" style locations for dict items as ints already
            problems.append(PlanProblem(file, lines.line_of(loc), _field_name(data, loc), _message(err)))
        raise InvalidPlan(problems) from e
    problems = structural_problems(doc, file, lines)
    if problems:
        raise InvalidPlan(problems)
    doc._parent_lines = {(i, k): line for i, el in enumerate(doc.elements) for k in range(len(el.parents))
                         if (line := lines.line_of(("elements", i, "parents", k))) is not None}
    return doc


def _message(err: dict[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] in ("missing",):
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if "input" in err and not isinstance(err["input"], (dict, list)) and repr(err["input"]) not in msg:
        got = repr(err["input"])
        return f"{msg} (got {got if len(got) <= 60 else got[:57] + '...'})"  # a pasted page stays readable
    return msg


def structural_problems(doc: PlanDocument, file: str, lines: _Lines | None = None) -> list[PlanProblem]:
    """Duplicate ids, unknown parents or jabatan, cycles: what a single field cannot tell."""
    lines = lines or _Lines()
    problems: list[PlanProblem] = []
    seen: dict[str, int] = {}
    for i, el in enumerate(doc.elements):
        if el.id in seen:
            problems.append(PlanProblem(file, lines.line_of(("elements", i, "id")), f"elements[{i}].id",
                                        f"duplicate element id {el.id!r} (first at elements[{seen[el.id]}])"))
        else:
            seen[el.id] = i
        ind_ids: set[str] = set()
        for k, ind in enumerate(el.indikator):
            if ind.id and ind.id in ind_ids:
                problems.append(PlanProblem(file, lines.line_of(("elements", i, "indikator", k, "id")),
                                            f"elements[{i}](id={el.id}).indikator[{k}].id", f"duplicate indikator id {ind.id!r}"))
            if ind.id:
                ind_ids.add(ind.id)
    jab_ids: dict[str, int] = {}
    for i, jab in enumerate(doc.jabatan):
        if jab.id in jab_ids:
            problems.append(PlanProblem(file, lines.line_of(("jabatan", i, "id")), f"jabatan[{i}].id", f"duplicate jabatan id {jab.id!r}"))
        jab_ids.setdefault(jab.id, i)
    for i, jab in enumerate(doc.jabatan):
        if jab.atasan and jab.atasan not in jab_ids:
            problems.append(PlanProblem(file, lines.line_of(("jabatan", i, "atasan")), f"jabatan[{i}](id={jab.id}).atasan",
                                        f"unknown jabatan {jab.atasan!r}"))
    for i, el in enumerate(doc.elements):
        # a second element of an id is reported as such: its parents would only add knock-on problems
        for k, parent in enumerate(el.parents if seen.get(el.id) == i else ()):
            if "/" in parent:
                other_plan, _ = parent.split("/", 1)
                if other_plan == doc.plan.id:
                    problems.append(PlanProblem(file, lines.line_of(("elements", i, "parents", k)),
                                                f"elements[{i}](id={el.id}).parents[{k}]",
                                                f"{parent!r} names this plan; write the local id"))
                continue
            if parent not in seen:
                problems.append(PlanProblem(file, lines.line_of(("elements", i, "parents", k)),
                                            f"elements[{i}](id={el.id}).parents[{k}]", f"unknown parent {parent!r}"))
            elif parent == el.id:
                problems.append(PlanProblem(file, lines.line_of(("elements", i, "parents", k)),
                                            f"elements[{i}](id={el.id}).parents[{k}]", "an element cannot contribute to itself"))
        for k, jab in enumerate(el.jabatan):
            if jab not in jab_ids:
                problems.append(PlanProblem(file, lines.line_of(("elements", i, "jabatan", k)),
                                            f"elements[{i}](id={el.id}).jabatan[{k}]", f"unknown jabatan {jab!r}"))
    cycle = _find_cycle({el.id: [p for p in el.parents if "/" not in p and p in seen]
                         for i, el in enumerate(doc.elements) if seen[el.id] == i})
    if cycle:
        first = seen[cycle[0]]
        problems.append(PlanProblem(file, lines.line_of(("elements", first, "parents")), f"elements[{first}](id={cycle[0]}).parents",
                                    "cycle: " + " -> ".join(cycle + [cycle[0]])))
    cycle = _find_cycle({j.id: [j.atasan] if j.atasan in jab_ids else [] for j in doc.jabatan})
    if cycle:
        first = jab_ids[cycle[0]]
        problems.append(PlanProblem(file, lines.line_of(("jabatan", first, "atasan")), f"jabatan[{first}](id={cycle[0]}).atasan",
                                    "cycle: " + " -> ".join(cycle + [cycle[0]])))
    return problems


def _find_cycle(parents: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle in a child -> parents mapping, or None (iterative DFS, deterministic order)."""
    state: dict[str, int] = {}
    for start in parents:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(parents.get(start, [])))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(parents.get(nxt, []))))
    return None


def plan_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand files and folders into the plan files they hold, sorted for a stable order.

    Raises:
        InvalidPlan: a path that does not exist or holds no plan file.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix in PLAN_SUFFIXES and q.is_file())
            if not found:
                raise InvalidPlan([PlanProblem(str(p), None, "", f"folder holds no plan file ({' or '.join(PLAN_SUFFIXES)})")])
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InvalidPlan([PlanProblem(str(p), None, "", "no such file or folder")])
    return out


def read_plans(paths: Iterable[Path | str]) -> list[tuple[Path, PlanDocument]]:
    """Read and validate every plan file; all problems of all files are reported together.

    Cross-plan parents must name a plan in this batch or one already stored; that part is
    checked by the store at load time.

    Raises:
        InvalidPlan: with every problem of every file.
    """
    problems: list[PlanProblem] = []
    docs: list[tuple[Path, PlanDocument]] = []
    files = plan_files(paths)
    ids: dict[str, Path] = {}
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            what = ("a plan file is YAML text (see seed/README.md)" if f.suffix.lower() not in PLAN_SUFFIXES
                    else f"byte 0x{e.object[e.start]:02x} at offset {e.start}")
            problems.append(PlanProblem(str(f), None, "", f"not UTF-8 text: {what}"))
            continue
        except OSError as e:
            problems.append(PlanProblem(str(f), None, "", f"cannot read: {e.strerror or e}"))
            continue
        try:
            doc = parse_plan_text(text, str(f))
        except InvalidPlan as e:
            problems.extend(e.problems)
            continue
        if doc.plan.id in ids:
            problems.append(PlanProblem(str(f), None, "plan.id", f"plan id {doc.plan.id!r} also in {ids[doc.plan.id]}"))
        ids[doc.plan.id] = f
        docs.append((f, doc))
    if problems:
        raise InvalidPlan(problems)
    return docs


if __name__ == "__main__":  # python -m seed.loader FILE...: validate without a store
    import sys

    try:
        for path, d in read_plans(sys.argv[1:] or [SEED_DIR]):
            n_ind = sum(len(e.indikator) for e in d.elements)
            print(f"{path}: ok, {len(d.elements)} elements, {n_ind} indikator, {len(d.jabatan)} jabatan")
    except InvalidPlan as err:
        print(err, file=sys.stderr)
        sys.exit(1)
