#!/bin/bash
# Runs once, when the data volume is new: one role and one database per service, each role
# with the password from that service's Secret (the same one its Deployment reads).
set -euo pipefail
for service in $ONEDOOR_DATABASES; do
  password_var="${service^^}_DB_PASSWORD"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$service" -v password="${!password_var}" -v database="onedoor_$service" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
SQL
done
