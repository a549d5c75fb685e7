"""Build step of the unspin wheel: the compiled extension ``unspin.pack._kenlm_batch``.

The extension holds the tokenizer, the sentence splitter, the eligibility and language-gate loops,
the screening pass, the window gains and the batched n-gram scorer (src/unspin/pack/ext). It is the
only implementation of those rules, so every install must have it: `pip install .`, `pip wheel .`,
`pip install -e .` (what `make setup` runs) and an sdist install all compile it here.

It links KenLM's query code statically, from the subset vendored in third_party/kenlm (LGPL-2.1-or-later;
see third_party/kenlm/README.md), so no network and no KenLM install is needed at build time.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
KENLM = Path("third_party/kenlm")
EXT = Path("src/unspin/pack/ext")

# KenLM's .cc files the extension needs: lm/model.cc and what its link pulls in (every search and
# quantisation variant model.cc instantiates; ARPA reading, which the Model constructor can do). No
# compressed-file support (HAVE_ZLIB/BZLIB/XZLIB undefined): unspin loads KenLM binaries only.
KENLM_SOURCES = sorted(str(p.relative_to(HERE)) for p in (HERE / KENLM).rglob("*.cc"))

# -ffp-contract=off: no fused multiply-adds, so the screen's float sums are the same on every
# compiler and machine (the calibration was fitted on these figures). -g0: no debug info (it would
# make the wheel ~10x larger).
FLAGS = ["-O3", "-g0", "-ffp-contract=off", "-DNDEBUG", "-DKENLM_MAX_ORDER=6", "-std=c++17"]


class parallel_build_ext(build_ext):  # noqa: N801 (setuptools' command naming)
    """build_ext compiling the ~35 sources on all cores (setuptools compiles one file at a time)."""

    def build_extension(self, ext: Extension) -> None:
        compile_one = self.compiler.compile
        jobs = int(os.environ.get("UNSPIN_BUILD_JOBS", os.cpu_count() or 1))

        def compile_all(sources, *args, **kwargs):
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                parts = list(pool.map(lambda s: compile_one([s], *args, **kwargs), sources))
            return [obj for objs in parts for obj in objs]

        self.compiler.compile = compile_all
        try:
            super().build_extension(ext)
        finally:
            self.compiler.compile = compile_one


setup(
    ext_modules=[
        Extension(
            "unspin.pack._kenlm_batch",
            sources=[str(EXT / "kenlm_batch.cc"), *KENLM_SOURCES],
            depends=[str(EXT / "text_scan.hh")],
            include_dirs=[str(KENLM), str(EXT)],
            extra_compile_args=FLAGS,
            language="c++",
        )
    ],
    cmdclass={"build_ext": parallel_build_ext},
)
