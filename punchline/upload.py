"""Upload a bundle to a bucket: verified files first, the manifest last."""

from pathlib import Path

from tqdm import tqdm

from punchline_serve import bundle, storage
from punchline_serve.errors import BundleError


class UploadError(Exception):
    pass


def _check(bundle_dir: Path) -> tuple[bytes, bundle.Manifest]:
    """Read the manifest and verify every file it lists before anything is sent."""
    manifest_path = bundle_dir / bundle.MANIFEST
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError:
        raise UploadError(f"{manifest_path} is missing: is {bundle_dir} a bundle written by `punchline train`?") from None
    try:
        manifest = bundle.parse_manifest(manifest_bytes, str(manifest_path))
        for name in manifest.files:
            path = bundle_dir / name
            if not path.is_file():
                raise UploadError(f"{path} is listed in the manifest but missing")
            if path.stat().st_size != manifest.files[name]["size"]:
                raise UploadError(f"{path} is {path.stat().st_size} bytes, the manifest says {manifest.files[name]['size']}")
    except BundleError as exc:
        raise UploadError(str(exc)) from None
    return manifest_bytes, manifest


def upload(bundle_dir: Path, destination: str, create_bucket: bool = False, timeout_s: float = 300,
           endpoint: str | None = None) -> int:
    """Upload every file, then the manifest; return the bytes sent (endpoint: an emulator's URL, else the
    storage library's default, which honours STORAGE_EMULATOR_HOST)."""
    from google.api_core import exceptions

    try:
        location = storage.parse_uri(destination)
    except ValueError as exc:
        raise UploadError(str(exc)) from None
    if location.bucket is None:
        raise UploadError(f"destination {destination!r} must look like gs://bucket/prefix")
    manifest_bytes, manifest = _check(bundle_dir)
    client = storage.client(endpoint)
    try:
        bucket = client.bucket(location.bucket)
        if create_bucket and not bucket.exists(timeout=timeout_s):
            bucket = client.create_bucket(location.bucket, timeout=timeout_s)
        total = sum(manifest.files[n]["size"] for n in manifest.files) + len(manifest_bytes)
        with tqdm(total=total, unit="B", unit_scale=True, desc="uploading", dynamic_ncols=True) as bar:
            for name in manifest.files:
                data = (bundle_dir / name).read_bytes()
                bundle.verify(manifest, name, data, str(bundle_dir / name))
                bucket.blob(location.object_name(name)).upload_from_string(
                    data, content_type="application/octet-stream", timeout=timeout_s)
                bar.update(len(data))
            bucket.blob(location.object_name(bundle.MANIFEST)).upload_from_string(
                manifest_bytes, content_type="application/json", timeout=timeout_s)
            bar.update(len(manifest_bytes))
    except BundleError as exc:
        raise UploadError(str(exc)) from None
    except exceptions.NotFound:
        raise UploadError(f"bucket {location.bucket!r} does not exist (pass --create-bucket to create it)") from None
    except exceptions.GoogleAPIError as exc:
        raise UploadError(f"upload to {destination} failed: {exc}") from None
    except Exception as exc:  # connection refused and similar transport errors
        raise UploadError(f"upload to {destination} failed: {type(exc).__name__}: {exc}"[:400]) from None
    return total
