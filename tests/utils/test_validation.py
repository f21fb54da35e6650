"""The validation layer's base: strict items and one line naming the first wrong field."""

from typing import Annotated

from pydantic import Field, StrictInt

from kaokore_mm.utils.validation import Name, Number, StrictItem, problem


class Item(StrictItem):
    n: Annotated[StrictInt, Field(ge=1)]
    x: Number | None = None
    name: Name | None = None


def test_a_valid_item_has_no_problem_and_other_keys_are_allowed():
    assert problem(Item, dict(n=3, x=0.5, name='p1.jpg', extra=[1])) is None


def test_strict_types_no_coercion():
    assert problem(Item, dict(n='5')).startswith('n: ')  # a string of digits is not a number
    assert problem(Item, dict(n=True)).startswith('n: ')  # nor is a bool
    assert problem(Item, dict(n=0)).startswith('n: ')  # below the limit


def test_a_number_must_be_finite_and_the_message_says_so():
    assert problem(Item, dict(n=1, x=float('nan'))) == 'x: not a finite number, got nan'
    assert problem(Item, dict(n=1, x=float('inf'))).startswith('x: not a finite number')


def test_names_without_control_characters_and_not_an_object():
    assert problem(Item, dict(n=1, name='a\x00b')).startswith('name: ')
    assert problem(Item, [1, 2]).startswith('not an object')
