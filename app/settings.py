"""Typed settings: profiles, environment overrides, one data directory.

Select a profile with ``MOCKINTERVIEW_PROFILE`` (``local`` by default). A profile only changes defaults; every
field can still be overridden from the environment as ``MOCKINTERVIEW_<FIELD>`` (for example
``MOCKINTERVIEW_DATA_DIR=/srv/mockinterview``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent  # the source checkout, when the app runs from one


def resource_dir(name: str) -> Path:
    """A folder the app ships (`knowledge`, `prompts`): beside the package in a source checkout or an editable
    install, otherwise where `pip install` puts the package's data files (`<prefix>/share/mockinterview/`)."""
    checkout = PROJECT_DIR / name
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "mockinterview" / name


ProfileName = Literal["local", "openai"]

# Defaults each profile sets; the environment still wins over these.
PROFILES: dict[str, dict[str, Any]] = {
    "local": {"llm_backend": "llama_cpp", "llm_model": "local"},
    "openai": {"llm_backend": "openai", "llm_model": "gpt-4o-mini", "llm_base_url": "https://api.openai.com/v1"},
}


class SettingsError(ValueError):
    """Settings could not be loaded; the message names the field and the problem."""


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "mockinterview"


class Settings(BaseSettings):
    """Every knob of the product. Field docs are the configuration reference (see README)."""

    model_config = SettingsConfigDict(
        env_prefix="MOCKINTERVIEW_", extra="ignore", validate_default=True, validate_assignment=True
    )

    # --- general ---
    profile: ProfileName = Field("local", description="Settings profile: `local` (embedded, no key) or `openai`.")
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="One folder for the Chroma store, the session database and the assembled model file.",
    )
    knowledge_dir: Path = Field(
        default_factory=lambda: resource_dir("knowledge"),
        description="The knowledge base: markdown concept files, rubric.yaml and questions.yaml.",
    )
    prompts_dir: Path = Field(
        default_factory=lambda: resource_dir("prompts"),
        description="The prompt templates, one markdown file per prompt with named placeholders.",
    )
    log_level: str = Field("INFO", description="Python logging level.")

    # --- knowledge store and retrieval ---
    collection: str = Field("knowledge", min_length=3, description="Chroma collection of the bundled knowledge.")
    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded",
        description="`embedded` keeps Chroma in the data directory; `http` talks to a Chroma server.",
    )
    chroma_host: str = Field("127.0.0.1", description="Chroma server host when `chroma_mode=http`.")
    chroma_port: int = Field(8000, description="Chroma server port when `chroma_mode=http`.")
    chroma_lock_wait_s: float = Field(
        5.0, gt=0, description="How long start-up waits for an embedded Chroma folder another process has locked."
    )
    embedding_model_path: Path | None = Field(
        None, description="A local sentence-transformers model folder; default: the bundled all-MiniLM-L6-v2."
    )
    chunk_min_tokens: int = Field(120, ge=20, description="Chunks smaller than this merge with their neighbours.")
    chunk_max_tokens: int = Field(350, ge=60, description="Upper bound of a chunk's size (approximate tokens).")
    top_k: int = Field(5, ge=1, le=50, description="Results returned by a search.")
    candidates: int = Field(30, ge=5, le=200, description="Candidates taken from each of dense and lexical search.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    field_boost: int = Field(
        0, ge=0, le=10, description="Extra BM25 weight of a passage's heading and alias line (repeats of them)."
    )
    expand_aliases: bool = Field(True, description="Add a concept's title to a query that names one of its aliases.")
    search_collections: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Further collections (for example your `notes`) that the interviewer and the Knowledge tab search "
        "besides the bundled knowledge; comma-separated in the environment.",
    )

    # --- LLM ---
    llm_backend: Literal["llama_cpp", "openai"] = Field(
        "llama_cpp", description="`llama_cpp`: the bundled model in a local server; `openai`: any compatible API."
    )
    llm_model: str = Field("local", description="Model name sent to the API (`local` for the embedded server).")
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible API (OpenAI, vLLM, Ollama, a llama.cpp server)."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("MOCKINTERVIEW_OPENAI_API_KEY", "OPENAI_API_KEY", "openai_api_key"),
        description="API key, read from OPENAI_API_KEY; never logged. Not needed for a local endpoint.",
    )
    llm_structured_output: Literal["auto", "json_schema", "json_object_schema", "prompt_only"] = Field(
        "auto",
        description="How to ask for JSON: `auto` picks json_schema for OpenAI and a schema-constrained json_object "
        "for llama.cpp servers (which reject json_schema).",
    )
    model_variant: Literal["1.5b", "0.5b"] = Field(
        "1.5b", description="Bundled model: Qwen2.5-Coder `1.5b` (default) or the faster, weaker `0.5b` extra."
    )
    model_path: Path | None = Field(None, description="Any GGUF file to serve instead of the bundled model.")
    n_ctx: int = Field(4096, ge=512, description="Context window of the embedded server, in tokens.")
    n_threads: int | None = Field(None, ge=1, description="CPU threads for the embedded server; default: all cores.")
    server_start_timeout_s: float = Field(120.0, gt=0, description="How long to wait for the embedded server.")
    llm_connect_timeout_s: float = Field(5.0, gt=0, description="Timeout to connect to the LLM endpoint.")
    llm_read_timeout_s: float = Field(120.0, gt=0, description="Timeout waiting for LLM output.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries, with backoff, on connection errors and 5xx.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature of interviewer turns.")
    max_tokens: int = Field(160, ge=16, le=4096, description="Upper bound of tokens per interviewer turn.")

    # --- sessions ---
    database_url: str | None = Field(
        None,
        description="Session database URL: `sqlite:///PATH` or `postgresql://USER:PASSWORD@HOST:PORT/NAME`; "
        "default: SQLite file `sessions.sqlite3` in the data directory.",
    )
    max_answer_chars: int = Field(20000, ge=500, description="Answers longer than this are graded on their start.")
    max_message_chars: int = Field(
        8000, ge=200, description="Longer candidate messages are answered on a truncated view."
    )

    # --- web app ---
    host: str = Field("127.0.0.1", description="Address the web app binds; anything but loopback requires `auth`.")
    port: int = Field(7860, ge=0, le=65535, description="Port of the web app (0: any free port).")
    auth: SecretStr | None = Field(
        None, description="Web app login as `user:password` (several: comma-separated); required off loopback."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides profile defaults, which arrive as init arguments.
        return env_settings, init_settings, dotenv_settings, file_secret_settings

    @field_validator("search_collections", mode="before")
    @classmethod
    def _split_collections(cls, value: Any) -> Any:
        """`notes, team` from the environment, or a list; blanks and repeats dropped."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
        return value

    @field_validator("data_dir", "knowledge_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    # --- derived paths ---
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def sqlite_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sessions.sqlite3'}"

    @property
    def rubric_path(self) -> Path:
        return self.knowledge_dir / "rubric.yaml"

    @property
    def questions_path(self) -> Path:
        return self.knowledge_dir / "questions.yaml"


def load_settings(**overrides: Any) -> Settings:
    """Build settings: profile defaults, then the environment, then explicit overrides."""
    profile = overrides.get("profile") or os.environ.get("MOCKINTERVIEW_PROFILE", "local")
    if profile not in PROFILES:
        raise SettingsError(f"Unknown profile {profile!r}: choose one of {', '.join(PROFILES)}.")
    values = {**PROFILES[profile], "profile": profile}
    try:
        settings = Settings(**values)
        for key, value in overrides.items():
            setattr(settings, key, value)  # validated on assignment
        return settings
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"Invalid setting MOCKINTERVIEW_{field.upper()}: {first['msg']}") from exc
