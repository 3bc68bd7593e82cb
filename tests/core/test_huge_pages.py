"""NumPy's huge pages are off once crm_core is imported, whichever came first, unless the caller set them.

Why: on a kernel that compacts memory to make them, a 6K refine took 19.5 s with them and 8.4 s without
(bench/hugepages.py). The setting is per process, so each case runs in a child."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ASK = "import numpy; print((getattr(numpy, '_core', None) or numpy.core).multiarray._set_madvise_hugepage(False))"


def huge_pages_on(imports: str, setting: str | None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    done = subprocess.run([sys.executable, "-c", f"{imports}; {ASK}"], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.split()[-1] == "True"


@pytest.mark.parametrize("imports", ["import crm_core, numpy", "import numpy, crm_core"])
def test_crm_core_turns_numpy_huge_pages_off_imported_before_or_after_numpy(imports):
    assert not huge_pages_on(imports, None)


def test_a_callers_own_setting_wins():
    assert huge_pages_on("import numpy, crm_core", "1")
