"""The `punchline` command: train, upload and run the lyric model locally."""

from pathlib import Path

import click

from punchline import modelling


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
@click.option("--name", default="punchline-char-lstm", show_default=True, help="Model name in the manifest.")
@click.option("--units", default=256, show_default=True, type=click.IntRange(4, 4096), help="LSTM units per layer.")
@click.option("--layers", default=2, show_default=True, type=click.IntRange(1, 8), help="LSTM layers.")
@click.option("--embedding", default=32, show_default=True, type=click.IntRange(2, 1024), help="Character embedding size.")
@click.option("--epochs", default=40, show_default=True, type=click.IntRange(1, 10_000), help="Passes over the corpus.")
@click.option("--seq-len", default=64, show_default=True, type=click.IntRange(2, 10_000), help="Training window in characters.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--learning-rate", default=3e-3, show_default=True, type=click.FloatRange(1e-6, 1.0, min_open=True))
@click.option("--quantize", type=click.Choice(modelling.QUANTIZATIONS), default="none", show_default=True,
              help="Weight format of the served LiteRT model.")
@click.option("--ngram-buckets", default=0, show_default=True, type=click.IntRange(0, 50_000_000),
              help="Rows of the hashed character n-gram embedding table (0: none).")
@click.option("--ngram-orders", default="2,3,4", show_default=True, callback=lambda c, p, v: _orders(v),
              help="Comma-separated n-gram lengths hashed into that table.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same model).")
def train(corpus, out, name, units, layers, embedding, epochs, seq_len, batch_size, learning_rate, quantize,
          ngram_buckets, ngram_orders, seed):
    """Train a character-level model on CORPUS (a UTF-8 file or folder of .txt files) and write a bundle to --out."""
    from tqdm import tqdm

    from punchline import corpus as corpus_module, train as train_module

    try:
        text = corpus_module.load(corpus)
    except corpus_module.CorpusError as exc:
        raise click.BadParameter(str(exc), param_hint="CORPUS") from None
    click.echo(f"corpus: {len(text):,} characters, {text.count(chr(10)):,} lines from {corpus}", err=True)
    bar = tqdm(desc="training", unit="batch", dynamic_ncols=True)

    def progress(total: int, loss: float):
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

    model, arch, vocab, loss = train_module.fit(
        text, embedding=embedding, units=units, layers=layers, epochs=epochs, seq_len=seq_len,
        batch_size=batch_size, learning_rate=learning_rate, seed=seed, ngram_buckets=ngram_buckets,
        ngram_orders=ngram_orders, progress=progress)
    bar.close()
    click.echo(f"exporting LiteRT model ({quantize}) ...", err=True)
    manifest = train_module.write_bundle(
        out, model, arch, vocab, name=name, quantization=quantize,
        training={"corpus_chars": len(text), "epochs": epochs, "seq_len": seq_len, "batch_size": batch_size,
                  "learning_rate": learning_rate, "seed": seed, "final_loss": round(loss, 4)})
    click.echo(f"wrote {manifest} (final loss {loss:.3f})")


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
def dev(bundle_dir, corpus, port, emulator_port, site_port, bucket_uri):
    """Run the whole app locally: emulated bucket seeded with the model, the function and the site."""
    from punchline import dev as dev_module

    if not (bundle_dir / "manifest.json").is_file():
        click.echo(f"{bundle_dir} holds no model yet: training the default one (a few minutes) ...", err=True)
        ctx = click.get_current_context()
        ctx.invoke(train, corpus=corpus, out=bundle_dir)
    dev_module.run(bundle_dir, port, emulator_port, bucket_uri, site_port or None)


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

    from punchline import bench as bench_module

    def log(message):
        click.echo(f"[bench] {message}", err=True)

    try:
        report = bench_module.run(quick=quick, quantization=quantize, corpus_path=corpus, work=work, log=log)
    except bench_module.BenchError as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json_module.dumps(report, indent=2, sort_keys=True) + "\n")
    (out / "bench.md").write_text(bench_module.table(report) + "\n")
    bench_module.chart(report, out / "bench.png")
    if as_json:
        click.echo(json_module.dumps(report, sort_keys=True))
        return
    click.echo(bench_module.table(report))
    click.echo("")
    for label, value, ok in bench_module.targets(report):
        click.echo(f"  {'PASS' if ok else 'MISS'}  {label}  ({value:.2f})")
    click.echo(f"\nwrote {out / 'bench.json'}, {out / 'bench.md'} and {out / 'bench.png'}")


@main.command()
@click.option("--model", "bundle_dir", default="models/default", show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Bundle the function serves.")
@click.option("--requests", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def load(bundle_dir, requests, concurrency, as_json):
    """Load-test the real function on 127.0.0.1: errors, latency percentiles, RSS before and after."""
    import json as json_module

    from punchline import load as load_module

    report = load_module.run(bundle_dir, requests, concurrency, log=lambda m: click.echo(f"[load] {m}", err=True))
    if as_json:
        click.echo(json_module.dumps(report, sort_keys=True))
    else:
        click.echo(f"{report['ok']} ok, {report['errors']} errors in {report['seconds']:.1f} s "
                   f"({report['rps']:.1f} requests/s at concurrency {concurrency})")
        click.echo(f"latency ms: p50 {report['p50_ms']:.0f}, p95 {report['p95_ms']:.0f}, "
                   f"p99 {report['p99_ms']:.0f}, max {report['max_ms']:.0f}")
        click.echo(f"serving process RSS: {report['rss_before_mib']:.0f} MiB before, "
                   f"{report['rss_after_mib']:.0f} MiB after")
        for error in report["first_errors"]:
            click.echo(f"  error: {error}")
    if report["errors"]:
        raise SystemExit(1)
