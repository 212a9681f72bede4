"""The Docker Engine API, served on demand by `pyc system service` (a front end beside `cli/`).

Request parsing, JSON shapes and HTTP errors only: every action is the same `ops` call the
CLI makes, so what docker-py creates `pyc ps` lists and the other way round, and the service
holds no state a crash could lose. `server.py` owns sockets and HTTP/1.1 (h11, imported only
here), `wire.py` the request/response objects and Docker's stream framings, `routes.py` the
route table, and one module per endpoint family.
"""

#: the Engine API version announced (the ceiling of the docker CLI 20.10) and the oldest served
API_VERSION = "1.41"
MIN_API_VERSION = "1.24"
