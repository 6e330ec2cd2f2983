"""The `punchline` command: train, upload and run the lyric model locally."""

from pathlib import Path

import click

from punchline import modelling
from punchline_serve import params


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="punchline")
def main():
    """Punchline: train a small lyric model, upload it to a bucket and serve it for pennies."""


def _orders(value: str) -> tuple[int, ...]:
    try:
        orders = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not orders or orders[0] < 1 or orders[-1] > 16:
        raise click.BadParameter(f"{value!r}: n-gram lengths must be between 1 and 16")
    return orders


@main.command()
@click.argument("corpus", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Bundle folder to write.")
@click.option("--name", default="punchline-word-lstm", show_default=True, help="Model name in the manifest.")
@click.option("--preset", type=click.Choice(list(modelling.PRESETS)), default="default", show_default=True,
              help="Architecture and training settings to start from; the options below override them. "
                   + "; ".join(f"{name}: {', '.join(f'{k}={v}' for k, v in values.items())}"
                               for name, values in modelling.PRESETS.items())
                   + " (production: the ~150 MB model `punchline bench` times).")
@click.option("--units", type=click.IntRange(4, 4096), help="LSTM units per layer.")
@click.option("--layers", type=click.IntRange(1, 8), help="LSTM layers.")
@click.option("--embedding", type=click.IntRange(2, 1024), help="Word (and n-gram) embedding size.")
@click.option("--epochs", type=click.IntRange(1, 10_000), help="Passes over the corpus at most.")
@click.option("--batch-size", type=click.IntRange(1, 100_000))
@click.option("--learning-rate", type=click.FloatRange(1e-6, 1.0, min_open=True))
@click.option("--dropout", type=click.FloatRange(0.0, 0.9), help="Dropout between layers while training.")
@click.option("--max-words", type=click.IntRange(3, 1_000_000), help="Vocabulary size at most (the rest read as unknown).")
@click.option("--couplet-weight", type=click.IntRange(1, 100),
              help="How many times each setup/punchline couplet (a two-line stanza) counts against a pair of verse.")
@click.option("--validation", type=click.FloatRange(0.0, 0.5),
              help="Share of pairs held out; training keeps the epoch with the lowest held-out loss.")
@click.option("--quantize", type=click.Choice(modelling.QUANTIZATIONS), default="none", show_default=True,
              help="Weight format of the served LiteRT model.")
@click.option("--also-quantize", multiple=True, type=click.Choice(modelling.QUANTIZATIONS),
              help="Also write the same trained model in this format to OUT-FORMAT/ (OUT-float32/ for none; "
                   "repeatable), for `punchline eval --compare`.")
@click.option("--ngram-buckets", type=click.IntRange(0, 50_000_000),
              help="Rows of the hashed word n-gram embedding table (0: none).")
@click.option("--ngram-orders", callback=lambda c, p, v: None if v is None else _orders(v),
              help="Comma-separated n-gram lengths (in words) hashed into that table.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same model).")
def train(corpus, out, name, preset, quantize, also_quantize, seed, **overrides):
    """Train the word model on CORPUS (a UTF-8 file or folder of .txt files) and write a bundle to --out.

    The corpus is read as pairs of neighbouring lines (a couplet file: setup, punchline, blank line).
    Options left out take their value from --preset (`make model` builds the default model); the settings
    used are recorded in the bundle's manifest.
    """
    from tqdm import tqdm

    from punchline import corpus as corpus_module, train as train_module

    try:
        pairs = corpus_module.load_pairs(corpus, modern=True)
        couplets = frozenset(corpus_module.couplets(corpus_module.read_texts(corpus)))
    except corpus_module.CorpusError as exc:
        raise click.BadParameter(str(exc), param_hint="CORPUS") from None
    click.echo(f"corpus: {len(pairs):,} pairs of lines ({len(couplets):,} couplets) from {corpus}", err=True)
    settings = modelling.training_settings(preset, overrides)
    bar = tqdm(desc="training", unit="batch", dynamic_ncols=True)

    def progress(total: int, loss: float):
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

    trained = train_module.fit(pairs, seed=seed, couplets=couplets, progress=progress, **settings)
    bar.close()
    training = {"preset": preset, "pairs": len(pairs), "couplets": len(couplets), **settings, "ngram_orders": list(settings["ngram_orders"]),
                "seed": seed, "epochs_run": trained.epochs_run, "final_loss": round(trained.loss, 4),
                "val_loss": None if trained.val_loss is None else round(trained.val_loss, 4)}
    for variant in dict.fromkeys((quantize,) + tuple(also_quantize)):
        click.echo(f"exporting LiteRT model ({variant}) ...", err=True)
        folder = out if variant == quantize else out.with_name(f"{out.name}-{modelling.weight_format(variant)}")
        manifest = train_module.write_bundle(folder, trained, name=name, quantization=variant, training=training)
        click.echo(f"wrote {manifest}")
    click.echo(f"final loss {trained.loss:.3f}, held-out loss "
               f"{'-' if trained.val_loss is None else format(trained.val_loss, '.3f')}, {trained.epochs_run} epochs")


@main.command()
@click.argument("bundle_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("destination", metavar="gs://BUCKET/PREFIX")
@click.option("--create-bucket", is_flag=True, help="Create the bucket if it does not exist.")
def upload(bundle_dir, destination, create_bucket):
    """Upload the bundle in DIR to gs://BUCKET/PREFIX, manifest last (honours STORAGE_EMULATOR_HOST)."""
    from punchline import upload as upload_module

    try:
        uploaded = upload_module.upload(bundle_dir, destination, create_bucket=create_bucket)
    except upload_module.UploadError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"uploaded {uploaded} bytes to {destination.rstrip('/')}/")


@main.command()
@click.option("--model", "bundle_dir", default="models/default", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Bundle to seed the emulated bucket with.")
@click.option("--corpus", default="corpus", show_default=True, type=click.Path(exists=True, path_type=Path),
              help="Corpus to train the default model on when --model holds none yet.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Function port.")
@click.option("--emulator-port", default=4443, show_default=True, type=click.IntRange(1, 65535))
@click.option("--site-port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the built site (0: do not serve it).")
@click.option("--bucket", "bucket_uri", default="gs://punchline-models/default", show_default=True,
              help="Where in the emulated bucket the model goes.")
@click.option("--build-dir", default="build", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the site is built (site/) and the logs go (logs/).")
def dev(bundle_dir, corpus, port, emulator_port, site_port, bucket_uri, build_dir):
    """Run the whole app locally: emulated bucket seeded with the model, the function and the site."""
    from punchline import dev as dev_module

    if not (bundle_dir / "manifest.json").is_file():
        click.echo(f"{bundle_dir} holds no model yet: training the default one (a few minutes) ...", err=True)
        ctx = click.get_current_context()
        ctx.invoke(train, corpus=corpus, out=bundle_dir)
    dev_module.run(bundle_dir, port, emulator_port, bucket_uri, site_port or None, build_dir)


@main.command()
@click.option("--quick", is_flag=True, help="Fewer runs (2 cold starts each, shorter warm series): under 3 minutes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object instead of a table.")
@click.option("--quantize", type=click.Choice(modelling.QUANTIZATIONS), default="none", show_default=True,
              help="Weight format of our served model.")
@click.option("--corpus", default="corpus", show_default=True, type=click.Path(exists=True, path_type=Path),
              help="Corpus whose vocabulary the production-size model uses.")
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where bench.json, bench.md and bench.png go.")
@click.option("--work", default="build/bench", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Cache of the production-size models.")
def bench(quick, as_json, quantize, corpus, out, work):
    """Measure cold start, warm latency, throughput and memory against the original recipe."""
    import json as json_module

    from punchline import bench as bench_module, bench_report

    def log(message):
        click.echo(f"[bench] {message}", err=True)

    try:
        report = bench_module.run(quick=quick, quantization=quantize, corpus_path=corpus, work=work, log=log)
    except bench_module.BenchError as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json_module.dumps(report, indent=2, sort_keys=True) + "\n")
    (out / "bench.md").write_text(bench_report.table(report) + "\n")
    bench_report.chart(report, out / "bench.png")
    if as_json:
        click.echo(json_module.dumps(report, sort_keys=True))
        return
    click.echo(bench_report.table(report))
    click.echo("")
    for label, value, ok in bench_report.targets(report):
        click.echo(f"  {'PASS' if ok else 'MISS'}  {label}  ({value:.2f})")
    click.echo(f"\nwrote {out / 'bench.json'}, {out / 'bench.md'} and {out / 'bench.png'}")


@main.command()
@click.option("--model", "bundle_dir", default="models/default", show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Bundle the function serves.")
@click.option("--requests", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--mix", type=click.Choice(["unique", "repeat"]), default="unique", show_default=True,
              help="unique: every request different; repeat: 80% of requests from 20 shared links.")
@click.option("--cache-size", type=click.IntRange(0, 1_000_000),
              help="The function's CACHE_SIZE (0: cache off) [default: the function's default].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def load(bundle_dir, requests, concurrency, mix, cache_size, as_json):
    """Load-test the real function on 127.0.0.1: errors, latency percentiles, CPU time, cache hit rate, RSS."""
    import json as json_module

    from punchline import load as load_module

    report = load_module.run(bundle_dir, requests, concurrency, log=lambda m: click.echo(f"[load] {m}", err=True),
                             mix=mix, cache_size=cache_size)
    if as_json:
        click.echo(json_module.dumps(report, sort_keys=True))
    else:
        click.echo(f"{report['ok']} ok, {report['errors']} errors in {report['seconds']:.1f} s "
                   f"({report['rps']:.1f} requests/s at concurrency {concurrency})")
        click.echo(f"latency ms: p50 {report['p50_ms']:.0f}, p95 {report['p95_ms']:.0f}, "
                   f"p99 {report['p99_ms']:.0f}, max {report['max_ms']:.0f}")
        click.echo(f"mix {mix}: cache hit rate {report['cache_hit_rate']:.1%}, serving CPU "
                   f"{report['cpu_seconds']:.1f} s ({report['cpu_ms_per_request']:.1f} ms per request)")
        click.echo(f"serving process RSS: {report['rss_before_mib']:.0f} MiB before, "
                   f"{report['rss_after_mib']:.0f} MiB after")
        for error in report["first_errors"]:
            click.echo(f"  error: {error}")
    if report["errors"]:
        raise SystemExit(1)


@main.group()
def cost():
    """What serving costs: estimate, budget inversion, and the bill implied by the function's logs."""


def _tier_options(command):
    deploy = _deploy_defaults()
    for option in reversed([
        click.option("--memory-mb", default=deploy["memory_mb"], show_default=True, type=click.IntRange(128, 32768),
                     help="Memory tier (deploy.json)."),
        click.option("--cpu", default=float(deploy["cpu"]), show_default=True, type=click.FloatRange(0.08, 8),
                     help="vCPU (2nd gen)."),
        click.option("--min-instances", default=deploy["min_instances"], show_default=True, type=click.IntRange(0, 1000)),
        click.option("--region-tier", default=deploy["region_tier"], show_default=True, type=click.Choice(["1", "2"]),
                     callback=lambda c, p, v: int(v)),
        click.option("--provider", type=click.Choice(["gen1", "gen2", "lambda", "all"]), default="all",
                     show_default=True),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]):
        command = option(command)
    return command


def _deploy_defaults() -> dict:
    from punchline import cost as cost_module

    return cost_module.deploy_settings()


def _providers(provider: str) -> tuple[str, ...]:
    from punchline import cost as cost_module

    return cost_module.PROVIDERS if provider == "all" else (provider,)


@cost.command()
@click.option("--requests-per-day", default=1000.0, show_default=True, type=click.FloatRange(0, 1e9))
@click.option("--cold-share", type=click.FloatRange(0, 1),
              help="Share of cold requests [default: derived from --idle-minutes and the traffic].")
@click.option("--idle-minutes", default=15.0, show_default=True, type=click.FloatRange(0, 1440),
              help="How long an idle instance lives (the idle-gap model of the cold share).")
@click.option("--cold-s", type=click.FloatRange(0, 3600), help="Cold request duration [default: reports/bench.json].")
@click.option("--warm-s", type=click.FloatRange(0, 3600), help="Warm request duration [default: reports/bench.json].")
@click.option("--response-kb", default=2.0, show_default=True, type=click.FloatRange(0, 1e6))
@click.option("--bucket-gb", default=0.15, show_default=True, type=click.FloatRange(0, 1e6))
@click.option("--cache-hit-share", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests a shared cache (Cloud CDN behind a load balancer) answers without the "
                   "function; above 0 adds the CDN's lookups, egress and the balancer's forwarding rule.")
@_tier_options
def estimate(requests_per_day, cold_share, idle_minutes, cold_s, warm_s, response_kb, bucket_gb, cache_hit_share,
             memory_mb, cpu, min_instances, region_tier, provider, as_json):
    """Monthly cost for a traffic level, with and without the free tier, and which free limit binds first."""
    import json as json_module

    from punchline import cost as cost_module

    measured = cost_module.bench_durations()
    if (cold_s is None or warm_s is None) and measured is None:
        raise click.UsageError("give --cold-s and --warm-s (no reports/bench.json to take them from)")
    cold_s = cold_s if cold_s is not None else measured[0]
    warm_s = warm_s if warm_s is not None else measured[1]
    if cold_share is None:  # only the requests the cache does not answer keep instances warm
        cold_share = cost_module.cold_share_from_idle_gap(requests_per_day * (1 - cache_hit_share), idle_minutes)
    traffic = cost_module.Traffic(requests_per_day, cold_share, cold_s, warm_s, response_kb, bucket_gb,
                                  cache_hit_share)
    tier = cost_module.Tier(memory_mb, cpu, min_instances, region_tier)
    try:
        results = {p: cost_module.estimate(p, traffic, tier).to_dict() for p in _providers(provider)}
    except cost_module.CostError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json_module.dumps({"traffic": traffic.__dict__, "tier": tier.__dict__, "estimates": results},
                                     sort_keys=True))
        return
    click.echo(f"{requests_per_day:,.0f} requests/day, {cold_share:.1%} cold ({cold_s:.2f} s), warm {warm_s:.3f} s, "
               f"{memory_mb} MB, {cpu:g} vCPU, {min_instances} min instances, region tier {region_tier}"
               + (f", {cache_hit_share:.0%} answered by Cloud CDN" if cache_hit_share else ""))
    click.echo(f"{'provider':<8} {'per month':>12} {'no free tier':>13} {'per 1,000 (list)':>17}  "
               "free limit that binds first")
    for name, e in results.items():
        binding = (f"{e['binding_free_limit']} (at {e['binding_free_limit_requests_per_day']:,.0f} requests/day)"
                   if e["binding_free_limit"] else "-")
        click.echo(f"{name:<8} {'$' + format(e['monthly'], ',.2f'):>12} "
                   f"{'$' + format(e['monthly_without_free_tier'], ',.2f'):>13} "
                   f"{'$' + format(e['per_1000_requests_list'], '.5f'):>17}  {binding}")


@cost.command()
@click.option("--per-day", type=click.FloatRange(0, 1e9), help="Budget in USD per day.")
@click.option("--per-month", type=click.FloatRange(0, 1e9), help="Budget in USD per month.")
@click.option("--duration-s", required=True, type=click.FloatRange(0.001, 3600), help="Billed time per request.")
@click.option("--gb-second-price", type=click.FloatRange(0, 1), help="Override the list price per GB-second.")
@_tier_options
def budget(per_day, per_month, duration_s, gb_second_price, memory_mb, cpu, min_instances, region_tier, provider,
           as_json):
    """How many requests a budget buys at a given duration and tier (the free tier ignored)."""
    import json as json_module

    from punchline import cost as cost_module

    if (per_day is None) == (per_month is None):
        raise click.UsageError("give exactly one of --per-day or --per-month")
    amount = per_day if per_day is not None else per_month
    try:
        results = {p: cost_module.requests_for_budget(p, amount, duration_s, memory_mb, cpu, region_tier,
                                                      gb_second_price=gb_second_price)
                   for p in _providers(provider)}
    except (cost_module.CostError, KeyError) as exc:
        raise click.UsageError(f"cannot price that tier: {exc}") from None
    period = "day" if per_day is not None else "month"
    if as_json:
        click.echo(json_module.dumps({"budget": amount, "per": period, "duration_s": duration_s,
                                      "memory_mb": memory_mb, "requests": results}, sort_keys=True))
        return
    for name, count in results.items():
        click.echo(f"{name:<8} ${amount:,.2f} a {period} buys {count:,} requests of {duration_s:g} s at {memory_mb} MB")


@cost.command("from-logs")
@click.argument("log_file", type=click.File("r", encoding="utf-8", errors="replace"))
@_tier_options
def from_logs(log_file, memory_mb, cpu, min_instances, region_tier, provider, as_json):
    """The bill implied by the function's JSON log lines (or a Cloud Logging export), beside the estimate."""
    import json as json_module

    from punchline import cost as cost_module

    records = cost_module.parse_log_lines(log_file)
    tier = cost_module.Tier(memory_mb, cpu, min_instances, region_tier)
    try:
        results = {p: cost_module.from_logs(records, p, tier) for p in _providers(provider)}
    except cost_module.CostError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json_module.dumps(results, sort_keys=True))
        return
    first = next(iter(results.values()))
    click.echo(f"{first['requests']:,} requests over {first['period_days']:.2f} days "
               f"({first['requests_per_day']:,.1f}/day, {first['cold_share']:.1%} cold, "
               f"{first['cache_hit_share']:.1%} answered from the instance's cache), {first['memory_mb']} MB")
    click.echo(f"{'provider':<8} {'this period':>12} {'month, from logs':>17} {'month, estimate':>16}")
    for name, r in results.items():
        click.echo(f"{name:<8} {'$' + format(r['period_cost_without_free_tier'], ',.4f'):>12} "
                   f"{'$' + format(r['monthly_from_logs']['monthly'], ',.2f'):>17} "
                   f"{'$' + format(r['monthly_estimate']['monthly'], ',.2f'):>16}")
    click.echo("(this period: before the free tier; month: after it)")


@main.command("eval")
@click.option("--model", "model_dir", default="models/default", show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Bundle to evaluate.")
@click.option("--corpus", default="corpus", show_default=True, type=click.Path(exists=True, path_type=Path),
              help="Training corpus, for the novelty check.")
@click.option("--judge-corpus", default="judge/public-domain", show_default=True,
              type=click.Path(exists=True, path_type=Path),
              help="Text the fluency judge is trained on (its half B); shares nothing with the training corpus.")
@click.option("--human", default="judge/human-couplets.txt", show_default=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Held-out couplets written by hand: the human lines the served ones are measured against.")
@click.option("--n", default=4, show_default=True, type=click.IntRange(1, 16), help="Punchlines per setup and seed.")
@click.option("--temperature", default=params.DEFAULT_TEMPERATURE, show_default=True, type=click.FloatRange(0.1, 2.0))
@click.option("--compare", "reference_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also evaluate this bundle (say, the float32 model) and show how far --model is from it on "
                   "every share (a quantized model may be the default within the tolerance).")
@click.option("--cache", "cache_dir", default="build/cache", show_default=True, type=click.Path(path_type=Path),
              help="Where the judge is kept once built.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(model_dir, corpus, judge_corpus, human, n, temperature, reference_dir, cache_dir, as_json):
    """Score punchlines on fixed setup lines and seeds: fluency by an independent judge (SLOR) against human and
    shuffled lines, rhyme, rhyme depth, novelty, diversity, echoes and archaic words."""
    import json as json_module

    from punchline import evaluate as evaluate_module

    def run(bundle_dir):
        return evaluate_module.run(bundle_dir, corpus, judge_corpus, human, n=n, temperature=temperature,
                                   cache_dir=cache_dir)

    report = run(model_dir)
    if reference_dir is not None:
        report["compared_with"] = evaluate_module.compare(report, run(reference_dir))
    if as_json:
        click.echo(json_module.dumps(report, sort_keys=True))
        return
    click.echo(f"{report['model']} ({report['quantization']}), {report['punchlines']} punchlines, "
               f"{report['human_lines']} human lines")
    for key, (op, limit) in evaluate_module.TARGETS.items():
        verdict = "PASS" if evaluate_module.meets(report, key) else "MISS"
        click.echo(f"  {key:<30} {report[key]:7.3f}   target {op} {limit:<5} {verdict}")
    for key in evaluate_module.SHOWN:
        click.echo(f"  {key:<30} {report[key]:7.3f}")
    click.echo(f"  {'generate_ms_per_request':<30} {report['generate_ms_per_request']:7.1f}")
    if not report["judge_trustworthy"]:
        click.echo("  the judge is NOT trustworthy here: shuffled human lines score above 0 too often "
                   "(or human lines never do); read its SLOR figures with care")
    for example in report["examples"]:
        click.echo(f"  {example['setup']!r} -> {example['punchline']!r}")
    if reference_dir is not None:
        compared = report["compared_with"]
        click.echo(f"against {compared['model']} (--compare), each share within {compared['tolerance']}: "
                   f"{'PASS' if compared['within_tolerance'] else 'MISS'}")
        for key, difference in compared["differences"].items():
            click.echo(f"  {key:<30} {difference:+7.3f}")


@main.group()
def review():
    """A blind review of served punchlines against human-written lines and shuffled-word controls."""


@review.command("sheet")
@click.option("--model", "model_dir", default="models/default", show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Bundle whose lines are reviewed.")
@click.option("--human", default="judge/human-couplets.txt", show_default=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Held-out couplets written by hand.")
@click.option("--out", default="reports/review", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where sheet.md (for the reader) and key.json (kept from the reader) go.")
def review_sheet(model_dir, human, out):
    """Write the shuffled sheet a reader rates, and its key."""
    from punchline import evaluate, review as review_module
    from punchline_serve import loader

    sheet, key = review_module.make(loader.load(str(model_dir), 2), evaluate.human_pairs(human))
    review_module.write(out, sheet, key)
    click.echo(f"wrote {out / 'sheet.md'} ({len(sheet)} items) and {out / 'key.json'}; give the reader the sheet "
               f"only, and save their ratings as {out / 'ratings.json'}")


@review.command("score")
@click.argument("folder", default="reports/review", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def review_score(folder, as_json):
    """Score FOLDER/ratings.json against FOLDER/key.json: mean fluency and punch per kind of line."""
    import json as json_module

    from punchline import review as review_module

    try:
        key = json_module.loads((folder / "key.json").read_text(encoding="utf-8"))
        ratings = json_module.loads((folder / "ratings.json").read_text(encoding="utf-8"))
        scores = review_module.score(key, ratings)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json_module.dumps(scores, sort_keys=True))
        return
    for kind, values in scores.items():
        click.echo(f"  {kind:<10} fluency {values['fluency']:.2f}  punch {values['punch']:.2f}  ({values['lines']} lines)")


def _traffic_options(command):
    for option in reversed([
        click.option("--profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help='A profile file: JSON {"visitors": [{"arrival_s": 0, "punchlines": 3, "think_s": 20}]} '
                          "(instead of --shape)."),
        click.option("--shape", type=click.Choice(["spike", "steady", "daily"]), default="spike", show_default=True,
                     help="spike: --visitors over --hours; steady: --rate requests/s for --hours; daily: --visitors "
                          "over a day with a daily cycle."),
        click.option("--visitors", default=30_000, show_default=True, type=click.IntRange(0, 10_000_000)),
        click.option("--hours", default=2.0, show_default=True, type=click.FloatRange(0.01, 48)),
        click.option("--punchlines", default=3, show_default=True, type=click.IntRange(1, 1000),
                     help="Punchlines each visitor asks for."),
        click.option("--think-s", default=20.0, show_default=True, type=click.FloatRange(0, 3600),
                     help="Mean pause between a visitor's punchlines."),
        click.option("--rate", default=1.0, show_default=True, type=click.FloatRange(0, 100_000),
                     help="Requests per second (--shape steady)."),
        click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same run."),
        click.option("--bench", "bench_json", default="reports/bench.json", show_default=True,
                     type=click.Path(dir_okay=False, path_type=Path), help="The measured figures to simulate."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]):
        command = option(command)
    return command


def _profile(simulate_module, profile, shape, visitors, hours, punchlines, think_s, rate, seed):
    if profile is not None:
        return simulate_module.from_file(profile)
    if shape == "spike":
        return simulate_module.spike(visitors, hours, punchlines, think_s, seed)
    if shape == "steady":
        return simulate_module.steady(rate, hours, seed)
    return simulate_module.daily(visitors, punchlines, think_s, seed)


def _summary_line(label: str, s: dict) -> str:
    lat = s["latency_s"]
    return (f"{label:<18} {lat['p50']:>6.2f} {lat['p95']:>6.2f} {lat['p99']:>6.2f} "
            f"{s['latency_cold_s']['p50']:>7.2f} {s['refused_share'] + s['timed_out_share']:>7.2%} "
            f"{s['cold_starts']:>6} {s['peak_instances']:>5} {s['visitors_cold_share']:>7.2%} "
            f"{s['billed_instance_s'] / 3600:>8.2f} {'$' + format(s['bill_usd']['total'], '.3f'):>8}")


def _no_nan(value):
    """JSON has no NaN: a percentile of nothing is null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


SIM_HEADER = (f"{'settings':<18} {'p50 s':>6} {'p95 s':>6} {'p99 s':>6} {'cold s':>7} {'failed':>7} "
              f"{'colds':>6} {'inst':>5} {'v.cold':>7} {'inst-h':>8} {'bill':>8}")


@main.command()
@_traffic_options
@click.option("--generation", type=click.Choice(["1", "2"]), callback=lambda c, p, v: v and int(v),
              help="Cloud Functions generation [default: deploy.json].")
@click.option("--max-instances", type=click.IntRange(1, 1000), help="[default: deploy.json]")
@click.option("--concurrency", type=click.IntRange(1, 1000), help="[default: deploy.json]")
@click.option("--min-instances", type=click.IntRange(0, 1000), help="[default: deploy.json]")
@click.option("--memory-mb", type=click.IntRange(128, 32768), help="[default: deploy.json]")
@click.option("--cpu", type=click.FloatRange(0.08, 8), help="[default: deploy.json]")
@click.option("--timeout-s", type=click.FloatRange(1, 3600), help="[default: deploy.json]")
@click.option("--rate-limit", default=60, show_default=True, type=click.IntRange(1, 10**9),
              help="RATE_LIMIT per client, per minute.")
@click.option("--vary/--no-vary", default=True, show_default=True, help="Also run each setting varied one at a time.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a chart of instances, queue and latency over the run (PNG).")
@click.option("--check-against", "check_bundle", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Instead: check the simulator against this bundle served for real on this machine (load tests "
                   "at 1, 2, 4 and 8 clients).")
def simulate(profile, shape, visitors, hours, punchlines, think_s, rate, seed, bench_json, as_json, generation,
             max_instances, concurrency, min_instances, memory_mb, cpu, timeout_s, rate_limit, vary, chart_path,
             check_bundle):
    """Simulate Cloud Functions serving a traffic profile (simpy): latency, failures, cold starts, the bill."""
    import json as json_module

    from tqdm import tqdm

    from punchline import simulate as sim

    if check_bundle is not None:
        rows = sim.agreement(check_bundle, log=lambda m: click.echo(f"[check] {m}", err=True))
        if as_json:
            click.echo(json_module.dumps({"tolerance": sim.AGREEMENT_TOLERANCE, "rows": rows}, sort_keys=True))
        else:
            click.echo(f"{'clients':>7} {'predicted rps':>14} {'measured rps':>13} {'predicted p50':>14} "
                       f"{'measured p50':>13}")
            for r in rows:
                click.echo(f"{r['clients']:>7} {r['predicted']['rps']:>14.1f} {r['measured']['rps']:>13.1f} "
                           f"{r['predicted']['p50_ms']:>11.0f} ms {r['measured']['p50_ms']:>10.0f} ms")
            click.echo(f"(calibrated on real runs at 1 and 8 clients; tolerance ±{sim.AGREEMENT_TOLERANCE:.0%})")
        return

    given = _deploy_defaults()
    pick = lambda value, key: value if value is not None else given[key]  # noqa: E731
    deploy = sim.Deploy(pick(generation, "generation"), pick(max_instances, "max_instances"),
                        pick(concurrency, "concurrency"), pick(min_instances, "min_instances"),
                        pick(memory_mb, "memory_mb"), float(pick(cpu, "cpu")), float(pick(timeout_s, "timeout_s")),
                        rate_limit)
    try:
        measured = sim.Measured.from_bench(bench_json)
        people = _profile(sim, profile, shape, visitors, hours, punchlines, think_s, rate, seed)
        runs = sim.variations(deploy) if vary else [("as given", deploy)]
        span = max((v.arrival_s for v in people), default=0) + 600
        results = []
        with tqdm(total=round(span * len(runs)), unit="sim-s", disable=as_json, leave=False) as bar:
            for label, settings in runs:
                results.append((label, sim.run(people, settings, measured, seed, progress=bar.update)))
    except sim.SimulationError as exc:
        raise click.UsageError(str(exc)) from None
    if chart_path:
        sim.chart(results[0][1], chart_path, f"{len(people):,} visitors\n{deploy.flags()}")
    if as_json:
        click.echo(json_module.dumps(_no_nan({"measured": measured.__dict__, "runs": [{"label": label, **s}
                                              for label, s in results]}), sort_keys=True, allow_nan=False))
        return
    first = results[0][1]
    click.echo(f"{len(people):,} visitors, {first['requests']:,} requests over {first['period_s'] / 3600:.1f} h; "
               f"measured figures: {measured.label}")
    click.echo(f"settings: {deploy.flags()}")
    click.echo(SIM_HEADER)
    for label, s in results:
        click.echo(_summary_line(label, s))
    click.echo("(latency in seconds over every answered request; cold s: median of requests that waited for a "
               "cold start; failed: 429 and 504; v.cold: visitors who met a cold start; bill: list price, no free "
               "tier)")
    if chart_path:
        click.echo(f"wrote {chart_path}")


@main.command()
@_traffic_options
@click.option("--int8-bench", default="reports/int8/bench.json", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Measured figures of the int8 bundle.")
@click.option("--p95-goal-s", default=2.0, show_default=True, type=click.FloatRange(0.001, 600),
              help="Latency goal: p95 over every answered request.")
@click.option("--max-failed", default=0.001, show_default=True, type=click.FloatRange(0, 1),
              help="Largest share of requests refused or timed out.")
@click.option("--budget-usd", type=click.FloatRange(0, 1e9), help="Most the simulated period may cost.")
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 100))
def plan(profile, shape, visitors, hours, punchlines, think_s, rate, seed, bench_json, as_json, int8_bench,
         p95_goal_s, max_failed, budget_usd, top):
    """Search deploy settings for the cheapest that meet a latency goal (and a budget) on a traffic profile."""
    import json as json_module

    from tqdm import tqdm

    from punchline import simulate as sim

    try:
        bundles = {"float32": sim.Measured.from_bench(bench_json)}
        if int8_bench.is_file():
            bundles["int8"] = sim.Measured.from_bench(int8_bench)
        people = _profile(sim, profile, shape, visitors, hours, punchlines, think_s, rate, seed)
        with tqdm(total=30 * len(bundles), unit="setting", disable=as_json, leave=False) as bar:
            rows = sim.plan(people, bundles, p95_goal_s, max_failed, budget_usd, seed, progress=bar.update)
    except sim.SimulationError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json_module.dumps(_no_nan({"goal": {"p95_s": p95_goal_s, "max_failed": max_failed,
                                                       "budget_usd": budget_usd}, "rows": rows}),
                                     sort_keys=True, allow_nan=False))
        return
    click.echo(f"{len(people):,} visitors; goal: p95 ≤ {p95_goal_s:g} s, failed ≤ {max_failed:.2%}"
               + (f", bill ≤ ${budget_usd:g}" if budget_usd is not None else ""))
    click.echo(f"{'bundle':<8} " + SIM_HEADER)
    for row in rows[:top]:
        label = f"{row['deploy']['max_instances']}×c{row['deploy']['concurrency']} min{row['deploy']['min_instances']}"
        click.echo(f"{row['bundle']:<8} " + _summary_line(label + (" ✓" if row["meets"] else ""), row))
    best = rows[0]
    if not best["meets"]:
        click.echo("no setting tried meets the goal; the closest are listed")
        raise SystemExit(1)
    deploy = sim.Deploy(**best["deploy"])
    click.echo(f"\ncheapest that meets the goal: the {best['bundle']} bundle with\n  gcloud functions deploy punchline "
               f"{deploy.flags()} ...")
