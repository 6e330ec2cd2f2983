"""No secret or credential in the repository or the built site."""

import re
import subprocess
import sys

from punchline import processes

REPO = processes.REPO
PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    "service account key": re.compile(r'"type"\s*:\s*"service_account"'),
    "Google API key": re.compile(r"AIza[0-9A-Za-z_\-]{35}"),
    "OAuth token": re.compile(r"ya29\.[0-9A-Za-z_\-]{20,}"),
    "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[0-9A-Za-z]{36}"),
    "password assignment": re.compile(r"(?i)\b(password|passwd|secret|api_key|token)\s*[:=]\s*['\"][^'\"\s]{8,}['\"]"),
}


def scan(paths) -> list[str]:
    found = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for name, pattern in PATTERNS.items():
            if pattern.search(text):
                found.append(f"{path}: {name}")
    return found


def test_the_scanner_finds_what_it_looks_for(tmp_path):
    leak = tmp_path / "leak.json"
    # assembled here so that this file itself holds no key-shaped text
    leak.write_text('{"type": ' + '"service_account", "private_key": "-----BEGIN ' + 'PRIVATE KEY-----"}')
    assert len(scan([leak])) == 2


def test_no_secrets_in_tracked_files():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    paths = [REPO / line for line in tracked.splitlines() if line and not line.endswith(".png")]
    assert paths, "git ls-files listed nothing"
    assert scan(paths) == []


def test_no_secrets_in_the_built_site(tmp_path):
    out = tmp_path / "public"
    subprocess.run([sys.executable, str(REPO / "build_site.py"), "--out", str(out), "--function-url",
                    "https://us-central1-demo.cloudfunctions.net/punchline"], check=True, cwd=REPO,
                   capture_output=True)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and scan(files) == []
