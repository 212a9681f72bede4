"""`POST /containers/{id}/update`: Docker's resource fields as `pyc update`'s flags."""

from __future__ import annotations

import pytest

from pycontainer.api.resources import update_flags
from pycontainer.api.wire import ApiError

#: what the docker CLI sends for `docker update --memory 64m` (every field, zero if unset)
CLI_BODY = {"Memory": 67108864, "MemorySwap": 0, "MemoryReservation": 0, "NanoCpus": 0,
            "CpuShares": 0, "CpuPeriod": 0, "CpuQuota": 0, "CpusetCpus": "", "CpusetMems": "",
            "BlkioWeight": 0, "KernelMemory": 0, "PidsLimit": None,
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}}


def test_zero_fields_are_unchanged() -> None:
    flags = update_flags(CLI_BODY)
    assert flags.memory == "67108864"
    assert flags.memory_swap is None and flags.cpus is None and flags.pids_limit is None


def test_nano_cpus_and_pids() -> None:
    flags = update_flags({"NanoCpus": 1_500_000_000, "PidsLimit": 50, "MemorySwap": -1})
    assert (flags.cpus, flags.pids_limit, flags.memory_swap) == ("1.5", "50", "-1")


@pytest.mark.parametrize("body", [{"BlkioWeight": 300}, {"KernelMemory": 1 << 20},
                                  {"RestartPolicy": {"Name": "always"}}])
def test_unsupported_fields_are_refused_by_name(body: dict[str, object]) -> None:
    with pytest.raises(ApiError) as err:
        update_flags({**CLI_BODY, **body})
    assert err.value.status == 400 and next(iter(body)) in err.value.message
