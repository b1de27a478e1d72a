"""Download every wheel the course needs for one operating system into one folder (a USB stick for a room).

A facilitator runs this once, on any machine with internet, for the room's operating system; each
learner then installs with no internet from the folder, from the course folder (the repository):

    python -m pip install --no-index --find-links WHEELHOUSE -r requirements.txt
    python -m jupyter lab --ServerApp.root_dir=. notebooks/00_start_here.ipynb

What goes in the folder:

* every pinned package of ``requirements.txt`` (``--dev``: also ``requirements-dev.txt``, for the test
  command) and all their dependencies, as wheels for the target platform and Python version;
* PyTorch's **CPU-only** build: on Linux the ``+cpu`` wheel (from PyTorch's CPU index, or from wherever
  your pip configuration finds it), on Windows and macOS the wheel on PyPI, which is CPU-only there;
* a wheel of ``course_lib`` itself, and what building it needs (setuptools, for the ``-e .`` line).

pip evaluates environment markers (``sys_platform == "win32"`` ...) for the machine it runs on, not for
``--platform``; so after downloading, this tool reads every wheel's dependencies, evaluates their
markers for the *target* platform, and downloads what is still missing (e.g. ``pywinpty`` for Windows
from Linux), until the folder holds the whole install. It then checks that every requirement is
satisfied by a wheel in the folder, and writes ``WHEELHOUSE.txt`` (what, for which platform, how to install).

Platforms: ``linux`` (x86-64, glibc 2.28 or later), ``win`` (64-bit Windows), ``mac-arm`` (Apple
silicon; PyTorch 2.13 needs macOS 14 or later), ``mac-intel`` (refused: PyTorch publishes no Intel-Mac
wheels after 2.2.2, older than the course's pin).

Usage: python tools/make_wheelhouse.py --platform linux|win|mac-arm|mac-intel [--python 3.11] [--dev]
       [--dest DIR] [--torch-index URL|none] [--record]
"""

from __future__ import annotations

import argparse
import email.parser
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

try:  # the packaging library; pip always carries a copy
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pragma: no cover - only without the stand-alone packaging
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# pip tags per platform, and the values environment markers see there.
PLATFORMS = {
    "linux": {
        # manylinux_2_5 .. manylinux_2_28 (PyTorch's CPU wheel is manylinux_2_28: glibc 2.28 or later)
        "tags": [f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)]
        + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
        "markers": {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": "x86_64",
        },
        "torch_local": "+cpu",
    },
    "win": {
        "tags": ["win_amd64"],
        "markers": {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": "AMD64",
        },
        "torch_local": "",
    },
    "mac-arm": {
        "tags": ["macosx_14_0_arm64"],  # pip adds the older macOS versions and universal2 itself
        "markers": {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": "arm64",
        },
        "torch_local": "",
    },
    "mac-intel": {
        "tags": ["macosx_10_15_x86_64"],
        "markers": {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": "x86_64",
        },
        "torch_local": "",
        "refused": (
            "PyTorch publishes no wheels for Intel Macs after version 2.2.2, and the course pins torch {torch}. "
            "An Intel-Mac room can use Binder (see the README), or install on Linux or Windows machines instead."
        ),
    },
}


def read_pins(path: Path) -> list[str]:
    """The requirement lines of a requirements file (``-r`` followed, ``-e``/options skipped)."""
    reqs = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            reqs += read_pins(path.parent / line.split(None, 1)[1])
        elif line.startswith("-"):
            continue  # -e . (course_lib: built as a wheel below), index options
        else:
            reqs.append(line)
    return reqs


def marker_env(platform: str, python: str) -> dict:
    env = {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
    }
    env.update(PLATFORMS[platform]["markers"])
    return env


