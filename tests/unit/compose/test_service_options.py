"""A normalised compose service as ops.create's options, Compose's labels and config hash,
what is refused by name, the dependency selection, `ps`'s Publishers and the log prefix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pycontainer.cli.compose_engine import publishers
from pycontainer.compose.loader import Options
from pycontainer.errors import ComposeError
from pycontainer.ops.compose_logs import Prefixer
from pycontainer.ops.compose_service import Model, config_hash, create_options, load_model
from pycontainer.ops.compose_up import scale_of, selection
from pycontainer.ops.logs import LogLine

BB = "127.0.0.1:5000/fixtures/busybox:latest"


def model_of(tmp_path: Path, text: str) -> Model:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    return load_model(Options(files=[str(tmp_path / "compose.yaml")], project_name="p"))


FULL = f"""
services:
  web:
    image: {BB}
    command: httpd -f -p 80
    entrypoint: ["/bin/sh", "-c"]
    environment: {{A: "1", B: null}}
    ports: ["127.0.0.1:8080:80", "9000-9001:90-91/udp", "443"]
    expose: ["3000"]
    volumes:
      - ./site:/www:ro
      - data:/data
      - type: tmpfs
        target: /scratch
        tmpfs: {{size: 1000}}
    networks:
      front: {{aliases: [site], ipv4_address: 10.9.0.5}}
    healthcheck: {{test: "wget -q localhost", interval: 2s, retries: 4}}
    restart: unless-stopped
    user: "1000"
    working_dir: /www
    hostname: webhost
    labels: {{tier: front}}
    init: true
    stop_signal: SIGINT
    stop_grace_period: 3s
    tty: true
    stdin_open: true
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    ulimits: {{nofile: {{soft: 100, hard: 200}}, nproc: 50}}
    extra_hosts: ["db.local:10.0.0.2"]
    dns: 1.1.1.1
    shm_size: 64m
    tmpfs: /run
    mem_limit: 256m
    deploy: {{resources: {{limits: {{cpus: "0.5", pids: 30}}}}}}
    secrets: [token]
    configs: [{{source: conf, target: /etc/app.conf}}]
networks:
  front: {{}}
volumes:
  data: {{}}
secrets:
  token: {{file: ./token.txt}}
configs:
  conf: {{file: ./app.conf}}
