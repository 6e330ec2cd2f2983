"""`punchline dev`: the whole app on loopback — emulated bucket seeded with a model, the function, the site."""

import signal
import time
from pathlib import Path

import click

from punchline import processes, upload


def run(bundle_dir: Path, function_port: int, emulator_port: int, bucket_uri: str, site_port: int | None,
        build_dir: Path) -> None:
    """Start everything, print where it is, and stop it all on Ctrl-C (or SIGTERM).

    The site is built into build_dir/site and each service logs to build_dir/logs/<service>.log."""
    logs, site_dir = build_dir.resolve() / "logs", build_dir.resolve() / "site"
    logs.mkdir(parents=True, exist_ok=True)
    services: list[processes.Service] = []
    # Ctrl-C and SIGTERM both stop everything, also when started from a script that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        emulator = processes.start_emulator(emulator_port, logs / "emulator.log")
        services.append(emulator)
        emulator_host = emulator.url
        sent = upload.upload(bundle_dir, bucket_uri, create_bucket=True, endpoint=emulator_host)
        click.echo(f"bucket emulator: {emulator.url} (seeded {bucket_uri} with {sent:,} bytes from {bundle_dir})")
        function = processes.start_function(
            {"MODEL_URI": bucket_uri, "STORAGE_EMULATOR_HOST": emulator_host,
             "ALLOWED_ORIGINS": f"http://127.0.0.1:{site_port or 8000},http://localhost:{site_port or 8000}"},
            function_port, logs / "function.log")
        services.append(function)
        click.echo(f"function:        {function.url}  (logs: {logs / 'function.log'})")
        if site_port:
            processes.build_site(site_dir, function.url)
            site = processes.start_static_site(site_dir, site_port, logs / "site.log")
            services.append(site)
            click.echo(f"site:            {site.url}/  (built into {site_dir})")
        click.echo("\ntry:\n"
                   f"  curl '{function.url}/?prompt=hello&n=3'\n"
                   f"  curl -H 'Accept: text/plain' '{function.url}/?prompt=hello&n=3'\n"
                   f"  curl '{function.url}/status'\n"
                   "\nCtrl-C stops everything.")
        while True:
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
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        for service in reversed(services):
            service.stop()
        click.echo("stopped.", err=True)
