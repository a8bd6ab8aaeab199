/*
description: >
  Where each learner was, per course and day, by edX's "last country" rule: the country of the
  address of the learner's latest event of the day in the course that came from a public address
  (private, shared, loopback, link-local, reserved, multicast and malformed addresses are skipped),
  from the offline IP-to-country database (`ip_country`, idbx/privacy/geoip.py: the pinned
  registry data, or IDBX_GEOIP_DB). Stored by event date like the other event aggregates; the
  addresses themselves are not stored. person_course takes the latest day.
grain: [course_key, learner_key, event_date]
materialized: incremental
partition_by: event_date
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  event_date: UTC date of the events.
  last_public_event: Time of the learner's latest event of the day from a public address.
  country_by_ip: Country of that address (ISO 3166 alpha-2), NULL when the database does not know it.
*/
WITH latest AS (
    SELECT course_key, user_id, event_date, ip, last_seen
    FROM stg__edx__event_addresses
    WHERE ip_is_public(ip)
    QUALIFY row_number() OVER (PARTITION BY course_key, user_id, event_date ORDER BY last_seen DESC, ip DESC) = 1
),

-- Each address looked up once (learners keep an address over many days).
countries AS (
    SELECT ip, ip_country(ip) AS country
    FROM (SELECT DISTINCT ip FROM latest) AS addresses
),

pseudonyms AS (
    SELECT user_id, learner_pseudonym(user_id) AS learner_key
    FROM (SELECT DISTINCT user_id FROM latest) AS user_ids
)

SELECT
    latest.course_key,
    pseudonyms.learner_key,
    latest.event_date,
    latest.last_seen AS last_public_event,
    countries.country AS country_by_ip
FROM latest
JOIN pseudonyms ON pseudonyms.user_id = latest.user_id
JOIN countries ON countries.ip = latest.ip
