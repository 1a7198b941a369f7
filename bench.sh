#!/bin/sh
# Conveyor's benchmark (issue #8): starts the system on this machine, runs workloads W1-W4 and the W1 scaling
# systems, and prints one table. Builds conveyor-local.jar first when it is missing or older than a source file.
# Options: ./bench.sh --help
set -e
cd "$(dirname "$0")"
if [ -z "$JAVA_HOME" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ ! -f local/target/conveyor-local.jar ] || \
   [ -n "$(find pom.xml common api worker local -newer local/target/conveyor-local.jar \( -name pom.xml -o -path '*/src/main/*' \) -type f | head -1)" ]; then
  echo "building local/target/conveyor-local.jar (./mvnw install -DskipTests)..."
  # Offline first: a machine with a filled ~/.m2 needs no network.
  JAVA_HOME="$JAVA_HOME" ./mvnw -B -q -o install -DskipTests || JAVA_HOME="$JAVA_HOME" ./mvnw -B -q install -DskipTests
fi
exec "$JAVA" -cp local/target/conveyor-local.jar -Dloader.main=dev.conveyor.local.bench.Bench \
  org.springframework.boot.loader.launch.PropertiesLauncher "$@"
