from __future__ import annotations

import stat

import pytest

from agent.config import Settings
from agent.core.errors import ValidationError


def test_defaults_need_no_setup(tmp_path):
    settings = Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path)}).ensure_data_dir()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'frontdesk.db'}"
    assert settings.redis_url == "" and settings.chroma_url == "" and settings.model == "local"
    assert settings.max_message_chars == 10_000 and not settings.allow_private_urls
    assert (tmp_path / "uploads").is_dir()


def test_secret_key_is_generated_once_and_private(tmp_path):
    first = Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path)}).ensure_data_dir()
    second = Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path)}).ensure_data_dir()
    assert len(first.secret_key) == 64 and first.secret_key == second.secret_key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_environment_switches_to_external_services(tmp_path):
    settings = Settings.load(
        {
            "FRONTDESK_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db:5432/frontdesk",
            "REDIS_URL": "redis://cache:6379/0",
            "CHROMA_URL": "http://chroma:8000",
            "FRONTDESK_MODEL": "openai:gpt-4o-mini",
            "FRONTDESK_MAX_MESSAGE_CHARS": "500",
            "FRONTDESK_ALLOW_PRIVATE_URLS": "yes",
        }
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db:5432/frontdesk"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.chroma_url == "http://chroma:8000"
    assert settings.model == "openai:gpt-4o-mini"
    assert settings.max_message_chars == 500 and settings.allow_private_urls


def test_config_file_under_environment(tmp_path):
    config = tmp_path / "frontdesk.toml"
    config.write_text('[frontdesk]\nport = 9000\nmodel = "ollama:llama3"\n')
    env = {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_CONFIG": str(config)}
    assert Settings.load(env).port == 9000
    assert Settings.load({**env, "FRONTDESK_PORT": "9100"}).port == 9100
    assert Settings.load(env).model == "ollama:llama3"


@pytest.mark.parametrize(
    ("content", "message"),
    [("colour = 'blue'\n", "colour: is not a frontdesk setting"), ("port = [", "not valid TOML")],
)
def test_bad_config_files_are_explained(tmp_path, content, message):
    config = tmp_path / "frontdesk.toml"
    config.write_text(content)
    with pytest.raises(ValidationError, match=message):
        Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_CONFIG": str(config)})


def test_bad_values_are_explained(tmp_path):
    with pytest.raises(ValidationError, match="port: 'eighty' is not a valid int"):
        Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_PORT": "eighty"})
    with pytest.raises(ValidationError, match="allow_private_urls"):
        Settings.load(
            {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_ALLOW_PRIVATE_URLS": "maybe"}
        )


def test_trusted_proxies_from_the_environment_or_the_config_file(tmp_path):
    assert Settings.load({"FRONTDESK_DATA_DIR": str(tmp_path)}).trusted_proxies == 0
    env = {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_TRUSTED_PROXIES": "1"}
    assert Settings.load(env).trusted_proxies == 1
    config = tmp_path / "frontdesk.toml"
    config.write_text("[frontdesk]\ntrusted_proxies = 2\n")
    assert Settings.load({**env, "FRONTDESK_CONFIG": str(config)}).trusted_proxies == 1
    del env["FRONTDESK_TRUSTED_PROXIES"]
    assert Settings.load({**env, "FRONTDESK_CONFIG": str(config)}).trusted_proxies == 2


@pytest.mark.parametrize("value", ["-1", "yes", "100"])
def test_bad_trusted_proxies_are_refused_with_the_settings_name(tmp_path, value):
    env = {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_TRUSTED_PROXIES": value}
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings.load(env)
