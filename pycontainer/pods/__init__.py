"""Pods (Podman's): records of groups of containers sharing namespaces held by an infra
process. `model` is the record, `store` the directory of them; `ops.pods` acts on them."""
