"""ASGI application factory: mounts the platform endpoints and every domain's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

import olly
from olly.platform import migrate
from olly.platform.http import RequestContextMiddleware, install_error_handlers, problem_response
from olly.platform.logging import configure_logging, get_logger
from olly.platform.runtime import Platform, build_platform
from olly.provider.api import router as provider_router

log = get_logger("olly.app")


def create_app(platform: Platform | None = None) -> FastAPI:
    """Build the app. Without ``platform`` one is built from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.platform is None
        if owned:
            built = build_platform()
            configure_logging(built.settings.log_level, built.settings.log_format)
            app.state.platform = built
        log.info("olly started", version=olly.__version__)
        try:
            yield
        finally:
            if owned:
                app.state.platform.close()

    app = FastAPI(
        title="Olly",
        version=olly.__version__,
        description="Self-hostable health insurance platform: enrollment, eligibility, claims, billing, providers.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    app.include_router(provider_router)

    @app.get("/health", tags=["operations"], summary="Liveness: the process is up")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="Readiness: database reachable and migrations current")
    def ready(request: Request) -> Any:
        current: Platform = request.app.state.platform
        try:
            current.db.ping()
            up_to_date = migrate.is_current(current.db)
        except SQLAlchemyError:
            return problem_response(
                request, 503, {"title": "Not ready", "code": "database_unreachable", "detail": "database unreachable"}
            )
        if not up_to_date:
            return problem_response(
                request,
                503,
                {"title": "Not ready", "code": "migrations_pending", "detail": "run `olly db upgrade`"},
            )
        return JSONResponse({"status": "ready", "database": current.db.dialect})

    return app
