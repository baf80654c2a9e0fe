# shellcheck shell=bash
# The secure profile of the native stack: sourced by stack.sh when it runs with --secure
# (or LABELSTREAM_SECURE=1). Not a command of its own.
#
#   Kafka     SASL_SSL listener, SCRAM-SHA-512, ACLs (StandardAuthorizer, deny unless
#             allowed); users `admin` (super user: the broker itself, the registry,
#             `stack.sh kafka`), one per service — `ingest`, `evaluator`, `publisher`, each
#             allowed only its own topics and groups (secure_acl_plan) — and `labelstream`
#             (producers of the raw topics and readers of the public ones: tools, tests).
#             The controller listener is TLS with client certificates: only the broker,
#             holding the server key, reaches it.
#   Redis     TLS only (--port 0), default user off, ACL user `labelstream`
#   registry  plain HTTP on 127.0.0.1 with HTTP basic authentication (Quarkus embedded
#             users): writes need `labelstream` (sr-developer: register schemas) or
#             `admin` (sr-admin: global rules); reads stay anonymous. Its own Kafka client
#             uses SASL_SSL as `admin`.
#
# Everything is generated once per stack dir and kept there, readable by the owner only:
# a throwaway CA and server certificate (tls/), random passwords (secrets), and the
# connection variables for the services (secure-env). Passwords never reach a log line:
# they go into files, not into messages, and the components log them as [hidden].
# shellcheck disable=SC2034 # variables here are read by stack.sh

# Files created from here on (certificates, secrets, rendered configs, data) are private.
umask 077

TLS_DIR="$STACK_DIR/tls"
SECRETS_FILE="$STACK_DIR/secrets"
SECURE_ENV_FILE="$STACK_DIR/secure-env"
KAFKA_CLIENT_CONF="$CONF_DIR/kafka-client.properties"
REGISTRY_KAFKA_CONF="$CONF_DIR/registry-kafka.properties"
REDIS_ACL_FILE="$CONF_DIR/redis-users.acl"
KAFKA_ADMIN_USER='admin'
KAFKA_CLIENT_USER='labelstream'
REDIS_USER='labelstream'
REGISTRY_ADMIN_USER='admin'
REGISTRY_CLIENT_USER='labelstream'
# curl's config file with the registry admin's credentials (stack.sh's registry_defaults)
REGISTRY_CURL_CONF="$CONF_DIR/registry-admin.curl"
REGISTRY_CURL_ARGS=(-K "$REGISTRY_CURL_CONF")
# One Kafka user per service; its password is <NAME>_KAFKA_PASSWORD in the secrets file.
SERVICE_USERS=(ingest evaluator publisher)
SECRET_KEYS=(KAFKA_ADMIN_PASSWORD KAFKA_CLIENT_PASSWORD REDIS_PASSWORD KEYSTORE_PASSWORD
  INGEST_KAFKA_PASSWORD EVALUATOR_KAFKA_PASSWORD PUBLISHER_KAFKA_PASSWORD
  REGISTRY_ADMIN_PASSWORD REGISTRY_CLIENT_PASSWORD)
for key in "${SECRET_KEYS[@]}"; do printf -v "$key" '%s' ''; done
unset key

have openssl || die "the secure profile needs openssl (Debian: apt-get install -y openssl)"

