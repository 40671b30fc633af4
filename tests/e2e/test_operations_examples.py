"""The operator's files in examples/ say what docs/operations.md says: the systemd unit keeps its state and logs
outside the install (StateDirectory, LogsDirectory, EnvironmentFile), a partial run is a failed unit while a
locked one is not; the crontab sets the archive and registry and logs into a directory its setup creates; every
xxgk command line in them parses with today's options; and `xxgk --version` and every `--help` are what an
operator needs (a description, the environment variables the command reads)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from support.shared import ROOT

from crawler.cli import build_parser
from crawler.commands._options import COMMAND_ENVIRONMENT, ENVIRONMENT

EXAMPLES = ROOT / "examples"
UNIT = EXAMPLES / "systemd" / "xxgk-run.service"


def unit_keys(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's INI: sections of keys, a key may repeat (OnCalendar=), comments and blank lines skipped."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path}: not KEY=VALUE: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def xxgk_argv(command_line: str) -> list[str]:
    """The arguments after the xxgk binary in a shell command line (redirections dropped)."""
    words = shlex.split(command_line.split(">>", 1)[0])
    return words[next(i for i, w in enumerate(words) if w.endswith("/xxgk")) + 1 :]


def test_the_systemd_unit_keeps_state_outside_the_install_and_fails_visibly():
    service = unit_keys(UNIT)["Service"]
    assert service["StateDirectory"] == ["xxgk"] and service["LogsDirectory"] == ["xxgk"]
    assert service["EnvironmentFile"] == ["/etc/xxgk/xxgk.env"]
    # 1 (partial) and 2 (fatal) leave the unit failed, for `systemctl --failed`; 75 (locked) is a success.
    assert service["SuccessExitStatus"] == ["75"]
    (start,) = service["ExecStart"]
    args = build_parser().parse_args(xxgk_argv(start))
    assert args.command == "run" and args.notify.startswith("/etc/xxgk/")
    assert all(v.startswith("append:/var/log/xxgk/") for k in ("StandardOutput", "StandardError") for v in service[k])


def test_the_environment_file_points_outside_the_install():
    env = dict(
        line.split("=", 1)
        for line in (EXAMPLES / "xxgk.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert env["XXGK_DB"].startswith("/var/lib/xxgk/") and env["XXGK_REGISTRY"].startswith("/etc/xxgk/")
    assert set(env) <= set(ENVIRONMENT), set(env) - set(ENVIRONMENT)  # no variable xxgk does not read
    commented = re.findall(r"^# (XXGK_[A-Z_]+)=", (EXAMPLES / "xxgk.env").read_text(encoding="utf-8"), re.M)
    assert set(commented) <= set(ENVIRONMENT)


def test_systemd_analyze_verifies_the_unit_and_its_timer(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    xxgk = Path(sys.executable).with_name("xxgk")
    if not xxgk.is_file():
        pytest.skip(f"no xxgk entry point beside {sys.executable} (the unit names /opt/xxgk/.venv/bin/xxgk)")
    # verify checks that ExecStart= exists: point it at this checkout's entry point, the rest unchanged
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/xxgk/.venv/bin/xxgk", str(xxgk)), encoding="utf-8")
    shutil.copy(UNIT.with_suffix(".timer"), tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit), str(tmp_path / "xxgk-run.timer")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr  # unknown keys are only warnings


def test_the_crontab_sets_the_archive_and_registry_and_logs_where_its_setup_made_a_directory():
    text = (EXAMPLES / "crontab").read_text(encoding="utf-8")
    assignments = dict(re.findall(r"^([A-Z_]+)=(\S+)$", text, re.M))
    assert assignments["XXGK_DB"].startswith("/var/lib/xxgk/")
    assert assignments["XXGK_REGISTRY"].startswith("/etc/xxgk/")
    assert set(assignments) - {"CRON_TZ"} <= set(ENVIRONMENT)
    jobs = [line for line in text.splitlines() if re.match(r"^\d", line)]
    assert len(jobs) == 4
    setup = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for job in jobs:
        command = " ".join(job.split()[5:])
        log = re.search(r">>\s*(\S+)", command).group(1)
        assert re.search(rf"install -d .*{re.escape(str(Path(log).parent))}\b", setup), log  # made by the setup
        args = build_parser().parse_args(xxgk_argv(command))
        assert args.command == "run" and args.quiet and args.digest


def test_version_is_the_package_version():
    done = subprocess.run([sys.executable, "-m", "crawler.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"xxgk {metadata.version('xxgk')}"


def _commands() -> dict[str, object]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return {name: p for name, p in sub.choices.items()}


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_describes_itself_and_its_environment(name):
    done = subprocess.run([sys.executable, "-m", "crawler.cli", name, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    usage, description = done.stdout.split("\n\n")[:2]
    assert usage.startswith(f"usage: xxgk {name}") and description.strip(), done.stdout
    environment = done.stdout.split("\nenvironment:\n", 1)[1]
    listed = re.findall(r"^  (XXGK_[A-Z_]+) ", environment, re.M)
    assert listed == [*dict.fromkeys((*COMMAND_ENVIRONMENT.get(name, ()), "XXGK_DEBUG"))]


def test_the_environment_table_is_every_variable_the_code_reads():
    """The --help tables come from one table: it must name every XXGK_ variable read from the environment."""
    read = set()
    for path in [p for pkg in ("crawler", "spiders", "storage") for p in ROOT.joinpath(pkg).rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"environ(?:\.get)?\(\s*[\"'](XXGK_[A-Z_]+)", text))
        read |= set(re.findall(r"environ\[[\"'](XXGK_[A-Z_]+)", text))
    assert read <= set(ENVIRONMENT), sorted(read - set(ENVIRONMENT))
