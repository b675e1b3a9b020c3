"""Benchmark of the diagrams: one jabatan's chart and the full Kotim pohon kinerja to SVG (prints figures)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from service.config import Settings
from service.loading import load_paths
from service.plans import get_plan_graph
from service.store import open_store
from viz.diagrams import build_distribusi, build_jabatan, build_pohon, render

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"jabatan chart to SVG": 0.300, "full Kotim pohon to SVG": 2.0}


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(_env_file=None, pokin_data_dir=Path(tmp) / "data", neo4j_uri=None))
        try:
            load_paths(store, [ROOT / "seed"])
            plan = "kotim-dinsos-2025"
            cases = {
                # from the store to SVG bytes, as the API does it
                "jabatan chart to SVG": lambda: render(build_jabatan(get_plan_graph(store, plan), "pk-eselon-3"), "svg"),
                "full Kotim pohon to SVG": lambda: render(build_pohon(get_plan_graph(store, plan)), "svg"),
                "distribution chart to SVG": lambda: render(build_distribusi(get_plan_graph(store, plan)), "svg"),
                "full Kotim pohon to PNG": lambda: render(build_pohon(get_plan_graph(store, plan)), "png"),
            }
            print(f"{'diagram':<28} {'p50 ms':>8} {'max ms':>8} {'target ms':>10}  result")
            for name, fn in cases.items():
                times = _time(fn, args.repeat)
                p50, worst = statistics.median(times), max(times)
                target = TARGETS.get(name)
                verdict = "" if target is None else ("PASS" if worst < target else "MISS")
                shown = "" if target is None else f"{target * 1000:>10.0f}"
                print(f"{name:<28} {p50 * 1000:>8.1f} {worst * 1000:>8.1f} {shown:>10}  {verdict}")
        finally:
            store.close()


if __name__ == "__main__":
    main()
