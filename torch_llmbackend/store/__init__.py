"""Persistence: kernel cache, bundles, knowledge base."""
