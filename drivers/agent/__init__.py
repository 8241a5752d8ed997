"""The host agent: an authenticated HTTP service running storage commands as operations."""
