"""The sidebar: conversations, and the settings a conversation is sent with."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from services.endpoints import EndpointView
from services.presets import PresetView
from services.rendering import escape_markdown
from services.params import (
    EXAMPLE_TOOLS,
    HELP,
    SPECS,
    TOOL_CHOICE_KEYWORDS,
    ChatParams,
    NumberSpec,
    FIELD_LABELS,
    ParameterError,
    field_message,
    from_form,
    parse_json_text,
    parse_tools,
    tool_names,
    with_example_tool,
)
from ui import state
from ui.resources import model_ids

def endpoint_and_model(user_id: int, views: list[EndpointView]) -> EndpointView | None:
    by_id = {view.id: view for view in views}
    if state.value(state.ENDPOINT) not in by_id:
        state.set_value(state.ENDPOINT, views[0].id)
    endpoint_id = st.selectbox(
        "Endpoint", list(by_id), format_func=lambda i: by_id[i].name, key=state.ENDPOINT,
        help="Manage endpoints on the Endpoints page.",
    )
    view = by_id[endpoint_id]
    models, problem = model_ids(user_id, view.id, view.version)
    current = state.value(state.MODEL)
    if not current:
        current = view.default_model or (models[0] if models else None)
        state.set_value(state.MODEL, current)
    options = sorted(set(models) | ({current} if current else set()))
    picker, refresh = st.columns([6, 1], vertical_alignment="bottom", gap="small")
    picker.selectbox(
        "Model", options, key=state.MODEL, accept_new_options=True, placeholder="Type a model name",
        help="Listed from GET /models; type any other name and press Enter.",
    )
    if refresh.button("", key="refresh_models", type="tertiary", icon=":material/refresh:", help="Refresh the models list"):
        model_ids.clear()
        st.rerun()
    if problem:
        st.caption(f"Could not list models: {escape_markdown(problem)} Type the model name instead.")
    elif not models:
        st.caption("The endpoint lists no models: type the model name.")
    return view


# The sidebar's sections and the fields in each, in order.
SECTIONS = {
    "Sampling": ("temperature", "top_p", "n", "seed"),
    "Length and stop": ("max_tokens", "stop"),
    "Penalties and bias": ("presence_penalty", "frequency_penalty", "logit_bias"),
    "Output": ("stream", "include_usage", "response_format", "json_schema"),
    "Tools": ("tools", "tool_choice"),
    "Advanced": ("user", "extra_body"),
}


def refuse(errors: dict[str, str]) -> str:
    """Open the section of each invalid field (from the next run on); returns the refusal, which names them."""
    where = []
    for section, names in SECTIONS.items():
        invalid = [FIELD_LABELS.get(field, field) for field in names if field in errors]
        if invalid:
            state.open_section(section)
            where.append(f"{' and '.join(invalid)} (in {section})")
    return f"Not sent: {', '.join(where) or 'a parameter in the sidebar'} is not valid; fix it and send again."


def settings_panel() -> ChatParams | None:
    """System prompt and parameters; returns them validated, or None after showing, next to each field, why not."""
    st.text_area("System prompt", key=state.SYSTEM_PROMPT, height=100, placeholder="None set (optional): instructions the model reads before every message")
    form = state.form_values()
    # Checked before the fields are drawn (the values are already in the session), so each problem is written
    # right under its field, and a field without one costs no placeholder.
    params, errors = from_form(form)
    remarks = [(field, field_message(field, reason), st.error) for field, reason in errors.items()]
    remarks += [(field, note, st.info) for field, note in (params.notes() if params else [])]

    placed: set[str] = set()

    def remark(field: str) -> None:
        placed.add(field)
        for name, text, show in remarks:
            if name == field:
                show(text)


    def section(title: str, expanded: bool = False):  # keyed, so that a refusal can open it
        return st.expander(title, expanded=expanded, key=state.section_key(title), on_change="rerun")

    with section("Sampling", expanded=True):
        for name in ("temperature", "top_p", "n", "seed"):
            _number(SPECS[name])
            remark(name)
    with section("Length and stop"):
        _number(SPECS["max_tokens"])
        remark("max_tokens")
        st.text_area("stop", key=state.param_key("stop"), height=80, help=HELP["stop"], placeholder="one sequence per line")
        remark("stop")
    with section("Penalties and bias"):
        for name in ("presence_penalty", "frequency_penalty"):
            _number(SPECS[name])
            remark(name)
        st.text_area("logit_bias", key=state.param_key("logit_bias"), height=80, help=HELP["logit_bias"], placeholder='{"50256": -100}')
        remark("logit_bias")
    with section("Output", expanded=form["response_format"] is not None):
        st.toggle("stream", key=state.param_key("stream"), help="Show the answer token by token as it is generated.")
        st.toggle("include usage", key=state.param_key("include_usage"), help=HELP["include_usage"], disabled=not form["stream"])
        spec = SPECS["response_format"]
        st.selectbox("response_format", spec.options, index=None, key=state.param_key("response_format"), placeholder="not set", help=spec.help)
        remark("response_format")
        if form["response_format"] == "json_schema":
            st.text_input("schema name", key=state.param_key("json_schema_name"))
            st.checkbox("strict", key=state.param_key("json_schema_strict"))
            st.text_area("schema", key=state.param_key("json_schema"), height=160, help=HELP["json_schema"],
                         placeholder='{"type": "object", "properties": {…}}')
        remark("json_schema")
    with section("Tools", expanded=bool(form["tools"])):
        st.text_area("tools", key=state.param_key("tools"), height=160, help=HELP["tools"], placeholder="[]")
        remark("tools")
        notice = state.take_notice("tools")
        if notice:
            st.warning(notice)
        left, right = st.columns(2)
        for column, name in zip((left, right), EXAMPLE_TOOLS):
            column.button(f"+ {name}", key=f"insert_tool_{name}", on_click=_insert_tool, args=(name,), type="tertiary")
        names = _tool_names_or_empty(form["tools"])
        st.selectbox("tool_choice", [*TOOL_CHOICE_KEYWORDS, *names], index=None, key=state.param_key("tool_choice"),
                     placeholder="not set", help=HELP["tool_choice"], disabled=not names)
        remark("tool_choice")
    with section("Advanced"):
        st.text_input("user", key=state.param_key("user"), help=HELP["user"])
        remark("user")
        st.text_area("extra body", key=state.param_key("extra_body"), height=100, help=HELP["extra_body"],
                     placeholder='{"top_k": 40}')
        remark("extra_body")

    for field, text, show in remarks:
        if field not in placed:
            show(text)
    st.caption("Parameters left empty are not set: they are left out of the request.")
    return params


def _number(spec: NumberSpec) -> None:
    is_int = spec.kind == "int"
    # No min/max: the browser would refuse an out-of-range number with a bare "!" and never send it, so no message
    # could say what is allowed. The value is checked with the others and explained under the field.
    st.number_input(
        spec.name,
        step=int(spec.step) if is_int else spec.step,
        value=None,  # lets the field be cleared, i.e. unset
        key=state.param_key(spec.name),
        placeholder="not set",
        help=spec.help,
        format=None if is_int else "%.2f",
    )


def _tool_names_or_empty(text: str) -> list[str]:
    try:
        return tool_names(parse_tools(parse_json_text("tools", text)))
    except (ParameterError, TypeError):
        return []


def _insert_tool(name: str) -> None:
    key = state.param_key("tools")
    try:
        state.set_value(key, with_example_tool(state.value(key) or "", name))
    except ParameterError:
        state.notify("tools", "Fix the tools JSON first, then insert the example.")


def presets_panel(
    presets: list[PresetView], on_save: Callable[[str], str | None], on_delete: Callable[[int], None]
) -> None:
    """Apply a preset to the settings below, save the current ones under a name, or delete one of yours."""
    by_name = {preset.name: preset for preset in presets}
    pick, save = st.columns([4, 1], vertical_alignment="bottom", gap="small")
    pick.selectbox("Preset", list(by_name), index=None, key=state.PRESET_PICK, placeholder="Apply a preset…",
                   on_change=_apply_preset, args=(by_name,), label_visibility="collapsed",
                   help="Sets the parameters (and the system prompt, if the preset has one).")
    with save.popover("", icon=":material/bookmark_add:", help="Save settings as a preset"):
        name = st.text_input("Preset name", key="preset_name", max_chars=100)
        if st.button("Save preset", key="save_preset", type="primary"):
            problem = on_save(name)
            if problem:
                st.error(problem)
            else:  # run again so that the list above already offers the new preset
                state.notify("preset", f"Saved “{name.strip()}”.")
                st.rerun()
        saved = state.take_notice("preset")
        if saved:
            st.success(saved)
        own = [preset for preset in presets if not preset.builtin]
        if own:
            doomed = st.selectbox("Delete one of your presets", own, index=None, format_func=lambda p: p.name,
                                  key="preset_delete_pick", placeholder="Choose a preset")
            if st.button("Delete preset", key="delete_preset", icon=":material/delete:", disabled=doomed is None):
                on_delete(doomed.id)
                state.notify("preset", f"Deleted “{doomed.name}”.")
                st.rerun()


def _apply_preset(by_name: dict[str, PresetView]) -> None:
    preset = by_name.get(state.value(state.PRESET_PICK))
    if preset is not None:
        state.apply_preset(preset.system_prompt, preset.params)
