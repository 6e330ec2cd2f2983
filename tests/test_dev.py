"""`punchline dev` (what `make run` runs) as a real process: it serves the function and the site from an
emulated bucket, and Ctrl-C or SIGTERM stops every process it started, leaving its ports free."""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from punchline import processes


def lines_of(stream) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump():
        with stream:  # closed here, once the process has gone
            for line in stream:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def read_until(lines: queue.Queue, marker: str, timeout_s: float) -> str:
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"never printed {marker!r}; printed:\n{''.join(seen)}")


def port_is_free(port: int) -> bool:
    """Whether a new server could listen there now (as servers do, past our closed connections' TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_dev_serves_everything_then_stops_it_all(tiny_bundle, tmp_path: Path, stop_signal):
    ports = {"--port": processes.free_port(), "--emulator-port": processes.free_port(),
             "--site-port": processes.free_port()}
    args = [sys.executable, "-m", "punchline", "dev", "--model", str(tiny_bundle), "--build-dir", str(tmp_path)]
    for option, port in ports.items():
        args += [option, str(port)]
    # Started the way a script's background job is: SIGINT ignored on entry (the shell's trap survives its exec).
    # Ctrl-C must still work.
    args = ["sh", "-c", 'trap "" INT; exec "$0" "$@"'] + args
    dev = subprocess.Popen(args, cwd=processes.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    lines = lines_of(dev.stdout)
    services: list[int] = []
    try:
        printed = read_until(lines, "Ctrl-C stops everything", timeout_s=90)
        function_url = re.search(r"function: +(http://\S+)", printed).group(1)
        site_url = re.search(r"site: +(http://\S+)", printed).group(1)
        assert function_url == f"http://127.0.0.1:{ports['--port']}"
        with urllib.request.urlopen(f"{function_url}/?n=1&prompt=hello", timeout=60) as response:
            body = json.loads(response.read())
        assert body["cold_start"] is True and len(body["punchlines"]) == 1  # fetched from the emulated bucket
        with urllib.request.urlopen(site_url, timeout=10) as response:
            assert function_url in response.read().decode()  # the built site calls this function
        assert (tmp_path / "logs" / "function.log").is_file() and (tmp_path / "site" / "index.html").is_file()
        services += processes.children(dev.pid)
        assert len(services) == 3  # emulator, function, site: each leads its own process group
        dev.send_signal(stop_signal)
        assert dev.wait(timeout=30) == 0
        assert "stopped." in read_until(lines, "stopped.", timeout_s=5)
        for group in services:
            assert processes.group_members(group) == [], f"process group {group} outlived punchline dev"
        for option, port in ports.items():
            assert port_is_free(port), f"{option} {port} still taken after punchline dev stopped"
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
        for group in services:  # whatever a failed stop left behind
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
