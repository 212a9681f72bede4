"""`pyc compose config` as the user: ten compose files of different shapes (after the compose
specification's examples, local image names) print Compose v2's normalised model; bad files
fail naming the problem."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.runner import Pyc, Result

BB = "127.0.0.1:5000/fixtures/busybox:latest"


def compose(pyc: Pyc, cwd: Path, *args: str, env: dict[str, str] | None = None,
            input: str | None = None) -> Result:
    proc = subprocess.run(pyc.argv("compose", *args), cwd=cwd, env={**pyc.env, **(env or {})},
                          input=input, capture_output=True, text=True, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def write(d: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)


def net(project: str) -> dict[str, Any]:
    return {"default": {"name": f"{project}_default"}}


DEFAULT = {"networks": {"default": None}}

CASES: list[tuple[str, dict[str, str], list[str], dict[str, str], dict[str, Any]]] = [
    ("short-syntax", {"compose.yaml": f"""
services:
  web:
    image: {BB}
    command: httpd -f -p 8080
    ports: ["8080:8080", "127.0.0.1:9090:90/udp", "3000"]
    environment: [A=1, B]
    volumes: ["./html:/www:ro", "data:/data"]
    expose: [80]
volumes:
  data: {{}}
"""}, [], {"B": "from-env"}, {
        "name": "short-syntax", "services": {"web": {
            "command": ["httpd", "-f", "-p", "8080"], "environment": {"A": "1", "B": "from-env"},
            "expose": ["80"], "image": BB, **DEFAULT,
            "ports": [{"mode": "ingress", "target": 8080, "published": "8080", "protocol": "tcp"},
                      {"mode": "ingress", "host_ip": "127.0.0.1", "target": 90,
                       "published": "9090", "protocol": "udp"},
                      {"mode": "ingress", "target": 3000, "protocol": "tcp"}],
            "volumes": [{"type": "bind", "source": "{dir}/html", "target": "/www",
                         "read_only": True, "bind": {"create_host_path": True}},
                        {"type": "volume", "source": "data", "target": "/data", "volume": {}}]}},
        "networks": net("short-syntax"), "volumes": {"data": {"name": "short-syntax_data"}}}),
    ("long-syntax", {"compose.yaml": f"""
services:
  db:
    image: {BB}
    healthcheck: {{test: [CMD, "true"], interval: 90s, timeout: 1500ms, retries: 3}}
  web:
    image: {BB}
    ports: [{{target: 80, published: 8080, host_ip: 127.0.0.1}}]
    volumes: [{{type: tmpfs, target: /tmp}}]
    depends_on: {{db: {{condition: service_healthy, restart: true}}}}
    environment: {{N: 1, T: true}}
    labels: {{com.example.k: v}}
"""}, [], {}, {
        "name": "long-syntax", "services": {
            "db": {"healthcheck": {"interval": "1m30s", "retries": 3, "test": ["CMD", "true"],
                                   "timeout": "1.5s"}, "image": BB, **DEFAULT},
            "web": {"depends_on": {"db": {"condition": "service_healthy", "restart": True,
                                          "required": True}},
                    "environment": {"N": "1", "T": "true"}, "image": BB,
                    "labels": {"com.example.k": "v"}, **DEFAULT,
                    "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 80,
                               "published": "8080", "protocol": "tcp"}],
                    "volumes": [{"type": "tmpfs", "target": "/tmp"}]}},
        "networks": net("long-syntax")}),
    ("anchors", {"compose.yaml": f"""
x-base: &base
  image: {BB}
  restart: always
  environment: &env {{COMMON: "1"}}
services:
  a:
    <<: *base
  b:
    <<: *base
    environment:
      <<: *env
      OWN: "2"
"""}, [], {}, {
        "name": "anchors", "services": {
            "a": {"environment": {"COMMON": "1"}, "image": BB, **DEFAULT, "restart": "always"},
            "b": {"environment": {"COMMON": "1", "OWN": "2"}, "image": BB, **DEFAULT,
                  "restart": "always"}},
        "networks": net("anchors"),
        "x-base": {"image": BB, "restart": "always", "environment": {"COMMON": "1"}}}),
    ("extends", {"compose.yaml": """
services:
  web:
    extends: {file: common.yaml, service: base}
    environment: [ROLE=web]
  worker:
    extends: web
    command: [sleep, "1"]
""", "common.yaml": f"""
services:
  base:
    image: {BB}
    environment: [LEVEL=1, ROLE=base]
    command: ["true"]
