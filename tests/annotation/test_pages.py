import cv2
import numpy as np
import pytest

from kaokore_mm.annotation import PageSourceError, page_stem, pages_from_folder, pages_from_manifest_pages


def test_keys_are_relative_paths_with_extension_and_stems_never_collide(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    for rel in ('p1.jpg', 'p1.png', 'vol1/p1.jpg', 'vol2/p1.jpg', 'P1.jpg'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / rel), img)
    (tmp_path / 'x.jpg').mkdir()  # a directory named like an image is not a page
    (tmp_path / 'notes.txt').write_text('not a page')
    pages = pages_from_folder(tmp_path)
    keys = [p['key'] for p in pages]
    assert keys == ['P1.jpg', 'p1.jpg', 'p1.png', 'vol1/p1.jpg', 'vol2/p1.jpg']
    stems = [page_stem(k) for k in keys]
    assert len(set(stems)) == len(stems) and len({s.lower() for s in stems}) == len(stems)  # case-insensitive disks
    assert all('/' not in s and len(s) < 100 for s in stems)
    assert page_stem('vol1/p1.jpg') == page_stem('vol1/p1.jpg')  # stable
    assert page_stem('a' * 500).endswith(page_stem('a' * 500)[-10:]) and len(page_stem('a' * 500)) < 80


def test_empty_folder_and_duplicate_canvases_are_refused(tmp_path):
    with pytest.raises(PageSourceError, match='no page images'):
        pages_from_folder(tmp_path)
    page = dict(canvas='https://x/c1', iiif_base='https://iiif.example/iiif/book:A/p1', width=10, height=10)
    with pytest.raises(PageSourceError, match='appears twice'):
        pages_from_manifest_pages([page, dict(page)], tmp_path)


def test_manifest_pages_of_colliding_services_get_distinct_files(tmp_path):
    a = dict(canvas='https://x/c1', iiif_base='https://iiif.example/iiif/book:A/p1')
    b = dict(canvas='https://x/c2', iiif_base='https://iiif.example/iiif/book_A/p1')
    pa, pb = pages_from_manifest_pages([a, b], tmp_path)
    assert pa['key'] == 'https://x/c1' and pa['path'] != pb['path']
    assert str(pa['path']).startswith(str(tmp_path.resolve()))


def test_the_annotators_own_output_inside_the_book_is_not_read_as_pages(tmp_path):
    """``annotate.py --images BOOK --out BOOK/out``: a second run must not find the review pictures
    and tiles of the first as new pages of the book."""
    import cv2
    import numpy as np

    from kaokore_mm.annotation import pages_from_folder

    book = tmp_path / 'book'
    (book / 'out' / 'review').mkdir(parents=True)
    (book / 'out' / 'iiif' / 'p').mkdir(parents=True)
    for f in (book / 'p1.jpg', book / 'out' / 'review' / 'p1.jpg', book / 'out' / 'iiif' / 'p' / 'full.jpg'):
        cv2.imwrite(str(f), np.zeros((8, 8, 3), np.uint8))
    assert [p['key'] for p in pages_from_folder(book, exclude=book / 'out')] == ['p1.jpg']
    assert len(pages_from_folder(book)) == 3  # without the exclusion they would be pages
