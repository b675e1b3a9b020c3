"""The FastAPI app: assembles settings, the store's lifespan, error handling and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from service.api.routes import analysis, diagrams, health, plans
from service.config import Settings
from service.errors import InvalidPlan, PokinError
from service.store import GraphStore, open_store


def error_body(code: str, message: str, problems: list[dict[str, object]] | None = None) -> dict[str, object]:
    """The one JSON error shape of the API."""
    body: dict[str, object] = {"code": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    return {"error": body}


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the app; the lifespan opens the store (unless one is given) and closes what it opened."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings or Settings()
        own = store is None
        app.state.store = store or open_store(app.state.settings)
        try:
            yield
        finally:
            if own:
                app.state.store.close()

    app = FastAPI(title="pokin", version="0.1.0", lifespan=lifespan,
                  description="Explore pohon kinerja cascades: plans, trees, checks, impact of cuts, capaian.")

    @app.exception_handler(PokinError)
    async def pokin_error(_: Request, exc: PokinError) -> JSONResponse:
        problems = [p.as_dict() for p in exc.problems] if isinstance(exc, InvalidPlan) else None
        return JSONResponse(error_body(exc.code, str(exc), problems), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse(error_body("bad_request", "invalid request", problems), status_code=422)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    app.include_router(health.router)
    app.include_router(plans.router)
    app.include_router(analysis.router)
    app.include_router(diagrams.router)
    return app
