"""The same store operations against real Neo4j 5 (testcontainers), where a Docker engine exists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.loading import load_paths
from service.plans import get_tree, list_plans
from service.store import GraphStore, Neo4jEngine, load_queries

from .conftest import SEED_DIR
from .test_seeds import EXPECTED
from .test_store import SAMPLE_PARAMS

pytestmark = [pytest.mark.integration, pytest.mark.neo4j]


def _docker_engine_error() -> str | None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as e:  # no engine, no socket, no permission
        return f"{type(e).__name__}: {e}"
    return None


@pytest.fixture(scope="module")
def neo4j_store() -> Iterator[GraphStore]:
    reason = _docker_engine_error()
    if reason:
        pytest.skip(f"no Docker engine on this machine, so no Neo4j testcontainer ({reason[:120]})")
    from testcontainers.neo4j import Neo4jContainer

    with Neo4jContainer("neo4j:5") as container:
        engine = Neo4jEngine(container.get_connection_url(), "neo4j", container.password, "neo4j")
        store = GraphStore(engine, load_queries())
        store.ensure_schema()
        load_paths(store, [SEED_DIR])
        yield store
        store.close()


def test_seed_plans_on_neo4j(neo4j_store: GraphStore) -> None:
    got = {p.id: (*(p.counts[k] for k in ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan", "indikator", "jabatan")),
                  p.anggaran_total) for p in list_plans(neo4j_store)}
    assert got == EXPECTED


def test_tree_on_neo4j(neo4j_store: GraphStore) -> None:
    tree = get_tree(neo4j_store, "kotim-dinsos-2025")
    assert len(tree.elements) == 72
    assert {e.id: e.parents for e in tree.elements}["tujuan-distribusi"] == ["kotim-pemda-2025/sasaran-pmks"]


@pytest.mark.parametrize("name", sorted(n for n in SAMPLE_PARAMS if n not in ("write_plan", "delete_plan")))
def test_every_read_query_runs_on_neo4j(neo4j_store: GraphStore, name: str) -> None:
    assert isinstance(neo4j_store.query(name, **SAMPLE_PARAMS[name]), list)
