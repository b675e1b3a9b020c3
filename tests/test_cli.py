"""The `pokin` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, SEED_DIR

pytestmark = pytest.mark.integration


def pokin(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POKIN_DATA_DIR": str(data_dir)}
    env.pop("NEO4J_URI", None)
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_pokin_alone_prints_its_commands(tmp_path: Path) -> None:
    """It started the web server on port 8000 (a review's first try of the command did)."""
    out = pokin(tmp_path / "data", timeout=30)
    assert "[OPTIONS] COMMAND [ARGS]" in out.stdout and "serve" in out.stdout and "check" in out.stdout
    assert not (tmp_path / "data").exists()  # no store opened, no server started


def test_plans_json(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "plans", "--format", "json")
    assert out.returncode == 0, out.stderr
    plans = {p["id"]: p for p in json.loads(out.stdout)}
    assert set(plans) == {"kotim-dinsos-2025", "kotim-pemda-2025", "buleleng-dinsos-2023", "buleleng-dinsos-2024",
                          "bengsel-dinsos-2024", "bengsel-pemda-2024", "bontang-dspm-iku"}
    b = plans["buleleng-dinsos-2023"]
    assert set(b) >= {"id", "pemda", "perangkat_daerah", "tahun", "counts", "anggaran_total"}
    assert b["counts"] == {"tujuan": 1, "sasaran": 5, "program": 6, "kegiatan": 13, "sub_kegiatan": 38, "indikator": 60,
                           "jabatan": 2}
    assert b["anggaran_total"] == 17_860_799_466


def test_tree_json_fields(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "tree", "kotim-dinsos-2025", "--format", "json")
    assert out.returncode == 0, out.stderr
    els = {e["id"]: e for e in json.loads(out.stdout)["elements"]}
    p = els["p-bencana"]
    assert set(p) >= {"id", "level", "statement", "nomenklatur", "anggaran", "indikator", "parents", "jabatan"}
    assert p["nomenklatur"] == {"name": "Program Penanganan Bencana", "code": None}
    assert (p["anggaran"]["pagu"], p["anggaran"]["raw"]) == (372_250_370, "372.250.370")
    assert p["parents"] == ["csf-1"] and p["jabatan"] == ["Pejabat Eselon III (PK Eselon 3)"]
    assert p["jabatan_ids"] == ["pk-eselon-3"]
    assert {"name", "satuan", "target", "polaritas"} <= set(p["indikator"][0])


def test_tree_table_prints_each_element_once_with_its_id(seeded_dir: Path) -> None:
    """The table printed no ids (what trace and impact need) and an element under two parents twice, with
    everything below it: 292 lines for Kotim's 72 elements."""
    out = pokin(seeded_dir, "tree", "kotim-dinsos-2025")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    full = [ln for ln in lines if ln.lstrip().startswith("- ") and "also under" not in ln]
    assert len(full) == 72 and len({ln.split(":")[0].split()[-1] for ln in full}) == 72  # each element once
    assert "    - program p-bencana: Terwujudnya Korban Bencana Yang Tertangani dengan bantuan  [372.250.370]  " \
           "(Pejabat Eselon III (PK Eselon 3))" in lines
    assert "  - sasaran csf-1: also under tujuan, shown there" in lines  # its second parent points back


def test_load_warns_of_links_a_replaced_plan_no_longer_has(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert pokin(data, "load", str(SEED_DIR / "kotim-pemda-2025.yaml"), str(SEED_DIR / "kotim-dinsos-2025.yaml")).returncode == 0
    renamed = tmp_path / "kotim-pemda-2025.yaml"
    renamed.write_text((SEED_DIR / "kotim-pemda-2025.yaml").read_text(encoding="utf-8").replace(
        "id: sasaran-pmks", "id: sasaran-pmks-baru"), encoding="utf-8")
    out = pokin(data, "load", str(renamed))
    assert out.returncode == 0 and out.stderr.strip() == (
        "warning: kotim-dinsos-2025/tujuan-distribusi names parent kotim-pemda-2025/sasaran-pmks, which this load no "
        "longer has: it is not linked until an element of that id is loaded again")


def test_query_runs_a_named_query(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "query", "get_plan", "--param", "plan_id=bontang-dspm-iku")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["plan"]["pemda"] == "Kota Bontang"
    bad = pokin(seeded_dir, "query", "get_plan")
    assert bad.returncode == 2 and "needs parameter(s) plan_id" in bad.stderr  # asked wrongly: a usage error
    # a query that changes the store runs only when asked to (a review deleted a plan this way by mistake)
    guarded = pokin(seeded_dir, "query", "delete_plan", "--param", "plan_id=no-such-plan")
    assert guarded.returncode == 2 and "changes the store: add --write to run it" in guarded.stderr
    asked = pokin(seeded_dir, "query", "delete_plan", "--param", "plan_id=no-such-plan", "--write")
    assert asked.returncode == 0 and json.loads(asked.stdout) == [{"existed": False}]


def test_load_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert pokin(data, "load", str(SEED_DIR / "kotim-pemda-2025.yaml")).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text((SEED_DIR / "kotim-dinsos-2025.yaml").read_text().replace("parents: [csf-1]", "parents: [csf-9]", 1))
    out = pokin(data, "load", str(bad))
    assert out.returncode == 2
    assert "nothing was written" in out.stderr
    assert re.search(r"bad\.yaml:\d+: elements\[\d+\]\(id=[a-z0-9-]+\)\.parents\[0\]: unknown parent 'csf-9'", out.stderr)
    listed = json.loads(pokin(data, "plans", "--format", "json").stdout)
    assert [p["id"] for p in listed] == ["kotim-pemda-2025"]




def test_serve_with_two_workers_shares_one_engine(seeded_dir: Path) -> None:
    """`pokin serve --workers 2`: two server processes answer from the one engine the serving process
    owns, which gets the CPUs they leave; stopping the server stops the engine too."""
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "POKIN_DATA_DIR": str(seeded_dir)}
    env.pop("NEO4J_URI", None)
    env.pop("POKIN_ENGINE_THREADS", None)
    log = seeded_dir / "server.log"
    log_at = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    state = seeded_dir / "server.json"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/plans", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "pokin serve --workers 2 did not answer"
            time.sleep(0.2)
        engine_pid = json.loads(state.read_text())["pid"]
        children = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
        workers = [line for line in children.splitlines() if "multiprocessing.spawn" in line]  # how uvicorn starts them
        assert f"{engine_pid} " in children and len(workers) == 2, children  # the engine is the serving process's
        threads = max(1, len(os.sched_getaffinity(0)) - 2)
        assert f"Thread pool created, using {threads} threads" in log.read_text()[log_at:]
        for _ in range(20):  # new connections, spread over both workers
            r = httpx.get(f"http://127.0.0.1:{port}/api/plans", timeout=5)
            assert r.status_code == 200 and len(r.json()) == 7
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    assert not state.exists() and not Path(f"/proc/{engine_pid}").exists()
