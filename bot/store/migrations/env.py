"""Alembic's environment: the models' metadata against the bot's configured database.

bot.store.db runs the migrations itself on every start, inside its own transaction, and hands
the connection over in `config.attributes["connection"]`. From the command line (a developer
writing a revision: `alembic revision --autogenerate -m ...` in the project directory) the
database is `-x url=...`, else the [database] url of the bot's config file ($INTAKE_CONFIG or
./config.toml).
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import TypeDecorator, create_engine

from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def _ini_url() -> str | None:
    """sqlalchemy.url of an alembic.ini, when there is one: the project configures Alembic in
    pyproject.toml alone, where asking for an ini option raises."""
    from alembic.util import CommandError

    try:
        return config.get_main_option("sqlalchemy.url")
    except CommandError:
        return None


def _configured_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or _ini_url()
    if url:
        return url
    from bot.config import find_config_path, load_config

    return load_config(find_config_path(None)).database_url


def _render_item(type_, obj, _autogen_context):
    """Revisions spell the column types of the database (UTCDateTime is a DATETIME, Clipped a
    VARCHAR), so that an old revision never imports a model class that may since have changed."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_item=_render_item, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_configured_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    engine = create_engine(_configured_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()
