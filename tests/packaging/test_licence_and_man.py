"""The licence is stated once and the same everywhere (LICENSE, debian/copyright, SPDX lines
on every C/C++ source), the package has a real maintainer, and wsrelay(8) documents every
option and exit status the binary has."""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(os.environ.get("RELAY_SOURCE_DIR", Path(__file__).resolve().parents[2]))


def test_mit_everywhere():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    copyright_text = (ROOT / "packaging/debian/copyright").read_text()
    assert "License: MIT" in copyright_text and "The wsrelay authors" in copyright_text
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "*.cpp", "*.h", "*.c"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert files
    missing = [f for f in files if "SPDX-License-Identifier: MIT" not in
               (ROOT / f).read_text(errors="replace").splitlines()[0]]
    assert not missing, missing


def test_real_maintainer():
    control = (ROOT / "packaging/debian/control").read_text()
    maintainer = re.search(r"^Maintainer: (.*)$", control, re.M).group(1)
    assert "example" not in maintainer and "Seed" not in maintainer, maintainer


def test_man_page_lists_options_and_exit_statuses():
    page = (ROOT / "packaging/man/wsrelay.8").read_text()
    for option in ["check\\-config", "print\\-config", "healthcheck"]:
        assert option in page, option
    assert re.search(r"\[\s*\\fI?PATH", page) or "[PATH]" in page or "PATH\\fR]" in page, \
        "--check-config [PATH]"
    for status in ["64", "78"]:
        assert re.search(rf"^\.TP\s*\n\.?B?\s*{status}\b|^{status}\b|\\fB{status}\\fR", page, re.M), status
