"""The eligibility check without the framework's per-request machinery, when nothing needs it.

At 1,000 checks a second the route's own work (a cached decision, a cached answer) was about a
third of the event loop's time; the framework's request handling around it (resolving the
dependencies, validating the parameters, wrapping the response) took as much again. ``FastCheck``
is an ASGI middleware inside the policy guard (which has already checked that the route declares a
policy): for ``GET /api/v1/eligibility`` with exactly the route's parameters in their plain forms, it
makes the route's decision with the route's own policy object on the event loop, then answers with
the route's own code (``api._check``). Anything else goes to the route as before:

* parameters in any other form, repeated, missing or unknown (the route validates them and answers
  422 in its words);
* a decision that needs the database or Redis (``WouldBlock``) or that refuses: nothing was written
  (a refusal is audited synchronously, which gives the attempt up first), so the route decides again
  from the start and answers the refusal itself.

Once the decision is made here the answer is made here too (the allowed read's audit record was
submitted: handing the request to the route would decide, and audit, twice).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from olly.eligibility.api import CHECK_POLICY, _check, _facts_in_process, router
from olly.platform.eventloop import on_event_loop
from olly.platform.metrics import ROUTE_TEMPLATE

PATH: Final = router.prefix
_PARAMETERS: Final = frozenset({"memberId", "serviceDate", "serviceType"})
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plain_check(query_string: bytes) -> tuple[uuid.UUID, date, str] | None:
    """The check's parameters when given once each in their plain forms (a hyphenated lower- or
    upper-case UUID, a YYYY-MM-DD date, a 1-40 character service type); None otherwise."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    given = dict(pairs)
    if len(given) != len(pairs) or not given.keys() <= _PARAMETERS:
        return None
    member, day, service_type = given.get("memberId", ""), given.get("serviceDate", ""), given.get("serviceType", "30")
    if not (_UUID.fullmatch(member) and _DATE.fullmatch(day) and 1 <= len(service_type) <= 40):
        return None
    try:
        return uuid.UUID(member), date.fromisoformat(day), service_type
    except ValueError:
        return None


class FastCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        asked = plain_check(scope.get("query_string", b""))
        request = Request(scope, receive)
        if asked is None or not _facts_in_process(request):
            await self.app(scope, receive, send)
            return
        try:
            with on_event_loop():
                access = request.app.state.access.evaluate(request, CHECK_POLICY, None)
        except Exception:  # noqa: BLE001 - WouldBlock, or a refusal: the route decides again, from the start
            await self.app(scope, receive, send)
            return
        scope[ROUTE_TEMPLATE] = PATH  # answered here, before routing: metrics still name the route
        response = await _check(request, access, *asked)
        await response(scope, receive, send)
