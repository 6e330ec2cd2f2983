"""The README stays true: its configuration table covers every variable the function reads."""

import re

from punchline import processes
from punchline_serve import settings

README = (processes.REPO / "README.md").read_text(encoding="utf-8")


def _table_variables() -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", README, flags=re.M))


def test_every_setting_is_in_the_readme_table():
    assert set(settings.DOCUMENTED) <= _table_variables()


def test_only_the_settings_module_reads_the_environment():
    readers = {path.relative_to(processes.REPO).as_posix() for path in (processes.REPO / "functions").rglob("*.py")
               if re.search(r"\bos\.environ\b|\bgetenv\(|\benviron\[", path.read_text(encoding="utf-8"))}
    assert readers == {"functions/punchline_serve/settings.py"}, readers


def test_readme_defaults_match_the_code():
    for name, (default, _) in settings.DOCUMENTED.items():
        row = re.search(rf"^\| `{name}` \| (.*?) \|", README, flags=re.M).group(1)
        assert (default and f"`{default}`" == row) or (not default and row == "unset"), (name, row)


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert "make test" in (processes.REPO / ".ci" / "run").read_text()


def test_readme_shows_the_latest_benchmark_table():
    table = (processes.REPO / "reports" / "bench.md").read_text()
    shown = README.split("<!-- bench:start -->\n", 1)[1].split("<!-- bench:end -->", 1)[0]
    assert shown == table


def test_readme_worst_case_figure_is_the_computed_one():
    from punchline import cost

    assert f"${cost.worst_case_monthly(cost.deploy_settings()):.2f}" in README
