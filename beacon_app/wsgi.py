"""WSGI entry point for production servers: `gunicorn beacon_app.wsgi:app`."""

from beacon_app import create_app

app = create_app()
