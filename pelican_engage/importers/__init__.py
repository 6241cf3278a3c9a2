"""Importers: comments and replies brought in from exports and archives."""
