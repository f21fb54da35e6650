import pytest

from kaokore_mm.core.iiif import (
    IIIFError,
    clip_box,
    full_page_url,
    info_url,
    parse_image_url,
    parse_region,
    parse_size,
    region_box,
)

KEIO = 'http://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif/583,812,222,222/256,/0/default.jpg'


def test_kaokore_url_read_from_the_right():
    r = parse_image_url(KEIO + '\n')
    assert r.base == 'http://iiif.lib.keio.ac.jp/iipsrv/NRE/110X-445-3-2/tif/2_004.tif'
    assert r.server == 'iiif.lib.keio.ac.jp' and r.path == 'iipsrv/NRE/110X-445-3-2/tif/2_004.tif'
    assert region_box(r.region) == [583, 812, 805, 1034]
    assert (r.size.kind, r.size.w, r.size.h) == ('w', 256, None)
    assert (r.rotation, r.mirror, r.quality, r.format) == (0.0, False, 'default', 'jpg')


@pytest.mark.parametrize(
    'text, box',
    [
        ('full', [0, 0, 1000, 600]),
        ('square', [200, 0, 800, 600]),
        ('pct:10,50,20,25', [100, 300, 300, 450]),
        ('-20,-10,50,40', [-20, -10, 30, 30]),
        ('950,500,100,200', [950, 500, 1050, 700]),
    ],
)
def test_regions(text, box):
    assert region_box(parse_region(text), 1000, 600) == pytest.approx(box)


def test_clip_box_to_page():
    assert clip_box([-20, -10, 30, 30], 1000, 600) == [0, 0, 30, 30]
    assert clip_box([950, 500, 1050, 700], 1000, 600) == [950, 500, 1000, 600]
    assert clip_box([1001, 0, 1100, 10], 1000, 600) is None


@pytest.mark.parametrize(
    'text, kind, w, h, pct, up',
    [
        ('full', 'full', None, None, None, False),
        ('max', 'max', None, None, None, False),
        ('256,', 'w', 256, None, None, False),
        (',300', 'h', None, 300, None, False),
        ('pct:50', 'pct', None, None, 50.0, False),
        ('200,100', 'wh', 200, 100, None, False),
        ('!200,100', 'confined', 200, 100, None, False),
        ('^max', 'max', None, None, None, True),
        ('^pct:150', 'pct', None, None, 150.0, True),
        ('^!2000,2000', 'confined', 2000, 2000, None, True),
    ],
)
def test_sizes(text, kind, w, h, pct, up):
    s = parse_size(text)
    assert (s.kind, s.w, s.h, s.pct, s.upscale) == (kind, w, h, pct, up)


@pytest.mark.parametrize(
    'url, why',
    [
        ('', 'empty'),
        ('ftp://x/a/full/max/0/default.jpg', 'http'),
        ('http://x/full/max/0/default.jpg', 'segments'),
        ('http://x/id/1,2,3/max/0/default.jpg', 'region'),
        ('http://x/id/1,2,0,4/max/0/default.jpg', 'positive'),
        ('http://x/id/full/!200,/0/default.jpg', 'size'),
        ('http://x/id/full/pct:150/0/default.jpg', 'percentage'),
        ('http://x/id/full/max/400/default.jpg', 'rotation'),
        ('http://x/id/full/max/0/fancy.jpg', 'quality'),
        ('http://x/id/full/max/0/default.exe', 'format'),
        ('http://x/id/full/max/0/default', 'quality.format'),
    ],
)
def test_bad_urls_say_why(url, why):
    with pytest.raises(IIIFError, match=why):
        parse_image_url(url)


def test_mirrored_rotation_and_encoded_identifier():
    r = parse_image_url('https://example.org/iiif/book%2F01%2Fp3/pct:0,0,50,50/max/!90/gray.png')
    assert r.path == 'iiif/book/01/p3' and r.mirror and r.rotation == 90 and r.quality == 'gray'
    assert r.base == 'https://example.org/iiif/book%2F01%2Fp3'


def test_page_urls():
    base = 'https://example.org/iiif/p1'
    assert full_page_url(base) == base + '/full/max/0/default.jpg'
    assert full_page_url(base, version=2) == base + '/full/full/0/default.jpg'
    assert full_page_url(base, max_size=(4000, 4000)) == base + '/full/!4000,4000/0/default.jpg'
    assert info_url(base + '/') == base + '/info.json'
    with pytest.raises(IIIFError, match='page size'):
        region_box(parse_region('full'))


def test_level0_tiles_cover_each_level_once_with_canonical_urls():
    import numpy as np

    from kaokore_mm.core.iiif import level0_info, level0_tiles

    scales, tiles = level0_tiles(1100, 700, tile=512)
    assert scales == [1, 2, 4]
    by_url = {f'{t["region"]}/{t["size"]}': t for t in tiles}
    # by hand: scale 1 is a 3 x 2 grid; scale 2 (550 x 350) two tiles; scale 4 (275 x 175) the whole image
    assert '0,0,512,512/512,512' in by_url and '1024,512,76,188/76,188' in by_url
    assert '0,0,1024,700/512,350' in by_url and '1024,0,76,700/38,350' in by_url
    assert by_url['full/275,175']['box'] == (0, 0, 1100, 700)
    assert len(tiles) == 6 + 2 + 1
    for s in scales:  # every pixel of the image exactly once per level
        cover = np.zeros((700, 1100), int)
        for t in (t for t in tiles if t['scale'] == s):
            x, y, w, h = t['box']
            cover[y : y + h, x : x + w] += 1
            assert t['out'] == (-(-w // s), -(-h // s))
        assert cover.min() == cover.max() == 1
    info = level0_info('http://127.0.0.1:8000/iiif/p', 1100, 700)
    assert info['profile'] == 'level0' and info['tiles'] == [dict(width=512, height=512, scaleFactors=[1, 2, 4])]
    # an image smaller than a tile: one request, at full size
    assert level0_tiles(300, 200)[1] == [dict(scale=1, region='full', size='max', box=(0, 0, 300, 200), out=(300, 200))]
