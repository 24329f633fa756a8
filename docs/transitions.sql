-- The trainer's transitions from the Parquet log archive, in DuckDB SQL (Spark and Trino differ
-- only in spelling): one row per matured decision, with its reward and the same visitor's next
-- decision, as `promo train --source archive` builds them for the default catalogue and reward
-- (click 0.05; 40% margin less the promotion's cost; refunds at 50%), a 7-day attribution window
-- and a 7-day horizon. Run from the directory that holds archive/. Unlike the trainer it does not
-- re-check rows or re-encode those logged under an older feature spec.
WITH decision AS (
  SELECT DISTINCT ON (id) * FROM read_parquet('archive/decisions/*/*.parquet', hive_partitioning = false, union_by_name = true)
),
outcome AS (
  SELECT DISTINCT ON (decision_id, kind, event_key) *
  FROM read_parquet('archive/outcomes/*/*.parquet', hive_partitioning = false, union_by_name = true)
),
cost(action, type, rate, amount, cap) AS (
  VALUES ('none', 'free', 0, 0, 0), ('pct10', 'percent_of_order', 0.10, 0, 0),
         ('pct20', 'percent_of_order', 0.20, 0, 0), ('fixed5', 'fixed', 0, 5, 0),
         ('free_shipping', 'fixed', 0, 6, 0), ('bundle', 'percent_of_order_capped', 0.15, 0, 30),
         ('gift', 'fixed', 0, 4, 0)
),
reward AS (
  SELECT d.id, sum(CASE o.kind
    WHEN 'click' THEN 0.05
    WHEN 'conversion' THEN 0.4 * o.value - CASE c.type
      WHEN 'percent_of_order' THEN o.value * c.rate
      WHEN 'fixed' THEN CASE WHEN o.value > 0 THEN c.amount ELSE 0 END
      WHEN 'percent_of_order_capped' THEN least(o.value * c.rate, c.cap)
      ELSE 0 END
    WHEN 'refund' THEN -0.5 * o.value END) AS reward
  FROM decision d
  JOIN outcome o ON o.decision_id = d.id AND o.ts BETWEEN d.ts AND d.ts + 7 * 86400000
  JOIN cost c ON c.action = d.action
  GROUP BY d.id
),
linked AS (
  SELECT d.*, coalesce(r.reward, 0) AS reward,
         lead(d.id) OVER trajectory AS following_id, lead(d.ts) OVER trajectory AS following_ts
  FROM decision d LEFT JOIN reward r USING (id)
  WINDOW trajectory AS (PARTITION BY d.visitor_hash ORDER BY d.ts, d.id)
)
SELECT visitor_hash, ts, id, state_key, features, eligible, action, propensity, reward,
       CASE WHEN following_ts - ts <= 7 * 86400000 THEN following_id END AS next_id
FROM linked
-- Younger decisions may still get outcomes: they are only next states, never steps.
WHERE ts + 7 * 86400000 <= epoch_ms(current_timestamp)
ORDER BY visitor_hash, ts, id;
