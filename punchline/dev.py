"""`punchline dev`: the whole app on loopback — emulated bucket seeded with a model, the function, the site."""

import os
import signal
import time
from pathlib import Path

import click

from punchline import processes, upload

LOG_DIR = processes.REPO / "build" / "logs"
SITE_DIR = processes.REPO / "build" / "site"


def run(bundle_dir: Path, function_port: int, emulator_port: int, bucket_uri: str, site_port: int | None) -> None:
    """Start everything, print where it is, and stop it all on Ctrl-C (or SIGTERM)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    services: list[processes.Service] = []
    stop = {"now": False}

    def request_stop(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        emulator = processes.start_emulator(emulator_port, LOG_DIR / "emulator.log")
        services.append(emulator)
        emulator_host = emulator.url
        os.environ["STORAGE_EMULATOR_HOST"] = emulator_host
        sent = upload.upload(bundle_dir, bucket_uri, create_bucket=True)
        click.echo(f"bucket emulator: {emulator.url} (seeded {bucket_uri} with {sent:,} bytes from {bundle_dir})")
        function = processes.start_function(
            {"MODEL_URI": bucket_uri, "STORAGE_EMULATOR_HOST": emulator_host,
             "ALLOWED_ORIGINS": f"http://127.0.0.1:{site_port or 8000},http://localhost:{site_port or 8000}"},
            function_port, LOG_DIR / "function.log")
        services.append(function)
        click.echo(f"function:        {function.url}  (logs: {LOG_DIR / 'function.log'})")
        if site_port:
            processes.build_site(SITE_DIR, function.url)
            site = processes.start_static_site(SITE_DIR, site_port, LOG_DIR / "site.log")
            services.append(site)
            click.echo(f"site:            {site.url}/  (built into {SITE_DIR})")
        click.echo("\ntry:\n"
                   f"  curl '{function.url}/?prompt=hello&n=3'\n"
                   f"  curl -H 'Accept: text/plain' '{function.url}/?prompt=hello&n=3'\n"
                   f"  curl '{function.url}/status'\n"
                   "\nCtrl-C stops everything.")
        while not stop["now"]:
            for service in services:
                if not service.alive():
                    raise click.ClickException(f"{service.name} exited with {service.proc.returncode}; "
                                               f"see {service.log}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except upload.UploadError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for service in reversed(services):
            service.stop()
        click.echo("stopped.", err=True)
