"""Request parameters: what each one allows, validation, and the chat-completions body built from them.

A parameter the user has not set is None here and absent from the request: many models and relays reject one
or another, so we send only what was asked for. Adding a parameter is one entry in PARAMETERS plus a field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

ResponseFormat = Literal["text", "json_object"]


@dataclass(frozen=True)
class NumberSpec:
    """A numeric parameter: its bounds and the one-line help shown next to its widget."""

    name: str
    kind: Literal["float", "int"]
    minimum: float
    maximum: float | None
    step: float
    help: str


@dataclass(frozen=True)
class ChoiceSpec:
    """A parameter picked from a fixed list of values."""

    name: str
    options: tuple[str, ...]
    help: str


PARAMETERS: tuple[NumberSpec | ChoiceSpec, ...] = (
    NumberSpec(
        "temperature", "float", 0.0, 2.0, 0.1,
        "Sampling temperature, 0–2. Higher is more random, lower more focused. Change this or top_p, not both.",
    ),
    NumberSpec(
        "top_p", "float", 0.0, 1.0, 0.05,
        "Nucleus sampling, 0–1: only tokens within the top_p probability mass are considered.",
    ),
    NumberSpec(
        "max_tokens", "int", 1, None, 1,
        "The most tokens the reply may have. The reply is cut (finish_reason: length) when it reaches it.",
    ),
    ChoiceSpec(
        "response_format", ("text", "json_object"),
        "json_object asks for valid JSON; the prompt must mention JSON or many models refuse.",
    ),
)
SPECS = {spec.name: spec for spec in PARAMETERS}


class ParameterError(ValueError):
    """A parameter value that may not be sent; `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ChatParams:
    """The request parameters of a conversation; None means "not set, not sent"."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    response_format: ResponseFormat | None = None
    stream: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChatParams:
        """Validate stored or imported values exactly as typed ones; unknown keys are ignored."""
        data = dict(data or {})
        values: dict[str, Any] = {}
        for name, spec in SPECS.items():
            if data.get(name) is not None:
                values[name] = validate_value(spec, data[name])
        if "stream" in data:
            if not isinstance(data["stream"], bool):
                raise ParameterError("stream", "must be true or false.")
            values["stream"] = data["stream"]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The set values only, in a form that from_dict reads back."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def notes(self) -> list[str]:
        """Advice about combinations that are allowed but often a mistake."""
        notes = []
        if self.temperature is not None and self.top_p is not None:
            notes.append(
                "Both temperature and top_p are set: the API recommends changing one, "
                "and some models behind relays reject the pair."
            )
        return notes


def validate_value(spec: NumberSpec | ChoiceSpec, value: Any) -> Any:
    """The value, normalised, or ParameterError saying why it cannot be sent."""
    if isinstance(spec, ChoiceSpec):
        if value not in spec.options:
            raise ParameterError(spec.name, f"must be one of {', '.join(spec.options)}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(spec.name, "must be a number.")
    if not math.isfinite(value):
        raise ParameterError(spec.name, "must be a finite number.")
    if spec.kind == "int":
        if value != int(value):
            raise ParameterError(spec.name, "must be a whole number.")
        value = int(value)
    else:
        value = float(value)
    if value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
        upper = "" if spec.maximum is None else f" and {spec.maximum:g}"
        bound = f"between {spec.minimum:g}{upper}" if upper else f"at least {spec.minimum:g}"
        raise ParameterError(spec.name, f"must be {bound}.")
    return value


def build_chat_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: ChatParams,
    *,
    include_usage: bool = True,
) -> dict[str, Any]:
    """The request body for POST /chat/completions, holding only the parameters that are set."""
    if not model.strip():
        raise ParameterError("model", "choose or type a model name.")
    body: dict[str, Any] = {"model": model.strip(), "messages": [dict(m) for m in messages]}
    for name in SPECS:
        value = getattr(params, name)
        if value is None:
            continue
        body[name] = {"type": value} if name == "response_format" else value
    if params.stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def without_stream_usage(body: Mapping[str, Any]) -> dict[str, Any]:
    """The same body without stream_options, for endpoints that reject the field."""
    return {key: value for key, value in body.items() if key != "stream_options"}
