"""The template tests' shared build: `sam build` once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, sam_environment


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` of the template for this machine's architecture (arm64 wheels cannot load on x86)."""
    work = tmp_path_factory.mktemp("built")
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    arch = "x86_64" if os.uname().machine == "x86_64" else "arm64"
    text = text.replace("arm64", arch)
    text = text.replace("CodeUri: functions/", f"CodeUri: {ROOT}/functions/").replace("ContentUri: functions/", f"ContentUri: {ROOT}/functions/")
    (work / "template.yaml").write_text(text, encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    result = subprocess.run([str(bin_dir / "sam"), "build", "--language-extensions", "--template", str(work / "template.yaml"),
                             "--build-dir", str(work / "build"), "--cache-dir", str(work / "cache")], cwd=work,
                            capture_output=True, text=True, timeout=600, env=sam_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "build"