def wheel_index(dest: Path) -> dict:
    """name → (version, [Requires-Dist strings], file) for every wheel in the folder."""
    index = {}
    for whl in sorted(dest.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(whl.name)
        with zipfile.ZipFile(whl) as z:
            meta_name = next(n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            meta = email.parser.Parser().parsestr(z.read(meta_name).decode("utf-8", "replace"))
        index[canonicalize_name(name)] = (version, meta.get_all("Requires-Dist") or [], whl.name)
    return index


def _applies(marker: Marker | None, env: dict, extras: frozenset) -> bool:
    """Does a requirement with this marker apply on the target, for a package installed with these extras?"""
    if marker is None:
        return True
    return any(marker.evaluate({**env, "extra": extra}) for extra in extras | {""})


def requirements_needed(top: list[str], dest: Path, env: dict) -> dict:
    """Walk the dependency tree through the metadata of the wheels in the folder, with the target's markers.

    Returns ``{name: (requirement string, [who needs it])}`` for every package the install needs, the
    version specifiers of all its requirers combined (extras merged).
    """
    index = wheel_index(dest)
    specs: dict = {}
    extras_of: dict = {}
    needed_by: dict = {}
    queue = [(Requirement(r), "requirements") for r in top]
    visited = set()
    while queue:
        req, parent = queue.pop()
        if not _applies(req.marker, env, extras_of.get(parent, frozenset())):
            continue
        name = canonicalize_name(req.name)
        specs[name] = specs.get(name, SpecifierSet()) & req.specifier
        extras_of[name] = extras_of.get(name, frozenset()) | frozenset(req.extras)
        needed_by.setdefault(name, []).append(parent)
        have = index.get(name)
        if have is None or (name, extras_of[name]) in visited:
            continue
        visited.add((name, extras_of[name]))
        for dep in have[1]:
            queue.append((Requirement(dep), name))
    out = {}
    for name, spec in specs.items():
        extras = f"[{','.join(sorted(extras_of[name]))}]" if extras_of[name] else ""
        out[name] = (f"{name}{extras}{spec}", needed_by[name])
    return out


def unmet_requirements(top: list[str], dest: Path, env: dict) -> tuple[list[str], list[str]]:
    """(missing, conflicts): what no wheel in the folder provides, and wheels whose version does not satisfy
    every requirer (as requirement strings, versions combined)."""
    index = wheel_index(dest)
    missing, conflicts = [], []
    for name, (req, _) in sorted(requirements_needed(top, dest, env).items()):
        if name not in index:
            missing.append(req)
        elif not Requirement(req).specifier.contains(index[name][0], prereleases=True):
            conflicts.append(req)
    return missing, conflicts


def _unneeded(top: list[str], dest: Path, env: dict, build_requires: list[str]) -> list[str]:
    """Wheels in the folder the install does not need (left from an earlier run for other pins)."""
    needed = set(requirements_needed(top, dest, env)) | {canonicalize_name(Requirement(r).name) for r in build_requires}
    needed.add("course-lib")
    return sorted(w for n, (_, _, w) in wheel_index(dest).items() if n not in needed)


def pip_download(reqs: list[str], dest: Path, platform: str, python: str, extra: list[str] = ()) -> None:
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python]
    flags += ["--abi", "cp" + python.replace(".", "")]
    for tag in PLATFORMS[platform]["tags"]:
        flags += ["--platform", tag]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(reqs) + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest), "--find-links", str(dest), *flags]
    cmd += [*extra, "-r", f.name]
    print("$ " + " ".join(cmd[3:]), flush=True)
    try:
        subprocess.run(cmd, check=True)
    finally:
        Path(f.name).unlink()


def build_course_lib(dest: Path) -> list[str]:
    """A wheel of course_lib, plus the build backend (pyproject's build-system) for the ``-e .`` line."""
    import tomllib

    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    with tempfile.TemporaryDirectory() as tmp:  # build from a copy: setuptools writes build/ and *.egg-info
        src = Path(tmp) / "course"
        shutil.copytree(ROOT / "course_lib", src / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, src / name)
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dest), str(src)]
        subprocess.run(cmd, check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--no-deps",
            "--dest",
            str(dest),
            *build_requires,
        ],
        check=True,
    )
    return build_requires


