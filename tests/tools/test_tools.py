from pathlib import Path

from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[2]


def test_make_synthetic_cli(tmp_path, capsys):
    make_synthetic = load_tool('make_synthetic')
    summary = make_synthetic.main(['--out', str(tmp_path), '--pages', '3', '--books', '2', '--seed', '1',
                                   '--long-side', '600', '700', '--face-size', '30', '50'])
    assert summary['pages'] == 3 and (tmp_path / 'annotations/pages.json').exists()
    assert '3 pages' in capsys.readouterr().out


def test_split_report(tiny_data, tmp_path, capsys):
    split_report = load_tool('split_report')
    out = tmp_path / 'report.png'
    table = split_report.main([str(ROOT / 'configs/faster_rcnn_r50_patch1333.py'), '--data-root', str(tiny_data),
                               '--split', 'inter_book', '--out', str(out)])
    assert out.exists() and out.stat().st_size > 1000
    books = [set(t) for t in table.values()]
    assert not (books[0] & books[2]) and not (books[0] & books[1])  # inter_book: no shared books
    assert sum(p for t in table.values() for p, _ in t.values()) == 8
    text = capsys.readouterr().out
    assert 'total' in text and 'book000' in text
    table = split_report.main([str(ROOT / 'configs/faster_rcnn_r50_patch1333.py'), '--data-root', str(tiny_data),
                               '--split', 'intra_book', '--out', str(out)])
    assert set(table['train']) == set(table['test']) == {'book000', 'book001', 'book002', 'book003'}
