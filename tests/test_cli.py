"""The command line people expect: --version, a description for every subcommand, help and
default for every option, and progress that reads well on a terminal and in a log."""

from __future__ import annotations

import argparse
import io
import re

import pytest
from conftest import atelier

from atelier import __version__
from atelier.cli import build_parser
from atelier.core.progress import Progress


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_version() -> None:
    result = atelier("--version", timeout=60)
    assert result.stdout.strip() == f"atelier {__version__}"


def test_every_subcommand_has_a_summary_and_a_description() -> None:
    parser = build_parser()
    top = parser.format_help()
    commands = subcommands()
    assert {"generate", "load", "migrate", "serve", "up", "loadtest"} <= commands.keys()
    for name, sub in commands.items():
        assert sub.description and len(sub.description) > 40, f"{name} has no description"
        assert re.search(rf"^\s+{re.escape(name)}\s+\S", top, re.MULTILINE), f"{name} has no summary in --help"


def test_every_option_of_every_subcommand_has_help_and_its_default() -> None:
    missing = []
    for name, sub in subcommands().items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{label}: no help")
                continue
            takes_value = action.nargs != 0
            if action.option_strings and takes_value and not action.required:
                text = sub.formatter_class(prog=sub.prog)._get_help_string(action) or ""
                if "default" not in text:
                    missing.append(f"{label}: no default in {text!r}")
    assert not missing, "\n".join(missing)


def test_defaults_are_shown_in_the_help_text() -> None:
    generate = atelier("generate", "--help", timeout=60).stdout
    assert "(default: 0.01)" in generate and "(required)" in generate
    serve = atelier("serve", "--help", timeout=60).stdout
    assert "$ATELIER_PORT, else 3000" in serve and "(default: rsgi)" in serve
    assert "(default: None)" not in serve + generate


def test_progress_in_a_log_is_plain_lines() -> None:
    out = io.StringIO()  # not a terminal
    progress = Progress(stream_=out, interval=0.0)
    progress.start("product.csv", 300)
    for _ in range(3):
        progress.advance(100)
    progress.finish()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "product.csv: 300 rows to write"
    assert lines[1].startswith("product.csv: 100 of 300 rows (33.3%)")
    assert lines[-1].startswith("product.csv: 300 rows in ")
    assert len(lines) == 5  # start, three updates (interval 0), done


def test_progress_in_a_log_is_periodic_not_per_update() -> None:
    out = io.StringIO()
    progress = Progress(stream_=out, interval=3600.0)
    progress.start("reviews.csv", 10_000)
    for _ in range(100):
        progress.advance(100)
    progress.finish()
    assert len(out.getvalue().splitlines()) == 2  # start and done: nothing in between within the interval


@pytest.mark.parametrize("enabled", [True, False])
def test_progress_on_a_terminal_is_a_bar(enabled: bool) -> None:
    out = io.StringIO()
    progress = Progress(enabled=enabled, stream_=out, bar=True)
    progress.start("styles.csv", 1000)
    progress.advance(1000)
    progress.finish()
    text = out.getvalue()
    if enabled:
        assert "\r" in text and "styles.csv" in text and "100%" in text  # redrawn in place
    else:
        assert text == ""
    assert progress.done == 1000
