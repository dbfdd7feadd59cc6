"""Redshift streaming ingestion, emulated: the local MSK topic store (topics.py), reading Kinesis and topics into
the warehouse (sources.py), the catalog it keeps there (catalog.py) and materialized views' refresh (refresh.py).
translate/streaming.py turns the SQL statements into the commands of refresh.py."""
