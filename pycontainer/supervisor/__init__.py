"""The per-container supervisor (conmon's job): one small process per running container.

It knows nothing about images, names or networks: it gets a `SupervisorConfig`, launches the
bundle, holds the container's stdio, writes the log, serves attach, records the exit status
and runs the exit command. It imports only stdlib, `oci`, `linux`, `runtime`, `storage`
(through the runtime), `errors` and `paths`.
"""
