import numpy as np
import pytest

from kaokore_mm.core.patching import (
    boxes_to_page,
    boxes_to_patch,
    crop_window,
    padding_needed,
    patch_grid,
    visible_fraction,
)


def test_grid_pads_page_to_multiple_of_patch():
    g = patch_grid((1000, 700), (400, 300))
    assert (g.cols, g.rows) == (3, 3)
    assert g.padded_size == (1200, 900)
    assert g.padding == (200, 200)
    assert g.windows[0].tolist() == [0, 0, 400, 300]
    assert g.windows[-1].tolist() == [800, 600, 1200, 900]
    assert g.windows[1].tolist() == [400, 0, 800, 300]  # row-major


def test_grid_exact_fit_and_small_page():
    g = patch_grid((800, 600), (400, 300))
    assert len(g) == 4 and g.padding == (0, 0)
    g = patch_grid((100, 50), 512)
    assert len(g) == 1 and g.padding == (412, 462)


def test_grid_overlap_covers_page():
    g = patch_grid((1000, 300), (400, 300), overlap=0.25)  # stride 300
    assert g.windows[:, 0].tolist() == [0, 300, 600]
    assert g.padded_size == (1000, 300)
    assert padding_needed((1001, 300), (400, 300), 0.25) == (299, 0)


@pytest.mark.parametrize('bad', [dict(overlap=1.0), dict(overlap=-0.1), dict(patch_size=0)])
def test_grid_rejects_bad_arguments(bad):
    kwargs = dict(img_size=(100, 100), patch_size=50, overlap=0.0)
    kwargs.update(bad)
    with pytest.raises(ValueError):
        patch_grid(**kwargs)


def test_visible_fraction_and_degenerate_boxes():
    boxes = [[0, 0, 10, 10], [95, 0, 105, 10], [200, 200, 210, 210], [50, 50, 50, 50]]
    assert visible_fraction(boxes, (0, 0, 100, 100)).tolist() == [1.0, 0.5, 0.0, 1.0]


def test_boxes_to_patch_min_visible():
    page = np.array(
        [
            [390, 10, 410, 30],  # half in the first patch
            [395, 40, 415, 60],  # a quarter in the first patch
            [10, 10, 20, 20],
        ]
    )  # wholly inside
    boxes, keep, ignore = boxes_to_patch(page, (0, 0, 400, 300), min_visible=0.5)
    assert keep.tolist() == [True, False, True]
    assert ignore.tolist() == [False, True, False]
    assert boxes.tolist() == [[390, 10, 400, 30], [395, 40, 400, 60], [10, 10, 20, 20]]
    boxes, keep, ignore = boxes_to_patch(page, (400, 0, 800, 300), min_visible=0.5)
    assert boxes[:2].tolist() == [[0, 10, 10, 30], [0, 40, 15, 60]]
    assert keep.tolist() == [True, True, False] and ignore.tolist() == [False, False, False]
    with pytest.raises(ValueError):
        boxes_to_patch(page, (0, 0, 1, 1), min_visible=0)


def test_patch_to_page_round_trip_and_clip():
    window = (400, 300, 800, 600)
    page = np.array([[450.5, 320.0, 470.0, 350.25]])
    patch, _, _ = boxes_to_patch(page, window)
    assert np.allclose(boxes_to_page(patch, window), page)
    assert boxes_to_page([[390, 290, 420, 310]], window, page_size=(700, 500)).tolist() == [[700, 500, 700, 500]]


def test_crop_window_pads_beyond_border():
    img = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    out = crop_window(img, (4, 2, 8, 6), pad_val=9)
    assert out.shape == (4, 4, 3)
    assert np.array_equal(out[:3, :3], img[2:5, 4:7])
    assert (out[3:] == 9).all() and (out[:, 3:] == 9).all()
    with pytest.raises(ValueError, match='does not start inside'):
        crop_window(img, (7, 0, 9, 2))


def test_absurd_grids_are_refused_with_the_settings_named():
    import pytest

    from kaokore_mm.core.patching import patch_grid

    with pytest.raises(ValueError, match=r'4000x3000 .* 512x512 and overlap 0.999 makes \d+ patches.*smaller overlap'):
        patch_grid((4000, 3000), 512, 0.999)
    assert len(patch_grid((20000, 1000), 512, 0.2)) > 40  # a long scroll is fine


def test_overlap_for_faces_puts_every_face_up_to_the_percentile_inside_a_patch():
    import numpy as np

    from kaokore_mm.core.patching import overlap_for_faces, patch_grid

    rng = np.random.default_rng(0)
    sizes = rng.uniform(40, 300, 500)
    ov = overlap_for_faces(sizes, (512, 400), q=95)
    assert ov == pytest.approx(np.ceil(np.percentile(sizes, 95) / 400 / 0.05) * 0.05)
    f = np.percentile(sizes, 95)
    grid = patch_grid((3000, 2000), (512, 400), ov)
    for x, y in rng.uniform(0, [3000 - f, 2000 - f], (300, 2)):  # a face of that size anywhere on the page
        assert any(w[0] <= x and x + f <= w[2] and w[1] <= y and y + f <= w[3] for w in grid.windows)
    assert overlap_for_faces([], (512, 512)) == 0.0
