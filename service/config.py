"""Settings: one pydantic-settings class, read from the environment (and .env)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_NEO4J_PASSWORD = "pokin-dev-password"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pokin"


class Settings(BaseSettings):
    """Where the graph lives and how the service behaves.

    Without NEO4J_URI pokin runs its embedded engine in POKIN_DATA_DIR.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    pokin_environment: str = "local"  # local | production
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str = DEFAULT_NEO4J_PASSWORD
    neo4j_database: str = "neo4j"
    pokin_data_dir: Path = _default_data_dir()
    pokin_graph: str = "pokin"  # graph name in the embedded engine
    # query threads of the embedded engine when pokin starts it (default: one per CPU, less one)
    pokin_engine_threads: int | None = Field(default=None, ge=1)
    pokin_query_timeout: float = 30.0  # seconds, for every query
    pokin_token: str | None = None  # required for writes through the API
    pokin_upload_limit: int = 2_000_000  # bytes: the largest plan file (request body) POST /api/plans accepts
    pokin_checks_config: Path | None = None  # overrides of service/data/checks.yaml
    pokin_capaian_config: Path | None = None  # overrides of service/data/predikat_scales.yaml

    @model_validator(mode="after")
    def _refuse_default_password(self) -> Settings:
        if self.neo4j_uri and self.pokin_environment != "local" and self.neo4j_password == DEFAULT_NEO4J_PASSWORD:
            raise ValueError("NEO4J_PASSWORD is the development default; set a real one outside local development")
        return self

    @cached_property
    def engine(self) -> str:
        return "neo4j" if self.neo4j_uri else "embedded"
