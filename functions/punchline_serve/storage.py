"""Read objects from a model location: a gs://bucket/prefix or a local folder, straight into memory."""

import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelUnavailable

_clients: dict = {}  # one client per endpoint: None (the library's default) or an emulator's URL
_client_lock = threading.Lock()


@dataclass(frozen=True)
class Location:
    """Where a bundle lives: a bucket and prefix, or a local folder (bucket is None)."""

    uri: str
    bucket: str | None
    prefix: str

    def describe(self, name: str) -> str:
        if self.bucket is None:
            return str(Path(self.prefix) / name)
        return f"gs://{self.bucket}/{self.object_name(name)}"

    def object_name(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name


def parse_uri(uri: str) -> Location:
    """Split gs://bucket/prefix (or a folder path) into a Location."""
    if uri.startswith("gs://"):
        bucket, _, prefix = uri[len("gs://"):].partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} names no bucket; expected gs://bucket/prefix")
        return Location(uri, bucket, prefix.strip("/"))
    if "://" in uri:
        raise ValueError(f"{uri!r} is neither gs://bucket/prefix nor a local folder")
    return Location(uri, None, uri)


def client(endpoint: str | None = None):
    """The process-wide storage client for an endpoint, created on first use.

    None is google-cloud-storage's own default: the real API, or the emulator that STORAGE_EMULATOR_HOST
    names. An endpoint (an emulator's URL) gets an anonymous client of its own.
    """
    with _client_lock:
        if endpoint not in _clients:
            from google.cloud import storage  # imported lazily: local folders never need it

            if endpoint:
                from google.auth.credentials import AnonymousCredentials

                _clients[endpoint] = storage.Client(project="punchline-local", credentials=AnonymousCredentials(),
                                                    client_options={"api_endpoint": endpoint})
            else:
                _clients[endpoint] = storage.Client()
        return _clients[endpoint]


def read(location: Location, name: str, timeout_s: float, endpoint: str | None = None) -> bytes:
    """Return the bytes of one object of the bundle (from `endpoint`, see client()); raise ModelUnavailable
    naming it."""
    where = location.describe(name)
    if location.bucket is None:
        try:
            return (Path(location.prefix) / name).read_bytes()
        except OSError as exc:
            raise ModelUnavailable(f"cannot read {where}: {exc.strerror or exc}") from exc
    from google.api_core import exceptions
    from google.cloud.storage.retry import DEFAULT_RETRY

    try:
        blob = client(endpoint).bucket(location.bucket).get_blob(
            location.object_name(name), timeout=timeout_s, retry=DEFAULT_RETRY.with_timeout(timeout_s))
        if blob is None:
            raise ModelUnavailable(f"{where} not found (bucket {location.bucket!r}, object "
                                   f"{location.object_name(name)!r})")
        return _download(blob, timeout_s, endpoint)
    except ModelUnavailable:
        raise
    except exceptions.NotFound as exc:
        raise ModelUnavailable(f"{where} not found (bucket {location.bucket!r}) or was replaced while loading") from exc
    except exceptions.Forbidden as exc:
        raise ModelUnavailable(f"access denied to {where}: check the function's service account") from exc
    except Exception as exc:  # connection errors, retry deadlines, short reads: many types
        raise ModelUnavailable(f"cannot fetch {where}: {type(exc).__name__}: {exc}"[:500]) from exc


def _download(blob, timeout_s: float, endpoint: str | None = None) -> bytes:
    """The object's bytes, pinned to the generation just looked up, read in one go.

    blob.download_as_bytes() walks the body in 8 KiB chunks and measures 0.7 s for 150 MB here; one read
    of the same response through the client's own authorized session takes 0.13 s. The caller verifies
    the SHA-256 from the manifest on the bytes in hand.
    """
    from google.api_core import exceptions

    session = client(endpoint)._http  # the client's authorized session: same credentials, same endpoint
    url = blob.media_link
    if "generation=" not in url:  # GCS's mediaLink carries it; emulators may not
        url += f"{'&' if '?' in url else '?'}generation={blob.generation}"
    response = session.get(url, stream=True, timeout=timeout_s)
    try:
        if response.status_code == 404:
            raise exceptions.NotFound(f"{blob.name} generation {blob.generation}")
        response.raise_for_status()
        data = response.raw.read(decode_content=True)
    finally:
        response.close()
    if len(data) != blob.size:
        raise OSError(f"short read: {len(data)} of {blob.size} bytes")
    return data
