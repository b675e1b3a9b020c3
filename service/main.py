"""The FastAPI app: assembles settings, the store's lifespan, error handling and the routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.routes import admin, analysis, diagrams, exports, health, jabatan, plans
from service.config import Settings
from service.errors import InvalidPlan, PokinError
from service.store import GraphStore, open_store
from service.web import routes as web_routes


def error_body(code: str, message: str, problems: list[dict[str, object]] | None = None) -> dict[str, object]:
    """The one JSON error shape of the API."""
    body: dict[str, object] = {"code": code, "message": message}
    if problems is not None:
        body["problems"] = problems
    return {"error": body}


def create_app(settings: Settings | None = None, store: GraphStore | None = None, *, freeze_gc: bool = False) -> FastAPI:
    """Build the app; the lifespan opens the store (unless one is given) and closes what it opened.

    With freeze_gc (a server process, see serve_app) everything alive after startup leaves the garbage
    collector's view: the framework, the models and the nomenclature list live as long as the process,
    and each full collection walked them all (the slowest 1 % of API requests, 56-71 -> 32-40 ms).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings or Settings()
        own = store is None
        app.state.store = store or open_store(app.state.settings)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if own:
                app.state.store.close()

    # docs_url=None: the API docs are served from vendored Swagger UI files below, not from a CDN,
    # so they work offline like the rest of the explorer.
    app = FastAPI(title="pokin", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Explore pohon kinerja cascades: plans, trees, checks, impact of cuts, capaian.")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="pokin API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    def for_a_browser(request: Request) -> bool:
        """A page (not the API, not a write): errors as the explorer's HTML page, in Indonesian."""
        return not request.url.path.startswith(("/api/", "/openapi", "/static/")) and request.method in ("GET", "HEAD")

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        from service.web.routes import TEMPLATES

        title = {404: "Tidak ditemukan", 503: "Layanan tidak tersedia", 422: "Alamat tidak sah",
                 400: "Permintaan tidak sah"}.get(status, "Terjadi masalah")
        return TEMPLATES.TemplateResponse(request, "error.html", {"title": title, "message": message, "plan": None,
                                                                 "nav": None}, status_code=status)

    @app.exception_handler(PokinError)
    async def pokin_error(request: Request, exc: PokinError) -> JSONResponse | HTMLResponse:
        if for_a_browser(request):
            return error_page(request, exc.status_code, str(exc))
        problems = [p.as_dict() for p in exc.problems] if isinstance(exc, InvalidPlan) else None
        return JSONResponse(error_body(exc.code, str(exc), problems), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse | HTMLResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        if for_a_browser(request):
            return error_page(request, 422, "; ".join(f"{p['field']}: {p['message']}" for p in problems))
        return JSONResponse(error_body("bad_request", "invalid request", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """FastAPI's own answers (no such route, a method a route does not take) in pokin's two shapes."""
        message = {404: "no such page or endpoint", 405: f"{request.method} is not allowed here"}.get(exc.status_code, str(exc.detail))
        if exc.status_code == 404 and for_a_browser(request):
            return error_page(request, 404, "Halaman ini tidak ada.")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    app.mount("/static", StaticFiles(directory=str(Path(__file__).resolve().parent / "web" / "static")), name="static")
    app.include_router(web_routes.router)
    app.include_router(health.router)
    app.include_router(plans.router)
    app.include_router(analysis.router)
    app.include_router(analysis.checks_router)
    app.include_router(diagrams.router)
    app.include_router(jabatan.router)
    app.include_router(exports.router)
    app.include_router(admin.router)
    return app


def serve_app() -> FastAPI:
    """The app as `pokin serve` runs it in each server process (a uvicorn factory)."""
    return create_app(freeze_gc=True)
