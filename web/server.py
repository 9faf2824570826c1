"""`delegations serve`: one FastAPI app with the chat at `/`, the JSON API at `/api/*`, its docs at `/docs`,
all behind one door (web/auth.py), and the ingest worker (web/worker.py) for uploads, removals and --watch.
"""

from __future__ import annotations

import atexit
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from assistant.service import Assistant
from settings import Settings
from web.api import create_api
from web.auth import principal_of
from web.library import Library
from web.worker import IngestWorker

log = logging.getLogger("delegations.serve")


def create_app(settings: Settings, assistant: Assistant, worker: IngestWorker | None = None):
    """The API with the chat mounted at /. `worker`: the ingest worker process for uploads and removals (one is
    made when not given; it starts on the first upload)."""
    import gradio as gr

    import ui

    library = Library(assistant, settings, worker or IngestWorker(settings))
    app = create_api(assistant, settings, library)
    app.state.worker = library.worker

    @app.get("/gradio.js", include_in_schema=False)
    def web_component():
        """Gradio's web-component loader, served from here (intranets cannot reach Gradio's CDN):
        <script type="module" src="https://HOST/gradio.js"></script> <gradio-app src="https://HOST/"></gradio-app>"""
        from fastapi.responses import FileResponse

        return FileResponse(Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js",
                            media_type="text/javascript")

    credentials = app.state.credentials

    def signed_in(request) -> str | None:
        """Gradio's user, as the door decided it (None never gets this far when a credential is configured)."""
        principal = principal_of(request)
        return principal.name if principal else None

    def is_admin(request) -> bool:
        """Readers ask; admins also manage documents. Decided from the door's principal, by its name."""
        name = getattr(request, "username", None)
        return bool(name) and credentials.role_of(name) == "admin"

    app = gr.mount_gradio_app(app, ui.build_chat(assistant, is_admin, library), path="/", auth_dependency=signed_in,
                              root_path=settings.server.root_path or None, head=ui.HEAD, css=ui.CSS,
                              footer_links=["api"], ssr_mode=False,
                              max_file_size=int(settings.server.max_upload_mb * 1024 * 1024))
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application):
        """Gradio's lifespan, then the ingest worker stopped when the app shuts down."""
        async with started(application) as state:
            yield state
        library.worker.close()

    app.router.lifespan_context = lifespan
    return app


def serve(settings: Settings, assistant: Assistant, worker: IngestWorker | None = None, log_level: str = "info") -> None:
    """Serve the chat and the API until SIGTERM; `log_level` debug logs one line per request (uvicorn's access
    log), info and warning none."""
    import uvicorn

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # an intranet product does not phone home
    server = settings.server
    host = bind_host(settings)
    worker = worker or IngestWorker(settings)
    app = create_app(settings, assistant, worker)
    log.info("Chat at http://%s:%d%s/ , API docs at /docs", host, server.port, server.root_path)
    # SIGTERM: uvicorn stops listening, gives open requests and streams shutdown_grace_s, then cancels them.
    # Then the children go (the ingest worker, a llama.cpp worker: atexit), and the process ends even if an
    # answering thread is still inside a model call.
    uvicorn.run(app, host=host, port=server.port, root_path=server.root_path, log_level=log_level, access_log=log_level == "debug",
                proxy_headers=True, forwarded_allow_ips=server.forwarded_allow_ips,
                timeout_graceful_shutdown=server.shutdown_grace_s)
    worker.close()
    atexit._run_exitfuncs()
    logging.shutdown()
    os._exit(0)


def bind_host(settings: Settings) -> str:
    """Where the server listens: the configured host, or loopback when no credential is configured (then it is
    open to anyone on this machine, as admin, and says so at start)."""
    from web.auth import Credentials

    host = settings.server.host
    if not Credentials(settings.server).configured:
        if not _loopback(host):
            log.warning("No credential is configured (DELEGATIONS_API_TOKEN, DELEGATIONS_ADMIN_TOKEN, "
                        "DELEGATIONS_USER_TOKENS or DELEGATIONS_UI_USERS): listening on 127.0.0.1 instead of %s.", host)
            host = "127.0.0.1"
        log.warning("No credential is configured: the server is open to anyone on this machine, as admin "
                    "(loopback only). Set a token or chat users to share it.")
    return host


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")
