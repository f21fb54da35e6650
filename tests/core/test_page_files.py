"""Page file checks and EXIF orientation (Pillow, OpenCV as the reference decoder)."""

import cv2
import numpy as np
import pytest
from PIL import Image

from kaokore_mm.core.page_files import bad_pages_message, page_problem, page_size


def asymmetric(h=30, w=50):
    img = np.zeros((h, w, 3), np.uint8)
    img[:5, :10] = (0, 0, 255)  # a red block in the top-left corner
    img[-8:, -3:] = (255, 0, 0)  # a blue block in the bottom-right corner
    img[10:20, 20:40, 1] = 200
    return img


@pytest.mark.parametrize('orientation', range(1, 9))
def test_read_page_turns_exif_orientation_as_opencv_and_mmcv_do(tmp_path, orientation):
    """The annotator's reader (IMREAD_UNCHANGED, which ignores EXIF) and the training
    pipelines' (mmcv, OpenCV colour decode) see the same page, of the size page_size says."""
    import mmcv

    from kaokore_mm.apis import read_page

    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(asymmetric()[..., ::-1]).save(tmp_path / 'x.jpg', exif=exif, quality=100)
    path = tmp_path / 'x.jpg'
    ours = read_page(path)
    reference = mmcv.imfrombytes(path.read_bytes())  # what LoadImageFromFile gives the pipelines
    assert ours.shape == reference.shape and np.abs(ours.astype(int) - reference).max() <= 2
    assert page_size(path) == (reference.shape[1], reference.shape[0])
    if orientation in (5, 6, 7, 8):
        assert reference.shape[:2] == (50, 30)


def test_problems_name_the_file_and_what_is_wrong(tmp_path):
    good = tmp_path / 'good.jpg'
    cv2.imwrite(str(good), asymmetric())
    data = good.read_bytes()
    png = tmp_path / 'good.png'
    cv2.imwrite(str(png), asymmetric())
    cases = {
        'missing.jpg': (None, 'no such page image'),
        'empty.jpg': (b'', 'empty file'),
        'cut.jpg': (data[: len(data) // 2], 'truncated'),
        'cut.png': (png.read_bytes()[:-30], 'truncated'),
        'text.jpg': (b'<html>404 Not Found</html>' * 3, 'not a readable image'),
        'spreadsheet.jpg': (b'PK\x03\x04' + b'\x00' * 200, 'not a readable image'),
    }
    for name, (content, fragment) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        problem = page_problem(tmp_path / name)
        assert problem.startswith(str(tmp_path / name)) and fragment in problem, (name, problem)
    assert page_problem(good) is None and page_problem(good, (50, 30)) is None and page_problem(png) is None
    assert 'the image is 50x30 but its annotations say 60x30' in page_problem(good, (60, 30))


def test_a_rewritten_file_is_checked_again(tmp_path):
    path = tmp_path / 'p.jpg'
    path.write_bytes(b'garbage' * 10)
    assert 'not a readable image' in page_problem(path)
    import os

    cv2.imwrite(str(path), asymmetric())
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse file systems
    assert page_problem(path) is None


def test_message_counts_and_says_what_to_do():
    msg = bad_pages_message([f'p{i}.jpg: truncated' for i in range(5)], 40)
    assert msg.startswith('5 of 40 pages cannot be used: p0.jpg: truncated; p1.jpg') and 'and 2 more' in msg
    assert '--skip-bad-pages' in msg and '\n' not in msg


def test_a_page_over_the_pixel_limit_is_refused_from_its_header(tmp_path):
    """A 30000 x 30000 page decoded to 2.6 GB in annotate and the converter: refused before any decode."""
    import struct
    import zlib

    from kaokore_mm.core.page_files import page_problem

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0' * 100)) + chunk(b'IEND', b'')
    (tmp_path / 'huge.png').write_bytes(png)
    reason = page_problem(tmp_path / 'huge.png')
    assert reason is not None and 'huge.png: ' in reason and 'over the limit of 180 MP' in reason
