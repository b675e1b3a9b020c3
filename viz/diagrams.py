"""Pure DOT builders for cascade diagrams (pohon kinerja, distribution to jabatan, one jabatan) + one render()."""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import graphviz

from service.errors import NotFound, PokinError
from service.models import TreeElement
from service.plans import ExternalElement, PlanGraph
from service.values import format_rupiah

LEVELS = ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan")
LEVEL_NAMES = {"tujuan": "TUJUAN", "sasaran": "SASARAN STRATEGIS", "program": "SASARAN PROGRAM",
               "kegiatan": "SASARAN KEGIATAN", "sub_kegiatan": "SASARAN SUB KEGIATAN"}
# fill, font colour per level
LEVEL_STYLE = {
    "tujuan": ("#1F3A5F", "#FFFFFF"),
    "sasaran": ("#3B6EA5", "#FFFFFF"),
    "program": ("#D9EAD3", "#1B1B1B"),
    "kegiatan": ("#FFF2CC", "#1B1B1B"),
    "sub_kegiatan": ("#F3F3F3", "#1B1B1B"),
}
JABATAN_RANKS = (
    ("kepala_daerah", "Kepala Daerah"),
    ("kepala_dinas", "Kepala Dinas (JPT)"),
    ("eselon_iii", "Eselon III (Administrator)"),
    ("eselon_iv", "Eselon IV (Pengawas) / JF"),
    ("pelaksana", "Pelaksana"),
)
RANK_OF_LEVEL = {"kepala_daerah": 0, "kepala_dinas": 1, "eselon_iii": 2, "eselon_iv": 3, "jf": 3, "pelaksana": 4}
CROSS_COLOR = "#7B3FA0"
FORMATS = ("svg", "png", "pdf")


class GraphvizMissing(PokinError):
    status_code = 503
    code = "graphviz_missing"


@dataclass(frozen=True)
class Overlay:
    """What to mark on a diagram: a what-if cut and check findings, by element id (uid for other plans)."""

    removed: frozenset[str] = frozenset()
    affected: frozenset[str] = frozenset()
    unsupported: frozenset[str] = frozenset()
    errors: Mapping[str, int] = field(default_factory=dict)
    warnings: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_results(cls, impact: object | None = None, report: object | None = None) -> Overlay:
        removed = affected = unsupported = frozenset()
        if impact is not None:
            removed = frozenset(e["id"] for e in impact.removed.elements)  # type: ignore[attr-defined]
            affected = frozenset(a.id for a in impact.affected)  # type: ignore[attr-defined]
            unsupported = frozenset(a.id for a in impact.unsupported)  # type: ignore[attr-defined]
        errors: dict[str, int] = {}
        warnings: dict[str, int] = {}
        if report is not None:
            for f in report.findings:  # type: ignore[attr-defined]
                target = errors if f.severity == "error" else warnings if f.severity == "warning" else None
                if target is not None and f.node_ids:
                    target[f.node_ids[0]] = target.get(f.node_ids[0], 0) + 1
        return cls(removed, affected, unsupported, errors, warnings)

    def node_attrs(self, node_id: str) -> dict[str, str]:
        if node_id in self.removed:
            return {"style": "filled,dashed", "fillcolor": "#E6E6E6", "fontcolor": "#8A8A8A", "color": "#8A8A8A", "penwidth": "1.5"}
        if node_id in self.unsupported:
            return {"color": "#C00000", "penwidth": "4", "fillcolor": "#F8D0D0", "fontcolor": "#1B1B1B"}
        if node_id in self.affected:
            return {"color": "#E69138", "penwidth": "3"}
        if self.errors.get(node_id):
            return {"color": "#C00000", "penwidth": "2.5"}
        if self.warnings.get(node_id):
            return {"color": "#BF9000", "penwidth": "2"}
        return {}

    def badge(self, node_id: str) -> str | None:
        parts = []
        if node_id in self.removed:
            parts.append("DIPOTONG (cut)")
        elif node_id in self.unsupported:
            parts.append("TANPA DUKUNGAN (left without support)")
        elif node_id in self.affected:
            parts.append("kehilangan pendukung (loses support)")
        if self.errors.get(node_id):
            parts.append(f"{self.errors[node_id]} error")
        if self.warnings.get(node_id):
            parts.append(f"{self.warnings[node_id]} warning")
        return " · ".join(parts) or None

    @property
    def empty(self) -> bool:
        return not (self.removed or self.affected or self.unsupported or self.errors or self.warnings)


