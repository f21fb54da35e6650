"""The shapes of the items the project reads, as pydantic models: one validation layer.

Strict types (a bool, or a string of digits, is not a number; a string is not a
list of four), finite numbers, file names without control characters. Each
reader validates every item with :func:`problem` and reports the first field
that is wrong (``bbox: ...``), instead of coercing it into a plausible wrong
value (``"5577"`` read as the box ``[5, 5, 7, 7]``, ``true`` as 1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

Id = StrictInt | StrictStr
Number = StrictInt | StrictFloat
Name = Annotated[StrictStr, Field(min_length=1, max_length=1024, pattern=r'^[^\x00-\x1f\x7f]+$')]


class _Item(BaseModel):
    model_config = ConfigDict(extra='allow', allow_inf_nan=False)


class CocoCategory(_Item):
    id: Id
    name: StrictStr | None = None


class CocoImage(_Item):
    id: Id
    file_name: Name
    width: object = None  # judged by core.iiif.valid_page_size (strict too: no bool, no string)
    height: object = None
    book_id: Name | None = None
    book_title: StrictStr | None = None
    canvas: StrictStr | None = None
    iiif_base: StrictStr | None = None
    page_no: StrictInt | None = None
    canvas_width: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None  # a IIIF canvas of another size
    canvas_height: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None


class CocoAnnotation(_Item):
    id: Id | None = None
    image_id: Id
    category_id: Id | None = None
    bbox: Annotated[list[Number], Field(min_length=4, max_length=4)]
    attributes: dict | None = None
    score: Annotated[Number, Field(ge=0, le=1)] | None = None
    iscrowd: Annotated[StrictInt, Field(ge=0, le=1)] | bool | None = None


class CropFace(CocoAnnotation):
    """A face of the page COCO as the crop layout needs it."""

    crop: Annotated[StrictStr, Field(pattern=r'^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$')]  # no folders, no '..'
    region: Annotated[list[Number], Field(min_length=4, max_length=4)] | None = None


class CropLabels(_Item):
    """The labels a face brings into ``labels.csv`` (ids as KaoKore's ``labels.csv`` writes them)."""

    gender_id: Annotated[StrictInt, Field(ge=0)] | None = None
    status_id: Annotated[StrictInt, Field(ge=0)] | None = None
    set: Annotated[StrictStr, Field(pattern=r'^[a-z]{1,16}$')] | None = None


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


LabelKind = Literal['status', 'gender']


class ReviewProvenance(BaseModel):
    """Where a face of the review app came from and what the annotator confirmed
    (the ``kaokore:`` keys of a W3C annotation; absent keys take the defaults of
    a box drawn by hand, or of a proposal when it has a score).

    * ``origin``: ``proposal`` (the detector's) or ``drawn`` (the annotator's);
    * ``review``: ``proposed`` (untouched), ``accepted``, ``edited`` (moved or
      resized), ``drawn``;
    * ``score``, ``model``: the proposal's score and the model that made it;
    * ``proposed``: the classifier's labels (``{"status": "noble"}``);
    * ``confirmed``: the label kinds the annotator set or confirmed: only these
      are labels of the training set, the rest stay proposals;
    * ``sure``: the proposed label kinds the classifier is sure of (calibrated score
      at or above the threshold its validation chose for 95 % accuracy): these may be
      confirmed in bulk;
    * ``bulk``: the label kinds confirmed in bulk (a subset of ``confirmed``).
    """

    model_config = ConfigDict(extra='ignore', allow_inf_nan=False, populate_by_name=True)
    origin: Literal['proposal', 'drawn'] | None = Field(None, alias='kaokore:origin')
    review: Literal['proposed', 'accepted', 'edited', 'drawn'] | None = Field(None, alias='kaokore:review')
    score: Annotated[Number, Field(ge=0, le=1)] | None = Field(None, alias='kaokore:score')
    model: Annotated[StrictStr, Field(max_length=256)] | None = Field(None, alias='kaokore:model')
    proposed: dict[LabelKind, Annotated[StrictStr, Field(max_length=64)]] = Field(
        default_factory=dict, alias='kaokore:proposed'
    )
    confirmed: Annotated[list[LabelKind], Field(max_length=2)] | None = Field(None, alias='kaokore:confirmed')
    sure: Annotated[list[LabelKind], Field(max_length=2)] = Field(default_factory=list, alias='kaokore:sure')
    bulk: Annotated[list[LabelKind], Field(max_length=2)] = Field(default_factory=list, alias='kaokore:bulk')

    def resolved(self) -> ReviewProvenance:
        """Defaults filled in and checked for consistency (raises ``ValueError``)."""
        origin = self.origin or ('proposal' if self.score is not None else 'drawn')
        review = self.review or ('proposed' if origin == 'proposal' else 'drawn')
        if (origin == 'drawn') != (review == 'drawn'):
            raise ValueError(f'a box of origin {origin!r} cannot be in review state {review!r}')
        if origin == 'drawn' and self.score is not None:
            raise ValueError('a drawn box has no score')
        if not set(self.sure) <= set(self.proposed):
            raise ValueError(f'kaokore:sure names labels not proposed: {sorted(set(self.sure) - set(self.proposed))}')
        if not set(self.bulk) <= set(self.confirmed or []):
            raise ValueError('kaokore:bulk names labels that are not confirmed')
        return self.model_copy(update=dict(origin=origin, review=review))

    def as_keys(self) -> dict:
        """The ``kaokore:`` keys to write (what is set)."""
        out = self.model_dump(by_alias=True, exclude_none=True)
        for key in ('kaokore:proposed', 'kaokore:sure', 'kaokore:bulk'):
            if not out.get(key):
                out.pop(key, None)
        return out


def provenance(raw: dict) -> ReviewProvenance:
    """The item's resolved :class:`ReviewProvenance`; ``ValueError`` with the first
    wrong field."""
    why = problem(ReviewProvenance, raw)
    if why is not None:
        raise ValueError(why)
    return ReviewProvenance.model_validate(raw).resolved()


Positive = Annotated[Number, Field(gt=0)]


class LoaderSettings(_Item):
    """A dataloader's numbers as a config or ``--cfg-options`` gives them."""

    batch_size: Annotated[StrictInt, Field(ge=1)] = 1
    num_workers: Annotated[StrictInt, Field(ge=0)] = 0


class OptimizerSettings(_Item):
    lr: Positive | None = None
    weight_decay: Annotated[Number, Field(ge=0)] | None = None
    momentum: Annotated[Number, Field(ge=0)] | None = None


class LoopSettings(_Item):
    max_iters: Annotated[StrictInt, Field(ge=1)] | None = None
    max_epochs: Annotated[StrictInt, Field(ge=1)] | None = None
    val_interval: Annotated[StrictInt, Field(ge=1)] | None = None
