#!/bin/sh
# Conveyor's benchmark (issue #8): starts the system on this machine, runs workloads W1-W4 and the W1 scaling
# systems, and prints one table. Options: ./bench.sh --help
#
# Builds local/target/conveyor-local.jar first (./mvnw package, which leaves ~/.m2 alone) when it is missing, older
# than a source file, or holds api/worker/common jars other than this checkout's (as after `./mvnw -pl local ...`,
# which takes them from ~/.m2).
set -e
cd "$(dirname "$0")"
if [ -z "$JAVA_HOME" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export JAVA_HOME
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAR=local/target/conveyor-local.jar

stale() {
  [ -f "$JAR" ] || return 0
  [ -z "$(find pom.xml common api worker local -newer "$JAR" \( -name pom.xml -o -path '*/src/main/*' \) -type f | head -1)" ] || return 0
  for module in common api worker; do
    built=$(ls "$module"/target/conveyor-"$module"-*.jar 2>/dev/null | grep -v -e '-tests.jar' -e '-exec.jar' | head -1)
    [ -n "$built" ] || return 0
    unzip -p "$JAR" "BOOT-INF/lib/$(basename "$built")" | cmp -s - "$built" || return 0
  done
  return 1
}

if stale; then
  echo "building $JAR (./mvnw package -DskipTests)..."
  # Offline first: a machine with a filled ~/.m2 needs no network.
  ./mvnw -B -q -o package -DskipTests || ./mvnw -B -q package -DskipTests
fi
exec "$JAVA" -cp "$JAR" -Dloader.main=dev.conveyor.local.bench.Bench \
  org.springframework.boot.loader.launch.PropertiesLauncher "$@"
