-- Run once as a PostgreSQL administrator, connected to Dujiao-Next's database (psql -d dujiao).
-- The adapter's own role: read orders, items, products, skus, users and fulfillments; move
-- consigned keys out of card_secrets and back (DELETE, INSERT); write partner deliveries
-- (fulfillments, order status); create and use its standin_* tables in the public schema.
CREATE ROLE standin_adapter LOGIN PASSWORD 'change-me';
GRANT CREATE ON SCHEMA public TO standin_adapter;
GRANT SELECT ON orders, order_items, products, product_skus, users TO standin_adapter;
GRANT UPDATE (status, updated_at) ON orders TO standin_adapter;
GRANT SELECT, INSERT, UPDATE, DELETE ON card_secrets TO standin_adapter;
GRANT SELECT, INSERT ON fulfillments TO standin_adapter;
GRANT USAGE ON SEQUENCE fulfillments_id_seq TO standin_adapter;
-- standin_card_rows is created LIKE card_secrets, with its id default on card_secrets' sequence.
GRANT USAGE ON SEQUENCE card_secrets_id_seq TO standin_adapter;
-- Optional, for a large orders table: the bridge follows changes by (updated_at, id).
CREATE INDEX IF NOT EXISTS standin_orders_changed ON orders (updated_at, id);
