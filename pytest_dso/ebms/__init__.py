"""ebms."""
