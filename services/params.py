"""Request parameters: what each one allows, validation, and the chat-completions body built from them.

A parameter the user has not set is None here and absent from the request: many models and relays reject one
or another, so we send only what was asked for. Values typed in the sidebar, stored in the database or imported
all pass through the same validation (ChatParams.from_dict). Adding a numeric or choice parameter is one entry in
PARAMETERS plus a field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from services import json_limits

ResponseFormat = Literal["text", "json_object", "json_schema"]
MaxTokensField = Literal["max_tokens", "max_completion_tokens"]
TOOL_CHOICE_KEYWORDS = ("none", "auto", "required")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_STOP_SEQUENCES = 4
MAX_LOGIT_BIAS_ENTRIES = 300  # the API refuses more ("logit_bias: too many entries, max 300")
MAX_TOOLS = 128  # the API's published limit on functions per request
MAX_TOKEN_ID_DIGITS = 10  # token ids are below 2**32: a longer key is not a token
JSON_FIELDS = ("logit_bias", "json_schema", "tools", "extra_body")
RESERVED_EXTRA_KEYS = frozenset({"model", "messages"})
INT64 = 2**63


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
    NumberSpec("n", "int", 1, 8, 1, "How many alternative replies to generate (1–8); you pick which one continues."),
    NumberSpec(
        "max_tokens", "int", 1, None, 1,
        "The most tokens the reply may have. The reply is cut (finish_reason: length) when it reaches it.",
    ),
    NumberSpec(
        "presence_penalty", "float", -2.0, 2.0, 0.1,
        "−2 to 2. Positive values penalise tokens that already appeared, nudging towards new topics.",
    ),
    NumberSpec(
        "frequency_penalty", "float", -2.0, 2.0, 0.1,
        "−2 to 2. Positive values penalise tokens by how often they appeared, reducing repetition.",
    ),
    NumberSpec(
        "seed", "int", -INT64, INT64 - 1, 1,
        "An integer: repeated requests with the same seed and parameters should return the same result (best effort).",
    ),
    ChoiceSpec(
        "response_format", ("text", "json_object", "json_schema"),
        "json_object asks for valid JSON (the prompt must mention JSON); json_schema asks for JSON matching a schema.",
    ),
)
SPECS = {spec.name: spec for spec in PARAMETERS}

HELP = {
    "stop": "Up to 4 sequences, one per line; generation stops before any of them. Write \\n for a line break.",
    "logit_bias": 'A JSON object of token id → bias from −100 to 100, e.g. {"50256": -100} bans that token.',
    "user": "A stable id for the end user, which helps the provider monitor abuse.",
    "tools": "A JSON list of function tools the model may call.",
    "tool_choice": "none: never call a tool; auto: the model decides; required: must call one; or a named function.",
    "json_schema": "The JSON Schema the reply must match.",
    "extra_body": 'A JSON object merged into the request, for vendor parameters: {"top_k": 40, "reasoning_effort": "low"}.',
    "include_usage": "Ask for token usage at the end of a stream (stream_options.include_usage).",
}


class ParameterError(ValueError):
    """A parameter value that may not be sent; `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class JsonSchemaFormat:
    """response_format json_schema: a name, the strict flag and the schema."""

    name: str
    schema: dict[str, Any]
    strict: bool = True

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "strict": self.strict, "schema": self.schema}


@dataclass(frozen=True)
class ChatParams:
    """The request parameters of a conversation; None means "not set, not sent"."""

    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    response_format: ResponseFormat | None = None
    json_schema: JsonSchemaFormat | None = None
    stop: tuple[str, ...] | None = None
    logit_bias: dict[str, int] | None = None
    user: str | None = None
    tools: tuple[dict[str, Any], ...] | None = None
    tool_choice: str | None = None
    extra_body: dict[str, Any] | None = None
    stream: bool = True
    include_usage: bool = True

    @classmethod
    def lenient(cls, data: Mapping[str, Any] | None) -> ChatParams:
        """Stored parameters with each value that no longer validates left out (so not sent), the others kept."""
        kept = dict(data or {})
        while True:
            try:
                return cls.from_dict(kept)
            except ParameterError as exc:
                # The fault may lie with the value a field depends on (response_format json_schema, no schema).
                culprits = [name for name in (exc.field, *DEPENDENCIES.get(exc.field, ())) if name in kept]
                if not culprits:
                    return cls()
                kept.pop(culprits[0])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChatParams:
        """Validate stored, imported or typed values; unknown keys are ignored. Raises ParameterError."""
        data = dict(data or {})
        for name in JSON_FIELDS:  # before any parsing: a value nested 100,000 deep would exhaust the stack
            if data.get(name) is not None:
                try:
                    json_limits.check(data[name])
                except json_limits.JsonLimitError as exc:
                    raise ParameterError(name, str(exc)) from None
        values: dict[str, Any] = {}
        for name, spec in SPECS.items():
            if data.get(name) is not None:
                values[name] = validate_value(spec, data[name])
        for name in ("stream", "include_usage"):
            if name in data:
                if not isinstance(data[name], bool):
                    raise ParameterError(name, "must be true or false.")
                values[name] = data[name]
        if data.get("stop") is not None:
            values["stop"] = parse_stop(data["stop"])
        if data.get("logit_bias") is not None:
            values["logit_bias"] = parse_logit_bias(data["logit_bias"])
        if data.get("user") is not None:
            values["user"] = parse_user(data["user"])
        if data.get("json_schema") is not None:
            values["json_schema"] = parse_json_schema_format(data["json_schema"])
        if data.get("tools") is not None:
            values["tools"] = parse_tools(data["tools"])
        if data.get("tool_choice") is not None:
            values["tool_choice"] = parse_tool_choice(data["tool_choice"], values.get("tools"))
        if data.get("extra_body") is not None:
            values["extra_body"] = parse_extra_body(data["extra_body"])
        if values.get("response_format") == "json_schema" and "json_schema" not in values:
            raise ParameterError("json_schema", "response_format json_schema needs a schema: enter one below it.")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The set values only, as JSON-ready data that from_dict reads back."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, JsonSchemaFormat):
                value = value.to_api()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def notes(self) -> list[tuple[str, str]]:
        """(field, advice) for combinations that are allowed but often a mistake."""
        notes = []
        if self.temperature is not None and self.top_p is not None:
            notes.append((
                "top_p",
                "Both temperature and top_p are set: the API recommends changing one, "
                "and some models behind relays reject the pair.",
            ))
        if self.response_format == "json_object":
            notes.append(("response_format", "json_object: say “JSON” in the prompt or system prompt, or many models refuse."))
        return notes


def validate_value(spec: NumberSpec | ChoiceSpec, value: Any) -> Any:
    """The value, normalised, or ParameterError saying why it cannot be sent."""
    if isinstance(spec, ChoiceSpec):
        if value not in spec.options:
            raise ParameterError(spec.name, f"must be one of {', '.join(spec.options)}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(spec.name, "must be a number.")
    # Only floats can be inf/nan; a huge int (from imported JSON) would overflow math.isfinite and float().
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(spec.name, "must be a finite number.")
    if spec.kind == "int" and value != int(value):
        raise ParameterError(spec.name, "must be a whole number.")
    if value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
        upper = "" if spec.maximum is None else f" and {spec.maximum:g}"
        bound = f"between {spec.minimum:g}{upper}" if upper else f"at least {spec.minimum:g}"
        raise ParameterError(spec.name, f"must be {bound}.")
    if spec.kind == "int" and not -INT64 <= value < INT64:  # max_tokens has no upper bound but int64's
        raise ParameterError(spec.name, "must be a whole number that fits in 64 bits.")
    return int(value) if spec.kind == "int" else float(value)


def parse_json_text(field: str, text: str) -> Any:
    """A JSON editor's content; empty means not set. Raises ParameterError with the line and column."""
    if not text or not text.strip():
        return None
    try:
        return json_limits.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(field, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    except json_limits.JsonLimitError as exc:
        raise ParameterError(field, str(exc)) from None


def parse_stop_lines(text: str) -> list[str] | None:
    """Stop sequences typed one per line, with \\n and \\t escapes for the characters a line cannot hold."""
    lines = [line for line in (text or "").splitlines() if line != ""]
    if not lines:
        return None
    return [line.replace("\\n", "\n").replace("\\t", "\t") for line in lines]


def format_stop_lines(stop: Sequence[str] | None) -> str:
    return "\n".join(s.replace("\n", "\\n").replace("\t", "\\t") for s in stop or ())


def parse_stop(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) for s in items):
        raise ParameterError("stop", "must be a list of strings.")
    if not items or any(s == "" for s in items):
        raise ParameterError("stop", "a stop sequence cannot be empty.")
    if len(items) > MAX_STOP_SEQUENCES:
        raise ParameterError("stop", f"at most {MAX_STOP_SEQUENCES} sequences are allowed (got {len(items)}).")
    return tuple(items)


def parse_logit_bias(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ParameterError("logit_bias", "must be a JSON object of token id → bias, e.g. {\"50256\": -100}.")
    if len(value) > MAX_LOGIT_BIAS_ENTRIES:
        raise ParameterError("logit_bias", f"at most {MAX_LOGIT_BIAS_ENTRIES} tokens are allowed (got {len(value):,}).")
    bias: dict[str, int] = {}
    for key, raw in value.items():
        # isascii: str.isdigit() also accepts "²" and other digits that int() cannot read.
        if not isinstance(key, str) or not (key.strip().isascii() and key.strip().isdigit()) or (
            len(key.strip()) > MAX_TOKEN_ID_DIGITS
        ):
            raise ParameterError("logit_bias", f"key {key!r} is not a token id (a whole number).")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ParameterError("logit_bias", f"the bias of token {key} must be a number.")
        if isinstance(raw, float) and (not math.isfinite(raw) or raw != int(raw)):
            raise ParameterError("logit_bias", f"the bias of token {key} must be a whole number from −100 to 100.")
        if not -100 <= raw <= 100:
            raise ParameterError("logit_bias", f"the bias of token {key} is {raw}: it must be from −100 to 100.")
        bias[str(int(key.strip()))] = int(raw)
    return bias


def parse_user(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ParameterError("user", "must be text.")
    return value.strip() or None


def _check_schema(field: str, schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise ParameterError(field, "the schema must be a JSON object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ParameterError(field, f"is not a valid JSON Schema at {where}: {exc.message}") from None
    return schema


def parse_json_schema_format(value: Any) -> JsonSchemaFormat:
    if not isinstance(value, dict):
        raise ParameterError("json_schema", "must be an object with name, strict and schema.")
    name = value.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ParameterError("json_schema", "the name must be 1–64 letters, digits, _ or -.")
    strict = value.get("strict", True)
    if not isinstance(strict, bool):
        raise ParameterError("json_schema", "strict must be true or false.")
    return JsonSchemaFormat(name, _check_schema("json_schema", value.get("schema")), strict)


_FUNCTION_KEYS = {"name", "description", "parameters", "strict"}


def parse_tools(value: Any) -> tuple[dict[str, Any], ...]:
    """A list of function tools, each {"type": "function", "function": {"name", "description"?, "parameters"?}}."""
    if not isinstance(value, list):
        raise ParameterError("tools", "must be a JSON list of tools.")
    if len(value) > MAX_TOOLS:
        raise ParameterError("tools", f"at most {MAX_TOOLS} tools are allowed (got {len(value)}).")
    seen: set[str] = set()
    tools = []
    for index, tool in enumerate(value):
        where = f"tool {index + 1}"
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
            raise ParameterError("tools", f'{where} must be {{"type": "function", "function": {{…}}}}.')
        if set(tool) - {"type", "function"}:
            raise ParameterError("tools", f"{where} has unknown keys: {', '.join(sorted(set(tool) - {'type', 'function'}))}.")
        function = tool["function"]
        unknown = set(function) - _FUNCTION_KEYS
        if unknown:
            raise ParameterError("tools", f"{where}: function has unknown keys: {', '.join(sorted(unknown))}.")
        name = function.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ParameterError("tools", f"{where}: the name must be 1–64 letters, digits, _ or - (got {name!r}).")
        if name in seen:
            raise ParameterError("tools", f"{where}: the name {name!r} is used twice.")
        seen.add(name)
        if "description" in function and not isinstance(function["description"], str):
            raise ParameterError("tools", f"{where}: description must be text.")
        if "strict" in function and not isinstance(function["strict"], bool):
            raise ParameterError("tools", f"{where}: strict must be true or false.")
        if "parameters" in function:
            parameters = _check_schema("tools", function["parameters"])
            if parameters.get("type", "object") != "object":
                raise ParameterError("tools", f"{where}: parameters must be a JSON Schema of type object.")
        tools.append({"type": "function", "function": dict(function)})
    return tuple(tools)


def tool_names(tools: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return [tool["function"]["name"] for tool in tools or ()]


def parse_tool_choice(value: Any, tools: Sequence[Mapping[str, Any]] | None) -> str:
    """none / auto / required, or the name of one of the tools."""
    if isinstance(value, dict):  # the API's own shape, e.g. from an import
        value = (value.get("function") or {}).get("name")
    if not isinstance(value, str) or not value:
        raise ParameterError("tool_choice", "must be none, auto, required or a function name.")
    if not tools:
        raise ParameterError("tool_choice", "only applies when tools are set.")
    if value not in TOOL_CHOICE_KEYWORDS and value not in tool_names(tools):
        raise ParameterError("tool_choice", f"there is no tool named {value!r}.")
    return value


def parse_extra_body(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParameterError("extra_body", "must be a JSON object.")
    reserved = RESERVED_EXTRA_KEYS & set(value)
    if reserved:
        raise ParameterError("extra_body", f"cannot set {', '.join(sorted(reserved))}: use the chat itself for that.")
    _check_known_in_extra(value)
    return dict(value)


def _check_known_in_extra(value: Mapping[str, Any]) -> None:
    """A parameter of the sidebar set through the extra body keeps the API's bounds (temperature 0–2…)."""
    checks: dict[str, Any] = {
        **{name: (lambda v, spec=spec: validate_value(spec, v)) for name, spec in SPECS.items()
           if isinstance(spec, NumberSpec)},
        "max_completion_tokens": lambda v: validate_value(SPECS["max_tokens"], v),
        "top_logprobs": lambda v: validate_value(NumberSpec("top_logprobs", "int", 0, 20, 1, ""), v),
        "stop": parse_stop, "logit_bias": parse_logit_bias, "tools": parse_tools,
    }
    for name, check in checks.items():
        if value.get(name) is not None:
            try:
                check(value[name])
            except ParameterError as exc:
                raise ParameterError("extra_body", f"{name} {exc.reason}") from None


def build_chat_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: ChatParams,
    *,
    include_usage: bool = True,
    max_tokens_field: MaxTokensField = "max_tokens",
) -> dict[str, Any]:
    """The request body for POST /chat/completions, holding only the parameters that are set."""
    if not model.strip():
        raise ParameterError("model", "choose or type a model name.")
    body: dict[str, Any] = {"model": model.strip(), "messages": [dict(m) for m in messages]}
    for name in ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "seed", "user"):
        if getattr(params, name) is not None:
            body[name] = getattr(params, name)
    if params.max_tokens is not None:
        body[max_tokens_field] = params.max_tokens
    if params.stop is not None:
        body["stop"] = list(params.stop)
    if params.logit_bias is not None:
        body["logit_bias"] = dict(params.logit_bias)
    if params.response_format == "json_schema" and params.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": params.json_schema.to_api()}
    elif params.response_format is not None:
        body["response_format"] = {"type": params.response_format}
    if params.tools:
        body["tools"] = [dict(tool) for tool in params.tools]
        if params.tool_choice in TOOL_CHOICE_KEYWORDS:
            body["tool_choice"] = params.tool_choice
        elif params.tool_choice:
            body["tool_choice"] = {"type": "function", "function": {"name": params.tool_choice}}
    if params.stream:
        body["stream"] = True
        if include_usage and params.include_usage:
            body["stream_options"] = {"include_usage": True}
    if params.extra_body:
        body.update(params.extra_body)
        if body.get("stream") is not True:  # extra body turned streaming off: stream_options would be refused
            body.pop("stream_options", None)
    return body


def without_stream_usage(body: Mapping[str, Any]) -> dict[str, Any]:
    """The same body without stream_options, for endpoints that reject the field."""
    return {key: value for key, value in body.items() if key != "stream_options"}


EXAMPLE_TOOLS: dict[str, dict[str, Any]] = {
    "get_weather": {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    "search": {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web and return the top results.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "max_results": {"type": "integer", "minimum": 1, "maximum": 10},
                },
                "required": ["query"],
            },
        },
    },
}


def with_example_tool(text: str, name: str) -> str:
    """The tools JSON typed so far with the example tool `name` appended (unless a tool of that name is there).
    Raises ParameterError when the text is not a JSON array."""
    tools = parse_json_text("tools", text) or []
    if not isinstance(tools, list):
        raise ParameterError("tools", "must be a JSON array of tools.")
    try:
        present = tool_names(parse_tools(tools))
    except (ParameterError, TypeError):  # a half-typed tool: add the example all the same
        present = []
    if name not in present:
        tools.append(EXAMPLE_TOOLS[name])
    return json.dumps(tools, indent=2)


# --- the sidebar form: what the widgets hold, to and from ChatParams --------------------------------------

FORM_DEFAULTS: dict[str, Any] = {
    **{spec.name: None for spec in PARAMETERS},
    "stream": True,
    "include_usage": True,
    "stop": "",
    "logit_bias": "",
    "user": "",
    "json_schema_name": "reply",
    "json_schema_strict": True,
    "json_schema": "",
    "tools": "",
    "tool_choice": None,
    "extra_body": "",
}


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


def to_form(params: ChatParams) -> dict[str, Any]:
    """The widget values that show `params` (JSON fields as editable text)."""
    form = dict(FORM_DEFAULTS)
    for spec in PARAMETERS:
        form[spec.name] = getattr(params, spec.name)
    form.update(
        stream=params.stream,
        include_usage=params.include_usage,
        stop=format_stop_lines(params.stop),
        logit_bias=_json_text(params.logit_bias),
        user=params.user or "",
        tools=_json_text(list(params.tools) if params.tools else None),
        tool_choice=params.tool_choice,
        extra_body=_json_text(params.extra_body),
    )
    if params.json_schema is not None:
        form.update(
            json_schema_name=params.json_schema.name,
            json_schema_strict=params.json_schema.strict,
            json_schema=_json_text(params.json_schema.schema),
        )
    return form


# The sidebar's label of a field, where it differs from the API's name.
FIELD_LABELS = {"extra_body": "extra body", "json_schema": "schema"}


def field_message(field: str, reason: str) -> str:
    """A problem as shown under its field: the field's label first, so it reads alone (and in a summary)."""
    return f"{FIELD_LABELS.get(field, field)}: {reason}"


# Fields whose validity depends on another field's value.
DEPENDENCIES = {"tool_choice": ("tools",), "json_schema": ("response_format",), "response_format": ("json_schema",)}


def from_form(form: Mapping[str, Any]) -> tuple[ChatParams | None, dict[str, str]]:
    """Validate what the widgets hold: the parameters, or every problem keyed by the field it belongs to."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {name: form.get(name) for name in SPECS}
    data["stream"] = bool(form.get("stream", True))
    data["include_usage"] = bool(form.get("include_usage", True))
    data["stop"] = parse_stop_lines(form.get("stop") or "")
    data["user"] = form.get("user") or None
    data["tool_choice"] = form.get("tool_choice") or None
    for field in ("logit_bias", "tools", "extra_body"):
        try:
            data[field] = parse_json_text(field, form.get(field) or "")
        except ParameterError as exc:
            errors[field] = exc.reason
    if data.get("response_format") == "json_schema":
        try:
            schema = parse_json_text("json_schema", form.get("json_schema") or "")
            if schema is not None:
                data["json_schema"] = {
                    "name": (form.get("json_schema_name") or "").strip(),
                    "strict": bool(form.get("json_schema_strict", True)),
                    "schema": schema,
                }
        except ParameterError as exc:
            errors["json_schema"] = exc.reason
    # Check each field alone so that every problem shows at once, each next to its own field.
    for field, value in data.items():
        if field in errors or value is None:
            continue
        alone = {field: value, **{d: data.get(d) for d in DEPENDENCIES.get(field, ()) if d not in errors}}
        try:
            ChatParams.from_dict(alone)
        except ParameterError as exc:
            errors.setdefault(exc.field, exc.reason)
    if errors:
        return None, errors
    try:
        return ChatParams.from_dict(data), {}
    except ParameterError as exc:
        return None, {exc.field: exc.reason}
