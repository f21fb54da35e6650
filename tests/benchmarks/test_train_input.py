"""The training-input benchmark on tiny pages: the four speeds measured, the page cache used."""

from tests.conftest import load_tool
from tests.test_compat import DEMO


def test_the_four_speeds_and_the_cache(tiny_data, tmp_path, capsys):
    out = tmp_path / 'speeds.json'
    res = load_tool('benchmark_train_input').main(
        [DEMO, '--data-root', str(tiny_data), '--samples', '6', '--out', str(out)]
    )
    for key in ('decode_s_per_page', 'whole_pages_per_s', 'naive_patches_per_s', 'cached_patches_per_s'):
        assert res[key] > 0, key
    assert res['train_pages'] > 0 and res['train_patches'] >= res['train_pages']
    assert res['cache_hits'] + res['cache_misses'] >= 6 and res['cache_hits'] > 0  # patches of one page share it
    printed = capsys.readouterr().out
    assert 'speed-up of the cached pipeline' in printed and out.stat().st_size > 0
