"""Build step of the unspin-pack-en wheel: copy the pack's files from the repository into it.

The pack lives once, in src/unspin/data/pack-en (~100 MB of memory-mapped binaries): copying it into
this folder would put a second copy in every checkout, and moving it would rewrite ~100 MB of history.
So the wheel's `build_py` copies it from there into the built package, and the licence files into this
folder (license-files must lie inside the project), where .gitignore keeps them out of git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PACK = REPO / "src" / "unspin" / "data" / "pack-en"

if not (PACK / "manifest.json").is_file():
    raise SystemExit(f"unspin-pack-en: no pack at {PACK}; build the wheel from a checkout of unspin")

for name, src in (("LICENSE", REPO / "LICENSE"), ("LICENSES.md", PACK / "LICENSES.md")):
    if not (HERE / name).is_file() or (HERE / name).read_bytes() != src.read_bytes():
        shutil.copyfile(src, HERE / name)


class build_py_with_pack(build_py):  # noqa: N801 (setuptools' command naming)
    """The usual build_py, then the pack's folder copied into the package (manifest, parts, LICENSES.md)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "unspin_pack_en"
        for path in sorted(PACK.rglob("*")):
            if path.is_file():
                dest = target / path.relative_to(PACK)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)


setup(cmdclass={"build_py": build_py_with_pack})
