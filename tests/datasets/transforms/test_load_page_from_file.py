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
