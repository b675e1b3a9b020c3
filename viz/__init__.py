"""Graphviz diagrams of cascades (pure DOT builders + one render())."""
