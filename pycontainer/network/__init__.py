"""Rootless networking: published ports, slirp4netns, and user-defined networks.

Nothing is imported here so the per-container supervisor can import `network.slirp` alone;
pyroute2 is imported only inside the functions that build bridges and veths.

Modules
    ports       `-p`/`-P` parsing, host-port allocation (bind test), PORTS / inspect / `port`
    slirp       slirp4netns for one network namespace: start, forwards, stop
    resolv      resolv.conf on slirp4netns and user-defined networks (pure)
    mode        `--network` values -> NetworkMode (none, host, slirp4netns, container:, NAME)
    ipam        network records (<data>/networks/NAME.json) and address management
    rootlessns  the per-user rootless network namespace holder (bridges live there)
    bridge      create/connect/disconnect/remove user-defined networks; publish on them
    dns         the name responder the holder runs on every bridge's gateway

How a container start uses them (default `--network slirp4netns`)
    before creating anything:
        mode = mode.parse_network_mode(opts.network)
        maps = ports.parse_publish_all(opts.publish) (+ ports.publish_exposed(...) for -P)
        slirp.check_mappings(maps); maps = ports.allocate(maps)   # Conflict / HostError
        conf = resolv.resolv_config(mode.slirp, dns, dns_search, dns_option, host_text)
    before spawning the supervisor:
        read_end, write_end = slirp.exit_pipe()     # supervisor gets write_end (pass_fds)
    once the container's init exists (pid known), ideally before it execs the user process:
        s = slirp.start_slirp(pid, slirp.api_socket_path(run_dir, id[:12]), mode.slirp,
                              exit_fd=read_end, log_path=...); os.close(read_end)
        slirp.forward_ports(s, maps); keep s.to_dict() and the maps in the container state
    at stop/rm: slirp.stop_slirp(slirp.Slirp.from_dict(saved)) (it also ends by itself when
    the supervisor, the write end's holder, exits or is killed)

User-defined networks (`--network NAME`)
    rootlessns.ensure(paths.runtime, paths.data) -> holder; create the container in
    holder.userns_path (setns, not a new user namespace); after its init exists:
    bridge.connect(paths, id, name, pid, NAME, aliases) -> (ip, mac) for each network;
    bridge.publish(paths, ip, maps) -> records; resolv.conf from bridge.resolv_config.
    At exit/rm: bridge.unpublish(paths, records); bridge.disconnect_all(paths, id);
    bridge.release(paths).
"""
