"""The portals: member (mobile-first, installable), employer, provider and operations.

A composition and presentation layer: it reads the domains through their public functions and the
same services their APIs call, under the same access policies; templates hold no business rules.
``install(app)`` mounts it (``olly/app.py``).
"""

from __future__ import annotations

from olly.web.app import install

__all__ = ["install"]
