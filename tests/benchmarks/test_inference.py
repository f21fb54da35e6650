"""The inference benchmark's pieces that the tool and the device benchmark share."""

import torch

from kaokore_mm.benchmarks.inference import autocast_for


def test_autocast_for_casts_only_when_asked_bf16_on_the_cpu():
    a, b = torch.ones(4, 4), torch.ones(4, 4)
    with autocast_for('cpu', amp=True)():
        assert (a @ b).dtype == torch.bfloat16
    with autocast_for('cpu', amp=False)():
        assert (a @ b).dtype == torch.float32
    assert not torch.is_autocast_enabled('cpu')
