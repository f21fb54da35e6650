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


# --- views -------------------------------------------------------------------------------------


def test_view_grid_of_a_rescaled_page_by_hand():
    from kaokore_mm.core.patching import View, view_grid

    g = view_grid((1000, 700), View(rate=0.5), (400, 300))
    assert g.size == (500, 350) and g.scale == (0.5, 0.5)
    assert g.windows.tolist() == [[0, 0, 400, 300], [400, 0, 800, 300], [0, 300, 400, 600], [400, 300, 800, 600]]
    g = view_grid((1001, 701), View(rate=0.5), (400, 300))  # sizes round half up, scales are exact ratios
    assert g.size == (501, 351) and g.scale == (501 / 1001, 351 / 701)


def test_whole_page_view_fits_like_mmdets_keep_ratio_resize_and_turns_with_the_page():
    from kaokore_mm.core.patching import View, fit_scale, view_grid

    whole = View(rate='whole')
    assert whole.whole and fit_scale((6000, 4000), (1333, 800)) == pytest.approx(0.2)
    g = view_grid((6000, 4000), whole, (1333, 800))  # landscape: 1200 x 800 inside a 1333 x 800 input
    assert g.size == (1200, 800) and g.windows.tolist() == [[0, 0, 1333, 800]]
    g = view_grid((4000, 6000), whole, (1333, 800))  # portrait: as mmdet, long side to 1333 at most
    assert g.size == (800, 1200) and g.windows.tolist() == [[0, 0, 800, 1333]]
    g = view_grid((300, 200), whole, (512, 512))  # small pages are enlarged, as mmdet's Resize does
    assert g.size == (512, 341) and g.windows.tolist() == [[0, 0, 512, 512]]


def test_boxes_map_to_a_view_and_back_and_valid_ranges_use_the_longest_side():
    from kaokore_mm.core.patching import boxes_from_view, boxes_to_view, in_valid_range

    page = np.array([[100, 200, 300, 500], [10, 10, 20, 14]], float)
    view = boxes_to_view(page, (0.5, 0.25))
    assert view.tolist() == [[50, 50, 150, 125], [5, 2.5, 10, 3.5]]
    assert np.allclose(boxes_from_view(view, (0.5, 0.25)), page)
    assert in_valid_range(view, (0, 100)).tolist() == [True, True]  # longest sides 100 and 5
    assert in_valid_range(view, (6, None)).tolist() == [True, False]
    assert in_valid_range(view, (0, 99.9)).tolist() == [False, True]


@pytest.mark.parametrize(
    'bad',
    [
        dict(rate=0),
        dict(rate='half'),
        dict(rate=True),
        dict(valid_range=(50, 10)),
        dict(valid_range=(-1, None)),
        dict(valid_range=('0', None)),
        dict(scale=0.5),
    ],
)
def test_views_are_validated(bad):
    from kaokore_mm.core.patching import as_views

    with pytest.raises(ValueError, match='view'):
        as_views([bad])


def test_views_default_to_the_page_at_its_own_scale_and_refuse_repeats():
    from kaokore_mm.core.patching import View, as_views

    assert as_views(None) == (View(rate=1.0, valid_range=(0.0, None)),)
    with pytest.raises(ValueError, match='distinct'):
        as_views([dict(rate=1.0), dict(rate=1)])
    with pytest.raises(ValueError, match='non-empty list'):
        as_views([])


def kaokore_sizes():
    from kaokore_mm.synthetic.drawing import KAOKORE_FACE_QUANTILES

    q, v = zip(*KAOKORE_FACE_QUANTILES)
    return np.interp(np.linspace(0, 100, 10001), q, v)


def test_the_rule_on_kaokores_faces_by_hand():
    from kaokore_mm.core.patching import views_for_faces

    rule = views_for_faces(kaokore_sizes(), (1333, 800), min_size=32)
    # p95 300 px -> overlap 0.4 (fit 320 px); p99 424 px > 320 -> rate 0.5 (212 px); p5 88 >= 32: no upsampling
    assert rule['overlap'] == pytest.approx(0.4) and rule['fit'] == pytest.approx(320)
    assert rule['views'] == [
        dict(rate=1.0, valid_range=(0.0, 320.0)),
        dict(rate=0.5, valid_range=(32.0, 320.0)),
        dict(rate='whole', valid_range=(32.0, None)),
    ]


def test_the_rule_upsamples_small_faces_and_falls_back_to_overlap_when_patches_are_too_small():
    from kaokore_mm.core.patching import views_for_faces

    rule = views_for_faces(np.linspace(10, 60, 101), (512, 512), min_size=32)  # p5 12.5 px
    rates = [v['rate'] for v in rule['views']]
    assert rates == [4.0, 2.0, 1.0, 'whole']  # 12.5 x 4 = 50 >= 32
    assert rule['views'][0]['valid_range'][0] == 0.0 and rule['views'][1]['valid_range'][0] == 32.0
    # p95 52.5 px -> fit 0.15 x 400 = 60 < 2 x 32: a coarser view's valid range (32-60 px) would be too
    # narrow to hand faces over between views; the overlap covers p99 instead (100 / 400 = 0.25)
    rule = views_for_faces(np.r_[np.full(95, 50.0), np.full(5, 100.0)], (400, 400), min_size=32)
    assert rule['overlap'] == pytest.approx(0.25) and [v['rate'] for v in rule['views']] == [1.0, 'whole']


def test_every_face_up_to_the_rules_percentile_lies_wholly_inside_a_patch_of_a_view_responsible_for_it():
    from kaokore_mm.core.patching import as_views, boxes_to_view, in_valid_range, page_views, views_for_faces

    sizes = kaokore_sizes()
    for patch, min_size in (((1333, 800), 32), ((600, 600), 42), ((512, 512), 32)):
        rule = views_for_faces(sizes, patch, min_size)
        views = as_views(rule['views'])
        rng = np.random.default_rng(0)
        for _ in range(300):
            page = (int(rng.uniform(3000, 6000)), int(rng.uniform(2000, 4000)))
            grids = page_views(page, views, patch, rule['overlap'])
            side = rng.uniform(rule['small'], rule['large'])
            x, y = rng.uniform(0, page[0] - side), rng.uniform(0, page[1] - side)
            face = np.array([[x, y, x + side, y + side * rng.uniform(0.7, 1.0)]])
            ok = False
            for g in grids:
                if g.view.whole or not in_valid_range(boxes_to_view(face, g.scale), g.view.valid_range)[0]:
                    continue
                v = boxes_to_view(face, g.scale)[0]
                w = g.windows
                ok |= bool(np.any((w[:, 0] <= v[0]) & (w[:, 1] <= v[1]) & (w[:, 2] >= v[2]) & (w[:, 3] >= v[3])))
            assert ok, (patch, page, face)
