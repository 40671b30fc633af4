"""Serving the archive with Datasette: metadata, canned queries, the plugin and its charts."""
