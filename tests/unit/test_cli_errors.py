"""No traceback, ever (issue 14 §6) and no silent no-op (issue 20): the real command, in a
subprocess where its entry point matters (temporary folder, Ctrl-C, closed pipes, the last
resort for OS errors), in process elsewhere.

OS errors that root would not meet (a read-only folder, an unreadable file) are made
real: as root, the command runs without the capabilities that bypass file modes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import pytest

from dataplatform import affected, cli, docs
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("dataplatform")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "dataplatform.cli"]
# Root ignores file modes; without these capabilities it meets them like anyone.
_NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in cli.TEMP_VARS}
    return {**env, **extra}


def _cli(*args: str, env: dict[str, str] | None = None, unprivileged: bool = False,
         timeout: float = 180) -> subprocess.CompletedProcess:
    prefix = _NO_DAC if unprivileged and os.geteuid() == 0 else []
    return subprocess.run([*prefix, *COMMAND, *args], capture_output=True, text=True,
                          cwd=REPO, env=env or _env(), timeout=timeout)


@pytest.fixture
def unprivileged() -> None:
    """Skip when file modes cannot be made to bind (root without setpriv)."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop the DAC capabilities")


def _one_line(stderr: str) -> str:
    """The single line of a refusal: no traceback, nothing else."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _read_only(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o555)
    return path


# --- the temporary folder, checked before the SDKs load


def test_a_missing_tmpdir_is_named_with_the_fix(tmp_path):
    missing = tmp_path / "missing"
    proc = _cli("plan", "local", env=_env(TMPDIR=str(missing)))
    assert proc.returncode == cli.EXIT_CONFIG
    line = _one_line(proc.stderr)
    assert str(missing) in line and "TMPDIR" in line and "No such file" in line
    assert proc.stdout == ""  # nothing planned


def test_a_read_only_tmpdir_is_named_with_the_fix(tmp_path, unprivileged):
    ro = _read_only(tmp_path / "ro")
    proc = _cli("plan", "local", env=_env(TMPDIR=str(ro)), unprivileged=True)
    assert proc.returncode == cli.EXIT_CONFIG
    line = _one_line(proc.stderr)
    assert str(ro) in line and "Permission denied" in line and "export TMPDIR=" in line


def test_no_usable_temporary_folder_at_all_says_how_to_set_tmpdir(monkeypatch):
    for var in cli.TEMP_VARS:
        monkeypatch.delenv(var, raising=False)

    def none_usable() -> str:
        raise FileNotFoundError(2, "No usable temporary directory found in ['/tmp']")

    monkeypatch.setattr(tempfile, "gettempdir", none_usable)
    problem = cli._temp_dir_problem()
    assert problem is not None and "TMPDIR" in problem and "/tmp" in problem


def test_a_usable_tmpdir_passes(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert cli._temp_dir_problem() is None


# --- `dataplatform new` where it cannot write


NEW_CUSTOMER = ("new", "customer", "zeta", "--cloud", "local", "--domains", "sales",
                "--environments", "dev")


def test_new_into_a_read_only_stacks_folder_names_it_and_writes_nothing(tmp_path,
                                                                         unprivileged):
    ro = _read_only(tmp_path / "stacks")
    proc = _cli(*NEW_CUSTOMER, "--stacks-dir", str(ro), unprivileged=True)
    assert proc.returncode == cli.EXIT_CONFIG
    line = _one_line(proc.stderr)
    assert "Pulumi.zeta-platform-dev.yaml" in line and "Permission denied" in line
    assert "nothing written" in line
    assert list(ro.iterdir()) == []


def test_new_into_a_stacks_folder_that_is_a_file(tmp_path, capsys):
    a_file = tmp_path / "stacks"
    a_file.write_text("not a folder")
    code = cli.main([*NEW_CUSTOMER, "--stacks-dir", str(a_file)])
    line = _one_line(capsys.readouterr().err)
    assert code == cli.EXIT_CONFIG
    assert f"{a_file}: not a folder" in line and "nothing written" in line
    assert a_file.read_text() == "not a folder"


def test_new_writes_every_file_or_none(tmp_path, capsys, monkeypatch):
    """A failure on the second file removes the first."""
    real_open = Path.open
    opened: list[Path] = []

    def open_twice(self, mode="r", *args, **kwargs):
        if "x" in mode:
            opened.append(self)
            if len(opened) == 2:
                raise OSError(28, "No space left on device", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_twice)
    code = cli.main([*NEW_CUSTOMER, "--stacks-dir", str(tmp_path)])
    line = _one_line(capsys.readouterr().err)
    assert code == cli.EXIT_CONFIG and "No space left on device" in line
    assert len(opened) == 2 and list(tmp_path.iterdir()) == []


# --- stack files that cannot be read


def test_an_unreadable_stack_file_is_a_config_error_naming_it(stacks, unprivileged):
    (stacks.path / "Pulumi.local.yaml").chmod(0)
    proc = _cli("plan", "local", "--stacks-dir", str(stacks.path), unprivileged=True)
    assert proc.returncode == cli.EXIT_CONFIG
    assert "Traceback" not in proc.stderr
    head, problem = proc.stderr.strip().splitlines()
    assert head.startswith(str(stacks.path / "Pulumi.local.yaml"))
    assert problem == "  - (file): cannot read the stack file: Permission denied"
    assert proc.stdout == ""


def test_a_folder_in_place_of_a_stack_file(stacks, capsys):
    (stacks.path / "Pulumi.odd.yaml").mkdir()
    code = cli.main(["plan", "odd", "--stacks-dir", str(stacks.path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG
    assert "Pulumi.odd.yaml: 1 problem" in err and "Is a directory" in err
    code = cli.main(["render", "odd", "--stacks-dir", str(stacks.path)])
    assert code == cli.EXIT_CONFIG and "Is a directory" in capsys.readouterr().err


def test_a_stacks_folder_that_cannot_be_listed_is_named(tmp_path, capsys):
    missing = tmp_path / "no-stacks"
    assert cli.main(["plan", "local", "--stacks-dir", str(missing)]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith(f"{missing}: 1 problem")
    assert "cannot read the stacks folder: No such file or directory" in err

def test_a_batch_refuses_the_unreadable_stack_and_plans_the_others(stacks, capsys):
    (stacks.path / "Pulumi.odd.yaml").mkdir()
    code = cli.main(["plan", "odd", "local", "--no-policy", "--stacks-dir", str(stacks.path)])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_CONFIG
    assert "=== odd (exit 2) ===" not in out  # no plan: nothing under a header
    assert "=== local (exit 0) ===" in out
    assert any(line.startswith("[odd] ") and "Is a directory" in line
               for line in err.splitlines())


def test_an_unreadable_platform_file_is_the_domains_config_error(stacks, unprivileged):
    """Reported at the cause, for this stack only: a batch plans the others."""
    assert stacks.shipped("aws-finance")["platform"]["stack"] == "aws-platform"
    platform = stacks.path / "Pulumi.aws-platform.yaml"
    platform.chmod(0)
    proc = _cli("plan", "aws-finance", "--no-policy", "--stacks-dir", str(stacks.path),
                unprivileged=True)
    assert proc.returncode == cli.EXIT_CONFIG
    assert "Traceback" not in proc.stderr
    assert "dataplatform:platform.stack: platform stack 'aws-platform' is invalid" in proc.stderr


def test_other_os_errors_end_in_one_line_naming_the_file(monkeypatch, capsys):
    """The last resort, in `run()`: any OSError that reaches it is one line."""
    def failing(argv=None):
        raise PermissionError(13, "Permission denied", "/some/file")

    def leave(code):
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", failing)
    monkeypatch.setattr(cli.os, "_exit", leave)
    with pytest.raises(SystemExit) as info:
        cli.run()
    assert info.value.code == cli.EXIT_CONFIG
    assert _one_line(capsys.readouterr().err) == "dataplatform: /some/file: Permission denied"


# --- files the commands write


def test_render_out_where_it_cannot_write(tmp_path, capsys, monkeypatch):
    import dataplatform.rendered as rendered

    release = SimpleNamespace(namespace="ns", name="app", manifest="kind: List\n")
    monkeypatch.setattr(rendered, "render_stack",
                        lambda *args: SimpleNamespace(releases=[release], errors=[]))
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    code = cli.main(["render", "local", "--out", str(a_file / "out")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG
    assert f"render --out: {a_file / 'out'}: Not a directory" in err.splitlines()
    assert "Traceback" not in err


def test_docs_into_a_tree_it_cannot_write(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    monkeypatch.setattr(docs, "COMPONENTS_FILE", a_file / "reference" / "components.md")
    monkeypatch.setattr(docs, "SCHEMA_FILE", a_file / "reference" / "stack.schema.json")
    code = cli.main(["docs"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG
    assert err.splitlines()[-1].startswith(f"docs: {a_file / 'reference'}: Not a directory")
    assert "Traceback" not in err


# --- Ctrl-C


def _descendants(pid: int) -> set[int]:
    """Every live process under `pid` (Linux /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in out:
                    out.add(child)
                    todo.append(child)
    return out


def _packs(pids: set[int]) -> set[int]:
    """The policy packs among `pids` (`python -u __main__.py`)."""
    found = set()
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"__main__.py" in cmd:
            found.add(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt_when(args: list[str], started, timeout: float = 120):
    """Start the command, wait until `started(descendants)`, Ctrl-C it: its exit code,
    stderr, the processes it had started and the policy packs among them."""
    if not Path("/proc/self/task").exists():
        pytest.skip("needs Linux /proc to follow the command's processes")
    proc = subprocess.Popen([*COMMAND, *args], cwd=REPO, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while not started(seen := _descendants(proc.pid)):
        assert proc.poll() is None, f"ended before it could be interrupted: {proc.stderr}"
        assert time.monotonic() < deadline, "never started"
        time.sleep(0.05)
    packs = _packs(seen)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, seen, packs


def _gone(pids: set[int], within: float = 10) -> set[int]:
    deadline = time.monotonic() + within
    while (alive := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def test_ctrl_c_during_a_plan_exits_130_with_one_line_and_stops_the_pack():
    code, err, seen, packs = _interrupt_when(["plan", "local"], lambda pids: _packs(pids))
    assert code == cli.EXIT_INTERRUPTED == 130
    assert _one_line(err) == "dataplatform: interrupted"
    assert packs and not _gone(seen)


def test_ctrl_c_during_a_batch_stops_every_worker_and_pack():
    code, err, seen, packs = _interrupt_when(["plan", "--all", "--jobs", "2"],
                                             lambda pids: len(_packs(pids)) >= 2)
    assert code == 130
    assert _one_line(err) == "dataplatform: interrupted"  # no worker's traceback either
    assert len(packs) == 2 and len(seen) > 2 and not _gone(seen)


# --- closed pipes


@pytest.mark.parametrize("stacks_args", [["local"], ["local", "local-extra"]],
                         ids=["one stack", "batch"])
def test_a_closed_pipe_ends_the_plan_quietly(stacks_args):
    proc = subprocess.Popen([*COMMAND, "plan", *stacks_args, "--no-policy"], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first line (`| head -0`)
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=180) == cli.EXIT_CLOSED_PIPE == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


# --- did you mean


def test_a_mistyped_stack_gets_a_did_you_mean(capsys):
    for args in (["plan", "lcoal"], ["render", "lcoal"],
                 ["new", "domain", "hr", "--platform", "lcoal"]):
        assert cli.main(args) == cli.EXIT_CONFIG
        err = capsys.readouterr().err
        assert "unknown stack 'lcoal': did you mean 'local'?" in err, (args, err)


def test_no_did_you_mean_when_nothing_is_close(capsys):
    assert cli.main(["plan", "zzzzzz"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert "unknown stack 'zzzzzz' (known: " in err and "did you mean" not in err


# --- affected filters


def test_affected_filter_values_come_from_the_config_model():
    model, kinds, clouds = StackConfig.model_fields, affected.KINDS, affected.CLOUDS
    assert kinds == get_args(model["kind"].annotation)
    assert clouds == get_args(model["cloud"].annotation)
    assert set(affected.KINDS) == {"platform", "domain"}
