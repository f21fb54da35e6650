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
