"""What the benchmark measures with: rounded seconds, percentiles in ms, peak memory, a scratch index."""

from __future__ import annotations

import resource
from pathlib import Path

from evals.metrics import percentile
from settings import Settings


def seconds(value: float) -> float:
    return round(value, 3)


def ms_percentile(values: list[float], q: float) -> float:
    return round(percentile(values, q), 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def scratch_workspace(settings: Settings, data_dir: Path, embedder):
    """A fresh embedded index in data_dir that uses the already loaded embedder."""
    from index.workspace import Workspace

    local = settings.model_copy(update={"data_dir": data_dir, "chroma": settings.chroma.model_copy(update={"url": ""})})
    return Workspace(local, embed_model=embedder)
