"""The compose specification's keys and types (schema/compose-spec.json of compose-spec), for
the everyday keys pyc supports; `UNSUPPORTED` are the specification's other service keys,
refused by name. Spec forms: a type name, a dict (an object with exactly these keys, `x-`
extensions allowed), `Alt(...)` (one of several forms), `ListOf(spec)`, `MapOf(spec)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Alt:
    forms: tuple[Any, ...]


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


STRINGS = ListOf("string_or_number")
STRING_OR_LIST = Alt(("string", STRINGS))
LIST_OR_DICT = Alt((STRINGS, MapOf("scalar_or_null")))

PORT = Alt(("string_or_number", {
    "name": "string", "mode": "string", "host_ip": "string", "target": "integer_or_string",
    "published": "string_or_number", "protocol": "string", "app_protocol": "string",
}))
VOLUME = Alt(("string", {
    "type": "string", "source": "string", "target": "string", "read_only": "boolean",
    "consistency": "string",
    "bind": {"propagation": "string", "create_host_path": "boolean", "selinux": "string"},
    "volume": {"nocopy": "boolean", "subpath": "string"},
    "tmpfs": {"size": "string_or_number", "mode": "number"},
}))
DEPENDENCY = {"condition": "string", "restart": "boolean", "required": "boolean"}
HEALTHCHECK = {
    "test": STRING_OR_LIST, "interval": "string", "timeout": "string", "retries": "number",
    "start_period": "string", "start_interval": "string", "disable": "boolean",
}
BUILD = Alt(("string", {
    "context": "string", "dockerfile": "string", "args": LIST_OR_DICT, "target": "string",
    "labels": LIST_OR_DICT, "network": "string", "no_cache": "boolean", "pull": "boolean",
}))
SERVICE_NETWORK = Alt(("null", {"aliases": STRINGS, "ipv4_address": "string",
                                "ipv6_address": "string", "priority": "number"}))
RESOURCES = {"cpus": "string_or_number", "memory": "string_or_number", "pids": "integer"}
DEPLOY = {
    "replicas": "integer",
    "resources": {"limits": RESOURCES, "reservations": {"cpus": "string_or_number",
                                                        "memory": "string_or_number"}},
    "restart_policy": {"condition": "string", "delay": "string", "max_attempts": "integer",
                       "window": "string"},
}
FILE_REF = Alt(("string", {"source": "string", "target": "string", "uid": "string",
                           "gid": "string", "mode": "number"}))

SERVICE: dict[str, Any] = {
    "build": BUILD, "cap_add": STRINGS, "cap_drop": STRINGS, "command": Alt(("null",
    "string", STRINGS)), "configs": ListOf(FILE_REF), "container_name": "string",
    "cpus": "string_or_number", "depends_on": Alt((STRINGS, MapOf(DEPENDENCY))),
    "deploy": DEPLOY, "dns": STRING_OR_LIST, "entrypoint": Alt(("null", "string", STRINGS)),
    "env_file": Alt(("string", ListOf(Alt(("string", {"path": "string", "required":
    "boolean", "format": "string"}))))), "environment": LIST_OR_DICT, "expose": STRINGS,
    "extends": Alt(("string", {"service": "string", "file": "string"})),
    "extra_hosts": LIST_OR_DICT, "healthcheck": HEALTHCHECK, "hostname": "string",
    "image": "string", "init": "boolean", "labels": LIST_OR_DICT,
    "mem_limit": "string_or_number", "network_mode": "string",
    "networks": Alt((STRINGS, MapOf(SERVICE_NETWORK))), "pids_limit": "string_or_number",
    "platform": "string", "ports": ListOf(PORT), "privileged": "boolean",
    "profiles": STRINGS, "pull_policy": "string", "read_only": "boolean", "restart": "string",
    "secrets": ListOf(FILE_REF), "security_opt": STRINGS, "shm_size": "string_or_number",
    "stdin_open": "boolean", "stop_grace_period": "string", "stop_signal": "string",
    "tmpfs": STRING_OR_LIST, "tty": "boolean",
    "ulimits": MapOf(Alt(("integer", {"soft": "integer", "hard": "integer"}))),
    "user": "string", "volumes": ListOf(VOLUME), "working_dir": "string", "scale": "integer",
}

#: the specification's service keys pyc does not implement: refused by name
UNSUPPORTED = frozenset((
    "annotations", "attach", "blkio_config", "cpu_count", "cpu_percent", "cpu_shares",
    "cpu_quota", "cpu_period", "cpu_rt_period", "cpu_rt_runtime", "cpuset", "cgroup",
    "cgroup_parent", "credential_spec", "develop", "device_cgroup_rules", "devices",
    "dns_opt", "dns_search", "domainname", "external_links", "gpus", "group_add", "ipc",
    "isolation", "label_file", "links", "logging", "mac_address", "mem_reservation",
    "mem_swappiness", "memswap_limit", "models", "oom_kill_disable", "oom_score_adj", "pid",
    "post_start", "pre_stop", "provider", "runtime", "storage_opt", "sysctls",
    "use_api_socket", "userns_mode", "uts", "volumes_from",
))

EXTERNAL = Alt(("boolean", {"name": "string"}))
NETWORK = Alt(("null", {
    "name": "string", "driver": "string", "driver_opts": MapOf("string_or_number"),
    "external": EXTERNAL, "internal": "boolean", "attachable": "boolean",
    "enable_ipv6": "boolean", "labels": LIST_OR_DICT,
    "ipam": {"driver": "string", "config": ListOf({"subnet": "string", "ip_range":
             "string", "gateway": "string", "aux_addresses": MapOf("string")}),
             "options": MapOf("string")},
}))
VOLUME_TOP = Alt(("null", {
    "name": "string", "driver": "string", "driver_opts": MapOf("string_or_number"),
    "external": EXTERNAL, "labels": LIST_OR_DICT,
}))
FILE_TOP = {"file": "string", "environment": "string", "content": "string",
            "external": EXTERNAL, "name": "string"}

TOP: dict[str, Any] = {
    "version": "string", "name": "string", "services": MapOf(SERVICE),
    "networks": MapOf(NETWORK), "volumes": MapOf(VOLUME_TOP), "configs": MapOf(FILE_TOP),
    "secrets": MapOf(FILE_TOP),
}

#: top-level keys of the specification pyc does not implement
TOP_UNSUPPORTED = frozenset(("include", "models"))
