"""Say which database and channel layer this process uses (logged at start-up)."""


def backend_summary():
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        database = f"SQLite file {settings.DATABASES['default']['NAME']} (set DATABASE_URL for Postgres)"
    else:
        db = settings.DATABASES["default"]
        pooled = "with connection pool" if db.get("OPTIONS", {}).get("pool") else "no pool"
        database = f"Postgres {db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}/{db['NAME']} ({pooled})"
    # By its configuration, not its class name: the project's layer subclasses channels-redis's.
    if "hosts" in settings.CHANNEL_LAYERS["default"].get("CONFIG", {}):
        layer_class = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        channel_layer = f"Redis (channels-redis, {layer_class}): several server processes can share it"
    else:
        channel_layer = "in-memory: one server process only (set REDIS_URL for Redis)"
    return [f"Database: {database}", f"Channel layer: {channel_layer}"]
