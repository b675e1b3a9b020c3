"""Shared fixtures: an embedded graph store in a temporary data directory, the real seed plans."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings
from service.store import GraphStore, open_store

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "seed"


def _shared_dir() -> Path:
    """The workplace's shared/ folder (seed documents, reference rules): POKIN_SHARED_DIR, else beside the
    project, else beside the checkout this one was cloned from (a clone made in a temporary folder).
    Never a skip: the tests that read it fail, naming where it was looked for."""
    if os.environ.get("POKIN_SHARED_DIR"):
        return Path(os.environ["POKIN_SHARED_DIR"])
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    import subprocess

    origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"], capture_output=True,
                            text=True).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:
        from_origin = Path(origin).expanduser().resolve().parent / "shared"
        if from_origin.is_dir():
            return from_origin
    return beside


SHARED_SEEDS = _shared_dir() / "seeds"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    env = {"pokin_data_dir": data_dir, "neo4j_uri": None}
    env.update(overrides)
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _no_neo4j_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their engine explicitly; a NEO4J_URI in the shell must not leak in."""
    monkeypatch.delenv("NEO4J_URI", raising=False)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture()
def store(data_dir: Path) -> Iterator[GraphStore]:
    """A fresh, empty embedded store for one test."""
    s = open_store(make_settings(data_dir))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory holding every seed plan, loaded once per session."""
    from service.loading import load_paths

    d = tmp_path_factory.mktemp("seeded") / "data"
    s = open_store(make_settings(d))
    try:
        load_paths(s, [SEED_DIR])
    finally:
        s.close()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture()
def seeded_store(seeded_dir: Path) -> Iterator[GraphStore]:
    """The seed plans in an embedded store (read-only use: tests must not write here)."""
    s = open_store(make_settings(seeded_dir))
    try:
        yield s
    finally:
        s.close()


def pytest_report_header(config: pytest.Config) -> str:
    return f"pokin tests; NEO4J_URI ignored: {bool(os.environ.get('NEO4J_URI'))}"
