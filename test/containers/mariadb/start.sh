#!/bin/sh
# Starts mariadbd on 127.0.0.1:$1 (host network: the test picks a free port) with a user
# standin/standin that may do everything, including reading information_schema.INNODB_TRX
# (PROCESS), which the dujiaoka adapter needs. Durability is relaxed: tests need speed, and a
# container is thrown away after its suite.
set -eu
PORT="${1:?usage: standin-mariadb <port>}"
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
cat > /tmp/init.sql <<SQL
CREATE USER IF NOT EXISTS 'standin'@'127.0.0.1' IDENTIFIED BY 'standin';
GRANT ALL PRIVILEGES ON *.* TO 'standin'@'127.0.0.1' WITH GRANT OPTION;
SQL
exec mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=127.0.0.1 --port="$PORT" \
  --socket="/run/mysqld/mysqld-$PORT.sock" --init-file=/tmp/init.sql --skip-name-resolve \
  --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --innodb-buffer-pool-size=64M \
  --skip-log-bin --max-connections=200 --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
