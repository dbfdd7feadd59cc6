"""The shiftflow command line: run, status, history, reset, query, serve-data-api."""