# Random passwords, created once per stack dir. Hex only: safe inside URLs, JAAS strings,
# properties files and Redis ACL rules without any escaping. A secrets file from an older
# version of this script gets the passwords it lacks added (the service users and the
# registry's are created after the broker starts, so they need no new format).
secure_load_secrets() {
  if [[ ! -s $SECRETS_FILE ]]; then
    [[ ! -f $KAFKA_DATA/meta.properties ]] ||
      die "$SECRETS_FILE is missing but Kafka's storage was formatted with the old credentials: \`stack.sh down --purge --secure\`, then \`up --secure\`"
    mkdir -p "$STACK_DIR"
    : >"$SECRETS_FILE"
    log "secure: generating passwords in $SECRETS_FILE"
  fi
  local key k value missing=()
  for key in "${SECRET_KEYS[@]}"; do
    grep -q "^$key=" "$SECRETS_FILE" || missing+=("$key")
  done
  if ((${#missing[@]})); then
    for key in "${missing[@]}"; do
      case $key in
        KAFKA_ADMIN_PASSWORD | KAFKA_CLIENT_PASSWORD)
          [[ ! -f $KAFKA_DATA/meta.properties ]] ||
            die "$SECRETS_FILE lacks $key but Kafka's storage was formatted: \`stack.sh down --purge --secure\`, then \`up --secure\`"
          ;;
      esac
    done
    cp -p "$SECRETS_FILE" "$SECRETS_FILE.tmp"
    for key in "${missing[@]}"; do printf '%s=%s\n' "$key" "$(openssl rand -hex 24)" >>"$SECRETS_FILE.tmp"; done
    mv -f "$SECRETS_FILE.tmp" "$SECRETS_FILE"
  fi
  while IFS='=' read -r key value; do
    for k in "${SECRET_KEYS[@]}"; do
      [[ $key == "$k" ]] && printf -v "$key" '%s' "$value"
    done
  done <"$SECRETS_FILE"
  for key in "${SECRET_KEYS[@]}"; do
    [[ -n ${!key:-} ]] || die "$SECRETS_FILE is incomplete ($key): \`stack.sh down --purge --secure\`, then \`up --secure\`"
  done
}

# A throwaway CA and one server certificate for 127.0.0.1/localhost, used by Kafka and
# Redis alike; clients trust tls/ca.pem. Generated once, kept with the stack dir.
secure_tls() {
  if [[ -s $TLS_DIR/ca.pem && -s $TLS_DIR/server.pem && -s $TLS_DIR/server.key && -s $TLS_DIR/kafka.p12 ]]; then
    openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server.pem" >/dev/null 2>&1 ||
      warn "the server certificate in $TLS_DIR expires within a day: \`stack.sh down --secure\`, delete $TLS_DIR, \`up --secure\`"
    return 0
  fi
  log "secure: generating a throwaway CA and a server certificate for 127.0.0.1 in $TLS_DIR"
  local tmp="$TLS_DIR.tmp" olog="$STACK_DIR/logs/openssl.log"
  rm -rf "$tmp"
  mkdir -p "$tmp" "$STACK_DIR/logs"
  (
    cd "$tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.pem -subj "/CN=Labelstream local secure stack CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
    openssl x509 -req -sha256 -days 825 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -extfile server.ext -out server.pem
    # the password comes from the environment, not the command line (visible in ps)
    LS_KEYSTORE_PASSWORD=$KEYSTORE_PASSWORD openssl pkcs12 -export -name kafka \
      -in server.pem -inkey server.key -certfile ca.pem -out kafka.p12 -passout env:LS_KEYSTORE_PASSWORD
    rm -f server.csr server.ext ca.srl
  ) >>"$olog" 2>&1 || die "generating certificates failed (see $olog)"
  rm -rf "$TLS_DIR"
  mv "$tmp" "$TLS_DIR"
}

render_secure_file() {
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
    -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@TLS_DIR@#$TLS_DIR#g" \
    -e "s#@ADMIN_USER@#$KAFKA_ADMIN_USER#g" \
    -e "s#@ADMIN_PASSWORD@#$KAFKA_ADMIN_PASSWORD#g" \
    -e "s#@KEYSTORE_PASSWORD@#$KEYSTORE_PASSWORD#g" \
    "$1"
}

# Client settings of a Kafka user, as Kafka's Java clients spell them ($1 = key prefix).
kafka_client_props() {
  local prefix=${1:-}
  printf '%s\n' \
    "${prefix}security.protocol=SASL_SSL" \
    "${prefix}sasl.mechanism=SCRAM-SHA-512" \
    "${prefix}sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$KAFKA_ADMIN_USER\" password=\"$KAFKA_ADMIN_PASSWORD\";" \
    "${prefix}ssl.truststore.type=PEM" \
    "${prefix}ssl.truststore.location=$TLS_DIR/ca.pem"
}

# HTTP basic authentication on the registry: the lightest real option for a local Java
# process. Apicurio 3.0.9's runnable archive is built with Quarkus's Elytron
# properties-file extension and quarkus.security.users.embedded.enabled, so users defined
# in configuration work with no identity provider to run (its OIDC alternative needs a
# Keycloak or similar beside it). Apicurio then enforces authentication on every write
# (AuthorizedInterceptor) and, with role-based authorization, the role: `labelstream`
# (sr-developer) may register schemas, only `admin` (sr-admin) may change global rules.
# Reads stay anonymous: what the registry holds is public by design (schemas of topics
# that any consumer must decode, the label events' among them), and the Confluent
# consumers of label events then need no credentials.
registry_auth_props() {
  printf '%s\n' \
    'quarkus.http.auth.basic=true' \
    'quarkus.security.users.embedded.enabled=true' \
    'quarkus.security.users.embedded.plain-text=true' \
    "quarkus.security.users.embedded.users.$REGISTRY_ADMIN_USER=$REGISTRY_ADMIN_PASSWORD" \
    "quarkus.security.users.embedded.roles.$REGISTRY_ADMIN_USER=sr-admin" \
    "quarkus.security.users.embedded.users.$REGISTRY_CLIENT_USER=$REGISTRY_CLIENT_PASSWORD" \
    "quarkus.security.users.embedded.roles.$REGISTRY_CLIENT_USER=sr-developer" \
    'apicurio.auth.role-based-authorization=true' \
    'apicurio.auth.anonymous-read-access.enabled=true'
}

# Everything the secure components need before they start; idempotent.
secure_prepare() {
  secure_load_secrets
  secure_tls
  mkdir -p "$CONF_DIR"
  kafka_client_props >"$KAFKA_CLIENT_CONF"
  # The registry's private settings (stack.sh passes this file as quarkus.config.locations;
  # a file, not -D flags, keeps the passwords out of the process list). Apicurio passes
  # apicurio.kafka.common.* to its producer, consumer and admin clients.
  {
    printf '# rendered by deploy/local/secure.sh: the registry'"'"'s Kafka client (kafkasql storage)\n'
    kafka_client_props apicurio.kafka.common.
    registry_auth_props
  } >"$REGISTRY_KAFKA_CONF"
  printf 'user = "%s:%s"\n' "$REGISTRY_ADMIN_USER" "$REGISTRY_ADMIN_PASSWORD" >"$REGISTRY_CURL_CONF"
  {
    printf 'user default off resetpass nocommands\n'
    # everything the evaluator needs, not the commands that can wipe or reconfigure the
    # server (FLUSHALL, CONFIG, DEBUG, …); INFO back for the client's ready check
    printf 'user %s on >%s ~* &* +@all -@dangerous +info\n' "$REDIS_USER" "$REDIS_PASSWORD"
  } >"$REDIS_ACL_FILE"
}

# Appended to the rendered broker config by render_kafka_conf.
secure_kafka_conf() {
  render_secure_file "$SCRIPT_DIR/kafka/server-secure.properties.tmpl"
}

# SCRAM users written into the metadata log when the storage is formatted. (The broker's
# own user must exist before it starts; later users could be added with kafka-configs.)
secure_format_args() {
  KAFKA_FORMAT_ARGS=(
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_ADMIN_USER,password=$KAFKA_ADMIN_PASSWORD]"
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_CLIENT_USER,password=$KAFKA_CLIENT_PASSWORD]"
  )
}

