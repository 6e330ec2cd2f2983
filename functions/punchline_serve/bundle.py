"""The model bundle format: manifest.json plus files, each checked by size and SHA-256."""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from . import storage
from .errors import BundleError

MANIFEST = "manifest.json"
LEXICON = "lexicon.json"
FORMAT = "punchline-bundle"
FORMAT_VERSION = 2  # 2: the vocabulary is words, read right to left (1 was characters)
MAX_TOKEN_CHARS = 64
MAX_MANIFEST_BYTES = 1_000_000


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    architecture: dict
    vocabulary: list[str]
    files: dict  # file name -> {"size": int, "sha256": str}
    serving_file: str
    raw: dict
    lexicon_file: str | None = None  # words and rhymes for the rhyme step, when the bundle has them


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise BundleError(f"invalid manifest {where}: {message}")


def parse_manifest(data: bytes, where: str) -> Manifest:
    """Parse and validate manifest bytes; raise BundleError naming the problem."""
    _require(len(data) <= MAX_MANIFEST_BYTES, where, f"{len(data)} bytes is larger than {MAX_MANIFEST_BYTES}")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"invalid manifest {where}: not JSON ({exc})") from exc
    _require(isinstance(raw, dict), where, "top level is not an object")
    _require(raw.get("format") == FORMAT, where, f"format is {raw.get('format')!r}, expected {FORMAT!r}")
    _require(
        raw.get("format_version") == FORMAT_VERSION,
        where,
        f"format_version {raw.get('format_version')!r} is not supported (this function reads {FORMAT_VERSION})",
    )
    for key in ("name", "version", "serving_file"):
        _require(isinstance(raw.get(key), str) and raw[key], where, f"{key!r} must be a non-empty string")
    arch = raw.get("architecture")
    _require(isinstance(arch, dict), where, "'architecture' must be an object")
    vocab = raw.get("vocabulary")
    _require(
        isinstance(vocab, list) and len(vocab) >= 2
        and all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS for t in vocab),
        where,
        f"'vocabulary' must be a list of words of 1 to {MAX_TOKEN_CHARS} characters",
    )
    _require(len(set(vocab)) == len(vocab) and "\n" in vocab, where, "'vocabulary' must be unique and hold '\\n'")
    files = raw.get("files")
    _require(isinstance(files, dict) and files, where, "'files' must be a non-empty object")
    for name, entry in files.items():
        _require(
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and entry["size"] >= 0
            and isinstance(entry.get("sha256"), str)
            and len(entry["sha256"]) == 64,
            where,
            f"file entry {name!r} needs an integer 'size' and a 64-hex 'sha256'",
        )
        _require("/" not in name and name not in ("", ".", "..", MANIFEST), where, f"file name {name!r} is not allowed")
    _require(raw["serving_file"] in files, where, f"serving_file {raw['serving_file']!r} is not listed in 'files'")
    lexicon = raw.get("lexicon_file")
    _require(lexicon is None or lexicon in files, where, f"lexicon_file {lexicon!r} is not listed in 'files'")
    return Manifest(raw["name"], raw["version"], arch, vocab, files, raw["serving_file"], raw, lexicon)


def verify(manifest: Manifest, name: str, data: bytes, where: str) -> None:
    """Check one file's size and checksum against the manifest."""
    entry = manifest.files[name]
    if len(data) != entry["size"]:
        raise BundleError(f"{where} is {len(data)} bytes, the manifest says {entry['size']} (truncated or replaced?)")
    digest = sha256(data)
    if digest != entry["sha256"]:
        raise BundleError(f"{where} fails its checksum: sha256 {digest[:12]}…, manifest {entry['sha256'][:12]}…")


@dataclass(frozen=True)
class Fetched:
    manifest: Manifest
    data: bytes  # the verified serving file
    lexicon: bytes | None
    bytes_fetched: int
    fetch_ms: float  # reading manifest and file; verification comes after


def fetch(uri: str, timeout_s: float, endpoint: str | None = None) -> Fetched:
    """Fetch the manifest then the serving file into memory, verifying both (endpoint: see storage.client)."""
    start = time.perf_counter()
    try:
        location = storage.parse_uri(uri)
    except ValueError as exc:
        raise BundleError(f"MODEL_URI: {exc}") from exc
    manifest_bytes = storage.read(location, MANIFEST, timeout_s, endpoint)
    manifest = parse_manifest(manifest_bytes, location.describe(MANIFEST))
    data = storage.read(location, manifest.serving_file, timeout_s, endpoint)
    lexicon = storage.read(location, manifest.lexicon_file, timeout_s, endpoint) if manifest.lexicon_file else None
    fetch_ms = (time.perf_counter() - start) * 1000
    verify(manifest, manifest.serving_file, data, location.describe(manifest.serving_file))
    if lexicon is not None:
        verify(manifest, manifest.lexicon_file, lexicon, location.describe(manifest.lexicon_file))
    fetched = len(manifest_bytes) + len(data) + len(lexicon or b"")
    return Fetched(manifest, data, lexicon, fetched, fetch_ms)


def write(folder: Path, *, name: str, version: str, architecture: dict, vocabulary: list[str],
          files: dict[str, bytes], serving_file: str, extra: dict | None = None) -> Path:
    """Write a bundle folder: the files first, the manifest last. Returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        tmp = folder / f".{file_name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(folder / file_name)
    manifest = {
        **({"lexicon_file": LEXICON} if LEXICON in files else {}),
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "architecture": architecture,
        "vocabulary": vocabulary,
        "serving_file": serving_file,
        "files": {n: {"size": len(d), "sha256": sha256(d)} for n, d in sorted(files.items())},
        **(extra or {}),
    }
    parse_manifest(json.dumps(manifest).encode(), str(folder / MANIFEST))  # never write what we cannot read
    path = folder / MANIFEST
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
