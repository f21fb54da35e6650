"""The error vocabulary at the bottom of the package: every kind the one boundary turns into one
line, and the helpers that make that line."""

import pytest

from kaokore_mm import errors
from kaokore_mm.utils.cli import cli_main, input_error_message


@pytest.mark.parametrize('kind', ['BadPageError', 'SplitError', 'EmptyDatasetError'])
def test_data_errors_are_value_errors_the_tools_turn_into_one_line(kind):
    cls = getattr(errors, kind)
    assert issubclass(cls, ValueError)
    from kaokore_mm.utils.cli import UserError, data_errors_as_user_errors

    with pytest.raises(UserError) as e, data_errors_as_user_errors('split'):
        raise cls('the subset val is empty')
    assert 'the subset val is empty' in str(e.value)


def test_a_user_error_is_one_line_and_exit_2(capsys):
    def main(argv):
        raise errors.UserError('pages.json not found')

    assert cli_main(main, []) == 2
    assert capsys.readouterr().err == 'error: pages.json not found\n'
    assert input_error_message(errors.UserError('x')) == 'x'


def test_first_and_last_lines():
    assert errors.first_line(KeyError('data_root')) == 'data_root'  # without the quotes str() adds
    assert errors.first_line(ValueError('a\nb')) == 'a' and errors.first_line(ValueError()) == 'ValueError'
    worker = ValueError(
        'Caught ValueError in DataLoader worker.\nTraceback (most recent call last):\n'
        '  ...\nValueError: p1.jpg: cut short'
    )
    assert errors.last_line(worker) == 'p1.jpg: cut short'
    assert errors.last_line(ValueError('plain')) == 'plain'
