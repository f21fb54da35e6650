import numpy as np
import pytest

from kaokore_mm.core.images import to_bgr_uint8


def test_gray_rgba_16bit_float():
    g = np.array([[0, 128], [255, 7]], np.uint8)
    out = to_bgr_uint8(g)
    assert out.shape == (2, 2, 3) and (out[..., 0] == g).all() and (out[..., 2] == g).all()
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 0] = [10, 20, 30, 255]  # opaque
    rgba[0, 1] = [10, 20, 30, 0]  # transparent -> background
    assert to_bgr_uint8(rgba).tolist() == [[[10, 20, 30], [255, 255, 255]]]
    assert to_bgr_uint8(np.array([[0, 65535]], np.uint16))[..., 0].tolist() == [[0, 255]]
    assert to_bgr_uint8(np.array([[0.0, 0.5, 1.0]]))[..., 0].tolist() == [[0, 128, 255]]
    with pytest.raises(ValueError, match='not an image'):
        to_bgr_uint8(np.zeros((2, 2, 2)))
