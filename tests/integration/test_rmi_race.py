"""`rmi -f` racing `create`/`run`: every container created keeps its image (forced, rmi
untags it and leaves it as <none> while a container uses it), and it starts. The image was
deleted and collected while create was still writing the container that named it."""

from __future__ import annotations

import json
import subprocess
import time

ROUNDS = 8
CREATORS = 3


def test_rmi_force_racing_create_keeps_the_containers_image(pyc, fixture_refs):
    ref = fixture_refs["busybox"]
    ids = []
    for i in range(ROUNDS):
        pyc.ok("pull", "-q", ref)  # tags it again (or pulls it again after a delete)
        creates = [subprocess.Popen(pyc.argv("create", "--pull", "never", ref, "true"),
                                    env=pyc.env, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for _ in range(CREATORS)]
        time.sleep(0.03 * i)  # the rmi lands somewhere else in the creates each round
        rmi = pyc("rmi", "-f", ref)
        assert rmi.rc == 0, rmi.err
        for c in creates:
            out, err = c.communicate(timeout=120)
            if c.returncode != 0:  # the rmi came first: fine, but say it plainly
                assert "No such image" in err, err
                continue
            cid = out.strip()
            # nothing pulls from here on: a deleted image stays deleted
            image_id = json.loads(pyc.ok("inspect", cid).out)[0]["Image"]
            assert pyc("image", "inspect", image_id).rc == 0, \
                f"round {i}: container {cid[:12]} points at a deleted image {image_id}"
            ids.append(cid)
    assert ids, "no create ever won the race"
    pyc.ok("image", "prune", "-a", "-f")  # a collection must not take the containers' layers
    for cid in ids:
        assert pyc.ok("start", "-a", cid).rc == 0


def test_rmi_force_by_id_of_a_running_containers_image_is_refused(pyc, fixture_refs):
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    image_id = pyc.ok("image", "inspect", "-f", "{{.Id}}", ref).out.strip()
    cid = pyc.ok("run", "-d", ref, "sleep", "60").out.strip()
    res = pyc("rmi", "-f", image_id)
    assert res.rc != 0
    assert (f"conflict: unable to delete {image_id[7:19]} (cannot be forced) - image is "
            f"being used by running container {cid[:12]}") in res.err
    pyc.ok("rm", "-f", cid)
    stopped = pyc.ok("create", ref, "true").out.strip()
    res = pyc.ok("rmi", "-f", image_id)  # a stopped container's: untagged, kept as <none>
    assert "Deleted" not in res.out
    assert pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").out == \
        f"<none>:<none> {image_id[7:19]}\n"
    assert pyc.ok("start", "-a", stopped).rc == 0
