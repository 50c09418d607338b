"""ASGI application factory: mounts the platform endpoints and every domain's router."""

from __future__ import annotations

import hmac
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

import olly
from olly.eligibility.api import router as eligibility_router
from olly.eligibility.fastpath import FastCheck
from olly.platform import migrate
from olly.platform.auth import public
from olly.platform.auth.install import install_access_control
from olly.platform.bus.buffered import BufferedPublisher
from olly.platform.cache import shared_cache
from olly.platform.http import RequestContextMiddleware, install_error_handlers, problem_response
from olly.platform.logging import configure_logging, get_logger
from olly.platform.metrics import CONTENT_TYPE, HttpMetrics, MetricsMiddleware, exposition, new_registry
from olly.platform.runtime import Platform, build_platform
from olly.platform.writer_process import WriterProcess
from olly.provider.api import router as provider_router

log = get_logger("olly.app")

#: How long the eligibility fast path keeps a plan's benefits in memory (docs/enrollment.md).
BENEFITS_HOLD_SECONDS = 10.0


def create_app(
    platform: Platform | None = None, *, run_bus: bool | None = None, writer_process: bool | None = None
) -> FastAPI:
    """Build the app. Without ``platform`` one is built from the environment at start-up.

    ``run_bus``: run the event relay, every consumer group and the periodic jobs in this process. By
    default it does when the app builds its own platform (``olly serve``) with the embedded bus and
    ``OLLY_BUS_IN_PROCESS`` on; with Kafka, run ``olly worker`` processes instead.

    ``writer_process``: hand the audit records of allowed reads and the verified events to a writer
    process started with the app and stopped with it (``olly.platform.writer_process``). By default it
    does when the app builds its own platform (``olly serve``) and ``OLLY_WRITER_PROCESS`` is on;
    otherwise threads of this process write them.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.platform is None
        if owned:
            built = build_platform()
            configure_logging(built.settings.log_level, built.settings.log_format)
            app.state.platform = built
            app.state.access.bind(built)
        current: Platform = app.state.platform
        current.db.session_info["edi_links"] = app.state.edi_links
        app.state.eligibility_cache = shared_cache(current.settings.redis_url)
        app.state.verified_events = BufferedPublisher(current.db)
        writers = None
        if writer_process if writer_process is not None else (owned and current.settings.writer_process):
            writers = WriterProcess(current.settings, current.audit, app.state.verified_events)
            if not writers.start():
                writers = None
        app.state.writer_process = writers
        bus = None
        stop_jobs = threading.Event()
        in_process = current.settings.bus == "embedded" and current.settings.bus_in_process
        if run_bus if run_bus is not None else (owned and in_process):
            from olly.platform.bus.runtime import BusRuntime, default_registry
            from olly.platform.jobs import JobScheduler, discover_jobs

            bus = BusRuntime(current.db, current.settings, default_registry(), current.outbox)
            bus.start()
            scheduler = JobScheduler(current.db, bus.member_id)
            discover_jobs(scheduler)
            threading.Thread(target=scheduler.run, args=(stop_jobs,), name="olly-jobs", daemon=True).start()
        app.state.bus = bus
        # Code look-ups read tables that take seconds to build: build them now, off the request path.
        threading.Thread(target=_warm_code_sets, args=(owned,), name="olly-code-sets", daemon=True).start()
        log.info(
            "olly started", version=olly.__version__, bus_in_process=bus is not None, writer_process=writers is not None
        )
        try:
            yield
        finally:
            stop_jobs.set()
            if writers is not None:
                writers.close()  # what was handed over is written before anything else stops
            app.state.verified_events.close()
            app.state.access.close()
            if bus is not None:
                bus.stop()
            if owned:
                app.state.platform.close()

    app = FastAPI(
        title="Olly",
        version=olly.__version__,
        description="Self-hostable health insurance platform: enrollment, eligibility, claims, billing, providers.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    # The eligibility fast path is matched first: routes are tried in order, a regular expression
    # each, and with ~170 routes ahead of it matching cost a quarter of a cached answer's CPU.
    app.include_router(eligibility_router)
    # Inside the policy guard (middleware added later wraps what was added before).
    app.add_middleware(FastCheck)
    install_access_control(app, platform)
    app.add_middleware(RequestContextMiddleware)
    # Outermost: it times everything, the fast path and refusals included.
    app.state.metrics_registry = new_registry(lambda: app.state.platform.db if app.state.platform else None)
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(app.state.metrics_registry))
    install_error_handlers(app)
    app.include_router(provider_router)

    @app.get(
        "/health",
        tags=["operations"],
        summary="Liveness: the process is up",
        dependencies=[Depends(public("liveness probe", rate=None))],
    )
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["operations"],
        summary="Readiness: database reachable and migrations current",
        dependencies=[Depends(public("readiness probe", rate=None))],
        responses={503: {"description": "not ready"}},
    )
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

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (requests, the bus's backlog, the process), for a scraper with the token",
        # The public rate limit (per client address) keeps guessing the token slow; a scrape every
        # few seconds stays far below it.
        dependencies=[Depends(public("metrics scrape (its own bearer token)"))],
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE: {}}, "description": "the Prometheus text format"},
            401: {"description": "missing or wrong metrics token"},
            404: {"description": "metrics are off (no OLLY_METRICS_TOKEN)"},
        },
    )
    def metrics(request: Request) -> Response:
        current: Platform = request.app.state.platform
        token = current.settings.metrics_token
        if token is None or not token.get_secret_value():
            return problem_response(
                request,
                404,
                {"title": "Not found", "code": "metrics_off", "detail": "set OLLY_METRICS_TOKEN to serve metrics"},
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            return problem_response(
                request,
                401,
                {
                    "title": "Unauthorized",
                    "code": "metrics_token",
                    "detail": "send the metrics token as a bearer token",
                },
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(exposition(request.app.state.metrics_registry), media_type=CONTENT_TYPE)

    _mount_domains(app)
    return app


def _warm_code_sets(freeze: bool) -> None:
    import gc

    from olly.codesets.lookup import warm

    try:
        warm()
    except Exception:  # a look-up will try again (and report) on first use
        log.exception("code sets not loaded at start")
    # In a server process (the app built its own platform: ``olly serve``), what exists now (the code
    # sets, the routes, the mappers: about 900,000 objects) lives as long as the process. Left to the
    # cyclic collector, each full collection scans all of it: 150-400 ms with the event loop stopped,
    # every few seconds under load, which was the fast path's whole p99. Frozen, a full collection
    # scans only what was made since. (An app given its platform, in tests, shares its process with
    # others that come and go: nothing is frozen there.)
    if freeze:
        # The ORM's mappers are configured on the first query otherwise, after the freeze.
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
        gc.freeze()


def _mount_domains(app: FastAPI) -> None:
    """Every domain's router, the adapters through which one domain reads another's public
    functions, and each domain's resolvers and personal-data handler on the access control."""
    from olly import codes, edi_links, roster, web
    from olly.billing import api as billing_api
    from olly.claims import api as claims_api
    from olly.claims import appeals_api, prior_auth_api
    from olly.consent import api as consent_api
    from olly.edi import api as edi_api
    from olly.eligibility import api as eligibility_api
    from olly.eligibility.plan_benefits import PlanBenefitSource
    from olly.enrollment import api as enrollment_api
    from olly.enrollment.plan_catalog import PlansCatalog
    from olly.notifications import api as notifications_api
    from olly.plans import api as plans_api
    from olly.platform.bus import api as bus_api
    from olly.policy_admin import api as policy_admin_api
    from olly.provider import api as provider_api

    app.state.plan_catalog = PlansCatalog()
    app.state.benefit_source = PlanBenefitSource(hold_seconds=BENEFITS_HOLD_SECONDS)
    app.state.edi_links = edi_links.build_links(app.state.plan_catalog, app.state.benefit_source)
    control = app.state.access
    for install in (
        consent_api.install,
        policy_admin_api.install,
        enrollment_api.install,
        eligibility_api.install,
        billing_api.install,
        claims_api.install,
        bus_api.install,
        prior_auth_api.install,
        appeals_api.install,
        edi_api.install,
        provider_api.install,
        notifications_api.install,
    ):
        install(control)
    web.install(app)
    for router in (
        consent_api.router,
        policy_admin_api.router,
        enrollment_api.router,
        roster.router,
        claims_api.router,
        plans_api.router,
        billing_api.router,
        bus_api.router,
        prior_auth_api.router,
        appeals_api.router,
        edi_api.router,
        codes.router,
        notifications_api.router,
    ):
        app.include_router(router)