"""}, [], {}, {
        "name": "extends", "services": {
            "web": {"command": ["true"], "environment": {"LEVEL": "1", "ROLE": "web"},
                    "image": BB, **DEFAULT},
            "worker": {"command": ["sleep", "1"], "environment": {"LEVEL": "1", "ROLE": "web"},
                       "image": BB, **DEFAULT}},
        "networks": net("extends")}),
    ("merged", {"a.yaml": f"""
services:
  web:
    image: {BB}
    command: [a]
    ports: ["80"]
    environment: [X=1, Y=1]
    volumes: ["./a:/data"]
""", "b.yaml": """
services:
  web:
    command: [b]
    ports: ["81"]
    environment: {Y: 2}
    volumes: ["./b:/data"]
  extra:
    image: other
"""}, ["-f", "a.yaml", "-f", "b.yaml"], {}, {
        "name": "merged", "services": {
            "extra": {"image": "other", **DEFAULT},
            "web": {"command": ["b"], "environment": {"X": "1", "Y": "2"}, "image": BB,
                    **DEFAULT,
                    "ports": [{"mode": "ingress", "target": 80, "protocol": "tcp"},
                              {"mode": "ingress", "target": 81, "protocol": "tcp"}],
                    "volumes": [{"type": "bind", "source": "{dir}/b", "target": "/data",
                                 "bind": {"create_host_path": True}}]}},
        "networks": net("merged")}),
    ("profiles", {"compose.yaml": f"""
services:
  app: {{image: {BB}}}
  debug: {{image: {BB}, profiles: [dev]}}
  docs: {{image: {BB}, profiles: [docs]}}
"""}, ["--profile", "dev"], {}, {
        "name": "profiles", "services": {
            "app": {"image": BB, **DEFAULT},
            "debug": {"image": BB, **DEFAULT, "profiles": ["dev"]}},
        "networks": net("profiles")}),
    ("interpolated", {"compose.yaml": """
services:
  web:
    image: "${REGISTRY:-127.0.0.1:5000}/fixtures/busybox:${TAG}"
    command: ["echo", "$$HOME", "${UNSET-fallback}"]
    container_name: ${NAME:?set NAME}
""", ".env": "TAG=latest\nNAME=from-dotenv\n"}, [], {"NAME": "from-env"}, {
        "name": "interpolated", "services": {"web": {
            "command": ["echo", "$HOME", "fallback"], "container_name": "from-env",
            "image": BB, **DEFAULT}},
        "networks": net("interpolated")}),
    ("networks-named", {"compose.yaml": f"""
name: Named-Project
services:
  web:
    image: {BB}
    networks: {{front: {{aliases: [www]}}, back: null}}
  solo:
    image: {BB}
    network_mode: none
networks:
  front: {{}}
  back: {{external: true}}
""".replace("Named-Project", "named-project")}, [], {}, {
        "name": "named-project", "services": {
            "solo": {"image": BB, "network_mode": "none"},
            "web": {"image": BB, "networks": {"back": None, "front": {"aliases": ["www"]}}}},
        "networks": {"back": {"external": True, "name": "back"},
                     "front": {"name": "named-project_front"}}}),
    ("build-and-limits", {"compose.yaml": """
services:
  worker:
    build: ./worker
    mem_limit: 64m
    stop_grace_period: 90s
    deploy: {replicas: 2, resources: {limits: {cpus: "0.5", memory: 1g}}}
  tool:
    image: local/tool
    build: {context: tool, dockerfile: Containerfile, args: [V=1]}
    dns: 10.0.0.1
"""}, [], {}, {
        "name": "build-and-limits", "services": {
            "tool": {"build": {"args": {"V": "1"}, "context": "{dir}/tool",
                               "dockerfile": "Containerfile"}, "dns": ["10.0.0.1"],
                     "image": "local/tool", **DEFAULT},
            "worker": {"build": {"context": "{dir}/worker", "dockerfile": "Dockerfile"},
                       "deploy": {"replicas": 2, "resources": {"limits": {
                           "cpus": "0.5", "memory": "1073741824"}}},
                       "mem_limit": "67108864", **DEFAULT, "stop_grace_period": "1m30s"}},
        "networks": net("build-and-limits")}),
    ("env-file-and-override", {"docker-compose.yml": f"""
services:
  web:
    image: {BB}
    env_file: web.env
    environment: {{B: from-compose}}
""", "docker-compose.override.yml": """
services:
  web:
    environment: {C: from-override}
