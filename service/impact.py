"""What-if: the impact of cutting elements (programs, kegiatan, sub kegiatan) from a plan."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.errors import QueryError
from service.plans import local_ref
from service.store import GraphStore

LEVELS = ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan")


class Removed(BaseModel):
    counts: dict[str, int]
    anggaran: int
    elements: list[dict[str, Any]]
    indikator: int
    # the elements counted in `anggaran` whose pagu is read from a malformed figure (a guess), as written
    malformed: list[dict[str, Any]] = []


class Affected(BaseModel):
    id: str
    plan: str
    level: str
    statement: str
    lost: list[str]
    remaining: list[str]


class ImpactResult(BaseModel):
    plan: str
    cut: list[str]
    removed: Removed
    affected: list[Affected]
    unsupported: list[Affected]
    indikator_unsupported: list[dict[str, Any]]
    jabatan_affected: list[dict[str, Any]]
    sasaran_anggaran: list[dict[str, Any]]


def _removed_set(rows: list[dict[str, Any]], cuts: set[str]) -> set[str]:
    """Cut elements plus everything below them whose parents are all removed (fixpoint).

    An element below a cut that still has a parent outside the removed set stays (crosscutting).
    """
    parents = {r["element"]["uid"]: set(r["parents"]) for r in rows}
    removed = set(cuts)
    changed = True
    while changed:
        changed = False
        for uid, ps in parents.items():
            if uid not in removed and ps and ps <= removed:
                removed.add(uid)
                changed = True
    return removed


def _topmost_budgeted(rows: list[dict[str, Any]], removed: set[str]) -> dict[str, int]:
    """Removed elements with a pagu and no removed, budgeted ancestor: the money that moves."""
    info = {r["element"]["uid"]: r for r in rows if r["element"]["uid"] in removed}
    budgeted = {u for u, r in info.items() if r["element"].get("pagu") is not None}

    def has_budgeted_ancestor(u: str, seen: frozenset[str]) -> bool:
        return any(p in info and p not in seen and (p in budgeted or has_budgeted_ancestor(p, seen | {p}))
                   for p in info[u]["parents"])

    return {u: int(info[u]["element"]["pagu"]) for u in budgeted if not has_budgeted_ancestor(u, frozenset({u}))}


def impact(store: GraphStore, plan_id: str, cuts: list[str]) -> ImpactResult:
    """Raises: NotFound for an unknown plan or element; QueryError when nothing is cut."""
    from service.alignment import missing

    cut_uids = _cut_uids(plan_id, cuts)
    rows = store.read("impact_rows", cuts=cut_uids, plan_id=plan_id)
    missing_cut = _first_missing_cut(cut_uids, rows)
    if missing_cut:
        raise missing(store, plan_id, missing_cut)
    return impact_of_rows(plan_id, cut_uids, rows)


async def aimpact(store: GraphStore, plan_id: str, cuts: list[str]) -> ImpactResult:
    """impact() for a coroutine (the API): the same rows, read with store.aread.

    Raises: NotFound for an unknown plan or element; QueryError when nothing is cut."""
    from service.alignment import amissing

    cut_uids = _cut_uids(plan_id, cuts)
    rows = await store.aread("impact_rows", cuts=cut_uids, plan_id=plan_id)
    missing_cut = _first_missing_cut(cut_uids, rows)
    if missing_cut:
        raise await amissing(store, plan_id, missing_cut)
    return impact_of_rows(plan_id, cut_uids, rows)


def _first_missing_cut(cut_uids: list[str], rows: list[dict[str, Any]]) -> str | None:
    """The first cut element the rows do not have (each cut comes back itself, part 'removed')."""
    found = {r["element"]["uid"] for r in rows if r["part"] == "removed"}
    return next((c for c in cut_uids if c not in found), None)


def _cut_uids(plan_id: str, cuts: list[str]) -> list[str]:
    cuts = [c for c in cuts if c.strip()]  # an empty value, as a form sends one, names nothing
    if not cuts:
        raise QueryError("name at least one element to cut (cut=ELEMENT_ID)")
    return sorted({c if "/" in c else f"{plan_id}/{c}" for c in cuts})


def impact_of_rows(plan_id: str, cut_uids: list[str], rows: list[dict[str, Any]]) -> ImpactResult:
    """The impact of cutting `cut_uids` from the rows of cypher/impact_rows.cypher (three parts, one round trip),
    every cut element among them (impact and aimpact say which is not, and why).

    Raises: QueryError for a cut in another plan that does not reach this one."""
    down = [{**r, "parents": r["links"]} for r in rows if r["part"] == "removed"]
    removed = _removed_set(down, set(cut_uids))
    # by level, then id: the engine returns the rows in an order of its own, which a change of the query moves
    down_removed = sorted((r for r in down if r["element"]["uid"] in removed),
                          key=lambda r: (LEVELS.index(r["element"]["level"]), r["element"]["uid"]))
    tops = _topmost_budgeted(down, removed)

    ups = [{**r, "children": r["links"]} for r in rows if r["part"] == "ancestor"]
    anc = {r["element"]["uid"]: r for r in ups if r["element"]["uid"] not in removed}
    # Support after the cut, bottom-up: an ancestor with contributors before is left without
    # support when each of them is removed or itself left without support.
    dead: set[str] = set(removed)
    changed = True
    while changed:
        changed = False
        for uid, r in anc.items():
            if uid not in dead and r["children"] and all(c in dead for c in r["children"]):
                dead.add(uid)
                changed = True
    affected, unsupported = [], []
    for uid, r in sorted(anc.items(), key=lambda kv: (LEVELS.index(kv[1]["element"]["level"]), kv[0])):
        lost = sorted(c for c in r["children"] if c in dead)
        if not lost:
            continue
        e = r["element"]
        item = Affected(id=local_ref(plan_id, uid), plan=e["plan"], level=e["level"], statement=e["statement"],
                        lost=[local_ref(plan_id, c) for c in lost],
                        remaining=sorted(local_ref(plan_id, c) for c in r["children"] if c not in dead))
        (unsupported if uid in dead else affected).append(item)

    counts = {lvl: 0 for lvl in LEVELS}
    for r in down_removed:
        counts[r["element"]["level"]] += 1
    indikator_unsupported = [
        {"element": local_ref(plan_id, uid), "indikator": i["name"], "id": i["id"]}
        for uid in sorted(u for u in dead if u in anc) for i in sorted(anc[uid]["indikator"], key=lambda i: i["seq"])
    ]
    jabatan: dict[str, dict[str, Any]] = {}

    def note(j: dict[str, Any], role: str, element: str) -> None:
        entry = jabatan.setdefault(j["uid"], {"id": local_ref(plan_id, j["uid"]), "name": j["name"], "level": j["level"],
                                              "removed": [], "unsupported": [], "loses_contributors": []})
        entry[role].append(element)

    for r in down_removed:
        for j in r["jabatan"]:
            note(j, "removed", local_ref(plan_id, r["element"]["uid"]))
    for uid, r in anc.items():
        role = "unsupported" if uid in dead else ("loses_contributors" if any(c in dead for c in r["children"]) else None)
        if role:
            for j in r["jabatan"]:
                note(j, role, local_ref(plan_id, uid))

    # Each sasaran's budget before and after: the money of removed, top-most budgeted elements below it.
    below: dict[str, set[str]] = {}
    for uid, r in anc.items():
        for c in r["above_cuts"]:
            below.setdefault(uid, set()).add(c)
    sasaran_rows = sorted((r for r in rows if r["part"] == "sasaran"), key=lambda r: r["element"]["seq"])
    removed_below_cut = {c: _descendants_in(down_removed, c) for c in cut_uids}
    in_plan = {r["element"]["uid"] for r in (*down, *ups) if r["element"]["plan"] == plan_id}
    for c in cut_uids:  # a cut in another plan must reach this one, above or below, or the answer is about nothing here
        if not c.startswith(plan_id + "/") and not (removed_below_cut[c] | _above(c, below)) & in_plan:
            raise QueryError(f"{c} is not in plan {plan_id!r} and no element of it contributes to or from it")
    upward = _Upward(down, ups)
    sasaran = []
    for r in sasaran_rows:
        s, before = r["element"], int(r["anggaran"] or 0)
        cuts_below = below.get(s["uid"], set()) | ({s["uid"]} if s["uid"] in cut_uids else set())
        moved_uids = set().union(*(removed_below_cut[c] for c in cuts_below)) if cuts_below else set()
        entry = {"id": s["id"], "statement": s["statement"], "before": before}
        moved, exceeded = upward.moved(s["uid"], {u: v for u, v in tops.items() if u in moved_uids}, removed)
        moved = min(moved, before)  # never more than the sasaran counted (a path the count left out)
        entry.update(after=before - moved, moved=moved)
        if exceeded:
            entry["exceeds"] = [{"id": local_ref(plan_id, t), "pagu": pagu, "removed_below": below_t}
                                for t, pagu, below_t in exceeded]
        sasaran.append(entry)

    return ImpactResult(
        plan=plan_id,
        cut=[local_ref(plan_id, c) for c in cut_uids],
        removed=Removed(
            counts=counts, anggaran=sum(tops.values()), indikator=sum(len(r["indikator"]) for r in down_removed),
            malformed=[{"id": local_ref(plan_id, r["element"]["uid"]), "raw": r["element"].get("anggaran_raw"),
                        "pagu": r["element"]["pagu"]}
                       for r in down_removed if r["element"]["uid"] in tops and r["element"].get("anggaran_wellformed") is False],
            elements=[{"id": local_ref(plan_id, r["element"]["uid"]), "level": r["element"]["level"],
                       "statement": r["element"]["statement"], "pagu": r["element"].get("pagu")}
                      for r in sorted(down_removed, key=lambda r: (LEVELS.index(r["element"]["level"]), r["element"]["uid"]))],
        ),
        affected=affected,
        unsupported=unsupported,
        indikator_unsupported=indikator_unsupported,
        jabatan_affected=sorted(jabatan.values(), key=lambda j: j["id"]),
        sasaran_anggaran=sasaran,
    )


class _Upward:
    """The paths up from removed elements to a sasaran, over the impact rows, for the money that moves.

    A sasaran's budget before the cut counts its top-most budgeted elements (cypher/impact_rows.cypher).
    A removed budgeted element inside one that stays (a kegiatan cut from a program with its own pagu)
    takes its pagu out of that one's figure, and never more than that figure: where the kegiatan add up
    to more than their program (two budget versions in seed 002, a malformed '32.400.0000' in Kotim),
    the cut takes the program's figure and the excess is reported.
    """

    def __init__(self, down: list[dict[str, Any]], ups: list[dict[str, Any]]):
        self.parents: dict[str, set[str]] = {}
        self.pagu: dict[str, int] = {}
        for r in down:
            self.parents.setdefault(r["element"]["uid"], set()).update(r["parents"])
        for r in (*down, *ups):
            if r["element"].get("pagu") is not None:
                self.pagu[r["element"]["uid"]] = int(r["element"]["pagu"])
        for r in ups:
            for c in r["children"]:
                self.parents.setdefault(c, set()).add(r["element"]["uid"])

    def top_budgeted(self, u: str, s: str) -> str | None:
        """The highest budgeted element on a path from u up to s (s and u included), or None when u does
        not reach s."""
        stack, seen = [(u, u if u in self.pagu else None)], set()
        while stack:
            x, top = stack.pop()
            if x == s:
                return s if s in self.pagu else top
            if x in seen:
                continue
            seen.add(x)
            stack.extend((p, p if p in self.pagu else top) for p in self.parents.get(x, ()))
        return None

    def moved(self, s: str, tops: dict[str, int], removed: set[str]) -> tuple[int, list[tuple[str, int, int]]]:
        """The money leaving sasaran s when the budgeted elements `tops` (uid -> pagu, each the top-most
        removed budgeted element on its paths) go, and (element, its pagu, the removed pagu below it)
        for every element that stays and had more removed below it than its own figure."""
        inside: dict[str, int] = {}
        total = 0
        for u, v in tops.items():
            t = self.top_budgeted(u, s)
            if t is None or t in removed:
                total += v
            else:
                inside[t] = inside.get(t, 0) + v
        exceeded = [(t, self.pagu[t], v) for t, v in sorted(inside.items()) if v > self.pagu[t]]
        return total + sum(min(v, self.pagu[t]) for t, v in inside.items()), exceeded


def _above(cut: str, below: dict[str, set[str]]) -> set[str]:
    """The ancestors standing above a cut element (below: ancestor -> the cuts under it)."""
    return {a for a, cuts in below.items() if cut in cuts}


def _descendants_in(rows: list[dict[str, Any]], root: str) -> set[str]:
    """Uids among rows reachable downwards from root (root included)."""
    children: dict[str, list[str]] = {}
    for r in rows:
        for p in r["parents"]:
            children.setdefault(p, []).append(r["element"]["uid"])
    out, stack = set(), [root]
    while stack:
        u = stack.pop()
        if u in out:
            continue
        out.add(u)
        stack.extend(children.get(u, []))
    return out
