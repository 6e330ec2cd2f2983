"""Render site/templates into a publish folder, fingerprint site/static, and write Netlify's _headers.

Settings come from the environment at build time (flags override them):
  PUNCHLINE_FUNCTION_URL  the function's public URL (required for production builds)
  CONTEXT                 Netlify's build context; "production" makes the function URL required
  PUNCHLINE_BENCH_JSON    benchmark report whose cold-start figures the page quotes (default reports/bench.json)
  URL                     the site's public URL (Netlify sets it): link previews need absolute image URLs
"""

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
import jinja2

from punchline import cost as cost_model  # pure Python: importable with only Jinja2 and click installed

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "site" / "templates"
STATIC = ROOT / "site" / "static"
LOCAL_FUNCTION_URL = "http://127.0.0.1:8080"
REQUEST_TIMEOUT_S = 60  # a cold start plus generation must fit; Cloud Functions' own timeout is set at deploy


class BuildError(click.ClickException):
    pass


def function_origin(url: str) -> str:
    """Validate the function URL and return its origin (scheme://host[:port])."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BuildError(f"PUNCHLINE_FUNCTION_URL={url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise BuildError(f"PUNCHLINE_FUNCTION_URL={url!r} must not carry a query or fragment")
    return f"{parts.scheme}://{parts.netloc}"


def bench_figures(path: Path) -> dict | None:
    """Cold/warm figures from the benchmark report, if one exists; never made up."""
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return {"cold_start_s": float(report["cold_start_s"]), "warm_p50_ms": float(report["warm_p50_ms_n1"]),
                "machine": str(report.get("machine", "the benchmark machine"))}
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"{path} is not a readable benchmark report: {exc}") from None


SCENARIOS = (16, 1_000, 100_000)  # punchlines a day on the cost page
CDN_HIT_SHARE = 0.8  # the caching table: a shared cache answering this share (the repeat-heavy load mix)


def cost_page(bench: dict | None) -> dict:
    """Everything the cost page shows, computed by the estimator from deploy.json and the benchmark."""
    prices = cost_model.pricing()
    deploy = cost_model.deploy_settings()
    page = {"deploy": deploy, "prices": prices, "worst_case": cost_model.worst_case_monthly(deploy, prices),
            "vm": prices["vm"], "idle_minutes": cost_model.DEFAULT_IDLE_MINUTES, "rows": [], "chart": None,
            "caching": [], "cdn_hit_share": CDN_HIT_SHARE}
    if bench is None:
        return page
    tier = cost_model.Tier(deploy["memory_mb"], deploy["cpu"], deploy["min_instances"], deploy["region_tier"])
    gen1_tier = cost_model.Tier(min(t for t in cost_model.GEN1_MEMORY_TIERS if t >= deploy["memory_mb"]))
    for per_day in SCENARIOS:
        share = cost_model.cold_share_from_idle_gap(per_day, cost_model.DEFAULT_IDLE_MINUTES)
        traffic = cost_model.Traffic(per_day, share, bench["cold_start_s"], bench["warm_p50_ms"] / 1000)
        row = {"per_day": per_day, "cold_share": share}
        for provider in cost_model.PROVIDERS:
            e = cost_model.estimate(provider, traffic, gen1_tier if provider == "gen1" else tier, prices)
            row[provider] = {"monthly": e.monthly, "list": e.monthly_without_free_tier,
                             "per_1000": e.per_1000_requests_list, "binding": e.binding_free_limit}
        page["rows"].append(row)
        cached_share = cost_model.cold_share_from_idle_gap(per_day * (1 - CDN_HIT_SHARE), cost_model.DEFAULT_IDLE_MINUTES)
        cached = cost_model.Traffic(per_day, cached_share, bench["cold_start_s"], bench["warm_p50_ms"] / 1000,
                                    cache_hit_share=CDN_HIT_SHARE)
        with_cdn = cost_model.estimate("gen2", cached, tier, prices)
        page["caching"].append({"per_day": per_day, "without": row["gen2"]["monthly"], "with_cdn": with_cdn.monthly,
                                "function_only": with_cdn.monthly - sum(with_cdn.lines_after_free.get(k, 0.0) for k in
                                                                         ("cdn_lookups", "cdn_egress", "load_balancer"))})
    page["chart"] = _chart(page["rows"], prices["vm"]["monthly"])
    return page


def _chart(rows: list[dict], vm_monthly: float) -> dict:
    """Bar geometry for an inline SVG: list-price monthly cost per scenario and provider, log scale."""
    import math

    low, high = 0.001, max(vm_monthly, *(r[p]["list"] for r in rows for p in cost_model.PROVIDERS)) * 2
    width = 460

    def x(value: float) -> float:
        return round(width * (math.log10(max(value, low)) - math.log10(low)) / (math.log10(high) - math.log10(low)), 1)

    bars, y = [], 0
    for row in rows:
        for provider in cost_model.PROVIDERS:
            bars.append({"y": y, "width": max(1.0, x(row[provider]["list"])), "provider": provider,
                         "label": f"{row['per_day']:,}/day {provider}", "value": row[provider]["list"]})
            y += 18
        y += 10
    return {"bars": bars, "height": y + 20, "width": width, "vm_x": x(vm_monthly),
            "ticks": [{"x": x(v), "label": f"${v:g}"} for v in (0.01, 1, 100) if low <= v <= high]}


def fingerprint(out: Path) -> dict[str, str]:
    """Copy static files to assets/NAME.HASH.EXT; return {name: published path}."""
    assets = {}
    for source in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        data = source.read_bytes()
        rel = source.relative_to(STATIC)
        digest = hashlib.sha256(data).hexdigest()[:10]
        published = Path("assets") / rel.parent / f"{rel.stem}.{digest}{rel.suffix}"
        (out / published).parent.mkdir(parents=True, exist_ok=True)
        (out / published).write_bytes(data)
        assets[rel.as_posix()] = "/" + published.as_posix()
    return assets


CARD_SIZE = (1200, 630)  # Open Graph's recommended link-preview size
CARD_TEXT = ("Punchline", "Give it a setup line.", "A small lyric model answers with a rhyme.")


def card_image(out: Path) -> str:
    """Draw the link-preview card (PNG, with Pillow) into assets/ under a content hash; its published path."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", CARD_SIZE, "#111111")
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, CARD_SIZE[1] - 24), (CARD_SIZE[0], CARD_SIZE[1])], fill="#ffcc33")
    title, *lines = CARD_TEXT
    draw.text((80, 150), title, fill="#ffcc33", font=ImageFont.load_default(size=120))
    for i, line in enumerate(lines):
        draw.text((84, 330 + 70 * i), line, fill="#f2f2f2", font=ImageFont.load_default(size=52))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    published = Path("assets") / f"card.{hashlib.sha256(data).hexdigest()[:12]}.png"
    (out / published).parent.mkdir(parents=True, exist_ok=True)
    (out / published).write_bytes(data)
    return "/" + published.as_posix()


