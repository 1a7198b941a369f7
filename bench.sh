#!/bin/sh
# Conveyor's benchmark (issue #8): starts the system on this machine, runs workloads W1-W4 and the W1 scaling
# systems, and prints one table. Builds conveyor-local.jar first when it is missing. Options: ./bench.sh --help
set -e
cd "$(dirname "$0")"
if [ -z "$JAVA_HOME" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ ! -f local/target/conveyor-local.jar ]; then
  echo "building local/target/conveyor-local.jar (./mvnw -B -q install -DskipTests)..."
  JAVA_HOME="$JAVA_HOME" ./mvnw -B -q install -DskipTests
fi
exec "$JAVA" -cp local/target/conveyor-local.jar -Dloader.main=dev.conveyor.local.bench.Bench \
  org.springframework.boot.loader.launch.PropertiesLauncher "$@"
