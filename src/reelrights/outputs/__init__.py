"""Outputs: C2PA provenance on generated media, the signing CA, soft-binding recovery and attribution."""
