"""The validation layer's base: strict pydantic items and one line for the first wrong field.

Strict types (a bool, or a string of digits, is not a number; a string is not a
list of four), finite numbers, file names without control characters. Each
reader validates every item with :func:`problem` and reports the first field
that is wrong (``bbox: ...``), instead of coercing it into a plausible wrong
value (``"5577"`` read as the box ``[5, 5, 7, 7]``, ``true`` as 1). The item
shapes are beside their readers: :mod:`kaokore_mm.converters.schemas` (COCO,
crops, review provenance), :mod:`kaokore_mm.utils.preflight` (run settings).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

Id = StrictInt | StrictStr
Number = StrictInt | StrictFloat
Name = Annotated[StrictStr, Field(min_length=1, max_length=1024, pattern=r'^[^\x00-\x1f\x7f]+$')]


class StrictItem(BaseModel):
    """An item with strict, finite fields; other keys are allowed (and ignored)."""

    model_config = ConfigDict(extra='allow', allow_inf_nan=False)


Positive = Annotated[Number, Field(gt=0)]


def problem(model: type[BaseModel], raw) -> str | None:
    """``None`` when ``raw`` is a valid ``model``, else one line: the first wrong
    field and why (``bbox: Input should be a valid list, got '5577'``)."""
    if not isinstance(raw, dict):
        return f'not an object: {raw!r:.60}'
    try:
        model.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        # a union (an int or a float) fails once per branch: the branch names are not the user's fields, and
        # "not a finite number" says more than "not a valid integer"
        err = min(errors, key=lambda x: (x['type'] != 'finite_number', errors.index(x)))
        where = '.'.join(str(p) for p in err['loc'] if str(p) not in BRANCHES) or 'item'
        msg = 'not a finite number' if err['type'] == 'finite_number' else err['msg']
        return f'{where}: {msg}, got {err.get("input")!r:.60}'
    except RecursionError:
        return 'nested too deeply'
    return None


BRANCHES = {
    'int',
    'float',
    'str',
    'bool',
    'dict[any,any]',
    'list[union[int,float]]',
    'constrained-int',
    'constrained-str',
}