MAX_LABEL = 400


def _short(text: str) -> str:
    """Text on one line, cut at MAX_LABEL characters: a box or a tooltip shows a statement, not a page of
    one, and Graphviz refuses an attribute over 16 KB."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1].rstrip() + "…"


def _wrap(text: str, width: int) -> str:
    """Escape and wrap text for an HTML-like label, lines left-aligned (cut as _short)."""
    text = _short(text)
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    return '<BR ALIGN="LEFT"/>'.join(html.escape(line) for line in lines) + '<BR ALIGN="LEFT"/>'


def _targets(ind: object) -> str:
    tgt = getattr(ind, "target", {}) or {}
    if not tgt:
        return ""
    year = max(tgt)
    return f" — target {year}: {tgt[year].raw}"


def element_label(e: TreeElement, *, width: int = 42, overlay: Overlay | None = None, owner: str | None = None,
                  collapsed: int = 0) -> str:
    """The HTML-like label of one element box: level, statement, indikator with target, anggaran, owner, badges."""
    _, font = LEVEL_STYLE.get(e.level, ("#FFFFFF", "#000000"))
    if overlay and e.id in overlay.removed:
        font = "#8A8A8A"
    elif overlay and e.id in overlay.unsupported:
        font = "#1B1B1B"
    rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{font}">{LEVEL_NAMES.get(e.level, e.level)}'
            f'{" · " + html.escape(e.nomenklatur.code) if e.nomenklatur.code else ""}</FONT></TD></TR>',
            f'<TR><TD ALIGN="LEFT"><FONT COLOR="{font}"><B>{_wrap(e.statement, width)}</B></FONT></TD></TR>']
    for ind in e.indikator[:3]:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{font}">{_wrap("▸ " + ind.name + _targets(ind), width + 6)}'
                    "</FONT></TD></TR>")
    if len(e.indikator) > 3:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{font}">+ {len(e.indikator) - 3} indikator</FONT></TD></TR>')
    pagu = e.anggaran.get("pagu")
    if pagu is not None:
        raw = e.anggaran.get("raw")
        money = format_rupiah(int(pagu))
        if e.anggaran.get("wellformed") is False:
            money += f" (ditulis: {raw})"
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{font}"><B>{html.escape(money)}</B></FONT></TD></TR>')
    if owner:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{font}">{_wrap("Pemilik: " + owner, width + 8)}</FONT></TD></TR>')
    if collapsed:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8" COLOR="{font}">+ {collapsed} elemen di bawahnya</FONT></TD></TR>')
    badge = overlay.badge(e.id) if overlay else None
    if badge:
        rows.append(f'<TR><TD ALIGN="LEFT" BGCOLOR="#FFFFFF"><FONT POINT-SIZE="9" COLOR="#C00000"><B>{html.escape(badge)}</B>'
                    "</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + "".join(rows) + "</TABLE>>"


def _external_label(x: ExternalElement, width: int = 42) -> str:
    owners = ", ".join(j["name"] for j in x.jabatan)
    rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8">{LEVEL_NAMES.get(x.level, x.level)} · {html.escape(x.plan)}</FONT></TD></TR>',
            f'<TR><TD ALIGN="LEFT"><B>{_wrap(x.statement, width)}</B></TD></TR>']
    rows += [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{_wrap("▸ " + i, width + 6)}</FONT></TD></TR>' for i in x.indikator[:2]]
    if owners:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8">{_wrap("Pemilik: " + owners, width + 8)}</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + "".join(rows) + "</TABLE>>"


def _digraph(name: str, title: str, rankdir: str = "TB") -> graphviz.Digraph:
    g = graphviz.Digraph(name=name)
    g.attr(rankdir=rankdir, newrank="true", nodesep="0.25", ranksep="0.45", fontname="Helvetica", labelloc="t",
           label=f"<<B>{html.escape(title)}</B>>", fontsize="16", bgcolor="white")
    g.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.12,0.06")
    g.attr("edge", color="#555555", arrowsize="0.7", dir="back")
    return g


def _node_id(plan_id: str, ref: str) -> str:
    """DOT node id: the local id for this plan's elements, the uid for other plans'."""
    return ref if "/" in ref else f"{plan_id}/{ref}"


def _add_element(g: graphviz.Digraph, plan_id: str, e: TreeElement, overlay: Overlay, *, owner: str | None = None,
                 collapsed: int = 0, highlight: bool = False, width: int = 42) -> None:
    fill, _ = LEVEL_STYLE.get(e.level, ("#FFFFFF", "#000000"))
    attrs = {"fillcolor": fill, "color": "#3A3A3A"}
    if highlight:
        attrs.update({"color": "#B8860B", "penwidth": "4"})
    attrs.update(overlay.node_attrs(e.id))
    g.node(_node_id(plan_id, e.id), label=element_label(e, overlay=overlay, owner=owner, collapsed=collapsed, width=width),
           tooltip=_short(f"{e.id}: {e.statement}"), **attrs)


def _add_external(g: graphviz.Digraph, x: ExternalElement) -> None:
    g.node(x.uid, label=_external_label(x), style="rounded,filled,dashed", fillcolor="#EDEDF7", color="#5A5A8A",
           tooltip=_short(f"{x.uid}: {x.statement}"))


def _edges(g: graphviz.Digraph, plan_id: str, elements: Iterable[TreeElement], shown: set[str],
           overlay: Overlay, stacked: Mapping[str, str] | None = None) -> None:
    """Parent -> child edges (arrow towards the parent): the first parent solid, other parents and other
    plans (crosscutting) dashed and coloured."""
    for e in elements:
        parents = [p for p in e.parents if _node_id(plan_id, p) in shown]
        for n, p in enumerate(parents):
            cross = n > 0 or "/" in p
            attrs: dict[str, str] = {}
            if cross:
                attrs.update(style="dashed", color=CROSS_COLOR, penwidth="1.3")
            if e.id in overlay.removed:
                attrs.update(style="dashed", color="#AAAAAA")
            if stacked and stacked.get(e.id) == p:
                continue  # drawn once, from the parent to the group box
            g.edge(_node_id(plan_id, p), _node_id(plan_id, e.id), **attrs)


def _legend(g: graphviz.Digraph, overlay: Overlay, levels: Iterable[str]) -> None:
    rows = "".join(f'<TR><TD BGCOLOR="{LEVEL_STYLE[lv][0]}" WIDTH="14"></TD><TD ALIGN="LEFT">{LEVEL_NAMES[lv].title()}</TD></TR>'
                   for lv in levels)
    rows += f'<TR><TD><FONT COLOR="{CROSS_COLOR}">- - -</FONT></TD><TD ALIGN="LEFT">crosscutting / antar dokumen</TD></TR>'
    if not overlay.empty:
        rows += ('<TR><TD BGCOLOR="#E6E6E6"></TD><TD ALIGN="LEFT">dipotong (cut)</TD></TR>'
                 '<TR><TD BGCOLOR="#F8D0D0"></TD><TD ALIGN="LEFT">tanpa dukungan (unsupported)</TD></TR>'
                 '<TR><TD BGCOLOR="#E69138"></TD><TD ALIGN="LEFT">kehilangan pendukung / temuan</TD></TR>')
    g.node("legend", shape="plaintext", style="", margin="0",
           label=('<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" COLOR="#999999">'
                  f'<TR><TD COLSPAN="2"><B>Keterangan</B></TD></TR>{rows}</TABLE>>'))


def build_pohon(data: PlanGraph, *, collapse_below: str | None = None, sasaran: str | None = None,
                overlay: Overlay | None = None, stack_leaves: bool = True) -> graphviz.Digraph:
    """The pohon kinerja of a plan, top-down, coloured by level.

    Args:
        collapse_below: hide levels below this one (e.g. "kegiatan"); boxes say how many are hidden.
        sasaran: draw only this sasaran's branch (with what it contributes to above).
        stack_leaves: stack the leaves under one parent vertically, so wide plans stay legible.
    """
    overlay = overlay or Overlay()
    tree = data.tree
    pid = tree.plan.id
    by_id = {e.id: e for e in tree.elements}
    children: dict[str, list[str]] = {}
    for e in tree.elements:
        for p in e.parents:
            children.setdefault(p, []).append(e.id)

    def below(root: str) -> set[str]:
        out, stack = set(), [root]
        while stack:
            for c in children.get(stack.pop(), []):
                if c not in out:
                    out.add(c)
                    stack.append(c)
        return out

    def above(ids: set[str]) -> set[str]:
        out, stack = set(), list(ids)
        while stack:
            for p in by_id[stack.pop()].parents:
                if p in by_id and p not in out:
                    out.add(p)
                    stack.append(p)
        return out

    shown_ids = set(by_id)
    if sasaran:
        if sasaran not in by_id:
            raise NotFound(f"plan {pid!r} has no element {sasaran!r}")
        branch = {sasaran} | below(sasaran)
        shown_ids = branch | above(branch)
    limit = LEVELS.index(collapse_below) if collapse_below else len(LEVELS) - 1
    hidden_count: dict[str, int] = {}
    visible = [e for e in tree.elements if e.id in shown_ids and LEVELS.index(e.level) <= limit]
    for e in visible:
        if LEVELS.index(e.level) == limit and limit < len(LEVELS) - 1:
            hidden_count[e.id] = len(below(e.id) & shown_ids)
    title = f"Pohon Kinerja — {tree.plan.perangkat_daerah}, {tree.plan.pemda}" + (f" {tree.plan.tahun}" if tree.plan.tahun else "")
    if sasaran:
        title += f" — {_short(by_id[sasaran].statement)}"
    g = _digraph(f"pohon_{pid}", title)
    visible_ids = {e.id for e in visible}
    shown = {_node_id(pid, i) for i in visible_ids}
    shown |= _add_externals(g, _externals_above(data, visible))
    for e in visible:
        _add_element(g, pid, e, overlay, collapsed=hidden_count.get(e.id, 0))
    stacked: dict[str, str] = {}
    if stack_leaves:
        # Three or more leaves under the same first parent stand in a column inside a group box,
        # joined to the parent by one edge: wide plans (12 sub kegiatan under one kegiatan) stay legible.
        groups: dict[str, list[str]] = {}
        for e in visible:
            local_parents = [p for p in e.parents if p in visible_ids]
            if local_parents and not (set(children.get(e.id, [])) & visible_ids):
                groups.setdefault(local_parents[0], []).append(e.id)
        g.attr(compound="true")
        for parent, leaves in groups.items():
            if len(leaves) < 3:
                continue
            cluster = f"cluster_{pid}/{parent}"
            with g.subgraph(name=cluster) as c:
                c.attr(label="", style="rounded,dashed", color="#9A9A9A", margin="8")
                for leaf in leaves:
                    c.node(_node_id(pid, leaf))
                for a, b in zip(leaves, leaves[1:], strict=False):
                    c.edge(_node_id(pid, a), _node_id(pid, b), style="invis", dir="none")
            g.edge(_node_id(pid, parent), _node_id(pid, leaves[0]), lhead=cluster)
            for leaf in leaves:
                stacked[leaf] = parent
    _edges(g, pid, visible, shown, overlay, stacked)
    _legend(g, overlay, [lv for lv in LEVELS if any(e.level == lv for e in visible)])
    return g


def _externals_above(data: PlanGraph, elements: Iterable[TreeElement]) -> list[ExternalElement]:
    """Elements of other plans above these elements, directly or further up, sorted by uid."""
    by_uid = {x.uid: x for x in data.external}
    found: dict[str, ExternalElement] = {}
    frontier = [p for e in elements for p in e.parents if p in by_uid]
    while frontier:
        uid = frontier.pop()
        if uid not in found:
            found[uid] = by_uid[uid]
            frontier.extend(p for p in by_uid[uid].parents if p in by_uid)
    return [found[k] for k in sorted(found)]


def _add_externals(g: graphviz.Digraph, externals: list[ExternalElement]) -> set[str]:
    """Boxes for elements of other plans, with the dashed edges among them; returns their node ids."""
    ids = {x.uid for x in externals}
    for x in externals:
        _add_external(g, x)
    for x in externals:
        for p in x.parents:
            if p in ids:
                g.edge(p, x.uid, style="dashed", color=CROSS_COLOR)
    return ids


def _jabatan_owner_names(data: PlanGraph) -> dict[str, str]:
    return {e.id: ", ".join(e.jabatan) for e in data.tree.elements if e.jabatan}


def build_distribusi(data: PlanGraph, *, overlay: Overlay | None = None) -> graphviz.Digraph:
    """The distribution of the pohon kinerja to jabatan: one row per jabatan level (Kepala Daerah, Kepala Dinas,
    eselon III, eselon IV / JF, pelaksana), one group per jabatan holding the kinerja and indikator it owns,
    and the cascade edges between the kinerja."""
    overlay = overlay or Overlay()
    tree = data.tree
    pid = tree.plan.id
    by_id = {e.id: e for e in tree.elements}
    g = _digraph(f"distribusi_{pid}", f"Distribusi Pohon Kinerja ke Jabatan — {tree.plan.perangkat_daerah}, {tree.plan.pemda}")
    g.attr(ranksep="0.6")
    rows: dict[int, list[str]] = {}  # rank -> node ids in that row
    owned: set[str] = set()
    for j in data.jabatan:
        members = [e for e in j.elements if e in by_id]
        rank = RANK_OF_LEVEL.get(j.level, 4)
        with g.subgraph(name=f"cluster_jab_{pid}/{j.id}") as c:
            c.attr(label=f"<<B>{html.escape(j.name)}</B>>", style="rounded,filled", fillcolor="#FAFAFA", color="#333333",
                   fontsize="11", labeljust="l", tooltip=f"jabatan {j.id}")
            if not members:
                c.node(f"{pid}/jab:{j.id}", label="(belum memiliki kinerja)", shape="plaintext", style="")
                rows.setdefault(rank, []).append(f"{pid}/jab:{j.id}")
            for e in members:
                _add_element(c, pid, by_id[e], overlay, width=34)
                rows.setdefault(rank, []).append(_node_id(pid, e))
                owned.add(e)
    ext_shown: set[str] = set()
    for x in data.external:
        owners = x.jabatan or [{"uid": f"{x.plan}/-", "name": f"({x.plan})", "level": "kepala_daerah"}]
        jb = owners[0]
        with g.subgraph(name=f"cluster_jab_{jb['uid']}") as c:
            c.attr(label=f"<<B>{html.escape(jb['name'])}</B> · {html.escape(x.plan)}>", style="rounded,filled", fillcolor="#F4F4FA",
                   color="#5A5A8A", fontsize="11", labeljust="l")
            _add_external(c, x)
        rows.setdefault(RANK_OF_LEVEL.get(jb["level"], 0), []).append(x.uid)
        ext_shown.add(x.uid)
    unowned = [e for e in tree.elements if not e.jabatan]
    if unowned:
        counts = {lv: sum(1 for e in unowned if e.level == lv) for lv in LEVELS}
        text = ", ".join(f"{n} {lv.replace('_', ' ')}" for lv, n in counts.items() if n)
        g.node(f"{pid}/unowned", shape="note", style="filled", fillcolor="#FCE4E4", color="#C00000",
               label=f"<<B>Belum didistribusikan</B><BR/>{len(unowned)} elemen tanpa jabatan:<BR/>{html.escape(text)}>")
        rows.setdefault(4, []).append(f"{pid}/unowned")
    used = sorted(rows)
    for r in used:
        with g.subgraph() as sub:
            sub.attr(rank="same")
            sub.node(f"rank{r}", label=f"<<B>{html.escape(JABATAN_RANKS[r][1])}</B>>", shape="plaintext", style="", fontsize="12")
            for n in rows[r]:
                sub.node(n)
    for a, b in zip(used, used[1:], strict=False):
        g.edge(f"rank{a}", f"rank{b}", style="invis", dir="none")
    shown = {_node_id(pid, e) for e in owned} | ext_shown
    _edges(g, pid, [by_id[e] for e in owned], shown, overlay)
    for x in data.external:
        for p in x.parents:
            if p in shown:
                g.edge(p, x.uid, style="dashed", color=CROSS_COLOR)
    return g


def build_jabatan(data: PlanGraph, jabatan_id: str, *, overlay: Overlay | None = None) -> graphviz.Digraph:
    """One jabatan's cascade: its elements highlighted, the chain of its atasan above, what its bawahan own below.

    Raises:
        PokinError: unknown jabatan.
    """
    overlay = overlay or Overlay()
    tree = data.tree
    pid = tree.plan.id
    jab = {j.id: j for j in data.jabatan}
    if jabatan_id not in jab:
        raise NotFound(f"plan {pid!r} has no jabatan {jabatan_id!r}; known: {', '.join(jab)}")
    j = jab[jabatan_id]
    by_id = {e.id: e for e in tree.elements}
    own = {e for e in j.elements if e in by_id}
    above: set[str] = set()
    stack = list(own)
    while stack:
        for p in by_id[stack.pop()].parents:
            if p in by_id and p not in above and p not in own:
                above.add(p)
                stack.append(p)
    below = {e.id for e in tree.elements if set(e.parents) & own and e.id not in own}
    deeper = {e.id: sum(1 for c in tree.elements if e.id in c.parents) for e in tree.elements if e.id in below}
    chain = []
    a = j.atasan
    while a and a in jab and a not in chain:
        chain.append(a)
        a = jab[a].atasan
    title = f"Kinerja {j.name}" + (f" — atasan: {' → '.join(jab[x].name for x in chain)}" if chain else "")
    g = _digraph(f"jabatan_{pid}_{jabatan_id}", title)
    owners = _jabatan_owner_names(data)
    shown = {_node_id(pid, i) for i in own | above | below}
    shown |= _add_externals(g, _externals_above(data, [by_id[i] for i in own | above]))
    if not own:
        g.node("none", label=f"{j.name} belum memiliki kinerja dalam pohon ini", shape="note", style="filled", fillcolor="#FFF2CC")
    for e in tree.elements:
        if e.id in own | above | below:
            _add_element(g, pid, e, overlay, owner=owners.get(e.id, "— (tanpa jabatan)"), highlight=e.id in own,
                         collapsed=deeper.get(e.id, 0))
    _edges(g, pid, [e for e in tree.elements if e.id in own | above | below], shown, overlay)
    return g


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    """Lay out and render with Graphviz dot.

    Raises:
        GraphvizMissing: the dot program is not installed.
        PokinError: unknown format.
    """
    if fmt not in FORMATS:
        raise PokinError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as e:
        raise GraphvizMissing("Graphviz 'dot' was not found: install Graphviz (apt-get install graphviz; "
                              "the README's setup does it)") from e
    except graphviz.CalledProcessError as e:
        detail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise PokinError(f"Graphviz could not draw this diagram: {detail[-1] if detail else e}") from e
