-- SCD1 load of customer_address from stg_customer_address: changed attributes are overwritten in place,
-- new address ids are inserted with new surrogate keys. No history is kept (type 1).
--
-- Parameter :run_date ('YYYY-MM-DD'): stamped into last_updated of the rows this run changes or inserts.
-- Idempotent: only rows whose attributes differ are updated, only missing ids are inserted, so a rerun with the
-- same staging data changes nothing. UPDATE ... FROM plus INSERT ... WHERE NOT EXISTS rather than MERGE, so that
-- the same script runs on every engine Shiftflow targets.

-- Overwrite the addresses whose attributes changed. The comparisons are null-safe with COALESCE because
-- Redshift has no IS DISTINCT FROM.
update customer_address
set ca_street_number = stg.ca_street_number,
    ca_street_name   = stg.ca_street_name,
    ca_street_type   = stg.ca_street_type,
    ca_city          = stg.ca_city,
    ca_county        = stg.ca_county,
    ca_state         = stg.ca_state,
    ca_zip           = stg.ca_zip,
    ca_country       = stg.ca_country,
    ca_location_type = stg.ca_location_type,
    last_updated     = cast(:run_date as date)
from stg_customer_address stg
where customer_address.ca_address_id = stg.ca_address_id
  and (   coalesce(customer_address.ca_street_number, '') <> coalesce(stg.ca_street_number, '')
       or coalesce(customer_address.ca_street_name, '')   <> coalesce(stg.ca_street_name, '')
       or coalesce(customer_address.ca_street_type, '')   <> coalesce(stg.ca_street_type, '')
       or coalesce(customer_address.ca_city, '')          <> coalesce(stg.ca_city, '')
       or coalesce(customer_address.ca_county, '')        <> coalesce(stg.ca_county, '')
       or coalesce(customer_address.ca_state, '')         <> coalesce(stg.ca_state, '')
       or coalesce(customer_address.ca_zip, '')           <> coalesce(stg.ca_zip, '')
       or coalesce(customer_address.ca_country, '')       <> coalesce(stg.ca_country, '')
       or coalesce(customer_address.ca_location_type, '') <> coalesce(stg.ca_location_type, ''));

-- Insert the address ids the dimension does not know yet, numbering them after the highest surrogate key.
-- (The job guard keeps loads of this table from running concurrently, so max + row_number is safe.)
insert into customer_address (
    ca_address_sk, ca_address_id, ca_street_number, ca_street_name, ca_street_type, ca_city, ca_county,
    ca_state, ca_zip, ca_country, ca_location_type, last_updated
)
select
    last_key.max_sk + row_number() over (order by stg.ca_address_id),
    stg.ca_address_id,
    stg.ca_street_number,
    stg.ca_street_name,
    stg.ca_street_type,
    stg.ca_city,
    stg.ca_county,
    stg.ca_state,
    stg.ca_zip,
    stg.ca_country,
    stg.ca_location_type,
    cast(:run_date as date)
from stg_customer_address stg
cross join (select coalesce(max(ca_address_sk), 0) as max_sk from customer_address) last_key
where not exists (
    select 1 from customer_address existing where existing.ca_address_id = stg.ca_address_id
);
