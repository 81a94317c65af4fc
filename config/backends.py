"""Say which database, channel layer and file storage this process uses (logged at start-up)."""


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
    storage = settings.STORAGES["default"]
    if storage["BACKEND"] == "storages.backends.s3.S3Storage":
        options = storage["OPTIONS"]
        where = options.get("endpoint_url") or "AWS"
        files = f"S3 bucket {options['bucket_name']} at {where} (private, signed URLs)"
    else:
        files = f"{settings.MEDIA_ROOT} (set AWS_STORAGE_BUCKET_NAME for S3)"
    return [f"Database: {database}", f"Channel layer: {channel_layer}", f"Files: {files}"]
