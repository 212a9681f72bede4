"""`pyc run`: exit codes, options, and what the container sees (issue 4 acceptance)."""

from __future__ import annotations

import json
import os
import re
import select
import struct
import subprocess
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


@pytest.fixture(scope="module")
def deb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["debian"])
    return fixture_refs["debian"]


def test_run_prints_output_and_exits_zero(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", bb, "echo", "hi")
    assert res.out == "hi\n"


@pytest.mark.parametrize(("command", "rc"), [
    (["sh", "-c", "exit 3"], 3),
    (["nosuchcommand"], 127),
    (["/etc"], 126),
    (["/etc/passwd"], 126),
    (["sh", "-c", "sleep 30 & kill -9 $!; wait $!"], 137),
    (["sh", "-c", "kill -TERM $$"], 0),  # PID 1 ignores signals it has no handler for
], ids=["own-status", "not-found", "directory", "not-executable", "killed-9", "pid1-term"])
def test_exit_codes(shared_pyc, bb, command, rc):
    res = shared_pyc("run", "--rm", bb, *command)
    assert res.rc == rc, res


@pytest.mark.parametrize(("args", "needle"), [
    (["--no-such-flag"], "--no-such-flag"),
    (["--gpus", "all"], "--gpus"),
    (["--restart", "always"], "--restart"),  # supported, but not with --rm (Docker's rule)
    (["--mac-address", "02:42:ac:11:00:02"], "--mac-address"),
], ids=["unknown", "gpus", "restart-with-rm", "mac-address"])
def test_unsupported_options_fail_with_125_naming_them(shared_pyc, bb, args, needle):
    res = shared_pyc.fail("run", "--rm", *args, bb, "true", rc=125)
    assert needle in res.err


def test_missing_image_is_125(shared_pyc, registry):
    shared_pyc.fail("run", "--rm", "--pull", "never", f"{registry}/fixtures/nope:1", "true",
                    rc=125)


def test_options_after_the_image_belong_to_the_command(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", bb, "echo", "-n", "--rm", "-d")
    assert res.out == "--rm -d"


def test_environment_workdir_user_hostname(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000",
                        "--hostname", "box", bb, "sh", "-c",
                        'echo "$FOO $HOSTNAME $HOME $PATH"; pwd; id -u; id -g; hostname')
    lines = res.lines
    assert lines[0].startswith("bar box ")
    assert "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in lines[0]
    assert lines[1:] == ["/tmp", "1000", "1000", "box"]


def test_env_file_and_entrypoint(shared_pyc, bb, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nA=1\nB=two words\n")
    os.chmod(tmp_path, 0o755)
    env_file.chmod(0o644)
    res = shared_pyc.ok("run", "--rm", "--env-file", str(env_file), "--entrypoint", "sh",
                        bb, "-c", 'echo "$A|$B"')
    assert res.out == "1|two words\n"


def test_env_file_bare_names_come_from_the_environment_when_set(shared_pyc, bb, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("FROM_HOST\nUNSET_HERE\n")
    os.chmod(tmp_path, 0o755)
    env_file.chmod(0o644)
    env = {**shared_pyc.env, "FROM_HOST": "yes"}
    env.pop("UNSET_HERE", None)
    res = shared_pyc.ok("run", "--rm", "--env-file", str(env_file), bb, "sh", "-c",
                        'echo "$FROM_HOST"; env | grep -c "^UNSET_HERE=" || true', env=env)
    assert res.lines == ["yes", "0"]  # Docker leaves an unset one out


def test_label_file_then_labels(shared_pyc, bb, tmp_path):
    labels = tmp_path / "labels"
    labels.write_text("# team labels\na=from-file\nb=2\n\n")
    os.chmod(tmp_path, 0o755)
    labels.chmod(0o644)
    cid = shared_pyc.ok("create", "--label-file", str(labels), "-l", "a=flag", bb).out.strip()
    try:
        got = shared_pyc.ok("inspect", "-f", "{{json .Config.Labels}}", cid).out
        assert json.loads(got) == {"a": "flag", "b": "2"}
    finally:
        shared_pyc.ok("rm", cid)


def test_cidfile_gets_the_id_and_an_existing_one_is_refused(shared_pyc, bb, tmp_path):
    os.chmod(tmp_path, 0o777)
    cidfile = tmp_path / "cid"
    res = shared_pyc.ok("run", "--cidfile", str(cidfile), "--name", "cidf", bb, "true")
    try:
        cid = cidfile.read_text()
        assert len(cid) == 64
        assert shared_pyc.ok("inspect", "-f", "{{.Id}}", "cidf").out.strip() == cid
        before = shared_pyc.ok("ps", "-aq", "--no-trunc").out
        again = shared_pyc("run", "--cidfile", str(cidfile), bb, "true")
        assert again.rc == 125 and "Container ID file found" in again.err
        assert cidfile.read_text() == cid  # untouched
        assert shared_pyc.ok("ps", "-aq", "--no-trunc").out == before  # nothing created
    finally:
        shared_pyc.ok("rm", "cidf")
    del res
    made = tmp_path / "cid2"  # Docker keeps the file of a container that was created
    bad = shared_pyc("run", "--cidfile", str(made), "--rm", bb, "/no/such/command")
    assert bad.rc == 127 and len(made.read_text()) == 64
    never = tmp_path / "cid3"
    gone = shared_pyc("create", "--cidfile", str(never), "no-such-image-here:1")
    assert gone.rc == 125 and not never.exists()  # no container: no file left


def test_annotations_reach_the_bundle_and_inspect(shared_pyc, bb):
    cid = shared_pyc.ok("create", "--annotation", "org.example/a=1", "--annotation", "b=",
                        "--volume-driver", "local", "--isolation", "default", bb).out.strip()
    try:
        got = json.loads(shared_pyc.ok("inspect", cid).out)[0]
        assert got["HostConfig"]["Annotations"] == {"org.example/a": "1", "b": ""}
        bundle = shared_pyc.root / "containers" / cid / "bundle" / "config.json"
        assert json.loads(bundle.read_text())["annotations"]["org.example/a"] == "1"
    finally:
        shared_pyc.ok("rm", cid)
    for flag, value in (("--volume-driver", "nfs"), ("--isolation", "hyperv"),
                        ("--annotation", "novalue")):
        res = shared_pyc("create", flag, value, bb)
        assert res.rc == 125 and (flag in res.err or "annotation" in res.err), res.err


@pytest.mark.parametrize("runtime", ["builtin", "runc"])
def test_a_missing_workdir_is_made_as_docker_and_runc_do(shared_pyc, bb, runtime):
    res = shared_pyc.ok("run", "--rm", "--runtime", runtime, "-u", "1000", "-w", "/new/deep",
                        bb, "sh", "-c", "pwd; stat -c '%u %a' /new/deep")
    assert res.lines == ["/new/deep", "0 755"]
    bad = shared_pyc("run", "--rm", "--runtime", runtime, "-w", "/etc/passwd", bb, "true")
    assert bad.rc != 0


def test_dns_opt_is_dns_option(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--dns-opt", "ndots:3", bb, "cat", "/etc/resolv.conf")
    assert "options ndots:3" in res.out


def test_content_trust_disabled_is_accepted_and_enabled_refused(shared_pyc, bb):
    assert shared_pyc.ok("run", "--rm", "--disable-content-trust", bb, "true").rc == 0
    assert shared_pyc.ok("run", "--rm", "--disable-content-trust=true", bb, "true").rc == 0
    res = shared_pyc("run", "--rm", "--disable-content-trust=false", bb, "true")
    assert res.rc == 125 and "--disable-content-trust=false" in res.err
    pull = shared_pyc("pull", "--disable-content-trust=false", bb)
    assert pull.rc == 125 and "signatures" in pull.err


def test_user_by_name_resolves_through_the_image(shared_pyc, bb, fixture_info):
    facts = fixture_info.get("busybox", {})
    uid = facts.get("app_uid", 1000)
    name = facts.get("app_user", "app")
    res = shared_pyc("run", "--rm", "-u", name, bb, "id", "-u")
    if res.rc != 0 and "unable to find user" in res.err:
        pytest.skip(f"fixture image has no user {name}")
    assert res.out.strip() == str(uid)


def test_uid_map_hostname_and_capabilities(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", bb, "sh", "-c",
                        "cat /proc/self/uid_map; hostname; grep CapEff /proc/self/status")
    first, second, hostname, capeff = res.lines
    assert first.split() == ["0", str(os.getuid()), "1"]
    assert second.split()[0] == "1" and int(second.split()[2]) >= 65536
    assert re.fullmatch(r"[0-9a-f]{12}", hostname)
    assert capeff.split()[1] == "00000000a80425fb"


def test_hostname_is_the_short_id(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "30").out.strip()
    try:
        res = shared_pyc.ok("exec", cid, "hostname")
        assert res.out.strip() == cid[:12]
    finally:
        shared_pyc.ok("rm", "-f", cid)


def test_cap_drop_add_and_privileged(shared_pyc, bb):
    drop = shared_pyc.ok("run", "--rm", "--cap-drop", "ALL", "--cap-add", "CHOWN", bb,
                         "grep", "CapEff", "/proc/self/status")
    assert drop.out.split()[1] == "0000000000000001"
    priv = shared_pyc.ok("run", "--rm", "--privileged", bb, "grep", "CapEff",
                         "/proc/self/status")
    assert int(priv.out.split()[1], 16) > 0xa80425fb


def test_denied_syscall_fails_with_eperm(shared_pyc, deb):
    script = 'syscall(250, 0, 0, 0, 0) == -1 and print "$!\\n"'  # keyctl
    res = shared_pyc.ok("run", "--rm", deb, "perl", "-e", script)
    assert res.out.strip() == "Operation not permitted"
    free = shared_pyc.ok("run", "--rm", "--security-opt", "seccomp=unconfined", deb, "perl",
                         "-e", script)
    assert free.out.strip() != "Operation not permitted"


def test_no_new_privileges(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--security-opt", "no-new-privileges", bb, "grep",
                        "NoNewPrivs", "/proc/self/status")
    assert res.out.split()[1] == "1"


def test_masked_and_readonly_paths(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", bb, "sh", "-c",
                        "wc -c < /proc/keys; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/domainname && echo writable || echo ro")
    keys, firmware, writable = res.lines
    assert keys.strip() == "0" and firmware.strip() == "0"
    assert writable == "ro"


def test_dev_and_mounts(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", bb, "sh", "-c",
                        "ls /dev; grep -E ' /(proc|dev|dev/pts|dev/shm|dev/mqueue|sys) ' "
                        "/proc/mounts | cut -d' ' -f2-3; cat /etc/hostname")
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue"):
        assert dev in res.lines
    assert "/proc proc" in res.lines and "/dev tmpfs" in res.lines
    assert "/dev/pts devpts" in res.lines and "/sys sysfs" in res.lines


def test_read_only_and_tmpfs(shared_pyc, bb):
    res = shared_pyc("run", "--rm", "--read-only", "--tmpfs", "/scratch", bb, "sh", "-c",
                     "touch /scratch/ok && echo tmpfs-ok; touch /x 2>/dev/null || echo ro-ok")
    assert res.lines == ["tmpfs-ok", "ro-ok"]


def test_ulimit(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--ulimit", "nofile=100:200", bb, "sh", "-c",
                        "ulimit -n; ulimit -Hn")
    assert res.lines == ["100", "200"]


def test_init_is_pid_one(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--init", bb, "cat", "/proc/1/cmdline")
    assert res.out.split("\0")[0] == "/run/pyc-init"


def test_userns_keep_id(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--userns=keep-id", bb, "id", "-u")
    assert res.out.strip() == str(os.getuid())


def test_files_written_as_uid_1000_belong_to_the_mapped_subuid(shared_pyc, bb):
    shared_pyc.ok("run", "--name", "owner1000", "-u", "1000", bb, "touch", "/tmp/owned")
    upper = shared_pyc.ok("inspect", "-f", "{{.GraphDriver.Data.UpperDir}}",
                          "owner1000").out.strip()
    st = os.stat(os.path.join(upper, "tmp", "owned"))
    assert st.st_uid == _subuid_start() + 999  # container uid 1 is the first subordinate id
    shared_pyc.ok("rm", "owner1000")


def _subuid_start() -> int:
    import pwd

    name = pwd.getpwuid(os.getuid()).pw_name
    for line in Path("/etc/subuid").read_text().splitlines():
        user, start, _ = line.strip().split(":")
        if user in (name, str(os.getuid())):
            return int(start)
    raise AssertionError("no subuid range")


def test_interactive_tty(shared_pyc, bb):
    pid, fd = os.forkpty()
    if pid == 0:  # pragma: no cover
        os.execvpe(shared_pyc.argv()[0], shared_pyc.argv("run", "-it", "--rm", bb, "sh"),
                   shared_pyc.env)
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    out = _read_until(fd, b"# ", 20)
    assert b"# " in out
    os.write(fd, b"echo hello-$((40+2)); stty size\n")
    out = _read_until(fd, b"33 111", 10)
    assert b"hello-42" in out and b"33 111" in out
    os.write(fd, b"exit 7\n")
    _read_until(fd, b"\0", 5)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    return out


def test_stdin_is_passed_with_i(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "-i", bb, "sh", "-c", "cat; echo done",
                        input="from stdin\n")
    assert res.out == "from stdin\ndone\n"


def test_network_none_and_host(shared_pyc, bb):
    none = shared_pyc.ok("run", "--rm", "--network", "none", bb, "ls", "/sys/class/net")
    assert none.out.split() == ["lo"]
    host = shared_pyc.ok("run", "--rm", "--network", "host", bb, "ls", "/sys/class/net")
    assert sorted(host.out.split()) == sorted(os.listdir("/sys/class/net"))


def test_rootfs_directory(shared_pyc, tmp_path):
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    subprocess.run(["cp", "/bin/busybox", str(root / "bin")], check=True)
    os.chmod(tmp_path, 0o755)
    res = shared_pyc.ok("run", "--rm", "--rootfs", str(root), "/bin/busybox", "echo", "ok")
    assert res.out == "ok\n"


def test_signals_are_proxied_to_the_container(shared_pyc, bb):
    import signal as sig

    proc = subprocess.Popen(
        shared_pyc.argv("run", "--rm", bb, "sh", "-c",
                        'trap "echo got-term; exit 9" TERM; echo ready; sleep 100 & wait'),
        env=shared_pyc.env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(sig.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 9 and out == "got-term\n"


def test_stop_signal_option(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", "--stop-signal", "USR1", bb, "sh", "-c",
                        'trap "exit 12" USR1; while true; do sleep 0.1; done').out.strip()
    time.sleep(0.3)
    shared_pyc.ok("stop", cid)
    assert shared_pyc.ok("inspect", "-f", "{{.State.ExitCode}}", cid).out.strip() == "12"
    shared_pyc.ok("rm", cid)
