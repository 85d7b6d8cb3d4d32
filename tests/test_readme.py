"""The README is the first thing a user runs: its commands must exist and parse as written."""

import re
import shlex
from pathlib import Path

import pytest

from alphaction_demo.app.cli import build_parser
from alphaction_demo.app.evaluate import build_parser as build_evaluate_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = [ROOT / "docs" / name for name in ("BATCH.md", "EVALUATION.md", "PERFORMANCE.md")]
CODE_BLOCKS = re.findall(r"```(?:bash|sh)\n(.*?)```", "\n".join([README] + [d.read_text() for d in DOCS]), flags=re.S)
PROGRAMS = ("alphaction-demo", "python demo.py", "python -m alphaction_demo", ".venv/bin/alphaction-demo")


def readme_command_lines():
    lines = []
    for block in CODE_BLOCKS:
        for line in block.splitlines():
            command = re.split(r"\s+#", line)[0].strip()
            if command.startswith(PROGRAMS):
                lines.append(command)
    return lines


def test_setup_section_has_exactly_the_two_commands():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.rstrip().splitlines()[-1] == "make test"


@pytest.mark.parametrize("command", readme_command_lines())
def test_every_readme_command_parses(command):
    words = shlex.split(command)
    for program in PROGRAMS:
        if command.startswith(program):
            words = shlex.split(command[len(program):])
    if "--help" in words:
        return
    if words[:1] == ["batch"]:
        from alphaction_demo.app.batch.command import build_batch_parser

        assert build_batch_parser(build_parser()).parse_args(words[1:]) is not None
    elif words[:1] == ["evaluate"]:  # the subcommand has its own parser
        assert build_evaluate_parser().parse_args(words[1:]) is not None
    else:
        assert build_parser().parse_args(words) is not None


def test_readme_has_the_sections_users_need():
    for heading in ("## What you need", "## Set-up", "## Everyday use", "## Troubleshooting", "## Licence and citation"):
        assert heading in README


def test_the_readme_is_short_and_its_links_resolve():
    assert len(README.splitlines()) <= 220
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"the README links to {target}, which does not exist"


def test_the_python_interface_in_the_docs_runs():
    """The snippet users copy: load_config and predict as documented, on random weights."""
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text()
    snippet = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    assert "load_config(\"resnet101_8x8f_denseserial\", common_cate=True)" in snippet
    from alphaction_demo.action import load_config

    load_config("resnet101_8x8f_denseserial", common_cate=True)


def test_make_benchmarks_runs_every_benchmark():
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\nbenchmarks:", 1)[1].split("\n\n", 1)[0]
    helpers = {"backend_clips.py", "backend_runners.py"}  # modules of backends.py, not scripts
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if script.name not in helpers:
            assert f"benchmarks/{script.name}" in target, f"make benchmarks does not run {script.name}"