def _record(args, n_wheels: int, size: int) -> None:
    """The README's figures for this wheelhouse (course_lib.results; needs the course's packages installed)."""
    import os

    os.environ["COURSE_RECORD"] = "1"
    os.environ["COURSE_FAST"] = "0"
    sys.path.insert(0, str(ROOT))
    from course_lib.results import record

    key = f"wheelhouse.{args.platform.replace('-', '_')}_py{args.python.replace('.', '')}{'_dev' if args.dev else ''}"
    record(f"{key}_mib", size / 2**20, fmt=".0f")
    record(f"{key}_wheels", n_wheels, fmt="d")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platform", required=True, choices=sorted(PLATFORMS), help="the room's operating system")
    ap.add_argument("--python", default="3.11", help="the learners' Python version (default 3.11, as in the course)")
    ap.add_argument("--dev", action="store_true", help="also requirements-dev.txt (to run the test command offline)")
    ap.add_argument("--dest", type=Path, default=None, help="the folder (default: wheelhouse-PLATFORM-pyXY)")
    ap.add_argument(
        "--torch-index",
        default=TORCH_CPU_INDEX,
        help="Linux only: the index with PyTorch's +cpu wheels (default PyTorch's CPU index; "
        "'none' = only your pip configuration, e.g. a --find-links folder that holds it)",
    )
    ap.add_argument(
        "--record",
        action="store_true",
        help="write the folder's size and wheel count to docs/results/wheelhouse.json (for the README)",
    )
    args = ap.parse_args(argv)
    if not re.fullmatch(r"3\.\d{1,2}", args.python):
        ap.error(f"--python takes a version like 3.11, got {args.python!r}")
    spec = PLATFORMS[args.platform]
    files = [ROOT / "requirements.txt"] + ([ROOT / "requirements-dev.txt"] if args.dev else [])
    pins = list(dict.fromkeys(r for f in files for r in read_pins(f)))
    torch_pin = next(Requirement(r) for r in pins if canonicalize_name(Requirement(r).name) == "torch")
    torch_version = next(iter(torch_pin.specifier)).version  # requirements.txt pins it exactly (a test checks)
    if "refused" in spec:
        print("error: " + spec["refused"].format(torch=torch_version), file=sys.stderr)
        return 2
    dest = (args.dest or ROOT / f"wheelhouse-{args.platform}-py{args.python.replace('.', '')}").resolve()
    dest.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    # 1. PyTorch, CPU-only (Linux: the +cpu local version from PyTorch's CPU index).
    torch_req = f"torch=={torch_version}{spec['torch_local']}"
    extra = []
    if spec["torch_local"] and args.torch_index != "none":
        extra = ["--extra-index-url", args.torch_index]
    pip_download([torch_req], dest, args.platform, args.python, extra)
    # 2. The pins, then their dependencies round by round. pip evaluates environment markers for *this*
    # machine even with --platform (it would fetch Linux-only CUDA packages for a Windows room, and miss
    # Windows-only ones), so every pip call is --no-deps and the dependencies come from reading each
    # wheel's metadata with the *target's* markers.
    pins = [torch_req if canonicalize_name(Requirement(r).name) == "torch" else r for r in pins]
    env = marker_env(args.platform, args.python)
    todo = pins
    for _ in range(20):
        pip_download(todo, dest, args.platform, args.python)
        missing, conflicts = unmet_requirements(pins, dest, env)
        if not missing and not conflicts:
            break
        for req in conflicts:  # a newer requirer narrowed the versions: drop the wheel, fetch a fitting one
            for whl in dest.glob("*.whl"):
                if canonicalize_name(parse_wheel_filename(whl.name)[0]) == canonicalize_name(Requirement(req).name):
                    whl.unlink()
        todo = missing + conflicts
        print(f"for {args.platform}: {len(todo)} more: {', '.join(todo)}", flush=True)
    # 3. course_lib itself and its build backend.
    build_requires = build_course_lib(dest)
    missing, conflicts = unmet_requirements(pins, dest, env)
    if missing or conflicts:
        print("error: the folder does not hold a complete install:", *missing, *conflicts, sep="\n  ", file=sys.stderr)
        return 1
    extra_wheels = _unneeded(pins, dest, env, build_requires)

    wheels = sorted(dest.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels)
    torch_file = next(w.name for w in wheels if w.name.lower().startswith("torch-"))
    summary = [
        f"Offline wheelhouse for the course: platform {args.platform}, CPython {args.python}, "
        f"{'learner + test' if args.dev else 'learner'} packages.",
        f"{len(wheels)} wheels, {size / 2**20:.0f} MiB; PyTorch: {torch_file}; "
        f"build backend: {', '.join(build_requires)}.",
        "",
        "Install, from the course folder, with no internet (WHEELHOUSE = this folder):",
        "    python -m pip install --no-index --find-links WHEELHOUSE -r requirements.txt",
        "    python -m jupyter lab --ServerApp.root_dir=. notebooks/00_start_here.ipynb",
    ]
    if args.dev:
        summary += [
            "Tests, also offline:",
            "    python -m pip install --no-index --find-links WHEELHOUSE -r requirements-dev.txt",
            "    python -m pytest",
        ]
    (dest / "WHEELHOUSE.txt").write_text("\n".join(summary) + "\n", encoding="utf-8")
    print("\n".join(summary))
    if extra_wheels:
        print(
            f"note: {len(extra_wheels)} wheels in the folder are not needed by this install: {', '.join(extra_wheels)}"
        )
    print(f"written to {dest} in {time.monotonic() - t0:.0f} s")
    if args.record:
        _record(args, len(wheels), size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
