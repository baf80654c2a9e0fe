# shellcheck shell=bash
# The secure profile of the native stack: sourced by stack.sh when it runs with --secure
# (or LABELSTREAM_SECURE=1). Not a command of its own.
#
#   Kafka     SASL_SSL listener, SCRAM-SHA-512; users `admin` (the broker itself, the
#             registry, `stack.sh kafka`) and `labelstream` (the services)
#   Redis     TLS only (--port 0), default user off, ACL user `labelstream`
#   registry  plain HTTP on 127.0.0.1; its own Kafka client uses SASL_SSL as `admin`
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
KAFKA_ADMIN_PASSWORD='' KAFKA_CLIENT_PASSWORD='' REDIS_PASSWORD='' KEYSTORE_PASSWORD=''

have openssl || die "the secure profile needs openssl (Debian: apt-get install -y openssl)"

# Random passwords, created once per stack dir. Hex only: safe inside URLs, JAAS strings,
# properties files and Redis ACL rules without any escaping.
secure_load_secrets() {
  if [[ ! -s $SECRETS_FILE ]]; then
    [[ ! -f $KAFKA_DATA/meta.properties ]] ||
      die "$SECRETS_FILE is missing but Kafka's storage was formatted with the old credentials: \`stack.sh down --purge --secure\`, then \`up --secure\`"
    mkdir -p "$STACK_DIR"
    {
      printf 'KAFKA_ADMIN_PASSWORD=%s\n' "$(openssl rand -hex 24)"
      printf 'KAFKA_CLIENT_PASSWORD=%s\n' "$(openssl rand -hex 24)"
      printf 'REDIS_PASSWORD=%s\n' "$(openssl rand -hex 24)"
      printf 'KEYSTORE_PASSWORD=%s\n' "$(openssl rand -hex 24)"
    } >"$SECRETS_FILE.tmp"
    mv -f "$SECRETS_FILE.tmp" "$SECRETS_FILE"
    log "secure: generated passwords in $SECRETS_FILE"
  fi
  local key value
  while IFS='=' read -r key value; do
    case $key in
      KAFKA_ADMIN_PASSWORD | KAFKA_CLIENT_PASSWORD | REDIS_PASSWORD | KEYSTORE_PASSWORD)
        printf -v "$key" '%s' "$value"
        ;;
    esac
  done <"$SECRETS_FILE"
  [[ -n ${KAFKA_ADMIN_PASSWORD:-} && -n ${KAFKA_CLIENT_PASSWORD:-} && -n ${REDIS_PASSWORD:-} && -n ${KEYSTORE_PASSWORD:-} ]] ||
    die "$SECRETS_FILE is incomplete: \`stack.sh down --purge --secure\`, then \`up --secure\`"
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

# Everything the secure components need before they start; idempotent.
secure_prepare() {
  secure_load_secrets
  secure_tls
  mkdir -p "$CONF_DIR"
  kafka_client_props >"$KAFKA_CLIENT_CONF"
  # Apicurio passes apicurio.kafka.common.* to its producer, consumer and admin clients.
  # A file (not -D flags) keeps the password out of the process list.
  {
    printf '# rendered by deploy/local/secure.sh: the registry'"'"'s Kafka client (kafkasql storage)\n'
    kafka_client_props apicurio.kafka.common.
  } >"$REGISTRY_KAFKA_CONF"
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
  local mask=${1:-} kafka_pw=$KAFKA_CLIENT_PASSWORD redis_pw=$REDIS_PASSWORD
  [[ -n $mask ]] && kafka_pw='***' redis_pw='***'
  printf 'export KAFKA_BROKERS=%s:%s\n' "$HOST" "$KAFKA_PORT"
  printf 'export KAFKA_SASL_MECHANISM=scram-sha-512\n'
  printf 'export KAFKA_SASL_USERNAME=%s\n' "$KAFKA_CLIENT_USER"
  printf 'export KAFKA_SASL_PASSWORD=%s\n' "$kafka_pw"
  printf 'export KAFKA_TLS=true\n'
  printf 'export KAFKA_TLS_CA_FILE=%s\n' "$TLS_DIR/ca.pem"
  printf 'export SCHEMA_REGISTRY_URL=%s\n' "$(registry_url)"
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
