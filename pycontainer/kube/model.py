"""What runs, in Kubernetes' terms: the model both directions share.

`ops.kube_generate` builds it from container records, `kube.play` from YAML; `kube.generate`
renders it, `ops.kube_play` runs it. Sizes are bytes, durations seconds, as Kubernetes has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Port:
    container_port: int
    host_port: int = 0  # 0: not published
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass
class EnvVar:
    name: str
    value: str


@dataclass
class KeyFile:
    """One file of a configMap/secret volume: its path under the mount and content."""

    path: str
    data: bytes
    mode: int | None = None  # None: the volume's defaultMode
    key: str = ""  # the ConfigMap's or Secret's key ("": the path)


@dataclass
class Volume:
    """A pod-level volume. kind: pvc (a named volume), hostPath, emptyDir, configMap, secret."""

    name: str
    kind: str
    source: str = ""  # the claim, host path, configMap or secret name
    host_type: str = ""  # hostPath's type: "", Directory, File, DirectoryOrCreate, ...
    medium: str = ""  # emptyDir: "" or Memory
    files: list[KeyFile] = field(default_factory=list)  # configMap/secret contents
    default_mode: int = 0o644


@dataclass
class Mount:
    volume: str  # a Volume's name
    path: str
    read_only: bool = False


@dataclass
class Probe:
    """An exec probe, as a healthcheck: seconds and counts (0: Kubernetes' default)."""

    command: list[str]
    period: int = 0
    timeout: int = 0
    failure_threshold: int = 0
    initial_delay: int = 0


@dataclass
class Security:
    run_as_user: int | None = None
    run_as_group: int | None = None
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    read_only_root: bool = False
    privileged: bool = False
    no_new_privileges: bool = False

    def empty(self) -> bool:
        return self == Security()


@dataclass
class Container:
    name: str
    image: str
    #: Kubernetes' split: command replaces the image's entrypoint, args its cmd ([]: theirs)
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: list[EnvVar] = field(default_factory=list)
    working_dir: str = ""
    ports: list[Port] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    memory: int | None = None  # resources.limits.memory, bytes
    cpus: float | None = None  # resources.limits.cpu, cores
    security: Security = field(default_factory=Security)
    probe: Probe | None = None
    pull_policy: str = ""  # Always, IfNotPresent, Never; "": pyc's default (missing)
    tty: bool = False
    stdin: bool = False


@dataclass
class Pod:
    name: str
    containers: list[Container]
    init_containers: list[Container] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    hostname: str = ""
    restart_policy: str = "Always"  # Always, OnFailure, Never
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    host_network: bool = False  # spec.hostNetwork


#: what `kube play` labels its containers and volumes with (and `kube generate` leaves out)
POD_LABEL = "io.pyc.kube.pod"
ROLE_LABEL = "io.pyc.kube.role"  # app or init
CREATED_LABEL = "io.pyc.kube.created"  # on a volume play made: down removes it
#: a played container's declared ports (`80/TCP,...`): the pod publishes them
PORTS_LABEL = "io.pyc.kube.ports"
PYC_LABELS = (POD_LABEL, ROLE_LABEL, PORTS_LABEL)

RESTART_TO_DOCKER = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
RESTART_FROM_DOCKER = {"always": "Always", "unless-stopped": "Always",
                       "on-failure": "OnFailure", "no": "Never"}