"""


def test_every_everyday_key_reaches_the_create_options(tmp_path: Path) -> None:
    model = model_of(tmp_path, FULL)
    opts, limits = create_options(model, "web", 1, "p-web-1", "sha256:abc")
    spec = opts.spec
    assert spec.image == BB and spec.name == "p-web-1"
    assert spec.command == ["httpd", "-f", "-p", "80"]
    assert spec.entrypoint == ["/bin/sh", "-c"]
    assert spec.env == ["A=1"]  # an unset `B:` is left out, as Compose does
    assert (spec.user, spec.workdir, spec.hostname) == ("1000", "/www", "webhost")
    assert spec.init and spec.tty and spec.interactive
    assert (spec.stop_signal, spec.stop_timeout, spec.restart) == ("SIGINT", 3, "unless-stopped")
    assert spec.cap_add == ["NET_ADMIN"] and spec.cap_drop == ["MKNOD"]
    assert spec.ulimits == ["nofile=100:200", "nproc=50:50"]
    assert spec.tmpfs == {"/run": ""} and spec.shm_size == 64 * 1024 * 1024
    assert spec.healthcheck == {"Test": ["CMD-SHELL", "wget -q localhost"],
                                "Interval": 2_000_000_000, "Retries": 4}
    assert spec.labels["tier"] == "front"
    assert spec.labels["com.docker.compose.service"] == "web"
    assert spec.labels["com.docker.compose.image"] == "sha256:abc"
    net = opts.network
    assert net is not None
    assert net.publish == ["127.0.0.1:8080:80/tcp", "9000:90/udp", "9001:91/udp", "443/tcp"]
    assert net.expose == ["3000"] and net.dns == ["1.1.1.1"]
    assert net.networks == ["p_front"] and net.aliases == ["web", "site"]
    assert net.ip == "10.9.0.5" and net.add_hosts == ["db.local=10.0.0.2"]
    vols = opts.volumes
    assert vols is not None
    assert vols.mounts == [
        f"type=bind,dst=/www,readonly,src={tmp_path / 'site'}",
        "type=volume,dst=/data,src=p_data",
        "type=tmpfs,dst=/scratch,tmpfs-size=1000",
        f"type=bind,src={tmp_path / 'app.conf'},dst=/etc/app.conf,readonly",
        f"type=bind,src={tmp_path / 'token.txt'},dst=/run/secrets/token,readonly",
    ]
    assert (tmp_path / "site").is_dir()  # Compose creates a missing bind source
    assert (limits.memory, limits.cpus, limits.pids_limit) == ("268435456", "0.5", "30")


@pytest.mark.parametrize(("extra", "named"), [
    ("    networks: {default: {ipv6_address: '::1'}}\n", "networks.default.ipv6_address"),
    ("    secrets: [{source: s, uid: '1'}]\nsecrets: {s: {file: ./s}}\n", "secrets.uid"),
    ("    deploy: {restart_policy: {condition: any}}\n", "deploy.restart_policy"),
    ("    network_mode: 'bridge:x'\n", "network_mode"),
    ("    ports: [{target: 80, app_protocol: http}]\n", "ports.app_protocol"),
])
def test_a_key_pyc_cannot_honour_is_refused_by_name(tmp_path: Path, extra: str,
                                                   named: str) -> None:
    model = model_of(tmp_path, f"services:\n  web:\n    image: {BB}\n{extra}")
    with pytest.raises(ComposeError, match=named.replace(".", r"\.")):
        create_options(model, "web", 1, "p-web-1", "")


def test_the_config_hash_changes_with_the_config_only(tmp_path: Path) -> None:
    base = f"services:\n  web:\n    image: {BB}\n    environment: {{A: '1'}}\n"
    one = config_hash(model_of(tmp_path, base).service("web"))
    assert one == config_hash(model_of(tmp_path, base).service("web"))
    assert one != config_hash(model_of(tmp_path, base.replace("'1'", "'2'")).service("web"))
    scaled = base + "    deploy: {replicas: 3}\n    pull_policy: always\n"
    assert one == config_hash(model_of(tmp_path, scaled).service("web"))  # not the config


def test_selection_adds_dependencies_in_order_and_scale(tmp_path: Path) -> None:
    model = model_of(tmp_path, f"""
        services:
          web: {{image: {BB}, depends_on: [api]}}
          api: {{image: {BB}, depends_on: {{db: {{condition: service_healthy}}}}}}
          db: {{image: {BB}, deploy: {{replicas: 2}}}}
          other: {{image: {BB}, scale: 3}}
        """)
    assert selection(model, ["web"], no_deps=False) == ["db", "api", "web"]
    assert selection(model, ["web"], no_deps=True) == ["web"]
    assert selection(model, [], no_deps=False) == ["db", "api", "other", "web"]
    assert scale_of(model, "db", {}) == 2 and scale_of(model, "db", {"db": 0}) == 0
    assert scale_of(model, "other", {}) == 3 and scale_of(model, "web", {}) == 1
    with pytest.raises(ComposeError, match="no such service: nope"):
        selection(model, ["nope"], no_deps=False)


def test_publishers_from_the_ports_column() -> None:
    assert publishers("127.0.0.1:8080->80/tcp, 443/tcp, [::1]:53->53/udp") == [
        {"URL": "127.0.0.1", "TargetPort": 80, "PublishedPort": 8080, "Protocol": "tcp"},
        {"URL": "", "TargetPort": 443, "PublishedPort": 0, "Protocol": "tcp"},
        {"URL": "::1", "TargetPort": 53, "PublishedPort": 53, "Protocol": "udp"},
    ]
    assert publishers("0.0.0.0:9000-9001->90-91/tcp")[1]["PublishedPort"] == 9001


def test_log_prefix_pads_to_the_widest_name_and_colours_only_when_asked() -> None:
    line = LogLine("stdout", "2026-01-01T00:00:00.000000000Z", "hello\n")
    plain = Prefixer(["web-1", "worker-1"], colour=False)
    assert plain.line("web-1", line) == "web-1     | hello\n"
    assert Prefixer(["web-1"], colour=False, prefix=False).line("web-1", line) == "hello\n"
    coloured = Prefixer(["web-1"], colour=True).line("web-1", line)
    assert coloured.startswith("\x1b[36mweb-1  |\x1b[0m hello")


def test_attached_services_as_compose_chooses_them(tmp_path: Path) -> None:
    from pycontainer.cli.compose_engine import _attached

    model = model_of(tmp_path, f"""
        services:
          web: {{image: {BB}, depends_on: [db]}}
          db: {{image: {BB}}}
          extra: {{image: {BB}}}
        """)
    started = ["db", "web"]
    assert _attached(model, ["web"], started, [], [], False) == ["web"]
    assert _attached(model, ["web"], started, [], [], True) == ["db", "web"]
    assert _attached(model, [], ["db", "extra", "web"], [], ["extra"], False) == ["db", "web"]
    assert _attached(model, [], started, ["db"], [], False) == ["db"]
    with pytest.raises(ComposeError, match="no such service: nope"):
        _attached(model, [], started, ["nope"], [], False)
