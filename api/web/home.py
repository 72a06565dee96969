"""The home page `/`: each user goes to the first page their roles open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.web.menu import first_page
from api.web.render import PageRoute, render
from api.web.session import PageActor

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, actor: PageActor) -> Response:
    """To the user's first page; a user whose roles open no page yet sees what they hold."""
    target = first_page(actor)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    permissions = sorted(p.value for p in actor.permissions)
    return render(request, "home.html", {"permissions": permissions})
