-- Run once as a MariaDB/MySQL administrator. The adapter's own user: read and update dujiaoka's
-- orders and keys, create and use its standin_* tables, see open transactions (PROCESS) so that a
-- consignment never takes a key a sale is in the middle of delivering.
CREATE USER IF NOT EXISTS 'standin'@'127.0.0.1' IDENTIFIED BY 'change-me';
GRANT SELECT, INSERT, UPDATE, CREATE ON dujiaoka.* TO 'standin'@'127.0.0.1';
GRANT PROCESS ON *.* TO 'standin'@'127.0.0.1';
-- Optional, for a large orders table: the bridge reads orders by (updated_at, id).
CREATE INDEX standin_orders_updated ON dujiaoka.orders (updated_at, id);
