"""The shapes of the items the project reads, as pydantic models: one validation layer
(its base, :func:`problem` and the strict types, in :mod:`kaokore_mm.utils.validation`).

Strict types (a bool, or a string of digits, is not a number; a string is not a
list of four), finite numbers, file names without control characters. Each
reader validates every item with :func:`problem` and reports the first field
that is wrong (``bbox: ...``), instead of coercing it into a plausible wrong
value (``"5577"`` read as the box ``[5, 5, 7, 7]``, ``true`` as 1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from kaokore_mm.utils.validation import BRANCHES, Id, Name, Number, StrictItem, problem  # noqa: F401


class CocoCategory(StrictItem):
    id: Id
    name: StrictStr | None = None


class RejectedBox(StrictItem):
    """A proposal the annotator deleted (``merge_corrections`` keeps them on the page: hard negatives)."""

    bbox: Annotated[list[Number], Field(min_length=4, max_length=4)]
    score: Annotated[Number, Field(ge=0, le=1)]


class CocoImage(StrictItem):
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
    rejected: list[RejectedBox] | None = None  # proposals deleted in review (page pixels, x y w h)


class CocoAnnotation(StrictItem):
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


class CropLabels(StrictItem):
    """The labels a face brings into ``labels.csv`` (ids as KaoKore's ``labels.csv`` writes them)."""

    gender_id: Annotated[StrictInt, Field(ge=0)] | None = None
    status_id: Annotated[StrictInt, Field(ge=0)] | None = None
    set: Annotated[StrictStr, Field(pattern=r'^[a-z]{1,16}$')] | None = None


class BoxRequest(StrictItem):
    """A box the review app asks the classifier about (``POST /api/pages/<page>/labels``): ``x, y,
    w, h`` in the page's pixels (whether it lies on the page is the labeler's to judge)."""

    bbox: Annotated[list[Number], Field(min_length=4, max_length=4)]


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
