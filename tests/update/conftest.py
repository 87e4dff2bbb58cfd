"""Fixtures for the update tests; they live in cms_fake.py with the fake CMS server."""

from cms_fake import (  # noqa: F401 (pytest finds fixtures by name here)
    cms,
    home,
    installed_home,
    installed_template,
    protected,
    serve_good,
    zips,
)
