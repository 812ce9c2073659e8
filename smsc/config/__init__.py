"""Declarative configuration: TOML files under conf/, validated whole before use."""