""", "web.env": "A=from-file\nB=from-file\n"}, [], {}, {
        "name": "env-file-and-override", "services": {"web": {
            "environment": {"A": "from-file", "B": "from-compose", "C": "from-override"},
            "image": BB, **DEFAULT}},
        "networks": net("env-file-and-override")}),
]


def _fill(value: Any, d: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{dir}", str(d))
    if isinstance(value, dict):
        return {k: _fill(v, d) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, d) for v in value]
    return value


@pytest.mark.parametrize(("name", "files", "args", "env", "want"), CASES,
                         ids=[c[0] for c in CASES])
def test_config_prints_the_normalised_model(pyc: Pyc, tmp_path: Path, name: str,
                                            files: dict[str, str], args: list[str],
                                            env: dict[str, str], want: dict[str, Any]) -> None:
    d = tmp_path / name
    d.mkdir()
    write(d, files)
    res = compose(pyc, d, *args, "config", "--format", "json", env=env)
    assert res.rc == 0, res.err
    assert json.loads(res.out) == _fill(want, d)


@pytest.mark.parametrize(("text", "env", "message"), [
    (f"services:\n  web:\n    image: {BB}\n    portz: ['80']\n", {},
     "services.web additional property portz is not allowed"),
    (f"services:\n  web:\n    image: {BB}\n    ports: '80'\n", {},
     "services.web.ports must be a list"),
    ("services:\n  web:\n    image: ${IMAGE:?set IMAGE to a busybox}\n", {},
     "required variable IMAGE is missing a value: set IMAGE to a busybox"),
    (f"services:\n  a: {{image: {BB}, depends_on: [b]}}\n  b: {{image: {BB}, depends_on: [a]}}\n",
     {}, "dependency cycle detected: a -> b -> a"),
])
def test_a_bad_file_fails_naming_the_problem(pyc: Pyc, tmp_path: Path, text: str,
                                             env: dict[str, str], message: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    res = compose(pyc, tmp_path, "config", env=env)
    assert res.rc == 1, res
    assert res.out == ""
    assert res.err.startswith("Error: ") and message in res.err, res.err
    assert "Traceback" not in res.err
    if "additional" in message or "must be" in message:
        assert str(tmp_path / "compose.yaml") in res.err


def test_discovery_stdin_names_and_listing_flags(pyc: Pyc, tmp_path: Path) -> None:
    proj = tmp_path / "My_Proj.1"
    sub = proj / "deep" / "er"
    sub.mkdir(parents=True)
    (proj / "compose.yml").write_text(
        f"services:\n  web: {{image: {BB}, volumes: [cache:/c]}}\n  db: {{image: {BB}}}\n"
        "volumes:\n  cache: {}\n  logs: {}\n")
    res = compose(pyc, sub, "config")  # found in a parent; the name normalised
    assert res.rc == 0, res.err
    assert res.out.startswith("name: my_proj1\nservices:\n  db:\n")
    assert "    networks:\n      default: null\n" in res.out
    assert compose(pyc, sub, "config", "--services").out == "db\nweb\n"
    assert compose(pyc, sub, "config", "--volumes").out == "cache\nlogs\n"
    quiet = compose(pyc, sub, "config", "-q")
    assert (quiet.rc, quiet.out) == (0, "")
    named = compose(pyc, sub, "config", "--format", "json", env={"COMPOSE_PROJECT_NAME": "x1"})
    assert json.loads(named.out)["networks"]["default"]["name"] == "x1_default"
    flag = compose(pyc, sub, "-p", "p2", "config", "--format", "json",
                   env={"COMPOSE_PROJECT_NAME": "x1"})
    assert json.loads(flag.out)["name"] == "p2"
    piped = compose(pyc, tmp_path, "-f", "-", "config", "--services",
                    input=f"services:\n  fromstdin: {{image: {BB}}}\n")
    assert (piped.rc, piped.out) == (0, "fromstdin\n"), piped.err
    (tmp_path / "other.yaml").write_text(f"services:\n  alt: {{image: {BB}}}\n")
    by_env = compose(pyc, tmp_path, "config", "--services", env={"COMPOSE_FILE": "other.yaml"})
    assert by_env.out == "alt\n", by_env.err
    none = compose(pyc, Path("/"), "config")
    assert none.rc == 1 and "no configuration file provided" in none.err


def test_profile_flag_yaml_output_and_a_bad_format(pyc: Pyc, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(f"services:\n  web: {{image: {BB}}}\n")
    res = compose(pyc, tmp_path, "--profile", "none", "config", "--format", "yaml")
    assert res.rc == 0, res.err
    assert f"    image: {BB}\n" in res.out
    bad = compose(pyc, tmp_path, "config", "--format", "toml")
    assert bad.rc == 125 and "unsupported format" in bad.err
