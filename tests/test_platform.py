"""A clone made the Windows way (core.autocrlf=true) loads every data file and checkpoint, and a CRLF-damaged
file is refused with a message whose fix works."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs git and a git checkout of the course"
)

VERIFY_ALL = (
    "from course_lib.data import read_checksums, verify_file\n"
    "from course_lib.train import load_checkpoint\n"
    "rels = sorted(read_checksums())\n"
    "for rel in rels:\n"
    "    verify_file(rel)\n"
    "    if rel.endswith('.pt'):\n"
    "        load_checkpoint('data/' + rel)\n"
    "print('verified', len(rels))\n"
)


def _python(clone: Path, code: str):
    env = {"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin", "COURSE_THREADS": "1", "HOME": str(clone)}
    return subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True, env=env)


def _git(clone: Path, *args: str):
    return subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def windows_clone(tmp_path_factory):
    clone = tmp_path_factory.mktemp("autocrlf") / "course"
    subprocess.run(["git", "clone", "-q", "-c", "core.autocrlf=true", str(ROOT), str(clone)], check=True)
    return clone


def test_autocrlf_clone_loads_every_data_file_and_checkpoint(windows_clone):
    out = _python(windows_clone, VERIFY_ALL)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("verified")


def test_a_crlf_data_file_is_refused_and_the_suggested_fix_works(windows_clone):
    rel = "tinyshakespeare/input.txt"
    path = windows_clone / "data" / rel
    original = path.read_bytes()
    path.write_bytes(original.replace(b"\n", b"\r\n"))  # what an old checkout without .gitattributes did
    out = _python(windows_clone, f"from course_lib.data import verify_file\nverify_file({rel!r})")
    assert out.returncode != 0 and "DataFileError" in out.stderr
    message = out.stderr.strip().splitlines()[-1]
    assert "Windows line endings (CRLF)" in message
    for command in ("git rm -r -q --cached data", "git checkout HEAD -- data"):
        assert f"`{command}`" in message
        _git(windows_clone, *command.split()[1:])
    assert path.read_bytes() == original
    assert _python(windows_clone, VERIFY_ALL).returncode == 0
