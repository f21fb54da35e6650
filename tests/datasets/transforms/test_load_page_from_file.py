import cv2
import numpy as np
import pytest

from kaokore_mm.datasets.transforms import LoadPageFromFile


def test_cache_decodes_once_and_protects_the_page(tmp_path):
    for k in range(3):
        cv2.imwrite(str(tmp_path / f'p{k}.png'), np.full((20, 30, 3), k * 50, np.uint8))
    load = LoadPageFromFile(cache_size=2)
    first = load(dict(img_path=str(tmp_path / 'p0.png')))
    again = load(dict(img_path=str(tmp_path / 'p0.png')))
    assert again['img'] is first['img'] and (load.hits, load.misses) == (1, 1)
    assert again['img_shape'] == (20, 30) and again['ori_shape'] == (20, 30)
    with pytest.raises(ValueError):
        again['img'][0, 0, 0] = 1  # read-only: no silent corruption of the cache
    load(dict(img_path=str(tmp_path / 'p1.png')))
    load(dict(img_path=str(tmp_path / 'p2.png')))  # evicts p0 (least recently used)
    load(dict(img_path=str(tmp_path / 'p0.png')))
    assert (load.hits, load.misses) == (1, 4)
    plain = LoadPageFromFile(cache_size=0)
    a = plain(dict(img_path=str(tmp_path / 'p1.png')))['img']
    assert a.flags.writeable and int(a[0, 0, 0]) == 50


def _pages(tmp_path):
    """Pages whose pixels readers disagreed on: RGBA with transparent pixels stored black, 16-bit
    grayscale, a float TIFF (0..1)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, np.full((60, 80), 255, np.uint8)])
    rgba[:20, :, :3] = 0  # transparent margin stored black
    rgba[:20, :, 3] = 0
    cv2.imwrite(str(tmp_path / 'rgba.png'), rgba)
    cv2.imwrite(str(tmp_path / 'gray16.png'), (rng.random((60, 80)) * 65535).astype(np.uint16))
    cv2.imwrite(str(tmp_path / 'float.tiff'), rng.random((60, 80, 3)).astype(np.float32))
    return ['rgba.png', 'gray16.png', 'float.tiff']


def test_training_testing_and_annotation_see_the_same_pixels(tmp_path):
    """One page reader: the training and test pipelines' LoadPageFromFile and the annotator's
    read_page give the same array for every kind of page (before, an RGBA page was seen on white
    by annotate and on black by training, and a float TIFF was read by one and refused by the other)."""
    import numpy as np

    from kaokore_mm.core.page_files import read_page
    from kaokore_mm.datasets.transforms import LoadPageFromFile

    load = LoadPageFromFile(cache_size=0)
    for name in _pages(tmp_path):
        page = read_page(tmp_path / name)
        seen = load(dict(img_path=str(tmp_path / name)))['img']
        assert page.dtype == np.uint8 and page.shape == (60, 80, 3)
        assert np.array_equal(seen, page), name
    rgba = read_page(tmp_path / 'rgba.png')
    assert (rgba[:20] == 255).all()  # transparent margin: paper white, in every reader
