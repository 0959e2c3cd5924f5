"""Persistence: one SQLAlchemy database shared by every node (SQLite or PostgreSQL).

    db          the engine (SQLite in WAL mode with a busy timeout, or any SQLAlchemy URL),
                the declarative Base, sessions, SLUICE_HOME
    migrate     Alembic migrations, applied programmatically (`upgrade(engine)`)
    <area>.py   the models of one area: connections, scripts, runs, schedules, tokens, audit
"""
