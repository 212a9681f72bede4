"""Kubernetes YAML both ways (Podman's `kube generate` / `kube play`), as pure code: `model`
is what runs (pods of containers), `generate` turns it into Pod/Deployment/Service documents,
`play` reads a multi-document file into a plan of it. PyYAML is imported only inside the
functions that read or write text, so `pyc run` never loads it."""
