"""Tokenization and token shards."""
