"""The compose project model: pure logic, no engine.

Loading (`loader`: discovery of files, project name, `.env`), variable interpolation
(`interpolate`), validation against the compose specification's rules (`validate`), merging of
several files and `extends` (`merge`), and the normalised model `pyc compose config` prints
(`normalize`). Imports only base-layer modules and PyYAML (only here, never on the CLI's hot
path); `ops.compose` turns the model into containers, networks and volumes.
"""
