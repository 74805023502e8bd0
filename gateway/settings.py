"""Gateway settings, read from the environment (prefix ``GATEWAY_``) by the entrypoint."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gateway.proxies import ProxyConfigError, parse_networks

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "dev-rasa-token-change-me-please"}


class SettingsError(ValueError):
    """The configuration cannot be used."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = ""

    database_url: str = Field(
        "", validation_alias=AliasChoices("GATEWAY_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: str = Field("", validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL"))
    var_dir: Path = ROOT / "var"

    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa replicas (gateway/rasa_replicas.py): comma-separated or a JSON list; when set it
    # replaces rasa_url. Each conversation goes to one replica (a stable hash of its id); a
    # replica that fails (connection error, 5xx, timeout) is skipped for rasa_retry_after_s,
    # then checked again.
    rasa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rasa_retry_after_s: float = Field(2.0, gt=0, le=300)
    rasa_token: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("GATEWAY_RASA_TOKEN", "RASA_CHANNEL_TOKEN")
    )
    rasa_timeout_s: float = Field(10.0, gt=0)
    action_server_url: str = "http://127.0.0.1:5055"
    # /metrics (Prometheus): without a token it answers only direct loopback connections (no
    # X-Forwarded-For/Forwarded header); with one, every scraper must send it as a bearer token.
    metrics_token: SecretStr = SecretStr("")

    nlu_data_dir: Path = ROOT / "nlu_data"
    domain_dir: Path = ROOT / "bot" / "domain"
    widget_dir: Path = ROOT / "widget"
    models_dir: Path = ROOT / "models"
    reports_dir: Path = ROOT / "var" / "reports"
    translation_registry: Path | None = None

    retention_days: int = Field(90, ge=1, le=3650)
    opening_hours: str = "mon-fri 08:00-17:00"
    timezone: str = "Europe/Stockholm"
    allowed_origins: list[str] = Field(default_factory=list)
    # Pages that may show the demo page, the widget's files and About-AI in a frame
    # (Content-Security-Policy frame-ancestors, besides the gateway itself and allowed_origins).
    frame_ancestors: list[str] = Field(default_factory=lambda: ["https://karlstad.se", "https://*.karlstad.se"])
    max_body_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024)  # larger bodies: 413 unread
    body_timeout_s: float = Field(10.0, gt=0, le=300)  # a body slower than this: 408
    keep_alive_s: int = Field(5, ge=1, le=300)  # idle keep-alive connections are closed after this (s)
    rate_limit_per_minute: int = Field(30, ge=1)  # messages per conversation
    create_rate_limit_per_minute: int = Field(30, ge=1)  # new conversations per client address
    # Proxies whose X-Forwarded-For is believed (gateway/proxies.py): addresses or networks,
    # comma-separated or a JSON list. Empty: the connection's own address is the client's.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # With REDIS_URL, a conversation's turns are serialised across gateways by a lease in
    # Redis (gateway/conversation_locks.py): renewed while held, expired this long after a
    # gateway died holding it; a request that waits longer than the wait gets a 503.
    conversation_lock_ttl_s: float = Field(10.0, ge=1, le=300)
    conversation_lock_wait_s: float = Field(30.0, gt=0, le=600)
    release: str = ""
    # The model trained from the content files on disk (scripts/train.sh). At start it becomes
    # the live release that every Rasa pulls from /internal/rasa/model (gateway/releases.py);
    # unset (unit tests with a fake Rasa), the registry is left as it is.
    model_file: Path | None = None

    # The editors' workspace (gateway/editor/): the git clone whose content files it edits
    # and publishes to, the commands that train and gate a candidate model (tests put fakes
    # here), and below which confidence an answer counts as unsure in the inbox.
    content_root: Path = ROOT
    editor_train_command: list[str] = Field(
        default_factory=lambda: ["bash", str(ROOT / "scripts" / "train.sh")])
    editor_gate_command: list[str] = Field(
        default_factory=lambda: [str(ROOT / ".venv-rasa" / "bin" / "python"), str(ROOT / "scripts" / "gate.py")])
    editor_gate_report_option: str = "--out"  # where scripts/gate.py writes its JSON report
    editor_eval_sets: list[Path] = Field(default_factory=lambda: [
        ROOT / "tests" / "nlu" / "paraphrases.yml", ROOT / "tests" / "nlu" / "independent"])
    editor_low_confidence: float = Field(0.6, gt=0, le=1)
    editor_email_domain: str = "karlstad.se"
    editor_job_timeout_s: float = Field(3600.0, gt=0)

    # Staff single sign-on with the municipality's OpenID Connect provider (gateway/oidc.py,
    # gateway/staff_sso.py); off while oidc_issuer is empty. The provider proves who the person
    # is; the account, its role and whether it is active are the gateway's (docs/staff.md).
    oidc_issuer: str = ""  # e.g. https://login.example.se/realms/karlstad (discovery is read from it)
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_redirect_url: str = ""  # default: public_url + /staff/sso/callback
    oidc_scopes: str = "openid email profile"
    # The claim that names the account: "<username>@<oidc_email_domain>" or a bare username.
    oidc_username_claim: str = "email"
    oidc_email_domain: str = ""  # default: editor_email_domain
    oidc_button_label: str = "Logga in med kommunens konto"
    oidc_timeout_s: float = Field(10.0, gt=0, le=60)
    # Off: staff log in with single sign-on only (accounts' passwords are refused).
    staff_password_login: bool = True

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.var_dir / 'gateway.db'}"

    @property
    def effective_rasa_urls(self) -> list[str]:
        """The Rasa replicas: ``rasa_urls`` when set, else the single ``rasa_url``."""
        return list(self.rasa_urls) or [self.rasa_url]

    @field_validator("rasa_urls", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """``a,b`` or ``["a", "b"]`` from the environment; a list as it is."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("rasa_urls")
    @classmethod
    def _check_rasa_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"GATEWAY_RASA_URLS: '{url[:80]}' is not an http(s) URL "
                                 "(e.g. http://127.0.0.1:5005,http://127.0.0.1:5006).")
        return [url.rstrip("/") for url in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        try:
            parse_networks(value)
        except ProxyConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def effective_oidc_redirect_url(self) -> str:
        return self.oidc_redirect_url or f"{self.public_url.rstrip('/')}/staff/sso/callback"

    @model_validator(mode="after")
    def _check_sso(self) -> Settings:
        if not self.oidc_issuer:
            return self
        missing = [name for name, value in (
            ("GATEWAY_OIDC_CLIENT_ID", self.oidc_client_id),
            ("GATEWAY_OIDC_CLIENT_SECRET", self.oidc_client_secret.get_secret_value()),
            ("GATEWAY_OIDC_REDIRECT_URL (or GATEWAY_PUBLIC_URL)", self.oidc_redirect_url or self.public_url),
        ) if not value]
        if missing:
            raise SettingsError(f"GATEWAY_OIDC_ISSUER is set, so single sign-on needs {', '.join(missing)} too.")
        if self.environment == "production":
            for name, url in (("GATEWAY_OIDC_ISSUER", self.oidc_issuer),
                              ("the redirect URL", self.effective_oidc_redirect_url)):
                if not url.startswith("https://"):
                    raise SettingsError(f"{name} must be an https:// address in production, not '{url}'.")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        # Staff sessions are random tokens kept (hashed) in the database and need no signing
        # key; the one shared secret is the Rasa channel token.
        if self.environment == "production":
            value = self.rasa_token.get_secret_value()
            if value in PLACEHOLDER_SECRETS or len(value) < 16:
                raise SettingsError(
                    "GATEWAY_RASA_TOKEN (or RASA_CHANNEL_TOKEN) is missing or a placeholder. In "
                    "production set it to a random value of at least 16 characters "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
                )
            metrics = self.metrics_token.get_secret_value()
            if metrics and (metrics in PLACEHOLDER_SECRETS or len(metrics) < 16):
                raise SettingsError(
                    "GATEWAY_METRICS_TOKEN is a placeholder or shorter than 16 characters. Leave it "
                    "unset to allow only loopback scrapes, or set a random value of at least 16 characters."
                )
        return self