# The SASL_SSL listener answers an ApiVersions request (allowed before authentication)
# over a verified TLS session: the certificate chain, the IP and the broker all work.
# -no_ign_eof + the sleep: hang up one second after sending, the reply is in by then.
secure_kafka_probe() {
  local hex
  hex=$({
    printf '\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x02ls'
    sleep 1
  } | timeout 5 openssl s_client -quiet -no_ign_eof -connect "$HOST:$KAFKA_PORT" \
    -CAfile "$TLS_DIR/ca.pem" -verify_return_error -verify_ip "$HOST" 2>/dev/null |
    head -c 10 | od -An -tx1 | tr -d ' \n') || true
  # 4 bytes size, 4 bytes correlation id (42), 2 bytes error code (0)
  [[ ${#hex} == 20 && ${hex:8:8} == 0000002a && ${hex:16:4} == 0000 ]]
}

# Redis over TLS as the ACL user; the password travels in REDISCLI_AUTH, not argv.
secure_redis_probe() {
  have redis-cli || return 1
  [[ $(REDISCLI_AUTH=$REDIS_PASSWORD timeout 3 redis-cli --no-auth-warning --tls --cacert "$TLS_DIR/ca.pem" \
    --user "$REDIS_USER" -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

# redis-server flags of the secure profile: TLS port only, users from the ACL file.
secure_redis_args() {
  REDIS_LISTEN_ARGS=(
    --port 0 --tls-port "$REDIS_PORT"
    --tls-cert-file "$TLS_DIR/server.pem" --tls-key-file "$TLS_DIR/server.key"
    --tls-ca-cert-file "$TLS_DIR/ca.pem" --tls-auth-clients no
    --aclfile "$REDIS_ACL_FILE"
  )
}

# The services' connection variables. Printed by `env --secure` and written to
# secure-env; `up` shows them with the passwords masked.
secure_env_lines() {
  local mask=${1:-} kafka_pw=$KAFKA_CLIENT_PASSWORD redis_pw=$REDIS_PASSWORD registry_pw=$REGISTRY_CLIENT_PASSWORD user pw upper
  [[ -n $mask ]] && kafka_pw='***' redis_pw='***' registry_pw='***'
  printf 'export KAFKA_BROKERS=%s:%s\n' "$HOST" "$KAFKA_PORT"
  printf 'export KAFKA_SASL_MECHANISM=scram-sha-512\n'
  printf 'export KAFKA_SASL_USERNAME=%s\n' "$KAFKA_CLIENT_USER"
  printf 'export KAFKA_SASL_PASSWORD=%s\n' "$kafka_pw"
  # each service logs in as itself (packages/config: <SERVICE>_KAFKA_SASL_* win over KAFKA_SASL_*)
  for user in "${SERVICE_USERS[@]}"; do
    upper=${user^^}
    pw=${upper}_KAFKA_PASSWORD
    pw=${!pw}
    [[ -n $mask ]] && pw='***'
    printf 'export %s_KAFKA_SASL_USERNAME=%s\n' "$upper" "$user"
    printf 'export %s_KAFKA_SASL_PASSWORD=%s\n' "$upper" "$pw"
  done
  printf 'export KAFKA_TLS=true\n'
  printf 'export KAFKA_TLS_CA_FILE=%s\n' "$TLS_DIR/ca.pem"
  printf 'export SCHEMA_REGISTRY_URL=%s\n' "$(registry_url)"
  printf 'export SCHEMA_REGISTRY_USERNAME=%s\n' "$REGISTRY_CLIENT_USER"
  printf 'export SCHEMA_REGISTRY_PASSWORD=%s\n' "$registry_pw"
  printf 'export REDIS_URL=rediss://%s:%s@%s:%s\n' "$REDIS_USER" "$redis_pw" "$HOST" "$REDIS_PORT"
  printf 'export REDIS_TLS_CA_FILE=%s\n' "$TLS_DIR/ca.pem"
}

# `stack.sh kafka <tool>` authenticates as the admin user.
secure_kafka_cli_args() {
  [[ -f $KAFKA_CLIENT_CONF ]] || die "no $KAFKA_CLIENT_CONF yet: run \`stack.sh up --secure\` first"
  case $1 in
    console-consumer) KAFKA_CLI_ARGS=(--consumer.config "$KAFKA_CLIENT_CONF") ;;
    console-producer) KAFKA_CLI_ARGS=(--producer.config "$KAFKA_CLIENT_CONF") ;;
    *) KAFKA_CLI_ARGS=(--command-config "$KAFKA_CLIENT_CONF") ;;
  esac
}

# The Kafka ACLs, as `acl <principal> <TOPIC|GROUP> <LITERAL|PREFIXED> <name> <OPERATION>`
# lines for SecureSetup.java. Topic and group names come from the services' own variables
# (TOPIC_*, *_GROUP_ID) with the services' defaults (packages/config), so a test or a
# deployment with other names gets the same rules for its names (`stack.sh acls --secure`).
# Only ingest writes the canonical events, only the evaluator writes decisions, only the
# publisher writes the label-event topics; each may also create the topics it makes sure
# of at start-up, and all three may write the DLQ (each dead-letters what it cannot read).
secure_acl_plan() {
  local purchases=${TOPIC_RAW_PURCHASES:-storefront.purchases}
  local clicks=${TOPIC_RAW_EMAIL_CLICKS:-storefront.email-clicks}
  local tickets=${TOPIC_RAW_SUPPORT_TICKETS:-storefront.support-tickets}
  local events=${TOPIC_CUSTOMER_EVENTS:-labels.customer-events.v1}
  local dlq=${TOPIC_DLQ:-labels.dlq.v1}
  local decisions=${TOPIC_DECISIONS:-labels.decisions.v1}
  local labels=${TOPIC_LABEL_EVENTS:-crm.label-events.v1}
  local current=${TOPIC_CUSTOMER_LABELS:-crm.customer-labels.v1}
  local ingest_group=${INGEST_GROUP_ID:-labelstream-ingest}
  local evaluator_group=${EVALUATOR_GROUP_ID:-labelstream-evaluator}
  local publisher_group=${PUBLISHER_GROUP_ID:-labelstream-publisher}
  local t op
  # principal, operations (comma-separated), topics…
  topic_acl() {
    local who=$1 ops=$2 o name
    shift 2
    for name in "$@"; do
      for o in ${ops//,/ }; do printf 'acl %s TOPIC LITERAL %s %s\n' "$who" "$name" "$o"; done
    done
  }
  # ingest: raw topics in (their sizes read at start-up), canonical events and DLQ out
  topic_acl ingest READ,DESCRIBE,DESCRIBE_CONFIGS,CREATE "$purchases" "$clicks" "$tickets"
  topic_acl ingest WRITE,DESCRIBE,DESCRIBE_CONFIGS,CREATE "$events" "$dlq"
  printf 'acl ingest GROUP LITERAL %s READ\n' "$ingest_group"
  # evaluator: canonical events in, decisions and DLQ out
  topic_acl evaluator READ,DESCRIBE,CREATE "$events"
  topic_acl evaluator WRITE,DESCRIBE,CREATE "$decisions" "$dlq"
  printf 'acl evaluator GROUP LITERAL %s READ\n' "$evaluator_group"
  # publisher: decisions in, label events and current labels out (and read back after a
  # failed send: its `<group>-tail-*` readers), DLQ out; it checks co-partitioning with
  # the canonical topic, so it may describe that one
  topic_acl publisher READ,DESCRIBE,CREATE "$decisions"
  topic_acl publisher WRITE,READ,DESCRIBE,DESCRIBE_CONFIGS,CREATE "$labels" "$current"
  topic_acl publisher WRITE,DESCRIBE,CREATE "$dlq"
  topic_acl publisher DESCRIBE "$events"
  printf 'acl publisher GROUP LITERAL %s READ\n' "$publisher_group"
  printf 'acl publisher GROUP PREFIXED %s-tail READ\n' "$publisher_group"
  # labelstream: the storefront's producers and the label events' consumers
  topic_acl "$KAFKA_CLIENT_USER" WRITE,DESCRIBE "$purchases" "$clicks" "$tickets"
  topic_acl "$KAFKA_CLIENT_USER" READ,DESCRIBE "$labels" "$current"
  printf 'acl %s GROUP PREFIXED labelstream-tail READ\n' "$KAFKA_CLIENT_USER"
  unset -f topic_acl
}

# Creates (or resets) the service users' SCRAM credentials and the ACLs of secure_acl_plan,
# as the admin user, in one JVM. Idempotent: run by `up` after the broker is healthy, and by
# `stack.sh acls --secure` for other topic and group names (TOPIC_*, *_GROUP_ID).
secure_kafka_setup() {
  local user pw t0 out
  t0=$(now)
  out=$({
    for user in "${SERVICE_USERS[@]}"; do
      pw=${user^^}_KAFKA_PASSWORD
      printf 'user %s %s\n' "$user" "${!pw}"
    done
    secure_acl_plan
  } | "$JAVA" -Xmx256m "${KAFKA_TOOLS_LOG_OPT[@]}" \
    -cp "$KAFKA_HOME/libs/*" "$SCRIPT_DIR/kafka/SecureSetup.java" "$KAFKA_CLIENT_CONF" "$HOST:$KAFKA_PORT" 2>&1) ||
    die "kafka: creating the service users and ACLs failed (a broker started by an older stack.sh, without an authorizer, says SecurityDisabledException: \`stack.sh down --secure\`, then \`up --secure\`): $out"
  log "kafka: ${out#secure setup: } ($(($(now) - t0))s)"
}

# `stack.sh acls --secure`: the ACLs for the topic and group names in the environment.
secure_cmd_acls() {
  [[ -s $SECRETS_FILE ]] || die "no secure stack in $STACK_DIR yet: run \`stack.sh up --secure\` first"
  secure_load_secrets
  [[ -f $KAFKA_CLIENT_CONF ]] || die "no $KAFKA_CLIENT_CONF yet: run \`stack.sh up --secure\` first"
  find_java
  secure_kafka_setup
}
