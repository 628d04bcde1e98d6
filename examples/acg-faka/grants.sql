-- Run once as a MariaDB/MySQL administrator. The adapter's own user: read acg-faka's orders,
-- cards and commodities; move consigned cards out of the card table and back (DELETE, INSERT);
-- write partner deliveries into orders; create and use its standin_* tables. No PROCESS needed:
-- acg-faka sells in SERIALIZABLE transactions, which lock the cards they read.
CREATE USER IF NOT EXISTS 'standin'@'127.0.0.1' IDENTIFIED BY 'change-me';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON acg.* TO 'standin'@'127.0.0.1';
-- Optional, for a large order table: the bridge reads paid orders by (pay_time, id).
CREATE INDEX standin_paid ON acg.acg_order (pay_time, id);
