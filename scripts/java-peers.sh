#!/usr/bin/env bash
# Installs (once per version) the official Apache RocketMQ Java peers from
# Maven Central: NameServer, broker, mqadmin, and for 5.x the controller and
# the gRPC proxy. Nothing is built: scripts/java-peers/pom.xml names the
# released artifacts and Maven copies their runtime classpath into the cache,
# outside the checkout:
#
#   ~/.cache/namesrv-interop/java-<version>/{lib/,conf/,bin/}
#
# bin/ holds our launchers (mqnamesrv, mqbroker, mqadmin; mqcontroller and
# mqproxy for 5.x) on the real main classes. A launcher takes the arguments of
# the Java distribution's script of the same name, writes the JVM's logs under
# $RMQ_HOME (its user.home; default $HOME) and takes extra JVM options from
# $JAVA_OPT_EXT. Usage: java-peers.sh [version...] (default: 4.9.7 5.3.3
# 5.5.0); prints the cache directory holding the java-<version>/ folders.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
VERSIONS=("$@")
((${#VERSIONS[@]})) || VERSIONS=(4.9.7 5.3.3 5.5.0)

command -v java >/dev/null || { echo "java (17) is not on PATH; the Java peers need it" >&2; exit 1; }
command -v mvn >/dev/null || { echo "mvn is not on PATH; it fetches the Java peers" >&2; exit 1; }

# What Java 17 must open for RocketMQ (direct buffer cleaning, netty, fastjson).
JVM_OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
--add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED \
--add-exports=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true"

# name main-class log-name
LAUNCHERS4=(
  "mqnamesrv org.apache.rocketmq.namesrv.NamesrvStartup namesrv"
  "mqbroker org.apache.rocketmq.broker.BrokerStartup broker"
  "mqadmin org.apache.rocketmq.tools.command.MQAdminStartup tools"
)
LAUNCHERS5=(
  "${LAUNCHERS4[@]}"
  "mqcontroller org.apache.rocketmq.controller.ControllerStartup controller"
  "mqproxy org.apache.rocketmq.proxy.ProxyStartup proxy"
)

write_launcher() { # dir name class log
  local dir=$1 name=$2 class=$3 log=$4
  cat >"$dir/bin/$name" <<EOF
#!/usr/bin/env bash
# Launcher written by scripts/java-peers.sh: $class from Maven Central.
home="\${RMQ_HOME:-\$HOME}"
mkdir -p "\$home/logs/rocketmqlogs" "\$home/tmp"
exec java -server $JVM_OPENS \\
  -Duser.home="\$home" -Djava.io.tmpdir="\$home/tmp" \\
  -Drocketmq.home.dir="$dir" -Dpeer.log=$log \\
  -Drocketmq.client.logRoot="\$home/logs/rocketmqlogs" \\
  \${JAVA_OPT_EXT:-} -cp "$dir/conf:$dir/lib/*" $class "\$@"
EOF
  chmod +x "$dir/bin/$name"
}

for version in "${VERSIONS[@]}"; do
  dir="$CACHE/java-$version"
  launchers=("${LAUNCHERS4[@]}")
  [[ $version == 5.* ]] && launchers=("${LAUNCHERS5[@]}")
  if [ -f "$dir/.complete" ]; then
    # Launchers are ours and cheap: rewritten every run, so a change to
    # them reaches a cached install.
    for launcher in "${launchers[@]}"; do
      read -r name class log <<<"$launcher"
      write_launcher "$dir" "$name" "$class" "$log"
    done
    continue
  fi
  echo "fetching the Apache RocketMQ $version Java peers from Maven Central..." >&2
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/conf"
  profile=()
  [[ $version == 5.* ]] && profile=(-P rocketmq5)
  mvn -q -B -Dstyle.color=never -f scripts/java-peers/pom.xml "${profile[@]}" \
    -Drocketmq.version="$version" -DincludeScope=runtime \
    -DoutputDirectory="$dir/lib" dependency:copy-dependencies >&2
  for log in namesrv broker tools controller proxy; do
    cp scripts/java-peers/logback.xml "$dir/conf/logback_$log.xml"
  done
  for launcher in "${launchers[@]}"; do
    read -r name class log <<<"$launcher"
    write_launcher "$dir" "$name" "$class" "$log"
  done
  touch "$dir/.complete"
done

# The RocketMQ 5 gRPC client (rocketmq-client-java, Maven Central), with the
# 5.x peers: tests/interop-java/ProxyClient.java runs on its runtime classpath
# (scripts/java-peers/grpc-client.pom.xml) against the proxy, in Java's
# single-file source mode, which needs a JDK's jdk.compiler.
GRPC_CLIENT_VERSION=5.2.0
install_grpc_client() {
  local dir="$CACHE/java-grpc-client-$GRPC_CLIENT_VERSION"
  [ -f "$dir/.complete" ] && return
  echo "fetching rocketmq-client-java $GRPC_CLIENT_VERSION from Maven Central..." >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  mvn -q -B -Dstyle.color=never -f scripts/java-peers/grpc-client.pom.xml \
    -Drocketmq.client.version="$GRPC_CLIENT_VERSION" -DincludeScope=runtime \
    -DoutputDirectory="$dir/lib" dependency:copy-dependencies >&2
  java --list-modules | grep '^jdk.compiler@' >/dev/null ||
    echo "warning: java has no jdk.compiler (a JRE?): ProxyClient.java needs a JDK" >&2
  touch "$dir/.complete"
}
if [[ " ${VERSIONS[*]}" == *" 5."* ]]; then
  install_grpc_client
fi

echo "$CACHE"
