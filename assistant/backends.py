"""Which answering backend is active and whether it can be reached, for status lines and health checks."""

from __future__ import annotations

from settings import Settings


def backend_status(settings: Settings, timeout_s: float = 3.0) -> dict:
    backend = settings.llm.backend
    if backend == "extractive":
        return {"backend": "extractive", "backend_reachable": True, "backend_detail": "in-process, no model"}
    from index.embedders import normalise_host

    host = normalise_host(settings.llm.ollama.host)
    try:
        import httpx

        httpx.get(f"{host}/api/version", timeout=timeout_s).raise_for_status()
        return {"backend": backend, "backend_reachable": True, "backend_detail": f"{settings.llm.ollama.model} at {host}"}
    except Exception as exc:  # any failure means: not usable now
        return {"backend": backend, "backend_reachable": False, "backend_detail": f"{host}: {type(exc).__name__}"}
