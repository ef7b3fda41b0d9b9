"""XML Schemas used to validate ebMS envelopes (package data)."""
