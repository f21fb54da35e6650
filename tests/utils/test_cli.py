import pytest

from kaokore_mm.utils.cli import UserError, cli_main


def test_user_error_is_one_line_and_exit_2(capsys):
    def main(argv):
        raise UserError(f'pages.json: page 3 has no width ({argv})')

    assert cli_main(main, ['a']) == 2
    err = capsys.readouterr().err
    assert err == "error: pages.json: page 3 has no width (['a'])\n"
    with pytest.raises(UserError):  # --debug: the traceback
        cli_main(main, ['a', '--debug'])


def test_status_codes():
    assert cli_main(lambda argv: None, []) == 0
    assert cli_main(lambda argv: 1, []) == 1
    assert cli_main(lambda argv: {'a': 1}, []) == 0
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: its traceback shows (exit 1)
        cli_main(lambda argv: 1 / 0, [])


def test_library_names_read_as_the_tools_options():
    """The package names parameters and config keys in backticks; the one boundary says them as the
    running tool's options (its parser's, or an alias), the rest as written."""
    import argparse

    from kaokore_mm.utils.cli import UserError, cli_main, option_flags, with_flags

    p = argparse.ArgumentParser()
    p.add_argument('config')
    p.add_argument('--data-root')
    p.add_argument('--cfg-options', nargs='+')
    flags = option_flags(p)
    assert flags == {'help': '--help', 'data_root': '--data-root', 'cfg_options': '--cfg-options'}
    assert with_flags('`data_root` x: fix `train_cfg.lr` or `cfg_options`', flags) == (
        '--data-root x: fix train_cfg.lr or --cfg-options'
    )

    def main(argv):
        p.parse_args(argv)
        raise UserError('`data_root` missing; `pages_file` bad; `config` read')

    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli_main(main, ['c.py'], aliases={'pages_file': '--pages'}) == 2
    assert err.getvalue() == 'error: --data-root missing; --pages bad; config read\n'
