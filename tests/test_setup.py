"""The files a newcomer and CI depend on say what they must."""

from __future__ import annotations

import re

import pytest
import yaml

from .conftest import ROOT

pytestmark = pytest.mark.unit


def test_readme_quickstart_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart.*?```sh\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    assert commands == ["make run", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_compose_stack_neo4j_seed_and_service() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["neo4j"]["image"].startswith("neo4j:5") and "healthcheck" in compose["neo4j"]
    assert compose["seed"]["command"] == ["pokin", "load", "seed/"]
    assert compose["pokin"]["depends_on"] == {"neo4j": {"condition": "service_healthy"},
                                              "seed": {"condition": "service_completed_successfully"}}
    assert compose["pokin"]["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
