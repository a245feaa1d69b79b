"""Every command in the README is a tested example.

The README's ```` ```console ```` blocks are sessions: a line starting with ``$ `` is a command
(continued while a line ends with a backslash or a quote is open), the lines after it are what it
prints, at least, in that order; ``…`` stands for what differs run to run, runs of spaces count as
one, and the rules of Rich's tables are not compared. A command shown printing ``error: …`` must
fail, with that one line; every other must succeed.

The examples run as a reader runs them: in one shell session, from a folder with
``.venv/bin/tuoguan``, against the demo that ``make run`` serves (``tuoguan db upgrade``,
``tuoguan demo load``, ``tuoguan carrier-sandbox``, ``tuoguan serve``), here loaded once into a
fresh SQLite database and served on free ports in place of 8000 and 8001.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tuoguan.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
ANY_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
RULE = re.compile(r"^[\s━─┏┓┗┛┡┩┣┫┳┻╇╋┃│└┘┌┐├┤┬┴┼╭╮╰╯]*$")
TUOGUAN = Path(sys.executable).with_name("tuoguan")
NEEDS = ("bash", "curl", "jq")


@dataclass
class Example:
    """One command of the README and what it is shown printing."""

    command: str
    line: int  # where it starts in README.md
    expected: list[str] = field(default_factory=list)

    @property
    def fails(self) -> bool:
        return bool(self.expected) and self.expected[0].startswith("error: ")


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:  # a quote still open: the command goes on
        return False
    return True


def examples(text: str) -> list[Example]:
    """The commands of every console block, in order, each with the output it is shown with."""
    found: list[Example] = []
    for block in BLOCK.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        current: Example | None = None
        for number, line in enumerate(block.group(1).splitlines(), start=first):
            if current is not None and not _complete(current.command):
                current.command += "\n" + line
            elif line.startswith("$ "):
                current = Example(command=line[2:], line=number)
                found.append(current)
            elif current is None:
                raise AssertionError(f"README.md:{number}: output before any command")
            elif line.strip() and line.strip() != "…" and not RULE.match(line):
                current.expected.append(line)
    return found


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in " ".join(expected.split()).split("…")]
    return re.compile(".*?".join(parts))


def missing(expected: list[str], printed: str) -> str | None:
    """The first expected line not printed (after the ones before it), or None."""
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    at = 0
    for want in expected:
        pattern = _pattern(want)
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


def test_the_matcher_tells_a_wrong_output_from_a_right_one() -> None:
    assert missing(['"status": "shipped"', "…"], '{\n  "status":   "shipped"\n}') is None
    assert missing(["│ ord_… │ self-run │"], "│ ord_01ABC │ self-run │") is None
    assert missing(['"status": "shipped"'], '{"status": "created"}') == '"status": "shipped"'
    # in order: a line printed before the one matched last does not count
    assert missing(["b", "a"], "a\nb") == "a"
    parsed = examples("```console\n$ echo 'a\nb' \\\n  | cat\na\n━━━\n$ false\nerror: x\n```\n")
    assert [e.command for e in parsed] == ["echo 'a\nb' \\\n  | cat", "false"]
    assert parsed[0].expected == ["a"] and parsed[1].fails


def test_every_shell_example_in_the_readme_is_a_console_block() -> None:
    # A command left out of the console blocks would rot untested (`make` and `pytest` are run
    # by people and CI, not here).
    text = README.read_text()
    untested = re.compile(r"(^|\s|\()(curl|(\.venv/bin/)?tuoguan) ")
    for block in ANY_BLOCK.finditer(text):
        if block.group(1) == "console":
            continue
        for line in block.group(2).splitlines():
            assert not untested.search(line), f"README.md: {line!r} is not in a console block"
    outside = ANY_BLOCK.sub("", text)
    for line in outside.splitlines():
        if line.startswith("    "):  # an indented code block
            assert not untested.search(line), f"README.md: {line!r} is not in a console block"
    assert len(examples(text)) >= 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{log.stem} exited: {log.read_text()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{log.stem} did not answer at {url}: {log.read_text()}")


@dataclass
class Demo:
    """The served demo: where it listens, and a folder to run the README's commands in."""

    port: int
    folder: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo loaded into a fresh SQLite database, served with its sandbox carrier, as
    ``make run`` does it, on free ports; loaded once for all the examples."""
    for tool in NEEDS:
        if shutil.which(tool) is None:
            pytest.fail(f"the README's examples need {tool} (apt-get install {tool})")
    assert TUOGUAN.exists(), f"no tuoguan script beside {sys.executable}"
    folder = tmp_path_factory.mktemp("readme")
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "tuoguan").symlink_to(TUOGUAN)
    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUOGUAN_")}
    env.update(
        TUOGUAN_DATABASE_URL=f"sqlite:///{folder}/var/tuoguan.db",
        TUOGUAN_HOST="127.0.0.1",
        TUOGUAN_PORT=str(port),
        TUOGUAN_SANDBOX_CARRIER_URL=f"http://127.0.0.1:{sandbox_port}",
        TUOGUAN_OUTBOUND_ALLOW="127.0.0.1,localhost",
        TUOGUAN_EXPORT_DIR=str(folder / "var" / "exports"),
        TUOGUAN_UPLOAD_DIR=str(folder / "var" / "uploads"),
        COLUMNS="200",
    )
    # The same commands `make run` runs first, in this process (they need no server).
    for step in (["db", "upgrade"], ["demo", "load"]):
        done = CliRunner().invoke(app, step, env=env)
        assert done.exit_code == 0, f"tuoguan {' '.join(step)}: {done.output}"
    served: dict[str, subprocess.Popen[bytes]] = {}
    try:
        answers = {
            "carrier-sandbox": f"http://127.0.0.1:{sandbox_port}/",
            "serve": f"http://127.0.0.1:{port}/api/v1/health",
        }
        for name in answers:  # both start at once, then each is waited for
            with (folder / f"{name}.log").open("wb") as sink:
                served[name] = subprocess.Popen(
                    [str(TUOGUAN), name], cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT
                )
        for name, url in answers.items():
            _wait(url, served[name], folder / f"{name}.log")
        yield Demo(port=port, folder=folder, env=env)
    finally:
        for process in served.values():
            process.terminate()
        for process in served.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _run(demo: Demo, example: Example, state: Path) -> subprocess.CompletedProcess[str]:
    """Run one command in the reader's shell session: variables carry over from the ones before."""
    command = example.command.replace("127.0.0.1:8000", f"127.0.0.1:{demo.port}")
    script = (
        f'set -a\nsource "{state}"\nset -o pipefail\n{command}\n'
        f'__status=$?\nexport -p > "{state}"\nexit $__status\n'
    )
    return subprocess.run(
        ["bash", "-c", script],
        cwd=demo.folder,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_every_readme_command_prints_what_the_readme_shows(demo: Demo) -> None:  # O5 F8
    state = demo.folder / "session.sh"
    state.write_text("")
    for example in examples(README.read_text()):
        done = _run(demo, example, state)
        where = f"README.md:{example.line}: {example.command}"
        printed = done.stdout + done.stderr
        if example.fails:
            assert done.returncode != 0, f"{where}\nshould fail, printed:\n{printed}"
            assert len(done.stderr.strip().splitlines()) == 1, f"{where}\n{done.stderr}"
        else:
            assert done.returncode == 0, f"{where}\nexit {done.returncode}:\n{printed}"
        lost = missing(example.expected, printed)
        assert lost is None, f"{where}\ndid not print {lost!r}; printed:\n{printed}"
