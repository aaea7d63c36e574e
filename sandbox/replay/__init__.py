"""Replaying events into a mock: event sources, the config file, the engine and its targets, summaries, golden files."""
