"""Portal pages whose backend is being built in other branches.

Each renders an honest "not available yet" page naming what it waits for; the route and its access
policy are already the final ones, so wiring a page is: replace its view, keep its declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import Request
from fastapi.responses import Response

from olly.web.rendering import render


@dataclass(frozen=True, slots=True)
class PendingPage:
    path: str
    title: str
    waits_for: str
    """The domain work the page needs (what the lead wires after the merge)."""


#: Every page is wired today; a page added before its domain is ready joins this tuple.
WAITING: Final[tuple[PendingPage, ...]] = ()
PENDING: Final[dict[str, PendingPage]] = {p.path.strip("/").replace("/", "_").replace("-", "_"): p for p in WAITING}


def pending_page(request: Request, spec: PendingPage, portal: str) -> Response:
    return render(request, "pending.html", {"spec": spec, "portal": portal})
