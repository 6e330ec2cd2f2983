"""Deploy rehearsals: the function as Cloud Functions builds it, the site as Netlify builds it.

- `function_upload`: the files `gcloud functions deploy --source=functions` uploads (.gcloudignore applied
  with pathspec's gitignore rules); `stage_function` copies exactly those.
- `environment`: a fresh virtual environment with one requirements file installed, as the platform's
  build installs it (pip's cache keeps repeats quick); `installed_mib` is its size.
- `start_function`: functions-framework from inside the staged copy, configured by PORT as Cloud Functions
  does, with the staged environment's own interpreter.
- `netlify_build`: netlify.toml read with tomllib and a context's build command run from the base directory
  in an environment holding only what Netlify installs there.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from punchline import processes

REPO = processes.REPO
FUNCTION_DIR = REPO / "functions"
NETLIFY_TOML = REPO / "netlify.toml"
# What a copy of the repository for a site build leaves out: nothing the site build reads lives there.
NOT_FOR_THE_SITE = (".git", ".venv", "models", "corpus", "judge", "build", "public", "test-artifacts", "tests",
                    "__pycache__", ".pytest_cache", "functions")


class RehearsalError(RuntimeError):
    pass


def function_upload(source: Path = FUNCTION_DIR) -> list[Path]:
    """Paths (relative to source) that gcloud uploads: every file not matched by source/.gcloudignore."""
    import pathspec

    ignore = source / ".gcloudignore"
    rules = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
    spec = pathspec.GitIgnoreSpec.from_lines(rules)
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    return [p for p in files if not spec.match_file(p.as_posix())]


def stage_function(dest: Path, source: Path = FUNCTION_DIR) -> int:
    """Copy what gcloud would upload into dest; return its size in bytes."""
    total = 0
    for rel in function_upload(source):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
        total += target.stat().st_size
    return total


def environment(dest: Path, requirements: Path, log=None) -> Path:
    """A new virtual environment at dest with only `requirements` installed; returns its python (absolute)."""
    dest, requirements = dest.resolve(), requirements.resolve()
    if log:
        log(f"creating {dest} with {requirements.relative_to(REPO) if requirements.is_relative_to(REPO) else requirements}")
    subprocess.run([sys.executable, "-m", "venv", str(dest)], check=True)
    python = dest / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             "-r", str(requirements)], capture_output=True, text=True, cwd=requirements.parent)
    if result.returncode != 0:
        raise RehearsalError(f"pip install -r {requirements} failed:\n{result.stderr[-2000:]}")
    return python


def installed_mib(python: Path) -> float:
    """Size of everything installed in the environment's site-packages, pip itself left out."""
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    total = 0
    for path in Path(site).rglob("*"):
        parts = path.relative_to(site).parts
        if parts and parts[0].split("-")[0] in ("pip", "_distutils_hack", "setuptools", "distutils-precedence.pth"):
            continue
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total / 2**20


def start_function(python: Path, staged: Path, env: dict, log: Path | None = None,
                   timeout_s: float = 60) -> processes.Service:
    """functions-framework --target punchline run from inside the staged copy, its port from PORT (as Cloud
    Functions sets it), bound to loopback. Only env and the basics of the environment are passed on."""
    port = processes.free_port()
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    full_env = {**base, **env, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    framework = python.parent / "functions-framework"
    args = [str(framework), "--target", "punchline", "--host", "127.0.0.1"]
    proc = processes._spawn(args, full_env, log, cwd=staged)
    return processes.Service("staged function", proc, f"http://127.0.0.1:{port}", port, log).ready("/status", timeout_s)


@dataclass(frozen=True)
class NetlifySite:
    base: Path  # where the build runs and Netlify looks for requirements.txt
    publish: Path
    command: str
    requirements: Path | None


def netlify_site(root: Path, context: str = "production", config: Path | None = None) -> NetlifySite:
    """What Netlify does for a context, from netlify.toml: the base directory, the command (the context's,
    else [build]'s) and the publish folder (relative to the base)."""
    settings = tomllib.loads((config or root / "netlify.toml").read_text(encoding="utf-8"))
    build = settings.get("build", {})
    chosen = {**build, **settings.get("context", {}).get(context, {})}
    base = root / chosen.get("base", build.get("base", ""))
    if "command" not in chosen or "publish" not in chosen:
        raise RehearsalError(f"netlify.toml gives no build command or publish folder for context {context!r}")
    requirements = base / "requirements.txt"
    return NetlifySite(base, base / chosen["publish"], chosen["command"],
                       requirements if requirements.is_file() else None)


def copy_for_site(dest: Path) -> Path:
    """A copy of the repository with what a site build may read (no models, corpus, tests or environments)."""
    shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(*NOT_FOR_THE_SITE, "*.pyc"))
    return dest


def netlify_build(site: NetlifySite, python: Path, env: dict, context: str = "production") -> subprocess.CompletedProcess:
    """Run the build command in the base directory with the environment's python first on PATH."""
    base = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
    path = f"{python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin"
    full_env = {**base, **env, "CONTEXT": context, "PATH": path, "NETLIFY": "true"}
    return subprocess.run(["bash", "-c", site.command], cwd=site.base, env=full_env, capture_output=True, text=True)
