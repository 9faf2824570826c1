"""`delegations serve`: one FastAPI app with the chat at `/`, the JSON API at `/api/*`, its docs at `/docs`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from assistant.service import Assistant
from settings import Settings
from web.api import create_api
from web.auth import admins, login_check, parse_users

log = logging.getLogger("delegations.serve")


def create_app(settings: Settings, assistant: Assistant):
    """The API with the chat mounted at /, behind the login when `server.ui_users` is set."""
    import gradio as gr

    import ui

    app = create_api(assistant, settings.server)

    @app.get("/gradio.js", include_in_schema=False)
    def web_component():
        """Gradio's web-component loader, served from here (intranets cannot reach Gradio's CDN):
        <script type="module" src="https://HOST/gradio.js"></script> <gradio-app src="https://HOST/"></gradio-app>"""
        from fastapi.responses import FileResponse

        return FileResponse(Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js",
                            media_type="text/javascript")

    users, admin_names = parse_users(settings.server.ui_users), admins(settings.server.ui_admins)

    def is_admin(request) -> bool:
        """Readers ask; admins also manage documents. Without logins (loopback by default) whoever is at
        the machine is its admin."""
        return not users or (getattr(request, "username", None) or "") in admin_names

    return gr.mount_gradio_app(app, ui.build_chat(assistant, is_admin), path="/", auth=login_check(users),
                               auth_message="Anmeldung für den Delegations-Assistenten",
                               root_path=settings.server.root_path or None, head=ui.HEAD, css=ui.CSS,
                               footer_links=["api"], ssr_mode=False)


def serve(settings: Settings, assistant: Assistant) -> None:
    import uvicorn

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # an intranet product does not phone home
    server = settings.server
    if not server.api_token and not server.ui_users:
        # on loopback (the default) a fact worth knowing; bound wider, a warning
        log.log(logging.INFO if _loopback(server.host) else logging.WARNING,
                "No DELEGATIONS_API_TOKEN and no DELEGATIONS_UI_USERS: anyone who can reach %s:%d can use it%s.",
                server.host, server.port, " (loopback only)" if _loopback(server.host) else "")
    app = create_app(settings, assistant)
    log.info("Chat at http://%s:%d%s/ , API docs at /docs", server.host, server.port, server.root_path)
    uvicorn.run(app, host=server.host, port=server.port, root_path=server.root_path, log_level="info")


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")
