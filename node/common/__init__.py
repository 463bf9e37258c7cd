"""Leaf modules every layer may use: action names, time values, roles, wildcard matching, background work.

Nothing here imports any other simcluster package except `node.errors`.
"""
