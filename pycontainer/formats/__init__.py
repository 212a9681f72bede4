"""Docker's and Go's text formats, in one base-layer package that imports only `errors`.

- `gotemplate`: Go `text/template` as Docker's `--format` uses it
- `units`: go-units sizes (RAMInBytes, FromHumanSize, HumanSize, BytesSize)
- `durations`: Go's time.ParseDuration and Duration.String, go-units HumanDuration
- `timestamps`: RFC 3339 as Go prints and parses it, Docker's --since/--until values
- `filters`: Docker's `--filter key=value` and the Engine API's JSON form

Nothing is imported here: each command loads only the submodules it uses.
"""