def content_security_policy(origin: str, header: bool = True) -> str:
    """The page's CSP; frame-ancestors only works as a header, so the <meta> copy leaves it out."""
    return "; ".join(part for part in [
        "default-src 'self'",
        f"connect-src 'self' {origin}",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'" if header else "",
    ] if part)


def build(out: Path, function_url: str, production: bool, bench_json: Path, site_url: str = "") -> list[Path]:
    """Build the site into out (replaced whole); return the files written."""
    if not function_url:
        if production:
            raise BuildError("a production build needs the function's URL: set PUNCHLINE_FUNCTION_URL "
                             "(Netlify: Site settings > Environment variables)")
        function_url = LOCAL_FUNCTION_URL
    function_url = function_url.rstrip("/")
    origin = function_origin(function_url)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    assets = fingerprint(out)
    assets["card.png"] = card_image(out)
    csp = content_security_policy(origin)
    config = {"functionUrl": function_url, "requestTimeoutS": REQUEST_TIMEOUT_S, "bench": bench_figures(bench_json)}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    context = {"assets": assets, "config": config, "meta_csp": content_security_policy(origin, header=False),
               "site_url": site_url.rstrip("/"),
               "bench": config["bench"], "cost": cost_page(config["bench"])}
    for template in sorted(TEMPLATES.rglob("*.html")):
        name = template.relative_to(TEMPLATES).as_posix()
        if Path(name).name.startswith("_"):
            continue  # partials and layouts
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(env.get_template(name).render(**context), encoding="utf-8")
    (out / "_headers").write_text(f"/*\n  Content-Security-Policy: {csp}\n", encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--out", default="public", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Publish folder (replaced whole).")
@click.option("--function-url", envvar="PUNCHLINE_FUNCTION_URL", default="",
              help=f"The function's URL [env PUNCHLINE_FUNCTION_URL; local default {LOCAL_FUNCTION_URL}].")
@click.option("--production/--no-production", default=None,
              help="Require a real function URL [default: on when CONTEXT=production, as on Netlify].")
@click.option("--bench-json", envvar="PUNCHLINE_BENCH_JSON", default="reports/bench.json", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Benchmark report the page quotes.")
@click.option("--site-url", envvar="URL", default="",
              help="The site's public URL, for absolute link-preview URLs [env URL, which Netlify sets].")
def main(out, function_url, production, bench_json, site_url):
    """Build the Punchline site from site/templates and site/static."""
    if production is None:
        production = os.environ.get("CONTEXT") == "production"
    files = build(out, function_url, production, bench_json if bench_json.is_absolute() else ROOT / bench_json,
                  site_url)
    click.echo(f"built {len(files)} files into {out}/ (function: {function_url or LOCAL_FUNCTION_URL})")


if __name__ == "__main__":
    sys.exit(main())
