"""Server settings from the environment and secrets.toml, and turning pasted URLs into an API base."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.engine import Database
from services.config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_FIRST_TOKEN_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    BaseUrlError,
    ReplyLimits,
    Timeouts,
    chat_url,
    load_settings,
    models_url,
    normalize_base_url,
)
from services.extra_headers import format_extra_headers, parse_extra_headers

# --- load_settings -----------------------------------------------------------------------------------------


def test_environment_wins_over_secrets() -> None:
    settings = load_settings(
        env={"OPENAI_BASE_URL": " https://env.example/v1 ", "OPENAI_API_KEY": ""},
        secrets={"OPENAI_BASE_URL": "https://secrets.example/v1", "OPENAI_API_KEY": "sk-secret", "OPENAI_MODEL": "m"},
    )
    assert settings.base_url == "https://env.example/v1"
    assert settings.api_key == "sk-secret"  # a blank variable (as compose files pass unset ones) does not hide it
    assert settings.model == "m"


def test_defaults_keep_everything_in_the_data_folder() -> None:
    settings = load_settings(env={}, secrets=None)
    assert (settings.base_url, settings.api_key, settings.model, settings.secret_key) == (None, None, None, None)
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/relaychat.db"
    assert settings.timeouts == Timeouts(DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_TOKEN_TIMEOUT, DEFAULT_IDLE_TIMEOUT)


def test_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env={"RELAYCHAT_DATA_DIR": str(tmp_path / "state")})
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            session.connection().exec_driver_sql("CREATE TABLE probe (x)")
    finally:
        database.dispose()
    assert (tmp_path / "state" / "relaychat.db").is_file()


def test_database_url_and_secret_key_are_read() -> None:
    settings = load_settings(env={"DATABASE_URL": "postgresql+psycopg://db/chat"}, secrets={"RELAYCHAT_SECRET_KEY": "s"})
    assert (settings.database_url, settings.secret_key) == ("postgresql+psycopg://db/chat", "s")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        (30, 30.0),  # secrets.toml gives numbers, not strings
        ("abc", DEFAULT_IDLE_TIMEOUT),
        ("0", DEFAULT_IDLE_TIMEOUT),
        ("-3", DEFAULT_IDLE_TIMEOUT),
        ("nan", DEFAULT_IDLE_TIMEOUT),
        ("inf", DEFAULT_IDLE_TIMEOUT),
        ("", DEFAULT_IDLE_TIMEOUT),
    ],
)
def test_timeouts_fall_back_to_the_default_on_bad_values(raw: object, expected: float) -> None:
    settings = load_settings(env={}, secrets={"RELAYCHAT_IDLE_TIMEOUT": raw})
    assert settings.timeouts.idle == expected


def test_reply_limits_are_generous_by_default_and_configurable() -> None:
    assert load_settings(env={}).reply_limits == ReplyLimits(max_bytes=4 * 1024 * 1024, max_tokens=200_000,
                                                              deadline=1800.0)
    env = {"RELAYCHAT_MAX_REPLY_MB": "0.5", "RELAYCHAT_MAX_REPLY_TOKENS": "1000", "RELAYCHAT_REPLY_DEADLINE": "90"}
    assert load_settings(env=env).reply_limits == ReplyLimits(max_bytes=512 * 1024, max_tokens=1000, deadline=90.0)


@pytest.mark.parametrize("raw", ["", "0", "-3", "lots", "inf", "nan"])
def test_reply_limits_fall_back_to_the_default_on_bad_values(raw: str) -> None:
    env = {"RELAYCHAT_MAX_REPLY_MB": raw, "RELAYCHAT_MAX_REPLY_TOKENS": raw, "RELAYCHAT_REPLY_DEADLINE": raw}
    assert load_settings(env=env).reply_limits == ReplyLimits()


def test_each_timeout_has_its_own_variable() -> None:
    env = {"RELAYCHAT_CONNECT_TIMEOUT": "1", "RELAYCHAT_FIRST_TOKEN_TIMEOUT": "2", "RELAYCHAT_IDLE_TIMEOUT": "3"}
    assert load_settings(env=env).timeouts == Timeouts(connect=1.0, first_token=2.0, idle=3.0)


# --- base URLs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "base"),
    [
        ("https://host", "https://host/v1"),
        ("https://host/", "https://host/v1"),
        ("https://host/v1", "https://host/v1"),
        ("https://host/v1/", "https://host/v1"),
        ("https://host/v1/chat/completions", "https://host/v1"),
        ("https://host/v1/models", "https://host/v1"),
        ("https://host/api/openai/v1", "https://host/api/openai/v1"),
        ("  https://host:8443/v1  ", "https://host:8443/v1"),
        ("localhost:11434/v1", "http://localhost:11434/v1"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
        ("api.example.com/v1", "https://api.example.com/v1"),
        ("localhost.example.com/v1", "https://localhost.example.com/v1"),  # a public name: no plain http
        (
            "https://x.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-02-01",
            "https://x.openai.azure.com/openai/deployments/gpt?api-version=2024-02-01",
        ),
    ],
)
def test_normalize_base_url(pasted: str, base: str) -> None:
    assert normalize_base_url(pasted) == base
    assert normalize_base_url(base) == base  # normalising again changes nothing


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Enter the endpoint's base URL"),
        ("   ", "Enter the endpoint's base URL"),
        ("ftp://host/v1", "must start with http:// or https:// (got ftp://)"),
        ("https://", "no host name"),
        ("https:///v1", "no host name"),
        ("https://host:80a/v1", "port must be a number"),
    ],
)
def test_bad_base_urls_say_what_is_wrong(pasted: str, message: str) -> None:
    with pytest.raises(BaseUrlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalize_base_url(pasted)


def test_api_urls_hang_off_the_base() -> None:
    assert chat_url("https://host/v1") == "https://host/v1/chat/completions"
    assert chat_url("https://host/v1/") == "https://host/v1/chat/completions"
    assert models_url("http://localhost:11434/v1") == "http://localhost:11434/v1/models"
    azure = "https://x.openai.azure.com/openai/deployments/gpt?api-version=2024-02-01"
    assert chat_url(azure) == "https://x.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-02-01"
    assert models_url(azure) == "https://x.openai.azure.com/openai/deployments/gpt/models?api-version=2024-02-01"


# --- extra headers -----------------------------------------------------------------------------------------


def test_parse_extra_headers() -> None:
    text = "X-Forwarded-Host: chat.example.com\r\n\n  \nX-Trace:  a:b:c  \nX-Empty:"
    headers = parse_extra_headers(text)
    assert headers == {"X-Forwarded-Host": "chat.example.com", "X-Trace": "a:b:c", "X-Empty": ""}
    assert parse_extra_headers(format_extra_headers(headers)) == headers
    assert parse_extra_headers("") == {}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("no colon here", 1),
        ("X-Ok: 1\nBad Name: 2", 2),
        ("X-Ok: 1\n\n: no name", 3),
        ("Bad/Name: x", 1),
    ],
)
def test_bad_header_lines_are_named(text: str, line: int) -> None:
    with pytest.raises(ValueError, match=f"^Line {line} is not a header: write it as `Name: value`."):
        parse_extra_headers(text)
