"""`pyc run` flag handling that needs no container: refusals with exit 125."""

from __future__ import annotations

import pytest

from pycontainer.cli.app import main


@pytest.mark.parametrize(("args", "needle"), [
    (["-p", "80:80/bogus"], "invalid proto"),
    (["--memory", "1k"], "Minimum memory limit allowed is 6MB"),
    (["--cpus", "half"], "--cpus"),
    (["-v", "/a:b"], "invalid volume specification"),
    (["--mount", "type=bind,target=/x"], "needs a source"),
    (["--add-host", "nocolon"], "--add-host"),
    (["--restart", "sometimes"], "invalid restart policy"),
    (["--restart", "always", "--rm"], "Conflicting options"),
    (["--bogus"], "--bogus"),
    (["--security-opt", "apparmor=x"], "apparmor"),
    (["--network", "a:b"], "a:b"),
    (["--network", "none", "--network", "n1"], "cannot be combined"),
    (["--log-driver", "syslog"], "syslog"),
    (["--disable-content-trust=false"], "--disable-content-trust=false"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_unsupported_run_options_exit_125(capsys, tmp_path, monkeypatch, args, needle):
    monkeypatch.setenv("PYC_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("PYC_RUNROOT", str(tmp_path / "run"))
    assert main(["run", *args, "img", "true"]) == 125
    assert needle in capsys.readouterr().err


def test_bad_signal_is_125(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PYC_ROOT", str(tmp_path / "root"))
    assert main(["kill", "-s", "NOTASIGNAL", "x"]) == 125
