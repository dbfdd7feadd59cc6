"""1,000,000-row insert-select with joins: Redshift SQL through translate() vs hand-written engine SQL.

    .venv/bin/python benchmarks/translate_throughput.py [--engine duckdb|postgres|both] [--rows N] [--repeat K]

Prints, per engine, the median time of the translated statement (translation included) and of the same
statement written by hand for the engine, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import duckdb

from shiftflow.dataapi.translate import EngineSql, clear_cache, prepared_duckdb, translate

# Redshift SQL as a real script writes it: nvl, decode, trunc(timestamp), integer division, dateadd.
REDSHIFT_LOAD = """
insert into fact_sales (sold_date, customer_key, item_key, store_key, city, quantity, net_paid, unit_price, band)
select trunc(s.sold_at), c.customer_key, i.item_key, st.store_key, nvl(c.city, 'unknown'),
       s.quantity, s.quantity * i.price, (s.quantity * i.price) / s.quantity,
       decode(s.quantity / 10, 0, 'small', 1, 'medium', 'large')
from stage_sales s
join dim_customer c on c.customer_id = s.customer_id
join dim_item i on i.item_id = s.item_id
join dim_store st on st.store_id = s.store_id
join dim_date d on d.day = trunc(s.sold_at)
where s.sold_at >= dateadd(day, -4000, '2030-01-01'::date)
"""

NATIVE_LOAD = {
    "duckdb": """
insert into fact_sales (sold_date, customer_key, item_key, store_key, city, quantity, net_paid, unit_price, band)
select cast(s.sold_at as date), c.customer_key, i.item_key, st.store_key, coalesce(c.city, 'unknown'),
       s.quantity, s.quantity * i.price, (s.quantity * i.price) / s.quantity,
       case s.quantity // 10 when 0 then 'small' when 1 then 'medium' else 'large' end
from stage_sales s
join dim_customer c on c.customer_id = s.customer_id
join dim_item i on i.item_id = s.item_id
join dim_store st on st.store_id = s.store_id
join dim_date d on d.day = cast(s.sold_at as date)
where s.sold_at >= date '2030-01-01' - interval 4000 day
""",
    "postgres": """
insert into fact_sales (sold_date, customer_key, item_key, store_key, city, quantity, net_paid, unit_price, band)
select s.sold_at::date, c.customer_key, i.item_key, st.store_key, coalesce(c.city, 'unknown'),
       s.quantity, s.quantity * i.price, (s.quantity * i.price) / s.quantity,
       case s.quantity / 10 when 0 then 'small' when 1 then 'medium' else 'large' end
from stage_sales s
join dim_customer c on c.customer_id = s.customer_id
join dim_item i on i.item_id = s.item_id
join dim_store st on st.store_id = s.store_id
join dim_date d on d.day = s.sold_at::date
where s.sold_at >= date '2030-01-01' - interval '4000 day'
""",
}

SCHEMA = """
create table dim_customer (customer_key int, customer_id int, city varchar(30));
create table dim_item (item_key int, item_id int, price numeric(10,2));
create table dim_store (store_key int, store_id int);
create table dim_date (day date);
create table stage_sales (sold_at timestamp, customer_id int, item_id int, store_id int, quantity int);
create table fact_sales (sold_date date, customer_key int, item_key int, store_key int, city varchar(30),
                         quantity int, net_paid numeric(18,2), unit_price numeric(18,2), band varchar(10));
"""

DATA = {
    "duckdb": """
insert into dim_customer select i, i, case when i % 7 = 0 then null else 'city' || (i % 100) end
    from range(100000) t(i);
insert into dim_item select i, i, (i % 500) / 10.0 + 1 from range(20000) t(i);
insert into dim_store select i, i from range(100) t(i);
insert into dim_date select date '2020-01-01' + i::int from range(4000) t(i);
insert into stage_sales select timestamp '2020-01-01' + to_minutes(i % 5000000), i % 100000, i % 20000, i % 100,
       1 + i % 37 from range({rows}) t(i);
""",
    "postgres": """
insert into dim_customer select i, i, case when i % 7 = 0 then null else 'city' || (i % 100) end
    from generate_series(0, 99999) i;
insert into dim_item select i, i, (i % 500) / 10.0 + 1 from generate_series(0, 19999) i;
insert into dim_store select i, i from generate_series(0, 99) i;
insert into dim_date select date '2020-01-01' + i from generate_series(0, 3999) i;
insert into stage_sales select timestamp '2020-01-01' + (i % 5000000) * interval '1 minute', i % 100000, i % 20000,
       i % 100, 1 + i % 37 from generate_series(0, {rows} - 1) i;
""",
}


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    rows = run()
    return time.perf_counter() - start, rows


def bench(engine: str, rows: int, repeat: int) -> None:
    if engine == "duckdb":
        connection = prepared_duckdb(duckdb.connect())

        def execute(sql: str) -> int:
            return connection.execute(sql).fetchall()[0][0] if sql.lstrip().lower().startswith("insert") else \
                (connection.execute(sql), 0)[1]
        close = connection.close
    else:
        from shiftflow.dataapi.engines.postgres import PostgresEngine

        pg_engine = PostgresEngine()
        session = pg_engine.session("bench")

        def execute(sql: str) -> int:
            return session.execute(sql, {}).rowcount

        def close() -> None:
            session.close()
            pg_engine.close()

    for statement in (SCHEMA + DATA[engine].format(rows=rows)).split(";"):
        if statement.strip():
            execute(statement if engine == "duckdb" else statement.replace("%", "%%"))

    def translated() -> int:
        clear_cache()  # the translation is part of what is measured, every time
        sql = translate(REDSHIFT_LOAD, engine)
        assert isinstance(sql, EngineSql)
        return execute(sql.text)

    native_sql = NATIVE_LOAD[engine] if engine == "duckdb" else NATIVE_LOAD[engine].replace("%", "%%")
    times: dict[str, list[float]] = {"translated": [], "native": []}
    loaded = {}
    for _ in range(repeat):
        for name, run in (("translated", translated), ("native", lambda: execute(native_sql))):
            execute("truncate fact_sales" if engine == "postgres" else "delete from fact_sales")
            elapsed, count = _timed(run)
            times[name].append(elapsed)
            loaded[name] = count
    translate_ms = statistics.median(_cold_translate(engine) for _ in range(20)) * 1e3
    close()
    t, n = statistics.median(times["translated"]), statistics.median(times["native"])
    print(f"{engine:8s} rows={loaded['translated']:,} (native {loaded['native']:,})  "
          f"translate() {translate_ms:.2f} ms  translated {t:.3f} s  native {n:.3f} s  ratio {t / n:.3f}")


def _cold_translate(engine: str) -> float:
    clear_cache()
    start = time.perf_counter()
    translate(REDSHIFT_LOAD, engine)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["duckdb", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    for engine in (["duckdb", "postgres"] if arguments.engine == "both" else [arguments.engine]):
        bench(engine, arguments.rows, arguments.repeat)


if __name__ == "__main__":
    main()
