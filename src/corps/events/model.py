"""Typed event payloads: :class:`EventModel`, the base of every generated event class."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, ClassVar, Self, get_args

import fastavro
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corps.events.avro_reader import AvroRead, compile_reader
from corps.events.avro_writer import AvroWrite, compile_writer
from corps.events.errors import EventValidationError

__all__ = ["AvroInt", "AvroLong", "EventModel", "SchemaRef", "models_by_type"]

AvroInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
"""An Avro ``int``: 32-bit signed."""
AvroLong = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
"""An Avro ``long``: 64-bit signed."""


class SchemaRef:
    """One version of one event type's Avro schema, parsed once for fastavro.

    Attributes:
        event_type: Avro fullname, also the CloudEvents ``ce_type``.
        version: The schema version in ``schemas/`` (1, 2, ...).
        schema: The schema as a JSON object (exactly the ``.avsc``).
        canonical: The schema as compact JSON text, used to register and look it up.
        parsed: The fastavro-parsed schema (named types resolved).
    """

    __slots__ = ("_reader", "_writer", "canonical", "event_type", "parsed", "schema", "version")

    def __init__(self, event_type: str, version: int, schema: Mapping[str, Any]) -> None:
        self.event_type = event_type
        self.version = version
        self.schema = schema
        self.canonical = json.dumps(schema, separators=(",", ":"), sort_keys=False)
        self.parsed: Any = fastavro.parse_schema(dict(schema))
        self._writer: AvroWrite | bool | None = False
        self._reader: AvroRead | bool | None = False

    @property
    def writer(self) -> AvroWrite | None:
        """The compiled body writer of this schema (built on first use), or ``None``: use fastavro."""
        if self._writer is False:
            self._writer = compile_writer(self.parsed)
        return self._writer  # type: ignore[return-value]

    @property
    def reader(self) -> AvroRead | None:
        """The compiled body reader of this schema (built on first use), or ``None``: use fastavro."""
        if self._reader is False:
            self._reader = compile_reader(self.parsed)
        return self._reader  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"SchemaRef({self.event_type!r}, v{self.version})"


class EventModel(BaseModel):
    """Base class of typed event payloads (frozen; unknown fields are an error).

    A subclass declares the Avro fullname it stands for (``event_type``, also the CloudEvents
    ``ce_type``), the schema version it was written against (``schema_version``) and that schema
    (``avro_schema``). The generated models in :mod:`corps.events.lifecycle` and
    :mod:`corps.events.demo` are checked against ``schemas/`` by a test.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    avro_schema: ClassVar[Mapping[str, Any]]

    @classmethod
    def schema_ref(cls) -> SchemaRef:
        """Return this model's schema, parsed once per class."""
        return _schema_ref(cls)

    _nested: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Only fields that can hold models need converting; the rest are handed over as they are.
        cls._nested = tuple(
            name for name, field in cls.model_fields.items() if _holds_model(field.annotation)
        )

    def to_avro(self) -> dict[str, Any]:
        """Return the payload as the dict fastavro writes (treat it as read-only).

        Equal to ``model_dump()`` (nested models become dicts), without its cost for flat fields.
        """
        if not self._nested:
            return self.__dict__
        datum = dict(self.__dict__)
        for name in self._nested:
            datum[name] = _plain(datum[name])
        return datum

    @classmethod
    def from_avro(cls, datum: Mapping[str, Any]) -> Self:
        """Build the model from a dict read by fastavro with this model's schema as reader.

        (pydantic's validator stays here: it is faster than any checked construction in Python.)

        Raises:
            EventValidationError: The dict does not fit the model.
        """
        try:
            return cls.__pydantic_validator__.validate_python(datum)  # type: ignore[no-any-return]
        except ValidationError as exc:
            raise EventValidationError(
                f"{cls.event_type}: {exc.errors(include_url=False)}", event_type=cls.event_type
            ) from exc


_FLAT: dict[type[BaseModel], bool] = {}  # model class -> holds no models


def _plain(value: Any) -> Any:
    """``value`` with every model in it turned into its field dict (recursively)."""
    if isinstance(value, BaseModel):
        flat = _FLAT.get(type(value))
        if flat is None:
            flat = _FLAT[type(value)] = not any(
                _holds_model(field.annotation) for field in type(value).model_fields.values()
            )
        if flat:  # handed over as it is, like a flat event's own field dict
            return value.__dict__
        return {name: _plain(item) for name, item in value.__dict__.items()}
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


@cache
def _schema_ref(model: type[EventModel]) -> SchemaRef:
    return SchemaRef(model.event_type, model.schema_version, model.avro_schema)


def models_by_type(models: Iterable[type[EventModel]]) -> dict[str, type[EventModel]]:
    """Index models by ``event_type``, refusing two models for one type.

    Raises:
        ValueError: Two models claim the same event type.
    """
    index: dict[str, type[EventModel]] = {}
    for model in models:
        if model.event_type in index and index[model.event_type] is not model:
            raise ValueError(f"two models for {model.event_type}: {index[model.event_type]!r} and {model!r}")
        index[model.event_type] = model
    return index
